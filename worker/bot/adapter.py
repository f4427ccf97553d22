"""The adapter: runs one turn through middleware and the bot, delivers what it sends, and
handles what goes wrong (on_turn_error, state conflicts)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.protocol.answers import EXPECT_REPLIES
from shared.protocol.proactive import BadReference, ProactiveQueue, conversation_of
from shared.protocol.schedule import Schedule, ScheduledTurn
from shared.schema.activity import (
    Activity,
    ActivityTypes,
    ConversationParameters,
    ConversationReference,
    ConversationResourceResponse,
    InputHints,
    ResourceResponse,
)
from worker.bot import turn_effects
from worker.bot.bot_adapter import BotAdapter
from worker.bot.errors import StateContention, TakenOver, is_transient
from worker.bot.invoke import BUFFERED_REPLIES_KEY, INVOKE_RESPONSE_KEY, TURN_FAILED_KEY
from worker.bot.middleware import Middleware
from worker.bot.proactive import LocalCallbacks, callback_name, is_named
from worker.bot.reply_stream import REPLY_STREAM_KEY, ReplyStream
from worker.bot.routes import RouteHandler, RouteRequest
from worker.bot.scheduled_turns import due_of, event_or_callback
from worker.bot.state import save_deferred
from worker.bot.storage import EtagConflict
from worker.bot.streaming import run_streamed
from worker.bot.turn_commit import FencedWrite, TurnCommit
from worker.bot.turn_context import TurnContext
from worker.bot.turn_effects import TurnEffects
from worker.bot.types import Bot, OnTurnError, ProactiveCallback, TurnHandler
from worker.bot.user_tokens import (
    USER_TOKEN_CLIENT_KEY,
    ExtendedUserTokenProvider,
    UserTokenClient,
)
from worker.connector.app_token import BOT_FRAMEWORK_SCOPE
from worker.connector.client import BeforeAttempt, ConnectorClient

log = logging.getLogger(__name__)

MAX_TURN_ATTEMPTS = 16
"""A turn whose state save conflicts runs again on fresh state, at most this many times, after a
jittered pause that doubles each time up to half a second (writers to one key stop colliding in
lockstep). Each round of colliding writers has one winner, so a turn waits at most for the
others writing the same state at that moment."""

_EFFECTS_KEY = "turnstream.TurnEffects"

BOT_FRAMEWORK_AUDIENCE = BOT_FRAMEWORK_SCOPE.removesuffix("/.default")
"""The audience of the token a worker sends with (the SDK's default `to_channel_from_bot`
scope)."""

_running: contextvars.ContextVar[TurnCommit | None] = contextvars.ContextVar(
    "turnstream_turn_commit", default=None
)
"""The commit object of the turn running in this task: `continue_conversation` takes no turn
context (the SDK's signature), yet a proactive turn queued by a turn is fenced by it."""


class ClearableState(Protocol):
    """What the default on_turn_error needs of the conversation state: `delete(context)`."""

    async def delete(self, turn_context: TurnContext) -> None: ...


class ConnectorAdapter(BotAdapter, ExtendedUserTokenProvider):
    """Runs turns and sends what they say through the Bot Connector REST API.

    Configure it as in the SDK: `adapter.use(middleware...)`, `adapter.on_turn_error = handler`.
    """

    def __init__(
        self,
        connector: ConnectorClient,
        *,
        middleware: Sequence[Middleware] = (),
        on_turn_error: OnTurnError | None = None,
        conversation_state: ClearableState | None = None,
        proactive: ProactiveQueue | None = None,
        bot: Bot | None = None,
        user_tokens: UserTokenClient | None = None,
        app_id: str | None = None,
        local_callbacks: LocalCallbacks | None = None,
        schedule: Schedule | None = None,
        on_scheduled: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(on_turn_error or self.default_on_turn_error)
        self.use(*middleware)
        self._connector = connector
        self._user_tokens = user_tokens
        self._conversation_state = conversation_state
        self.proactive = proactive
        """Where `continue_conversation` queues turns (None: proactive turns are refused)."""
        self.bot = bot
        """The bot whose methods may be proactive callbacks."""
        self.app_id = app_id or None
        """The app this worker acts as (`MicrosoftAppId`); None in anonymous mode."""
        self.local_callbacks = local_callbacks
        """Where proactive callbacks that cannot travel by name are kept (None: refused)."""
        self.schedule = schedule
        """Where `schedule_turn` keeps turns until they are due (None: refused)."""
        self._on_scheduled = on_scheduled

    @property
    def connector(self) -> ConnectorClient:
        """The Bot Connector client of this worker (members, history, attachments: see
        `worker.bot.conversations`)."""
        return self._connector

    async def process_activity(
        self,
        activity: dict[str, Any],
        bot: Bot,
        turn_commit: TurnCommit | None = None,
        *,
        handler: TurnHandler | None = None,
        reply_stream: ReplyStream | None = None,
    ) -> TurnContext:
        """Run one inbound activity (wire-format dict) through middleware and `bot.on_turn` (or
        `handler`: a proactive turn's callback), its writes and sends fenced by `turn_commit`.
        With a `reply_stream` (`deliveryMode: "stream"`), what the turn sends goes there, not
        to the connector.

        Raises only for transient failures (network, Redis, connector 429/5xx), which the caller
        retries later, and `TakenOver` once the turn's entry belongs to another worker (then
        `on_turn_error` is not called); the bot's own errors go to `on_turn_error` and end the
        turn.
        """
        pipeline = self._middleware.around(handler or bot.on_turn)
        effects = TurnEffects.of(turn_commit)
        running = _running.set(turn_commit)
        effects_running = turn_effects.running.set(effects)
        try:
            return await self._attempts(activity, pipeline, effects, turn_commit, reply_stream)
        finally:
            turn_effects.running.reset(effects_running)
            _running.reset(running)

    async def _attempts(
        self,
        activity: dict[str, Any],
        pipeline: TurnHandler,
        effects: TurnEffects,
        turn_commit: TurnCommit | None,
        reply_stream: ReplyStream | None,
    ) -> TurnContext:
        for attempt in range(1, MAX_TURN_ATTEMPTS + 1):
            context = self._attempt_context(activity, effects, turn_commit, reply_stream)
            try:
                await run_streamed(pipeline, context)  # a stream the user stopped ends it
                await save_deferred(context)
                return context
            except EtagConflict as conflict:
                if attempt == MAX_TURN_ATTEMPTS:
                    # Contention, not a bot bug: leave the entry pending rather than lose the
                    # update or let on_turn_error wipe the conversation's state.
                    raise StateContention(f"turn {_ids(context)}: {conflict}") from conflict
                log.info(
                    "state changed under turn %s (%s); running it again", _ids(context), conflict
                )
                await asyncio.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))
            except Exception as error:
                if turn_commit is not None and turn_commit.fenced:
                    # The bot caught the fence's TakenOver and raised something else: the turn
                    # is still not this worker's, and on_turn_error must not run for it.
                    if isinstance(error, TakenOver):
                        raise
                    raise TakenOver(f"turn {_ids(context)} was fenced off") from error
                if is_transient(error):
                    raise
                await self._turn_failed(context, error)
                try:
                    await save_deferred(context)  # what the bot saved before it failed stands
                except EtagConflict as conflict:
                    # Not worth running a failed turn again for: its saves give way.
                    log.warning("saves of failed turn %s dropped: %s", _ids(context), conflict)
                return context
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt_context(
        self,
        activity: dict[str, Any],
        effects: TurnEffects,
        turn_commit: TurnCommit | None,
        reply_stream: ReplyStream | None,
    ) -> TurnContext:
        """A fresh context for one attempt of the turn (what it did so far carried over)."""
        context = TurnContext(self, Activity.from_dict(activity))
        context.turn_state[_EFFECTS_KEY] = effects
        if reply_stream is not None:
            context.turn_state[REPLY_STREAM_KEY] = reply_stream
        if self._user_tokens is not None:
            context.turn_state[USER_TOKEN_CLIENT_KEY] = self._user_tokens
        context.turn_commit = turn_commit
        effects.position = 0
        return context

    async def continue_conversation(
        self,
        reference: ConversationReference | dict[str, Any],
        callback: ProactiveCallback,
        bot_id: object = None,
        claims_identity: object = None,
        audience: str | None = None,
    ) -> str:
        """Queue a proactive turn in `reference`'s conversation that runs `callback` through
        this adapter's middleware, after the conversation's turns queued before it. Returns the
        stream entry id (the turn runs later, not before this returns).

        `callback` is a module-level async function or a method of the bot (it travels by
        name, any worker runs it), or any other callable returning an awaitable, a lambda or
        a closure say (kept in this worker's memory: this worker runs it, see
        `worker.bot.proactive`). `bot_id` is the app id the turn acts as: the worker's own
        (`MicrosoftAppId`), checked when one is configured, ignored in anonymous mode.
        `claims_identity` is accepted for the SDK's signature and checked the same way;
        `audience` must be None or the Bot Framework's (one worker, one app, one audience).
        """
        if self.proactive is None:
            raise RuntimeError("this adapter has no proactive queue (it runs inside a worker)")
        self._check_identity(bot_id, claims_identity, audience)
        doc = reference.to_dict() if isinstance(reference, ConversationReference) else reference
        local = None if is_named(callback, self.bot) else self.local_callbacks

        async def queue() -> str:
            if local is None:
                name = callback_name(callback, self.bot)  # raises TypeError outside a worker
            else:
                if not callable(callback):
                    raise TypeError(f"a proactive callback must be callable, not {callback!r}")
                name = await local.keep(callback)
            try:
                entry_id = await self._queue(doc, name)
            except BaseException:
                if local is not None:
                    local.dropped(name)
                raise
            if local is not None:
                local.queued(name, conversation_of(doc), entry_id)
            return entry_id

        # Queued once per turn, however often the turn runs. A callback kept in memory is
        # queued again by another delivery: the one queued before waits for a worker that
        # may be gone, and is dead-lettered (decision 0019).
        return await turn_effects.once(queue, kept_in_memory=local is not None)

    async def _queue(self, doc: dict[str, Any], name: str) -> str:
        assert self.proactive is not None
        commit = _running.get()
        try:
            if commit is None or commit.committed:  # not for a turn, or after it committed
                return await self.proactive.enqueue(doc, callback=name)
            keys, args = self.proactive.enqueue_call(doc, callback=name)
        except BadReference as e:
            raise ValueError(str(e)) from None
        # Queued by a turn: fenced by the turn's entry, so a worker that lost it queues nothing.
        write = FencedWrite(self.proactive.enqueue_script, keys, args)
        (entry_id,) = await commit.write(self.proactive.client, [write])
        return str(entry_id.decode() if isinstance(entry_id, bytes) else entry_id)

    async def schedule_turn(
        self,
        reference: ConversationReference | dict[str, Any],
        callback_or_event: ProactiveCallback | str,
        *,
        at: datetime | float | None = None,
        after: timedelta | float | None = None,
        key: str | None = None,
        value: Any = None,
    ) -> str:
        """Schedule a proactive turn in `reference`'s conversation at `at` (an aware datetime,
        or epoch seconds) or `after` (a timedelta, or seconds); return its schedule id. When
        due, the turn is queued after the conversation's turns queued before then, and runs as
        a `continue_conversation` turn does.

        `callback_or_event` is a callback that travels by name (a module-level async function
        or a method of the bot: the turn may run after this worker is gone), or an event name:
        the bot's `on_event_activity` gets an event activity of that name, with `value`. With
        `key`, a turn scheduled earlier with the same key in the same conversation and not yet
        due is replaced: scheduling by key is idempotent. Raises ValueError for a bad
        reference, time, key or value; TypeError for a callback that has no name.
        """
        if self.schedule is None:
            raise RuntimeError("this adapter has no schedule (it runs inside a worker)")
        event, callback = event_or_callback(callback_or_event, self.bot)
        doc = reference.to_dict() if isinstance(reference, ConversationReference) else reference
        try:
            scheduled_id, keys, args = self.schedule.schedule_call(
                doc, due_of(at, after), event=event, value=value, callback=callback, key=key
            )
        except BadReference as e:
            raise ValueError(str(e)) from None
        schedule = self.schedule

        async def write() -> str:
            await self._write(schedule.schedule_script, keys, args)
            if self._on_scheduled is not None:
                self._on_scheduled()
            return scheduled_id

        return await turn_effects.once(write)  # once per turn, however often the turn runs

    async def cancel_scheduled_turn(
        self,
        scheduled_id: str | None = None,
        *,
        reference: ConversationReference | dict[str, Any] | None = None,
        key: str | None = None,
    ) -> bool:
        """Cancel a scheduled turn by its id, or by `reference` and the `key` it was scheduled
        with. False if no such turn waits (it ran, was queued already, or was cancelled)."""
        if self.schedule is None:
            raise RuntimeError("this adapter has no schedule (it runs inside a worker)")
        try:
            conversation = None
            if reference is not None:
                doc = (
                    reference.to_dict()
                    if isinstance(reference, ConversationReference)
                    else reference
                )
                conversation = conversation_of(doc)
            keys, args = self.schedule.cancel_call(scheduled_id, conversation=conversation, key=key)
        except BadReference as e:
            raise ValueError(str(e)) from None
        return bool(await self._write(self.schedule.cancel_script, keys, args))

    async def scheduled_turns(
        self, reference: ConversationReference | dict[str, Any]
    ) -> list[ScheduledTurn]:
        """The turns waiting in `reference`'s conversation, by due time."""
        if self.schedule is None:
            raise RuntimeError("this adapter has no schedule (it runs inside a worker)")
        doc = reference.to_dict() if isinstance(reference, ConversationReference) else reference
        try:
            conversation = conversation_of(doc)
        except BadReference as e:
            raise ValueError(str(e)) from None
        return await self.schedule.waiting(conversation=conversation, limit=10_000)

    async def _write(self, script: str, keys: list[str], args: list[str | bytes | int]) -> Any:
        """Run a schedule script: fenced by the running turn's entry, if a turn runs (a worker
        that lost the entry schedules and cancels nothing), else as it is."""
        assert self.schedule is not None
        commit = _running.get()
        if commit is None or commit.committed:
            return await self.schedule.client.eval(script, len(keys), *keys, *args)
        (answer,) = await commit.write(self.schedule.client, [FencedWrite(script, keys, args)])
        return answer

    def _check_identity(
        self, bot_id: object, claims_identity: object, audience: str | None
    ) -> None:
        """The SDK's identity arguments, as far as they mean something here: this worker acts
        as one app, so an app id other than its own is refused rather than ignored."""
        if audience is not None and audience.rstrip("/") != BOT_FRAMEWORK_AUDIENCE:
            raise ValueError(
                f"audience {audience!r}: this worker's outbound token is for "
                f"{BOT_FRAMEWORK_AUDIENCE} only (skills are not supported)"
            )
        claims = getattr(claims_identity, "claims", None) or {}
        asked = [
            str(value)
            for value in (bot_id, claims.get("appid"), claims.get("azp"), claims.get("aud"))
            if value
        ]
        if self.app_id is None:
            return  # anonymous mode: no identity to act as (the SDK's samples pass a uuid)
        for value in asked:
            if value != self.app_id:
                raise ValueError(
                    f"bot_id {value!r} is not this worker's app id (MicrosoftAppId): a worker "
                    "runs proactive turns as its own app only"
                )

    async def create_conversation(
        self,
        channel_id: str,
        service_url: str,
        parameters: ConversationParameters,
        callback: ProactiveCallback | None = None,
    ) -> ConversationResourceResponse:
        """Start a conversation (POST /v3/conversations) and, with a `callback`, queue a
        proactive turn in it that runs `callback` (as `continue_conversation` does)."""

        # Once per turn, however often the turn runs: a second POST starts a second one.
        created = await turn_effects.once_as(
            ConversationResourceResponse,
            lambda: self._connector.create_conversation(service_url, parameters),
        )
        if callback is not None:
            if not created.id:
                raise ValueError("the channel created a conversation but did not say its id")
            conversation: dict[str, Any] = {"id": created.id}
            if parameters.tenant_id:
                conversation["tenantId"] = parameters.tenant_id
            reference: dict[str, Any] = {
                "channelId": channel_id,
                "serviceUrl": created.service_url or service_url,
                "conversation": conversation,
            }
            if parameters.bot is not None:
                reference["bot"] = parameters.bot.to_dict()
            if parameters.members:
                reference["user"] = parameters.members[0].to_dict()
            await self.continue_conversation(reference, callback)
        return created

    async def run_route(
        self, handler: RouteHandler, request: RouteRequest, turn_commit: TurnCommit | None
    ) -> object:
        """Run a bot route's handler (`worker.bot.routes`) for the stream entry `turn_commit`
        fences: proactive turns it queues are written only while the entry is this worker's."""
        running = _running.set(turn_commit)
        try:
            return await handler(request)
        finally:
            _running.reset(running)

    async def _turn_failed(self, context: TurnContext, error: Exception) -> None:
        context.turn_state[TURN_FAILED_KEY] = True  # the answer of an invoke; proactive progress
        if context.turn_commit is not None:
            context.turn_commit.bot_error = True  # the turn's outcome in the worker's metrics
        try:
            if self.on_turn_error is None:  # set to None by the bot: nothing to tell the user
                log.error("bot error in turn %s: %s", _ids(context), error, exc_info=error)
                return
            await self.on_turn_error(context, error)
        except Exception:
            log.exception("on_turn_error failed for turn %s", _ids(context))

    async def default_on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """What the SDK's samples do: log, apologise (never with the exception text), clear the
        conversation state so the bot cannot loop on bad state, and trace for the emulator."""
        log.error(
            "bot error in turn %s: %s",
            _ids(context),
            error,
            exc_info=error,
            extra={"conversation": _conversation(context), "activity_id": context.activity.id},
        )
        first = "The bot encountered an error or bug."
        await context.send_activity(first, first, InputHints.IGNORING_INPUT)
        second = "To continue to run this bot, please fix the bot source code."
        await context.send_activity(second, second, InputHints.EXPECTING_INPUT)
        if self._conversation_state is not None:
            await self._conversation_state.delete(context)
        await context.send_trace_activity(
            "OnTurnError Trace",
            f"{error}",
            "https://www.botframework.com/schemas/error",
            "TurnError",
        )

    # -- delivery (BotAdapter) -----------------------------------------------------------------

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        inbound = context.activity
        effects: TurnEffects = context.turn_state.setdefault(_EFFECTS_KEY, TurnEffects())
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.INVOKE_RESPONSE:
                context.turn_state[INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse())
                continue
            if activity.type == ActivityTypes.TRACE and inbound.channel_id != "emulator":
                responses.append(ResourceResponse())  # traces are for the emulator only
                continue
            if inbound.delivery_mode == EXPECT_REPLIES:  # they go back in the HTTP response
                context.turn_state.setdefault(BUFFERED_REPLIES_KEY, []).append(activity.to_dict())
                responses.append(ResourceResponse())
                continue
            if activity.type == ActivityTypes.TYPING:  # ephemeral: not replayed, not counted
                if effects.position < len(effects.done):
                    # A retry still short of what an earlier attempt sent: the answer this
                    # would show progress on (a streamed one included) was delivered already.
                    responses.append(ResourceResponse())
                else:
                    check = _send_check(effects.commit)  # fenced like any reply: a stream too
                    responses.append(await self._deliver(context, activity, check))
                continue
            earlier = effects.recorded()
            if earlier is not None:  # an earlier attempt of this turn sent it
                responses.append(earlier)
                effects.position += 1
            else:
                # Checked before each attempt, retries too: a stall may come between them.
                response = await self._deliver(context, activity, _send_check(effects.commit))
                effects.did(response)
                responses.append(response)
        return responses

    async def _deliver(
        self, context: TurnContext, activity: Activity, check: BeforeAttempt | None
    ) -> ResourceResponse:
        reply_stream: ReplyStream | None = context.turn_state.get(REPLY_STREAM_KEY)
        if reply_stream is not None:  # deliveryMode stream: fenced in the append's own script
            return await reply_stream.append(activity.to_dict())
        return await self._post(context.activity, activity, check)

    async def _post(
        self, inbound: Activity, activity: Activity, check: BeforeAttempt | None = None
    ) -> ResourceResponse:
        service_url, conversation_id = _route(inbound)
        body = activity.to_dict()
        body.pop("serviceUrl", None)  # the connector knows where it is
        if activity.reply_to_id:
            return await self._connector.reply_to_activity(
                service_url, conversation_id, activity.reply_to_id, body, before_attempt=check
            )
        return await self._connector.send_to_conversation(
            service_url, conversation_id, body, before_attempt=check
        )

    async def update_activity(
        self, context: TurnContext, activity: Activity
    ) -> ResourceResponse | None:
        service_url, conversation_id = _route(context.activity)
        assert activity.id is not None
        body = activity.to_dict()
        body.pop("serviceUrl", None)
        return await self._connector.update_activity(
            service_url, conversation_id, activity.id, body
        )

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        service_url, conversation_id = _route(context.activity)
        if not reference.activity_id:
            raise ValueError("delete_activity needs the id of the activity to delete")
        await self._connector.delete_activity(service_url, conversation_id, reference.activity_id)


def _send_check(commit: TurnCommit | None) -> BeforeAttempt | None:
    """What the connector awaits before each attempt of a reply: the turn still owns its
    entry (`TurnCommit.ensure_owned`)."""
    if commit is None:
        return None

    async def check() -> None:
        await commit.ensure_owned("send")

    return check


def _route(inbound: Activity) -> tuple[str, str]:
    conversation_id = inbound.conversation.id if inbound.conversation else None
    if not inbound.service_url or not conversation_id:
        raise ValueError("the inbound activity has no serviceUrl or conversation id to answer")
    return inbound.service_url, conversation_id


def _conversation(context: TurnContext) -> str | None:
    conversation = context.activity.conversation
    return f"{context.activity.channel_id}/{conversation.id}" if conversation else None


def _ids(context: TurnContext) -> str:
    return f"{_conversation(context)} activity {context.activity.id}"
