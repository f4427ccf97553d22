"""TurnContext: what a bot sees of one turn — the inbound activity and ways to answer it."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from shared.schema.activity import (
    Activity,
    ActivityTypes,
    ConversationReference,
    InputHints,
    Mention,
    Model,
    ResourceResponse,
)
from worker.bot import mentions
from worker.bot.streaming import STREAMING_RESPONSE_KEY, StreamingResponse
from worker.bot.turn_commit import TurnCommit

if TYPE_CHECKING:  # the adapter module imports this one
    from worker.bot.bot_adapter import BotAdapter

T = TypeVar("T")
A = TypeVar("A")
M = TypeVar("M", bound=Model)

SendActivitiesHandler = Callable[
    ["TurnContext", list[Activity], Callable[[], Awaitable[list[ResourceResponse]]]],
    Awaitable[list[ResourceResponse]],
]
"""`(context, activities, next)`: return `await next()` to let the send happen, or don't."""
UpdateActivityHandler = Callable[
    ["TurnContext", Activity, Callable[[], Awaitable[ResourceResponse | None]]],
    Awaitable[ResourceResponse | None],
]
"""`(context, activity, next)` around an update."""
DeleteActivityHandler = Callable[
    ["TurnContext", ConversationReference, Callable[[], Awaitable[None]]], Awaitable[None]
]
"""`(context, reference, next)` around a delete."""

_NO_REPLY_TO_CHANNELS = ("directline", "webchat")


class TurnContext:
    """One turn: the inbound `activity`, `send_activity` to answer, `turn_state` for this turn only.

    A new context is made for every turn, so per-turn data (state caches included) never leaks
    between the many turns a worker runs at once.
    """

    adapter: BotAdapter
    activity: Activity
    turn_state: dict[str, Any]
    services: dict[str, Any]
    turn_commit: TurnCommit | None

    def __init__(
        self, adapter_or_context: BotAdapter | TurnContext, request: Activity | None = None
    ) -> None:
        """`TurnContext(adapter, activity)` for a turn, or `TurnContext(context)`: another
        context of the same turn (see `copy_to`)."""
        if isinstance(adapter_or_context, TurnContext):
            adapter_or_context.copy_to(self)
            return
        if adapter_or_context is None:
            raise TypeError("TurnContext needs the adapter of the turn")
        if request is None:
            raise TypeError("TurnContext needs the activity of the turn")
        self.adapter = adapter_or_context
        self.activity = request
        self.turn_state = {}
        self.services: dict[str, Any] = {}
        """Values cached for this turn by `set` (botbuilder's services map)."""
        self.turn_commit = None
        """The runtime's commit object for the stream entry this turn runs for: every write
        the turn makes goes through it, fenced (`worker.bot.turn_commit`). None outside a
        worker (tests, TestAdapter): writes are then plain."""
        self._responded = False
        self._on_send_activities: list[SendActivitiesHandler] = []
        self._on_update_activity: list[UpdateActivityHandler] = []
        self._on_delete_activity: list[DeleteActivityHandler] = []

    def copy_to(self, context: TurnContext) -> None:
        """Make `context` another context of this turn: the same adapter, activity, hooks, turn
        state and commit object (botbuilder's copy starts an empty `turn_state`; sharing it
        keeps the turn's loaded state and its record of sent replies), `responded` as now."""
        context.adapter = self.adapter
        context.activity = self.activity
        context.turn_state = self.turn_state
        context.services = self.services
        context.turn_commit = self.turn_commit
        context._responded = self._responded
        context._on_send_activities = self._on_send_activities
        context._on_update_activity = self._on_update_activity
        context._on_delete_activity = self._on_delete_activity

    def get(self, key: str) -> Any:
        """The value `set` cached under `key` for this turn; `KeyError` if there is none."""
        if not key or not isinstance(key, str):
            raise TypeError("a service key is a non-empty string")
        if key not in self.services:
            raise KeyError(f"{key!r} was not set in this turn")
        return self.services[key]

    def has(self, key: str) -> bool:
        """Whether `set` cached a value (None too) under `key` in this turn."""
        return key in self.services

    def set(self, key: str, value: Any) -> None:
        """Cache `value` under `key` for the rest of this turn."""
        if not key or not isinstance(key, str):
            raise TypeError("a service key is a non-empty string")
        self.services[key] = value

    @property
    def responded(self) -> bool:
        """True once the bot sent a non-trace activity in this turn. Can be set to True only."""
        return self._responded

    @responded.setter
    def responded(self, value: bool) -> None:
        if not value:
            raise ValueError("responded can only be set to True")
        self._responded = True

    @property
    def streaming_response(self) -> StreamingResponse:
        """This turn's streamed answer (the Agents SDK's): queue text as it is produced, then
        `await end_stream()`. Made on first use; see worker.bot.streaming."""
        stream = self.turn_state.get(STREAMING_RESPONSE_KEY)
        if stream is None:
            stream = self.turn_state[STREAMING_RESPONSE_KEY] = StreamingResponse(self)
        return stream

    @streaming_response.setter
    def streaming_response(self, stream: StreamingResponse) -> None:
        """Use `stream` instead (one with its own pace, say), before anything was streamed."""
        self.turn_state[STREAMING_RESPONSE_KEY] = stream

    # -- hooks ------------------------------------------------------------------------------

    def on_send_activities(self, handler: SendActivitiesHandler) -> TurnContext:
        """Run `handler` around every send of this turn, in registration order."""
        self._on_send_activities.append(handler)
        return self

    def on_update_activity(self, handler: UpdateActivityHandler) -> TurnContext:
        """Run `handler` around every update of this turn."""
        self._on_update_activity.append(handler)
        return self

    def on_delete_activity(self, handler: DeleteActivityHandler) -> TurnContext:
        """Run `handler` around every delete of this turn."""
        self._on_delete_activity.append(handler)
        return self

    # -- sending ----------------------------------------------------------------------------

    async def send_activity(
        self,
        activity_or_text: Activity | str,
        speak: str | None = None,
        input_hint: str | None = None,
    ) -> ResourceResponse | None:
        """Send one activity (or a text message) into the conversation of this turn."""
        if isinstance(activity_or_text, str):
            activity = Activity(
                type=ActivityTypes.MESSAGE,
                text=activity_or_text,
                speak=speak,
                input_hint=input_hint or InputHints.ACCEPTING_INPUT,
            )
        else:
            activity = activity_or_text
        responses = await self.send_activities([activity])
        return responses[0] if responses else None

    async def send_activities(self, activities: Sequence[Activity]) -> list[ResourceResponse]:
        """Send several activities in order; returns one ResourceResponse per activity."""
        reference = self.get_conversation_reference(self.activity)
        outgoing = [self._outgoing(activity, reference) for activity in activities]

        delivered: list[ResourceResponse] | None = None

        async def deliver() -> list[ResourceResponse]:
            nonlocal delivered
            delivered = await self.adapter.send_activities(self, outgoing)
            if any(a.type != ActivityTypes.TRACE for a in outgoing):
                self._responded = True
            return delivered

        returned = await _chain(self._on_send_activities, self, outgoing, deliver)
        # What the adapter answered, even through a hook that does not return it (botbuilder
        # hooks often `await next_send()` without returning); a hook that stopped the send
        # decides.
        return delivered if delivered is not None else (returned or [])

    async def update_activity(self, activity: Activity) -> ResourceResponse | None:
        """Replace an activity the bot sent earlier (`activity.id` names it)."""
        if not activity.id:
            raise ValueError("update_activity needs activity.id: the id of the activity to replace")
        reference = self.get_conversation_reference(self.activity)
        updated = self.apply_conversation_reference(activity.shallow_copy(), reference)
        updated.id = activity.id

        response: ResourceResponse | None = None

        async def update() -> ResourceResponse | None:
            nonlocal response
            response = await self.adapter.update_activity(self, updated)
            return response

        await _chain(self._on_update_activity, self, updated, update)
        return response  # the adapter's answer, whatever the hooks returned

    async def delete_activity(self, id_or_reference: str | ConversationReference) -> None:
        """Delete an activity the bot sent, by id or by conversation reference."""
        if isinstance(id_or_reference, str):
            reference = self.get_conversation_reference(self.activity)
            reference.activity_id = id_or_reference
        else:
            reference = id_or_reference

        async def delete() -> None:
            await self.adapter.delete_activity(self, reference)

        await _chain(self._on_delete_activity, self, reference, delete)

    async def send_trace_activity(
        self, name: str, value: Any = None, value_type: str | None = None, label: str | None = None
    ) -> ResourceResponse | None:
        """Send a trace activity: delivered on the emulator channel only, ignored elsewhere."""
        trace = Activity(
            type=ActivityTypes.TRACE,
            timestamp=datetime.datetime.now(datetime.UTC),
            name=name,
            value=value,
            value_type=value_type,
            label=label,
        )
        return await self.send_activity(trace)

    def _outgoing(self, activity: Activity, reference: ConversationReference) -> Activity:
        addressed = self.apply_conversation_reference(activity.shallow_copy(), reference)
        addressed.id = None
        if not addressed.type:
            addressed.type = ActivityTypes.MESSAGE
        if addressed.type == ActivityTypes.MESSAGE and addressed.input_hint is None:
            addressed.input_hint = InputHints.ACCEPTING_INPUT
        if activity.reply_to_id:  # a bot may reply to another activity of the conversation
            addressed.reply_to_id = activity.reply_to_id
        return addressed

    # -- mentions ---------------------------------------------------------------------------

    @staticmethod
    def get_mentions(activity: Activity) -> list[Mention]:
        """The mentions (`<at>Name</at>`) in an activity's entities."""
        return mentions.get_mentions(activity)

    @staticmethod
    def remove_recipient_mention(activity: Activity) -> str:
        """Remove the mention of the bot from `activity.text`; return the new text."""
        return mentions.remove_recipient_mention(activity)

    @staticmethod
    def remove_mention_text(activity: Activity, identifier: str) -> str:
        """Remove the mentions of `identifier` from `activity.text`; return the new text."""
        return mentions.remove_mention_text(activity, identifier)

    # -- conversation references ------------------------------------------------------------

    @staticmethod
    def get_conversation_reference(activity: Activity) -> ConversationReference:
        """The addressing of `activity`, to reply now or to continue the conversation later.

        As in the SDK, the activity id is left out for conversation updates and on Direct Line
        and Web Chat, which do not accept replies to them.
        """
        keep_id = (
            activity.type != ActivityTypes.CONVERSATION_UPDATE
            and activity.channel_id not in _NO_REPLY_TO_CHANNELS
        )
        return ConversationReference(
            activity_id=activity.id if keep_id else None,
            user=_copy(activity.from_property),
            bot=_copy(activity.recipient),
            conversation=_copy(activity.conversation),
            channel_id=activity.channel_id,
            locale=activity.locale,
            service_url=activity.service_url,
        )

    @staticmethod
    def get_reply_conversation_reference(
        activity: Activity, reply: ResourceResponse
    ) -> ConversationReference:
        """The reference of a reply the bot sent in answer to `activity` (`reply` is what the
        send returned), to update or delete that reply later."""
        reference = TurnContext.get_conversation_reference(activity)
        reference.activity_id = reply.id
        return reference

    @staticmethod
    def apply_conversation_reference(
        activity: Activity, reference: ConversationReference, is_incoming: bool = False
    ) -> Activity:
        """Address `activity` into the referenced conversation (in place; also returned).

        Outgoing: from the bot to the user, as a reply to the referenced activity. Incoming
        (`is_incoming=True`): from the user to the bot, as if the channel had sent it.
        """
        activity.channel_id = reference.channel_id
        activity.service_url = reference.service_url
        activity.conversation = _copy(reference.conversation)
        activity.locale = activity.locale or reference.locale
        if is_incoming:
            activity.from_property = _copy(reference.user)
            activity.recipient = _copy(reference.bot)
            if reference.activity_id:
                activity.id = reference.activity_id
        else:
            activity.from_property = _copy(reference.bot)
            activity.recipient = _copy(reference.user)
            activity.reply_to_id = reference.activity_id
        return activity


def _copy(value: M | None) -> M | None:
    return value.shallow_copy() if value is not None else None


async def _chain(
    handlers: list[Callable[[TurnContext, A, Callable[[], Awaitable[T]]], Awaitable[T]]],
    context: TurnContext,
    argument: A,
    logic: Callable[[], Awaitable[T]],
) -> T:
    """Run `handlers` in order around `logic`; a handler that never calls `next` stops it."""
    call = logic
    for handler in reversed(handlers):
        call = _bind(handler, context, argument, call)
    return await call()


def _bind(
    handler: Callable[[TurnContext, A, Callable[[], Awaitable[T]]], Awaitable[T]],
    context: TurnContext,
    argument: A,
    following: Callable[[], Awaitable[T]],
) -> Callable[[], Awaitable[T]]:
    async def call() -> T:
        return await handler(context, argument, following)

    return call
