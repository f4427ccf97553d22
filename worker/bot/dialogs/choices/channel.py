"""Channel: what a channel can show, so choices render in a form the user can use."""

from __future__ import annotations

from worker.bot.turn_context import TurnContext

# How many buttons each channel shows (the SDK's figures); a channel not listed has none.
_SUGGESTED_ACTIONS = {
    "facebook": 10,
    "skype": 10,
    "line": 13,
    "kik": 20,
    "telegram": 100,
    "emulator": 100,
    "directline": 100,
    "directlinespeech": 100,
    "webchat": 100,
}
_CARD_ACTIONS = {
    "facebook": 3,
    "skype": 3,
    "msteams": 3,
    "line": 99,
    "slack": 100,
    "telegram": 100,
    "emulator": 100,
    "directline": 100,
    "directlinespeech": 100,
    "webchat": 100,
}
_MAX_ACTION_TITLE_LENGTH = 20


class Channel:
    """Capabilities of channels by channel id (`activity.channel_id`)."""

    @staticmethod
    def supports_suggested_actions(channel_id: str | None, button_cnt: int = 100) -> bool:
        """True if the channel shows `button_cnt` suggested actions (botbuilder's argument
        name)."""
        limit = _SUGGESTED_ACTIONS.get(channel_id or "", 0)
        return 0 < limit and button_cnt <= limit

    @staticmethod
    def supports_card_actions(channel_id: str | None, button_cnt: int = 100) -> bool:
        """True if the channel shows `button_cnt` buttons on a card."""
        limit = _CARD_ACTIONS.get(channel_id or "", 0)
        return 0 < limit and button_cnt <= limit

    @staticmethod
    def max_action_title_length(channel_id: str | None) -> int:
        """The longest button title that shows in full (the same on every channel)."""
        return _MAX_ACTION_TITLE_LENGTH

    @staticmethod
    def has_message_feed(channel_id: str | None) -> bool:
        """True: every channel keeps a history of messages the user can scroll back through
        (botbuilder 4.17 answers True for all)."""
        return True

    @staticmethod
    def get_channel_id(turn_context: TurnContext) -> str:
        """The channel of the turn's activity ("" if it has none)."""
        return turn_context.activity.channel_id or ""
