"""StreamingResponse: one streamed answer of a turn, its queue, its background sender and the
end of the turn it belongs to (`run_streamed`). See the package's docstring."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from shared.protocol.answers import STREAM
from shared.schema.activity import Activity, ActivityTypes, Attachment, Entity
from worker.bot.errors import TakenOver, is_transient
from worker.bot.streaming.ai_content import (
    Citation,
    SensitivityUsageInfo,
    ai_entity,
    client_citation,
    numbered,
    used_citations,
)
from worker.bot.streaming.channels import (
    COPILOT_KEEP_ALIVE,
    COPILOT_TIME_CAP,
    EVENTS_INTERVAL,
    MAX_INFORMATIVE_LENGTH,
    SEND_INTERVALS,
    STREAM_INFO,
    WEB_CHAT_CHANNELS,
    channel_of,
    is_copilot,
    is_stop,
    is_time_cap,
    stream_info,
    streams,
)
from worker.connector.errors import ConnectorError

if TYPE_CHECKING:
    from worker.bot.turn_context import TurnContext

log = logging.getLogger(__name__)

STREAMING_RESPONSE_KEY = "turnstream.StreamingResponse"
"""Where a turn keeps its StreamingResponse (`TurnContext.turn_state`)."""

TIME_CAP_NOTICE = (
    "This answer is taking longer than the chat can show as it is written; it follows in full."
)
_EMPTY_FINAL = "end stream response"
"""The final text when the bot streamed none (the channel refuses an empty final message)."""

Sleep = Callable[[float], Awaitable[None]]


class StreamingResponse:
    """One streamed answer of a turn: `turn_context.streaming_response`.

    Queue informative updates and text chunks as the answer is produced, then `await
    end_stream()`. The queue methods return at once: sends happen in the background, paced for
    the channel. Once the user stopped the stream, queueing does nothing (the producing task
    was cancelled); once it ended, queueing raises RuntimeError.

    `interval` overrides the channel's pace (seconds between sends), and `sleep` is what waits
    it out: tests pass a clock of their own instead of sleeping real seconds.
    """

    def __init__(
        self, context: TurnContext, *, interval: float | None = None, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._context = context
        self._interval_override = interval
        self._sleep = sleep
        self._time_cap_notice = TIME_CAP_NOTICE
        self._start()

    def _start(self) -> None:
        """The state of a stream that has sent nothing yet (also after `reset`)."""
        activity = self._context.activity
        channel = channel_of(activity)
        self._streaming = streams(activity)
        # A `stream` request's updates go to its client as events, not to the channel: none
        # of the channel's own rules (Teams' ids and refusals, Copilot's timers) apply.
        to_events = activity.delivery_mode == STREAM
        self._teams = channel == "msteams" and not to_events
        self._copilot = is_copilot(activity) and not to_events
        interval = EVENTS_INTERVAL if to_events else SEND_INTERVALS.get(channel, 0.0)
        self._interval = interval if self._interval_override is None else self._interval_override
        # A channel names the stream by the id it gave the stream's first activity (Teams; Web
        # Chat's livestreaming takes no other); a `stream` request's events, by the bot.
        self._stream_id: str | None = str(uuid.uuid4()) if to_events else None
        # Web Chat up to 4.18.1 (behind Direct Line and the emulator too) reads the stream's
        # fields from channelData only: there too, not only in the entity.
        self._in_channel_data = channel in WEB_CHAT_CHANNELS and not to_events
        self._sequence = 1
        self._message = ""
        self._queue: deque[str | None] = deque()
        """Informative texts to send, in order; None is the (one) pending chunk."""
        self._sender: asyncio.Task[None] | None = None
        self._producer: asyncio.Task[Any] | None = None
        self._cancelled: asyncio.Task[Any] | None = None
        """The producing task this stream cancelled when the user stopped it."""
        self._failure: BaseException | None = None
        """What the background sends failed with, raised to the bot at its next call."""
        self._ended = False
        self._stopped = False
        self._timed_out = False
        self._closed = False
        self._informed = ""
        """The last informative text: what a keep-alive repeats before the answer starts."""
        self._keep_alive: asyncio.Task[None] | None = None
        self._time_cap: asyncio.Task[None] | None = None
        self._capped = False
        """The stream was closed at Copilot's time cap; the answer comes as a message."""
        self._attachments: list[Attachment] = []
        self._citations: list[dict[str, Any]] = []
        self._cited: list[Citation] = []
        self._sensitivity_label: SensitivityUsageInfo | None = None
        self._feedback_loop = False
        self._feedback_loop_type: Literal["default", "custom"] | None = None
        self._generated_by_ai_label = False

    # -- what the bot calls (the Agents SDK's names) ---------------------------------------

    @property
    def streaming_taking_too_long_message(self) -> str:
        """What the user reads when Copilot's time cap closes the stream before the answer is
        done (the answer then comes whole, as a message of its own)."""
        return self._time_cap_notice

    @streaming_taking_too_long_message.setter
    def streaming_taking_too_long_message(self, message: str) -> None:
        self._time_cap_notice = message

    @property
    def is_streaming_channel(self) -> bool:
        """True when the channel shows the answer as it grows (Teams 1:1, Web Chat, Direct
        Line); elsewhere, and for `expectReplies`, only the final message is sent."""
        return self._streaming

    def queue_informative_update(self, text: str) -> None:
        """Tell the user what the bot is doing ("Searching the docs..."), before the answer
        starts. Sent in order with the chunks; ignored where the channel does not stream.

        Raises ValueError, on every channel, for a text longer than 1,000 characters: Teams
        refuses such an update, and cutting a note short would hide the bug."""
        if len(text) > MAX_INFORMATIVE_LENGTH:
            raise ValueError(
                f"an informative update holds at most {MAX_INFORMATIVE_LENGTH} characters "
                f"(Teams refuses longer ones); this one has {len(text)}: put the rest in the "
                "answer (queue_text_chunk)"
            )
        if self._stopped or not self._streaming or not text.strip():
            return
        self._check_open()
        self._producer = asyncio.current_task()
        self._informed = text
        self._queue.append(text)
        self._wake()

    def queue_text_chunk(self, text: str, citations: Sequence[Citation] | None = None) -> None:
        """Add `text` to the answer; the user sees the answer so far at the channel's pace.
        `citations` are added to the answer's (as `set_citations`), skipping ones it has."""
        if self._stopped:
            return
        self._check_open()
        if citations:
            self.set_citations([c for c in citations if c not in self._cited])
        self._message = numbered(self._message + text)
        # The task queueing text is the one producing it: the one to cancel on Stop.
        self._producer = asyncio.current_task()
        if self._streaming and None not in self._queue:
            self._queue.append(None)  # one pending chunk: it takes the text as it is then
            self._wake()

    async def end_stream(self) -> None:
        """Send the final message (the whole text, attachments, citations, labels), once what
        is queued went out. Does nothing more after the user stopped the stream."""
        self._check_open()
        self._ended = True
        if self._stream_id is not None and None in self._queue:
            # A chunk still waiting for its turn is superseded by the final message, which
            # carries the whole text at that turn, as the Agents SDK's does: one update fewer,
            # and the answer final one pause sooner. (Not the stream's first update: its
            # answer is the stream's id on Teams.)
            self._queue.remove(None)
        if self._time_cap is not None and not self._capped:
            self._time_cap.cancel()  # ends now, inside the cap (unless it is closing already)
        await self._timers_done()
        if self._stopped:
            return
        await self._drained()
        if self._stopped:
            return
        final = self._final_message()
        try:
            if self._timed_out and self._stream_id:
                await self._replace_timed_out_stream(final)
            else:
                await self._context.send_activity(final)
        except ConnectorError as error:
            if not is_stop(error, self._teams):
                raise
            self._stopped = True  # stopped while the final was on its way: nothing more
            log.info("the user stopped the stream before its final message")

    def set_attachments(self, attachments: list[Attachment]) -> None:
        """Attachments of the final message (not of the chunks)."""
        self._attachments = list(attachments)

    def add_attachment(self, attachment: Attachment) -> None:
        """One more attachment for the final message."""
        self._attachments.append(attachment)

    def set_citations(self, citations: Sequence[Citation]) -> None:
        """Add sources: the n-th citation overall is `[n]` in the text. Chunks carry the ones
        their text uses; the final message carries them too."""
        for citation in citations:
            self._citations.append(client_citation(citation, len(self._citations) + 1))
            self._cited.append(citation)

    def set_feedback_loop(self, enable_feedback_loop: bool) -> None:
        """Thumbs up / down under the final message (Teams)."""
        self._feedback_loop = enable_feedback_loop

    def set_feedback_loop_type(self, feedback_loop_type: Literal["default", "custom"]) -> None:
        """Teams' built-in feedback form ("default") or the bot's own ("custom")."""
        self._feedback_loop_type = feedback_loop_type

    def set_generated_by_ai_label(self, enable_generated_by_ai_label: bool) -> None:
        """The "AI generated" label on the final message (Teams)."""
        self._generated_by_ai_label = enable_generated_by_ai_label

    def set_sensitivity_label(self, sensitivity_label: SensitivityUsageInfo) -> None:
        """A sensitivity label on the final message (with the AI label)."""
        self._sensitivity_label = sensitivity_label

    def get_message(self) -> str:
        """The answer's text so far (citation marks as numbers)."""
        return self._message

    async def wait_for_queue(self) -> None:
        """Wait until everything queued was sent (and the pause after it)."""
        await self._drained()

    async def reset(self) -> None:
        """Wait for the queue, then start over: a new stream, as if nothing was streamed."""
        await self._drained()
        if self._time_cap is not None and not self._capped:
            self._time_cap.cancel()
        await self._timers_done()
        cancelled = self._cancelled  # still to be withdrawn at the turn's end
        self._start()
        self._cancelled = cancelled

    # -- sending ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._ended:
            raise RuntimeError("the stream has ended: end_stream() was called")

    def _wake(self) -> None:
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_queue(), name="turnstream-stream")

    async def _drained(self) -> None:
        if self._sender is not None and not self._sender.done():
            # Shielded: a bot cancelled while it waits must not cancel a send half-way.
            await asyncio.shield(self._sender)
        if self._failure is not None:
            raise self._failure

    async def _send_queue(self) -> None:
        """The background sender: one activity at a time, each followed by the pace."""
        try:
            while self._queue and not self._stopped:
                text = self._queue.popleft()
                update = self._chunk() if text is None else self._informative(text)
                if not await self._send_update(update):
                    return
                await self._sleep(self._interval)
        except Exception as error:  # TakenOver, a bug: the bot hears of it at its next call
            self._failure = error
            self._queue.clear()
            if isinstance(error, TakenOver):  # the turn is another worker's: stop producing
                self._cancel_producer("the turn was taken over")

    def _informative(self, text: str) -> Activity:
        return self._update(ActivityTypes.TYPING, text, "informative")

    def _chunk(self) -> Activity:
        chunk = self._update(ActivityTypes.TYPING, self._message, "streaming")
        used = self._used_citations()
        if used and not self._generated_by_ai_label:  # with the label, the final carries them
            assert chunk.entities is not None
            chunk.entities.append(ai_entity(used, None))
        return chunk

    def _update(self, kind: str, text: str, stream_type: str) -> Activity:
        info = stream_info(streamType=stream_type, streamSequence=self._sequence)
        self._sequence += 1
        return Activity(type=kind, text=text, entities=[info])

    async def _send_update(self, update: Activity) -> bool:
        """Send one informative update or chunk; False once the stream stops taking them."""
        if self._stream_id is not None:
            assert update.entities is not None
            update.entities[0].additional_properties["streamId"] = self._stream_id
        self._mirror_in_channel_data(update)
        try:
            response = await self._context.send_activity(update)
        except ConnectorError as error:
            return self._refused(error)
        except TakenOver:
            raise
        except Exception as error:  # a timeout, a dropped connection: it may not have arrived
            if not is_transient(error):
                raise
            log.warning("a stream update may be lost (%r); the next one replaces it", error)
            return True
        if self._stream_id is None:  # the first send: its id names the stream
            self._stream_id = response.id if response and response.id else str(uuid.uuid4())
        if self._copilot and self._streaming:
            self._watch_copilot()
        return True

    def _mirror_in_channel_data(self, activity: Activity) -> None:
        """On Web Chat's channels, the `streaminfo` entity's fields in channelData too."""
        info = next((e for e in activity.entities or () if e.type == STREAM_INFO), None)
        if self._in_channel_data and info is not None:
            activity.channel_data = {**(activity.channel_data or {}), **info.additional_properties}

    def _refused(self, error: ConnectorError) -> bool:
        """What a refused update means: the user stopped the stream, it ran past the channel's
        time cap, or the send failed (the next chunk supersedes it)."""
        if is_transient(error):  # not sent again: the next chunk carries its text
            log.warning("a stream update was not delivered (%s); the next one replaces it", error)
            return True
        self._queue.clear()
        if is_time_cap(error, self._teams):
            log.info("the channel ended the stream at its time cap; the answer goes on unstreamed")
            self._timed_out = True
            self._streaming = False
            return False
        if is_stop(error, self._teams):
            log.info("the user stopped the stream: cancelling the task producing it")
            self._stopped = True
            self._cancel_producer("the user stopped the stream")
            return False
        log.warning("the channel refused a stream update (%s); sending the final only", error)
        self._streaming = False
        return False

    # -- Microsoft 365 Copilot's limits ------------------------------------------------------

    def _watch_copilot(self) -> None:
        """After each update: the keep-alive starts over; after the first, the time cap runs."""
        if self._time_cap is None:
            self._time_cap = asyncio.create_task(
                self._close_at_time_cap(), name="turnstream-stream-cap"
            )
        if self._keep_alive is not None:
            self._keep_alive.cancel()
        self._keep_alive = asyncio.create_task(
            self._keep_stream_alive(), name="turnstream-stream-keep-alive"
        )

    async def _keep_stream_alive(self) -> None:
        await self._sleep(COPILOT_KEEP_ALIVE)
        if self._ended or self._stopped or not self._streaming or self._queue:
            return
        if self._message:  # the text so far again: informative updates no longer show
            self._queue.append(None)
        else:
            self._queue.append(self._informed or self._time_cap_notice)
        self._wake()

    async def _close_at_time_cap(self) -> None:
        """Copilot's cap reached: close the stream with the text so far and a notice; the
        answer is then sent whole, as a message, by `end_stream`."""
        await self._sleep(COPILOT_TIME_CAP)
        if self._ended or self._stopped or not self._streaming:
            return
        log.info("the stream reached Copilot's time cap; the answer follows unstreamed")
        self._capped = True
        self._streaming = False
        self._queue.clear()
        if self._keep_alive is not None:
            self._keep_alive.cancel()
        try:
            await self._drained()  # the update in flight, if any, goes first
            text = f"{self._message}\n\n{self._time_cap_notice}" if self._message else None
            info = stream_info(
                streamType="final",
                streamId=self._stream_id,
                streamResult="success" if self._message else "error",
            )
            closing = Activity(
                type=ActivityTypes.MESSAGE, text=text or self._time_cap_notice, entities=[info]
            )
            await self._context.send_activity(closing)
        except TakenOver as error:
            self._failure = error
            self._cancel_producer("the turn was taken over")
        except Exception as error:  # the answer still comes at end_stream
            log.warning("could not close the stream at its time cap: %r", error)

    async def _timers_done(self) -> None:
        """Keep-alive stopped; a time cap closing the stream finished."""
        timers = [t for t in (self._keep_alive, self._time_cap) if t is not None]
        if self._keep_alive is not None:
            self._keep_alive.cancel()
        if timers:
            await asyncio.wait(timers)

    def _cancel_producer(self, reason: str) -> None:
        producer = self._producer
        if self._closed or producer is None or producer.done():
            return
        self._cancelled = producer
        producer.cancel(reason)

    async def _replace_timed_out_stream(self, final: Activity) -> None:
        """The channel closed the stream at its cap: the answer replaces the streamed message
        (or, if that fails, comes as a message of its own)."""
        assert self._stream_id is not None
        replacement = final.shallow_copy()
        replacement.id = self._stream_id
        replacement.entities = [e for e in final.entities or () if e.type != STREAM_INFO] or None
        try:
            await self._context.update_activity(replacement)
        except ConnectorError as error:
            log.warning("could not replace the timed-out stream (%s); sending the answer", error)
            replacement.id = None
            await self._context.send_activity(replacement)

    def _final_message(self) -> Activity:
        entities: list[Entity] = []
        if self._streaming:
            entities.append(stream_info(streamType="final", streamId=self._stream_id))
        used = self._used_citations()
        if self._generated_by_ai_label or used:
            label = self._sensitivity_label if self._generated_by_ai_label else None
            entities.append(ai_entity(used, label))
        final = Activity(
            type=ActivityTypes.MESSAGE,
            text=self._message or _EMPTY_FINAL,
            attachments=list(self._attachments) or None,
            entities=entities or None,
        )
        if self._feedback_loop and self._teams:
            final.channel_data = {"feedbackLoop": {"type": self._feedback_loop_type or "default"}}
        self._mirror_in_channel_data(final)
        return final

    def _used_citations(self) -> list[dict[str, Any]]:
        return used_citations(self._message, self._citations)

    # -- the turn's end (worker.bot.adapter) -----------------------------------------------

    def _took_cancel(self, task: asyncio.Task[Any]) -> bool:
        """True when this stream's Stop cancelled `task` and nothing else did: the
        cancellation is withdrawn, and the turn ends normally."""
        if self._cancelled is not task:
            return False
        self._cancelled = None
        return task.uncancel() == 0

    async def _close(self, *, failed: bool) -> None:
        """The turn's handler returned (or raised, `failed`): the stream cancels nothing from
        now on; what is queued goes out, unless the turn failed."""
        self._closed = True
        for timer in (self._keep_alive, self._time_cap):
            if timer is not None:
                timer.cancel()
        await self._timers_done()
        sender = self._sender
        if sender is None or sender.done():
            return
        if failed:
            sender.cancel()
        try:
            await asyncio.shield(sender)
        except asyncio.CancelledError:
            if not sender.cancelled():
                raise
        if not failed and self._failure is None and not self._ended and not self._stopped:
            log.warning("a turn ended with its stream open: call end_stream() to finish it")


async def run_streamed(
    handler: Callable[[TurnContext], Awaitable[None]], context: TurnContext
) -> None:
    """Run a turn's `handler` such that a stream the user stopped ends the turn cleanly: the
    CancelledError the stream sent into the handler's task ends here, as a normal return (or
    as the TakenOver that made the stream stop its producer). Any other cancellation (the
    worker shutting down) goes on."""
    task = asyncio.current_task()
    try:
        await handler(context)
    except asyncio.CancelledError:
        stream = context.turn_state.get(STREAMING_RESPONSE_KEY)
        await _close(stream, failed=True)
        if stream is None or task is None or not stream._took_cancel(task):
            raise
        if stream._failure is not None:  # taken over: not a clean end
            raise stream._failure from None
        return
    except BaseException:
        await _close(context.turn_state.get(STREAMING_RESPONSE_KEY), failed=True)
        raise
    stream = context.turn_state.get(STREAMING_RESPONSE_KEY)
    if stream is not None and task is not None:
        stream._took_cancel(task)  # the bot caught our CancelledError and returned: fine
    await _close(stream, failed=False)


async def _close(stream: StreamingResponse | None, *, failed: bool) -> None:
    if stream is not None:
        await stream._close(failed=failed)
