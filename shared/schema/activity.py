"""The Bot Framework activity schema as Python objects with snake_case attributes.

Wire format is camelCase JSON (`replyToId`, `from`); objects use botbuilder-python's names
(`reply_to_id`, `from_property`) so bot code ports unchanged. Fields this module does not model are
kept in `additional_properties` and written back: nothing a channel sends is lost on a round trip.
Times (`timestamp`, `local_timestamp`, `expiration`) are `datetime`s, as in botbuilder; one read
from the wire remembers its text and is written back exactly as received.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

_RENAMED = {"from_property": "from"}


class WireDateTime(datetime.datetime):
    """A `datetime` read from an activity, with the exact text it came as (`wire`): channels
    send seven fractional digits and `Z`, which `isoformat` would not give back."""

    wire: str


def _read_time(text: str) -> datetime.datetime | str:
    """The time a wire field holds; a text that is no ISO 8601 time stays text (an optional
    field a channel got wrong must not fail the turn)."""
    try:
        moment = WireDateTime.fromisoformat(text)
    except ValueError:
        return text
    moment.wire = text
    return moment


def _write_time(moment: datetime.datetime) -> str:
    wire: str | None = getattr(moment, "wire", None)
    if wire is not None:
        return wire
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _camel(name: str) -> str:
    if name in _RENAMED:
        return _RENAMED[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass
class Model:
    """Base of every schema object: `from_dict` / `to_dict` in Bot Framework wire format."""

    additional_properties: dict[str, Any] = field(default_factory=dict, kw_only=True)

    _decoding_table: ClassVar[_Decoding]

    _wire_names: ClassVar[dict[str, str]] = {}
    """Fields whose wire name is not their camelCase spelling (Teams' O365 connector cards
    write `@type`, meeting events `StartTime`): field name -> wire name."""

    def shallow_copy(self) -> Self:
        """A new object with the same field values, as `dataclasses.replace(self)` makes, about
        10x cheaper (~1 µs against ~10 µs for an `Activity`): addressing each reply copies the
        activity and its accounts. Sound because no Model has `__post_init__` or `init=False`
        fields (tests/shared/schema/test_activity_copy.py checks every Model class)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        return copy

    @classmethod
    def _decoding(cls) -> _Decoding:
        """How `from_dict` and `to_dict` map this class; computed once per class."""
        decoding = cls.__dict__.get("_decoding_table")
        if decoding is None:
            hints = typing.get_type_hints(cls)
            by_wire: dict[str, tuple[str, type[Model] | None, bool, bool]] = {}
            blank: dict[str, Any] = {}
            direct = True
            for f in dataclasses.fields(cls):
                if f.name == "additional_properties":
                    continue
                by_wire[cls._wire_names.get(f.name) or _camel(f.name)] = (
                    f.name,
                    *_nested_model(hints[f.name]),
                    _is_time(hints[f.name]),
                )
                blank[f.name] = f.default
                # A required field or a factory: `from_dict` goes through `__init__`.
                direct = direct and f.default is not dataclasses.MISSING
            decoding = cls._decoding_table = _Decoding(by_wire, blank if direct else {})
        return decoding

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from wire-format JSON; unknown keys go to `additional_properties`.

        Every inbound activity is decoded once per turn, so this is on the hot path: where
        every field has a plain default, the object is filled in directly (a copy of the
        defaults, then the values) instead of through the dataclass `__init__` and its ~40
        keyword arguments: ~3x cheaper for an `Activity`. No Model initialises itself beyond
        its fields (tests/shared/schema/test_activity_copy.py), so both make the same object."""
        decoding = cls._decoding()
        by_wire = decoding.by_wire
        values: dict[str, Any] = dict(decoding.blank)
        extra: dict[str, Any] = {}
        for key, value in data.items():
            target = by_wire.get(key)
            if target is None:
                extra[key] = value
                continue
            name, model, is_list, is_time = target
            if model is not None and value is not None:
                if is_list and isinstance(value, list):
                    value = [model.from_dict(v) if isinstance(v, dict) else v for v in value]
                elif isinstance(value, dict):
                    value = model.from_dict(value)
            elif is_time and isinstance(value, str):
                value = _read_time(value)
            values[name] = value
        if not decoding.blank:
            return cls(**values, additional_properties=extra)
        values["additional_properties"] = extra
        built = object.__new__(cls)
        built.__dict__.update(values)
        return built

    def serialize(self) -> dict[str, Any]:
        """botbuilder's (msrest's) name for `to_dict`: wire-format JSON."""
        return self.to_dict()

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Self:
        """botbuilder's (msrest's) name for `from_dict`; callable on an instance too
        (`Entity().deserialize(data)`), as there."""
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Wire-format JSON; fields that are None are left out."""
        out: dict[str, Any] = dict(self.additional_properties)
        wire_names = self._decoding().wire_names
        # Most fields are None: leave them out in one comprehension, then convert the rest.
        present = [(n, v) for n, v in self.__dict__.items() if v is not None and n in wire_names]
        for name, value in present:
            wire = wire_names[name]
            if isinstance(value, Model):
                value = value.to_dict()
            elif isinstance(value, list):
                value = [v.to_dict() if isinstance(v, Model) else v for v in value]
            elif isinstance(value, datetime.datetime):
                value = _write_time(value)
            out[wire] = value
        return out


class _Decoding:
    """A Model class's tables for `from_dict` and `to_dict`."""

    __slots__ = ("blank", "by_wire", "wire_names")

    def __init__(
        self,
        by_wire: dict[str, tuple[str, type[Model] | None, bool, bool]],
        blank: dict[str, Any],
    ) -> None:
        self.by_wire = by_wire
        """wire name -> (field name, nested model or None, is a list, is a time)"""
        self.wire_names = {name: wire for wire, (name, *_how) in by_wire.items()}
        """field name -> wire name"""
        self.blank = blank
        """field name -> default, for every field but additional_properties; empty when a
        field has no plain default (then `from_dict` goes through `__init__`)."""


def _is_time(hint: Any) -> bool:
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return datetime.datetime in args


def _nested_model(hint: Any) -> tuple[type[Model] | None, bool]:
    """For `X | None` or `list[X] | None` with X a Model, return (X, is_list)."""
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for arg in args:
        if typing.get_origin(arg) is list:
            (item,) = typing.get_args(arg)
            if isinstance(item, type) and issubclass(item, Model):
                return item, True
        elif isinstance(arg, type) and issubclass(arg, Model):
            return arg, False
    return None, False


class ActivityTypes:
    """The activity types of the Bot Framework protocol."""

    MESSAGE = "message"
    CONVERSATION_UPDATE = "conversationUpdate"
    CONTACT_RELATION_UPDATE = "contactRelationUpdate"
    TYPING = "typing"
    END_OF_CONVERSATION = "endOfConversation"
    EVENT = "event"
    INVOKE = "invoke"
    INVOKE_RESPONSE = "invokeResponse"
    DELETE_USER_DATA = "deleteUserData"
    MESSAGE_UPDATE = "messageUpdate"
    MESSAGE_DELETE = "messageDelete"
    INSTALLATION_UPDATE = "installationUpdate"
    MESSAGE_REACTION = "messageReaction"
    SUGGESTION = "suggestion"
    TRACE = "trace"
    HANDOFF = "handoff"
    COMMAND = "command"
    COMMAND_RESULT = "commandResult"

    # botbuilder-python's spellings, so ported code runs unchanged
    message = MESSAGE
    conversation_update = CONVERSATION_UPDATE
    contact_relation_update = CONTACT_RELATION_UPDATE
    typing = TYPING
    end_of_conversation = END_OF_CONVERSATION
    event = EVENT
    invoke = INVOKE
    invoke_response = INVOKE_RESPONSE
    delete_user_data = DELETE_USER_DATA
    message_update = MESSAGE_UPDATE
    message_delete = MESSAGE_DELETE
    installation_update = INSTALLATION_UPDATE
    message_reaction = MESSAGE_REACTION
    suggestion = SUGGESTION
    trace = TRACE
    handoff = HANDOFF
    command = COMMAND
    command_result = COMMAND_RESULT


class InputHints:
    """Whether the client should listen after a message (`Activity.input_hint`)."""

    ACCEPTING_INPUT = "acceptingInput"
    IGNORING_INPUT = "ignoringInput"
    EXPECTING_INPUT = "expectingInput"

    # botbuilder-python's spellings, so ported code runs unchanged
    accepting_input = ACCEPTING_INPUT
    ignoring_input = IGNORING_INPUT
    expecting_input = EXPECTING_INPUT


# The constant classes below use the house UPPER_CASE names and also botbuilder-python's lowercase
# spellings (`ActionTypes.im_back`), so bot code written against botbuilder ports unchanged.


class ActionTypes:
    """What a card button or suggested action does when the user taps it (`CardAction.type`)."""

    OPEN_URL = open_url = "openUrl"
    IM_BACK = im_back = "imBack"
    POST_BACK = post_back = "postBack"
    PLAY_AUDIO = play_audio = "playAudio"
    PLAY_VIDEO = play_video = "playVideo"
    SHOW_IMAGE = show_image = "showImage"
    DOWNLOAD_FILE = download_file = "downloadFile"
    SIGNIN = signin = "signin"
    CALL = call = "call"
    MESSAGE_BACK = message_back = "messageBack"


class AttachmentLayoutTypes:
    """How a client lays out several attachments (`Activity.attachment_layout`)."""

    LIST = list = "list"
    CAROUSEL = carousel = "carousel"


class TextFormatTypes:
    """How a client renders `Activity.text` (`Activity.text_format`)."""

    MARKDOWN = markdown = "markdown"
    PLAIN = plain = "plain"
    XML = xml = "xml"


@dataclass
class ChannelAccount(Model):
    """A user or bot on a channel."""

    id: str | None = None
    name: str | None = None
    aad_object_id: str | None = None
    role: str | None = None
    properties: Any = None
    """Extra data about the account, as the channel sent it."""


@dataclass
class ConversationAccount(Model):
    """The conversation an activity belongs to."""

    id: str | None = None
    name: str | None = None
    is_group: bool | None = None
    conversation_type: str | None = None
    tenant_id: str | None = None
    aad_object_id: str | None = None
    role: str | None = None
    properties: Any = None
    """Extra data about the conversation, as the channel sent it."""


@dataclass
class Attachment(Model):
    """A card, file or media item attached to an activity."""

    content_type: str | None = None
    content_url: str | None = None
    content: Any = None
    name: str | None = None
    thumbnail_url: str | None = None


@dataclass
class CardAction(Model):
    """A clickable action: a card button, a card or image `tap`, or a suggested action.

    `type` is one of `ActionTypes`; `value` is what the action sends or opens (the text for
    imBack, the URL for openUrl, any JSON for postBack/messageBack).
    """

    type: str | None = None
    title: str | None = None
    image: str | None = None
    text: str | None = None
    display_text: str | None = None
    value: Any = None
    channel_data: Any = None
    image_alt_text: str | None = None


@dataclass
class SuggestedActions(Model):
    """Buttons shown under a message that disappear once one is tapped.

    `to` optionally limits which conversation members see them (channel account ids).
    """

    to: list[str] | None = None
    actions: list[CardAction] | None = None


@dataclass
class CardImage(Model):
    """An image on a rich card, with alt text and an optional action when tapped."""

    url: str | None = None
    alt: str | None = None
    tap: CardAction | None = None


@dataclass
class RichCard(Model):
    """The fields hero and thumbnail cards share: title, subtitle, text, images, buttons, tap."""

    title: str | None = None
    subtitle: str | None = None
    text: str | None = None
    images: list[CardImage] | None = None
    buttons: list[CardAction] | None = None
    tap: CardAction | None = None


@dataclass
class HeroCard(RichCard):
    """A card with one large image over title, text and buttons; see `CardFactory.hero_card`."""


@dataclass
class ThumbnailCard(RichCard):
    """A card with a small image beside its text; send it with `CardFactory.thumbnail_card`."""


@dataclass
class Entity(Model):
    """Metadata about an activity (a mention, a place, client info, …), told apart by `type`.

    Fields of a specific entity type stay in `additional_properties` in wire form (e.g.
    `{"mentioned": {...}, "text": "..."}` for a mention), so any entity round-trips unchanged.
    """

    type: str | None = None


# Keyword-only, as in botbuilder: inheriting `type` from Entity would otherwise make it the first
# positional argument.
@dataclass(kw_only=True)
class Mention(Entity):
    """An @mention of `mentioned`; `text` is the markup as it appears in the activity text.

    Teams writes it as `<at>Name</at>`. Read mentions with `get_mentions(activity)`.
    """

    mentioned: ChannelAccount | None = None
    text: str | None = None
    # Re-declared only to default it: a Mention is always of type "mention".
    type: str | None = "mention"


@dataclass
class MessageReaction(Model):
    """One reaction to a message (`like`, `plusOne`, or what the channel names)."""

    type: str | None = None


@dataclass
class TextHighlight(Model):
    """A part of the text an activity refers to: the text and which occurrence of it."""

    text: str | None = None
    occurrence: int | None = None


@dataclass
class SemanticAction(Model):
    """A programmatic action a message carries or asks for, with its entities."""

    id: str | None = None
    entities: dict[str, Any] | None = None
    """Entities by name, as the channel sent them (wire form)."""
    state: str | None = None


@dataclass
class ResourceResponse(Model):
    """What the Bot Connector returns for a sent activity: its id, when the channel gives one."""

    id: str | None = None


@dataclass
class ConversationReference(Model):
    """Enough of an activity's addressing to send into its conversation later."""

    activity_id: str | None = None
    user: ChannelAccount | None = None
    bot: ChannelAccount | None = None
    conversation: ConversationAccount | None = None
    channel_id: str | None = None
    locale: str | None = None
    service_url: str | None = None


@dataclass
class Activity(Model):
    """A Bot Framework activity: a message, a conversation update, an event, an invoke, …"""

    type: str | None = None
    id: str | None = None
    timestamp: datetime.datetime | None = None
    local_timestamp: datetime.datetime | None = None
    local_timezone: str | None = None
    service_url: str | None = None
    channel_id: str | None = None
    from_property: ChannelAccount | None = None
    conversation: ConversationAccount | None = None
    recipient: ChannelAccount | None = None
    text_format: str | None = None
    attachment_layout: str | None = None
    members_added: list[ChannelAccount] | None = None
    members_removed: list[ChannelAccount] | None = None
    reactions_added: list[MessageReaction] | None = None
    reactions_removed: list[MessageReaction] | None = None
    topic_name: str | None = None
    history_disclosed: bool | None = None
    locale: str | None = None
    text: str | None = None
    speak: str | None = None
    input_hint: str | None = None
    summary: str | None = None
    suggested_actions: SuggestedActions | None = None
    attachments: list[Attachment] | None = None
    entities: list[Entity] | None = None
    channel_data: Any = None
    action: str | None = None
    reply_to_id: str | None = None
    label: str | None = None
    value_type: str | None = None
    value: Any = None
    name: str | None = None
    relates_to: ConversationReference | None = None
    code: str | None = None
    expiration: datetime.datetime | None = None
    importance: str | None = None
    delivery_mode: str | None = None
    listen_for: list[str] | None = None
    text_highlights: list[TextHighlight] | None = None
    semantic_action: SemanticAction | None = None
    caller_id: str | None = None

    # -- botbuilder's helpers: replies, references, types ------------------------------------

    def create_reply(self, text: str | None = None, locale: str | None = None) -> Activity:
        """A message addressed back to the sender of this activity (from/recipient swapped),
        in `locale` or this activity's; `text` is "" when not given, as in botbuilder."""
        return Activity(
            type=ActivityTypes.MESSAGE,
            text=text or "",
            from_property=_copy_account(self.recipient),
            recipient=_copy_account(self.from_property),
            conversation=self.conversation.shallow_copy() if self.conversation else None,
            reply_to_id=self.id,
            service_url=self.service_url,
            channel_id=self.channel_id,
            locale=locale or self.locale,
        )

    def create_trace(
        self,
        name: str,
        value: Any = None,
        value_type: str | None = None,
        label: str | None = None,
    ) -> Activity:
        """A trace activity addressed back to the sender of this activity. Without
        `value_type`, the name of the value's type (botbuilder puts the type object itself,
        which cannot go on the wire)."""
        trace = self.create_reply()
        trace.type = ActivityTypes.TRACE
        trace.text = None
        trace.timestamp = datetime.datetime.now(datetime.UTC)
        trace.from_property = trace.from_property or ChannelAccount()
        trace.recipient = trace.recipient or ChannelAccount()
        trace.name, trace.label, trace.value = name, label, value
        trace.value_type = value_type or _type_name(value)
        return trace

    @staticmethod
    def create_trace_activity(
        name: str, value: Any = None, value_type: str | None = None, label: str | None = None
    ) -> Activity:
        """A trace activity, not yet addressed (see `create_trace` for `value_type`)."""
        return Activity(
            type=ActivityTypes.TRACE,
            name=name,
            label=label,
            value_type=value_type or _type_name(value),
            value=value,
        )

    @staticmethod
    def create_message_activity() -> Activity:
        return Activity(type=ActivityTypes.MESSAGE)

    @staticmethod
    def create_contact_relation_update_activity() -> Activity:
        return Activity(type=ActivityTypes.CONTACT_RELATION_UPDATE)

    @staticmethod
    def create_conversation_update_activity() -> Activity:
        return Activity(type=ActivityTypes.CONVERSATION_UPDATE)

    @staticmethod
    def create_end_of_conversation_activity() -> Activity:
        return Activity(type=ActivityTypes.END_OF_CONVERSATION)

    @staticmethod
    def create_event_activity() -> Activity:
        return Activity(type=ActivityTypes.EVENT)

    @staticmethod
    def create_handoff_activity() -> Activity:
        return Activity(type=ActivityTypes.HANDOFF)

    @staticmethod
    def create_invoke_activity() -> Activity:
        return Activity(type=ActivityTypes.INVOKE)

    @staticmethod
    def create_typing_activity() -> Activity:
        return Activity(type=ActivityTypes.TYPING)

    def get_conversation_reference(self) -> ConversationReference:
        """The addressing of this activity, to reply now or continue the conversation later
        (the accounts and conversation are the activity's own objects, as in botbuilder)."""
        return ConversationReference(
            activity_id=self.id,
            user=self.from_property,
            bot=self.recipient,
            conversation=self.conversation,
            channel_id=self.channel_id,
            locale=self.locale,
            service_url=self.service_url,
        )

    def get_reply_conversation_reference(self, reply: ResourceResponse) -> ConversationReference:
        """The reference of a reply the bot sent (`reply` is what sending it returned), to
        update or delete that reply later."""
        reference = self.get_conversation_reference()
        reference.activity_id = reply.id
        return reference

    def apply_conversation_reference(
        self, reference: ConversationReference, is_incoming: bool = False
    ) -> Activity:
        """Address this activity into the referenced conversation (in place; returned too):
        from the bot to the user, replying to the referenced activity, or with `is_incoming`
        from the user to the bot, with the referenced activity's id."""
        self.channel_id = reference.channel_id
        self.service_url = reference.service_url
        self.conversation = reference.conversation
        if reference.locale is not None:
            self.locale = reference.locale
        if is_incoming:
            self.from_property, self.recipient = reference.user, reference.bot
            if reference.activity_id is not None:
                self.id = reference.activity_id
        else:
            self.from_property, self.recipient = reference.bot, reference.user
            if reference.activity_id is not None:
                self.reply_to_id = reference.activity_id
        return self

    def get_mentions(self) -> list[Entity]:
        """The entities of this activity that are mentions."""
        return [e for e in self.entities or () if str(e.type).lower() == "mention"]

    def has_content(self) -> bool:
        """Whether there is anything to show: text, summary, attachments or channel data."""
        return bool(
            (self.text and self.text.strip())
            or (self.summary and self.summary.strip())
            or self.attachments
            or self.channel_data
        )

    def is_from_streaming_connection(self) -> bool:
        """Whether the activity came over a streaming connection (a service URL that is not
        http(s)); never the case for what the gateway receives."""
        return bool(self.service_url) and not str(self.service_url).lower().startswith("http")

    def as_message_activity(self) -> Activity | None:
        """This activity if it is a message, else None (and so for each `as_*_activity`)."""
        return self if self._is_type(ActivityTypes.MESSAGE) else None

    def as_contact_relation_update_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.CONTACT_RELATION_UPDATE) else None

    def as_conversation_update_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.CONVERSATION_UPDATE) else None

    def as_end_of_conversation_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.END_OF_CONVERSATION) else None

    def as_event_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.EVENT) else None

    def as_handoff_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.HANDOFF) else None

    def as_installation_update_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.INSTALLATION_UPDATE) else None

    def as_invoke_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.INVOKE) else None

    def as_message_delete_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.MESSAGE_DELETE) else None

    def as_message_reaction_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.MESSAGE_REACTION) else None

    def as_message_update_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.MESSAGE_UPDATE) else None

    def as_suggestion_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.SUGGESTION) else None

    def as_trace_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.TRACE) else None

    def as_typing_activity(self) -> Activity | None:
        return self if self._is_type(ActivityTypes.TYPING) else None

    def _is_type(self, activity_type: str) -> bool:
        """Type names compare without case, and `event/x` is an `event` (a subtype)."""
        if self.type is None:
            return False
        own, wanted = str(self.type).lower(), activity_type.lower()
        return own == wanted or own.startswith(wanted + "/")


def _type_name(value: Any) -> str | None:
    return type(value).__name__ if value is not None else None


def _copy_account(account: ChannelAccount | None) -> ChannelAccount | None:
    return account.shallow_copy() if account else None


# -- Bot Connector REST API bodies (worker/connector/client.py) ----------------------------


@dataclass
class ConversationParameters(Model):
    """What `create_conversation` sends: who is in the new conversation, and optionally its
    first activity. Teams needs `tenant_id` (and `channel_data` for a channel thread)."""

    is_group: bool | None = None
    bot: ChannelAccount | None = None
    members: list[ChannelAccount] | None = None
    topic_name: str | None = None
    tenant_id: str | None = None
    activity: Activity | None = None
    channel_data: Any = None


@dataclass
class ConversationResourceResponse(Model):
    """What `create_conversation` returns: the new conversation's id, the id of its first
    activity (if one was sent) and the service URL to use for it, when the channel says."""

    activity_id: str | None = None
    service_url: str | None = None
    id: str | None = None


@dataclass
class PagedMembersResult(Model):
    """One page of a conversation's members; ask again with `continuation_token` until it is
    empty."""

    continuation_token: str | None = None
    members: list[ChannelAccount] | None = None


@dataclass
class Transcript(Model):
    """Past activities uploaded with `send_conversation_history` (e.g. when a bot joins)."""

    activities: list[Activity] | None = None


@dataclass
class AttachmentData(Model):
    """A file for `upload_attachment`: content type, name and base64 contents."""

    type: str | None = None
    name: str | None = None
    original_base64: str | None = None
    thumbnail_base64: str | None = None

    @classmethod
    def from_bytes(
        cls, type: str, name: str, original: bytes, thumbnail: bytes | None = None
    ) -> AttachmentData:
        """Encode raw file bytes (and an optional thumbnail) the way the wire wants them."""
        return cls(
            type=type,
            name=name,
            original_base64=base64.b64encode(original).decode("ascii"),
            thumbnail_base64=base64.b64encode(thumbnail).decode("ascii") if thumbnail else None,
        )


@dataclass
class InnerHttpError(Model):
    """The status and body of a call the connector made on the bot's behalf, if one failed."""

    status_code: int | None = None
    body: Any = None


@dataclass
class Error(Model):
    """The `error` of an `ErrorResponse`: a machine-readable `code` and a `message`."""

    code: str | None = None
    message: str | None = None
    inner_http_error: InnerHttpError | None = None


@dataclass
class ErrorResponse(Model):
    """The body of a failed Bot Connector call: `{"error": {"code": ..., "message": ...}}`."""

    error: Error | None = None
