"""The Bot Framework's other named values: delivery modes, end-of-conversation codes, roles,
caller ids, sign-in operation names, and the like.

House UPPER_CASE names, with botbuilder-python's lowercase spellings as aliases
(`DeliveryModes.expect_replies`), as the constant classes of `shared.schema.activity` have.
"""

from __future__ import annotations


class DeliveryModes:
    """How the channel wants the bot's replies (`Activity.delivery_mode`)."""

    NORMAL = normal = "normal"
    NOTIFICATION = notification = "notification"
    EXPECT_REPLIES = expect_replies = "expectReplies"
    """Answered in the HTTP response of the inbound request instead of posted back."""
    EPHEMERAL = ephemeral = "ephemeral"


class EndOfConversationCodes:
    """Why a conversation ended (`Activity.code` of an endOfConversation)."""

    UNKNOWN = unknown = "unknown"
    COMPLETED_SUCCESSFULLY = completed_successfully = "completedSuccessfully"
    USER_CANCELLED = user_cancelled = "userCancelled"
    BOT_TIMED_OUT = bot_timed_out = "botTimedOut"
    BOT_ISSUED_INVALID_MESSAGE = bot_issued_invalid_message = "botIssuedInvalidMessage"
    CHANNEL_FAILED = channel_failed = "channelFailed"


class RoleTypes:
    """Who an account is (`ChannelAccount.role`)."""

    USER = user = "user"
    BOT = bot = "bot"
    SKILL = skill = "skill"


class ActivityImportance:
    """`Activity.importance`."""

    LOW = low = "low"
    NORMAL = normal = "normal"
    HIGH = high = "high"


class ActivityEventNames:
    """Names of the events an adapter raises for proactive work."""

    CONTINUE_CONVERSATION = continue_conversation = "ContinueConversation"
    CREATE_CONVERSATION = create_conversation = "CreateConversation"


class CallerIdConstants:
    """`Activity.caller_id` values: which cloud, or which bot, sent an activity."""

    PUBLIC_AZURE_CHANNEL = public_azure_channel = "urn:botframework:azure"
    US_GOV_CHANNEL = us_gov_channel = "urn:botframework:azureusgov"
    BOT_TO_BOT_PREFIX = bot_to_bot_prefix = "urn:botframework:aadappid:"


class ContactRelationUpdateActionTypes:
    """`Activity.action` of a contactRelationUpdate."""

    ADD = add = "add"
    REMOVE = remove = "remove"


class InstallationUpdateActionTypes:
    """`Activity.action` of an installationUpdate."""

    ADD = add = "add"
    REMOVE = remove = "remove"


class MessageReactionTypes:
    """`MessageReaction.type` values the protocol names (channels send others too)."""

    LIKE = like = "like"
    PLUS_ONE = plus_one = "plusOne"


class SignInConstants:
    """The names of the sign-in invokes and event (user authorization)."""

    VERIFY_STATE_OPERATION_NAME = verify_state_operation_name = "signin/verifyState"
    TOKEN_EXCHANGE_OPERATION_NAME = token_exchange_operation_name = "signin/tokenExchange"
    TOKEN_RESPONSE_EVENT_NAME = token_response_event_name = "tokens/response"


class SpeechConstants:
    """SSML a bot sends to say nothing (`Activity.speak`)."""

    EMPTY_SPEAK_TAG = (
        '<speak version="1.0" xmlns="https://www.w3.org/2001/10/synthesis" xml:lang="en-US" />'
    )


class Channels:
    """The ids of the Bot Framework's channels (`Activity.channel_id`), by botbuilder's name for
    them (`botframework.connector.Channels`)."""

    CONSOLE = console = "console"
    CORTANA = cortana = "cortana"
    DIRECT_LINE = direct_line = "directline"
    DIRECT_LINE_SPEECH = direct_line_speech = "directlinespeech"
    EMAIL = email = "email"
    EMULATOR = emulator = "emulator"
    FACEBOOK = facebook = "facebook"
    GROUPME = groupme = "groupme"
    KIK = kik = "kik"
    LINE = line = "line"
    MS_TEAMS = ms_teams = "msteams"
    SKYPE = skype = "skype"
    SKYPE_FOR_BUSINESS = skype_for_business = "skypeforbusiness"
    SLACK = slack = "slack"
    SMS = sms = "sms"
    TELEGRAM = telegram = "telegram"
    TEST = test = "test"
    WEBCHAT = webchat = "webchat"
