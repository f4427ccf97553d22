"""State management bot (the SDK's sample): remembers your name in user state, and when and
where your last message came from in conversation state.

Run it: `turnstream dev --bot samples.state_management:bot`. State lives in Redis
(`RedisStorage`, from REDIS_URL), so it survives worker restarts and any worker can run any turn.
"""

from __future__ import annotations

import datetime

from worker.bot import (
    ActivityHandler,
    AutoSaveStateMiddleware,
    BotApp,
    ConversationState,
    RedisStorage,
    Storage,
    TurnContext,
    UserState,
)


class UserProfile:
    """Kept in user state: it follows the user into every conversation."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name


class ConversationData:
    """Kept in conversation state."""

    def __init__(
        self,
        timestamp: str | None = None,
        channel_id: str | None = None,
        prompted_for_user_name: bool = False,
    ) -> None:
        self.timestamp = timestamp
        self.channel_id = channel_id
        self.prompted_for_user_name = prompted_for_user_name


class StateManagementBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, user_state: UserState) -> None:
        self.conversation_data_accessor = conversation_state.create_property("ConversationData")
        self.user_profile_accessor = user_state.create_property("UserProfile")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        user_profile: UserProfile = await self.user_profile_accessor.get(turn_context, UserProfile)
        conversation_data: ConversationData = await self.conversation_data_accessor.get(
            turn_context, ConversationData
        )
        if user_profile.name is None:
            if conversation_data.prompted_for_user_name:
                user_profile.name = (turn_context.activity.text or "").strip()
                await turn_context.send_activity(
                    f"Thanks {user_profile.name}. To see conversation data, type anything."
                )
                conversation_data.prompted_for_user_name = False
            else:
                await turn_context.send_activity("What is your name?")
                conversation_data.prompted_for_user_name = True
        else:
            conversation_data.timestamp = _local_time(turn_context.activity.timestamp)
            conversation_data.channel_id = turn_context.activity.channel_id
            await turn_context.send_activity(
                f"{user_profile.name} sent: {turn_context.activity.text}"
            )
            await turn_context.send_activity(f"Message received at: {conversation_data.timestamp}")
            await turn_context.send_activity(
                f"Message received from: {conversation_data.channel_id}"
            )


def _local_time(timestamp: datetime.datetime | None) -> str:
    """The channel's UTC timestamp in this machine's time zone (now, if the channel sent none)."""
    moment = timestamp or datetime.datetime.now(datetime.UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def create_app(storage: Storage) -> BotApp:
    """The bot with its states; AutoSave loads both in one round trip and saves in one."""
    conversation_state = ConversationState(storage)
    user_state = UserState(storage)
    return BotApp(
        StateManagementBot(conversation_state, user_state),
        middleware=[AutoSaveStateMiddleware(conversation_state, user_state)],
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
