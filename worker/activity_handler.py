"""ActivityHandler: dispatch each activity type to an overridable `on_*` method, as in the SDK."""

from __future__ import annotations

from shared.activity import ActivityTypes, ChannelAccount
from worker.turn_context import TurnContext


class ActivityHandler:
    """Subclass and override the `on_*` methods you need; the defaults do nothing."""

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Route the turn by `activity.type`."""
        activity = turn_context.activity
        if activity.type == ActivityTypes.MESSAGE:
            await self.on_message_activity(turn_context)
        elif activity.type == ActivityTypes.CONVERSATION_UPDATE:
            await self.on_conversation_update_activity(turn_context)
        else:
            await self.on_unrecognized_activity_type(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """A user sent a message."""

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Members joined or left; calls `on_members_added_activity` or `..._removed_...`.

        The bot itself is included in the lists, as the SDK does: compare `member.id` with
        `turn_context.activity.recipient.id` to skip it.
        """
        activity = turn_context.activity
        if activity.members_added:
            await self.on_members_added_activity(activity.members_added, turn_context)
        elif activity.members_removed:
            await self.on_members_removed_activity(activity.members_removed, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Members joined the conversation."""

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Members left the conversation."""

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        """An activity type this handler does not route."""
