"""The peer of benchmarks/stateful_e2e.py: samples/state_management.py on botbuilder-python
4.17 + aiohttp, its state in the SDK's in-memory `MemoryStorage`.

Not imported by the project: stateful_e2e.py runs this file with the interpreter of the
botbuilder virtual environment (`peer_echo.py`, beside it, serves it over HTTP):

    python peer_state.py bfa|cloud PORT

The bot behaves as the turnstream sample does, reply for reply: user state keeps the name,
conversation state when and where the last message came from and whether the name was asked;
both are saved once at the end of every turn (the sample's AutoSaveStateMiddleware).
"""

import datetime

from botbuilder.core import (
    ActivityHandler,
    ConversationState,
    MemoryStorage,
    TurnContext,
    UserState,
)
from peer_echo import serve


class UserProfile:
    def __init__(self, name=None):
        self.name = name


class ConversationData:
    def __init__(self, timestamp=None, channel_id=None, prompted_for_user_name=False):
        self.timestamp = timestamp
        self.channel_id = channel_id
        self.prompted_for_user_name = prompted_for_user_name


class StateManagementBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, user_state: UserState):
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.conversation_data = conversation_state.create_property("ConversationData")
        self.user_profile = user_state.create_property("UserProfile")

    async def on_turn(self, turn_context: TurnContext):
        await super().on_turn(turn_context)
        # What the turn changed, written back to MemoryStorage (unchanged state is skipped).
        await self.conversation_state.save_changes(turn_context)
        await self.user_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext):
        profile = await self.user_profile.get(turn_context, UserProfile)
        data = await self.conversation_data.get(turn_context, ConversationData)
        activity = turn_context.activity
        if profile.name is None:
            if data.prompted_for_user_name:
                profile.name = (activity.text or "").strip()
                await turn_context.send_activity(
                    f"Thanks {profile.name}. To see conversation data, type anything."
                )
                data.prompted_for_user_name = False
            else:
                await turn_context.send_activity("What is your name?")
                data.prompted_for_user_name = True
            return
        data.timestamp = local_time(activity.timestamp)
        data.channel_id = activity.channel_id
        await turn_context.send_activity(f"{profile.name} sent: {activity.text}")
        await turn_context.send_activity(f"Message received at: {data.timestamp}")
        await turn_context.send_activity(f"Message received from: {data.channel_id}")


def local_time(timestamp):
    """As the turnstream sample formats it: the UTC timestamp in this machine's time zone."""
    moment = timestamp or datetime.datetime.now(datetime.UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def main():
    storage = MemoryStorage()
    serve(StateManagementBot(ConversationState(storage), UserState(storage)))


if __name__ == "__main__":
    main()
