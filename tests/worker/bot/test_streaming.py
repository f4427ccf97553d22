"""turn_context.streaming_response: the wire sequence per channel (informative updates and
cumulative chunks as typing with streaminfo, the final message with the stream id), pacing and
coalescing under an injected clock, Stop, the channel's time cap, and the Agents SDK's extras."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from shared.schema.activity import (
    Activity,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    ResourceResponse,
)
from tests.support.pace import PaceClock
from worker.bot import TurnContext
from worker.bot.adapter import ConnectorAdapter
from worker.bot.errors import TakenOver
from worker.bot.storage import EtagConflict
from worker.bot.streaming import Citation, SensitivityUsageInfo, StreamingResponse
from worker.bot.testing import TestAdapter
from worker.bot.types import NextHandler, TurnHandler
from worker.connector.client import BeforeAttempt, ConnectorClient
from worker.connector.errors import ConnectorError

WORDS = ["The ", "quick ", "brown ", "fox"]


def on(channel: str) -> ConversationReference:
    return ConversationReference(
        channel_id=channel,
        service_url="https://test.com",
        user=ChannelAccount(id="user1", name="User1"),
        bot=ChannelAccount(id="bot", name="Bot"),
        conversation=ConversationAccount(id="convo1"),
    )


class Paced:
    """Middleware giving every turn's stream the test's clock."""

    def __init__(self, clock: PaceClock) -> None:
        self.clock = clock

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        context.streaming_response = StreamingResponse(context, sleep=self.clock.sleep)
        await logic()


async def word_by_word(context: TurnContext) -> None:
    stream = context.streaming_response
    stream.queue_informative_update("Thinking...")
    for word in WORDS:
        stream.queue_text_chunk(word)
        await stream.wait_for_queue()  # one chunk a word: the wire shows each
    await stream.end_stream()


def info(activity: Activity) -> dict[str, Any]:
    (entity,) = [e for e in activity.entities or () if e.type == "streaminfo"]
    return entity.additional_properties


def adapter_on(channel: str, logic: TurnHandler, clock: PaceClock) -> TestAdapter:
    return TestAdapter(logic, on(channel)).use(Paced(clock))


async def test_teams_gets_informative_cumulative_chunks_and_a_final_with_the_stream_id() -> None:
    clock = PaceClock()
    adapter = adapter_on("msteams", word_by_word, clock)
    await adapter.receive_activity("tell me")
    sent = adapter.activity_buffer
    assert [a.type for a in sent] == ["typing"] * 5 + ["message"]
    assert [a.text for a in sent] == [
        "Thinking...",
        "The ",
        "The quick ",
        "The quick brown ",
        "The quick brown fox",
        "The quick brown fox",
    ]
    assert [info(a)["streamType"] for a in sent] == ["informative"] + ["streaming"] * 4 + ["final"]
    assert [info(a).get("streamSequence") for a in sent] == [1, 2, 3, 4, 5, None]
    # Teams names the stream by the first send's id (the test connector's "reply-1").
    assert "streamId" not in info(sent[0])
    assert {info(a)["streamId"] for a in sent[1:]} == {"reply-1"}
    assert clock.pauses == [1.0] * 5  # Teams' pace after every update, before the final


@pytest.mark.parametrize("channel", ["webchat", "directline", "emulator"])
async def test_web_chat_streams_under_its_first_activitys_id_in_channel_data_too(
    channel: str,
) -> None:
    # Web Chat's livestreaming: the stream is named by its first activity's id, and Web Chat
    # up to 4.18 reads the stream's fields from channelData only.
    clock = PaceClock()
    adapter = adapter_on(channel, word_by_word, clock)
    await adapter.receive_activity("tell me")
    sent = adapter.activity_buffer
    assert [info(a).get("streamId") for a in sent] == [None] + ["reply-1"] * 5
    assert [a.channel_data for a in sent] == [info(a) for a in sent]
    assert [info(a)["streamType"] for a in sent][-1] == "final"
    assert clock.pauses == [0.5] * 5


async def test_teams_gets_the_streams_fields_in_the_entity_only() -> None:
    adapter = adapter_on("msteams", word_by_word, PaceClock())
    await adapter.receive_activity("tell me")
    assert [a.channel_data for a in adapter.activity_buffer] == [None] * 6


async def test_chunks_queued_while_one_waits_go_out_as_one_and_the_final_supersedes_it() -> None:
    clock = PaceClock()
    clock.hold()

    async def fast_producer(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_text_chunk("a")
        await clock.waiting.wait()  # "a" went out; the stream waits for its pace
        for text in "bcd":
            stream.queue_text_chunk(text)
        clock.release()
        await stream.end_stream()

    adapter = adapter_on("msteams", fast_producer, clock)
    await adapter.receive_activity("go")
    sent = adapter.activity_buffer
    # "bcd" waited as one chunk; end_stream came before its turn, so the final message took
    # its place with the whole text (the Agents SDK 1.9 sends no chunk there either).
    assert [(a.type, a.text) for a in sent] == [("typing", "a"), ("message", "abcd")]
    assert [info(a).get("streamSequence") for a in sent] == [1, None]
    assert [info(a).get("streamId") for a in sent] == [None, "reply-1"]


async def test_more_text_after_a_chunk_went_out_goes_in_a_chunk_of_its_own() -> None:
    clock = PaceClock()

    async def producer(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_text_chunk("a")
        await stream.wait_for_queue()  # "a" went out, and the pause after it
        stream.queue_text_chunk("b")
        await stream.wait_for_queue()
        await stream.end_stream()

    adapter = adapter_on("msteams", producer, clock)
    await adapter.receive_activity("go")
    sent = adapter.activity_buffer
    assert [(a.type, a.text) for a in sent] == [
        ("typing", "a"),
        ("typing", "ab"),
        ("message", "ab"),
    ]


async def test_a_channel_that_does_not_stream_gets_only_the_final_message() -> None:
    clock = PaceClock()
    seen: list[bool] = []

    async def bot(context: TurnContext) -> None:
        seen.append(context.streaming_response.is_streaming_channel)
        await word_by_word(context)

    adapter = adapter_on("test", bot, clock)
    await adapter.receive_activity("tell me")
    (final,) = adapter.activity_buffer
    assert (final.type, final.text, final.entities) == ("message", "The quick brown fox", None)
    assert seen == [False] and clock.pauses == []


async def test_expect_replies_gets_only_the_final_message_even_on_teams() -> None:
    adapter = adapter_on("msteams", word_by_word, PaceClock())
    inbound = adapter.make_activity("tell me")
    inbound.delivery_mode = "expectReplies"
    context = await adapter.receive_activity(inbound)
    replies = context.turn_state["turnstream.BufferedReplies"]
    assert [(r["type"], r["text"]) for r in replies] == [("message", "The quick brown fox")]


async def test_teams_does_not_stream_to_an_agentic_identity() -> None:
    adapter = adapter_on("msteams", word_by_word, PaceClock())
    inbound = adapter.make_activity("tell me")
    inbound.recipient = ChannelAccount(id="agent", role="agenticAppInstance")
    await adapter.receive_activity(inbound)
    assert [(a.type, a.entities) for a in adapter.activity_buffer] == [("message", None)]


async def test_after_end_stream_queueing_is_an_error_and_the_text_stays_readable() -> None:
    stream_seen: list[StreamingResponse] = []

    async def bot(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_text_chunk("all [doc1] done")
        await stream.end_stream()
        stream_seen.append(stream)
        with pytest.raises(RuntimeError, match="ended"):
            stream.queue_text_chunk("more")
        with pytest.raises(RuntimeError, match="ended"):
            await stream.end_stream()

    await adapter_on("msteams", bot, PaceClock()).receive_activity("go")
    assert stream_seen[0].get_message() == "all [1] done"


@pytest.mark.parametrize("channel", ["msteams", "webchat", "test"])
async def test_an_informative_update_longer_than_teams_takes_is_refused_at_once(
    channel: str,
) -> None:
    """Teams refuses informative updates over 1,000 characters: the bot hears it when it
    queues one, on every channel (so it shows in dev), and nothing of it is sent."""
    refused: list[str] = []

    async def bot(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_informative_update("x" * 1000)  # at the limit: taken
        with pytest.raises(ValueError, match="at most 1000 characters") as error:
            stream.queue_informative_update("y" * 1001)
        refused.append(str(error.value))
        stream.queue_text_chunk("answer")
        await stream.end_stream()

    adapter = adapter_on(channel, bot, PaceClock())
    await adapter.receive_activity("go")
    assert refused and "1001" in refused[0]
    texts = [a.text or "" for a in adapter.activity_buffer]
    assert not any("y" in text for text in texts)
    assert texts[-1] == "answer"
    if channel != "test":  # a streaming channel sent the note at the limit
        assert texts[0] == "x" * 1000


async def test_citations_labels_feedback_and_attachments_as_the_agents_sdk_sends_them() -> None:
    async def bot(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.set_citations([Citation("first source " * 50, title="One", url="https://a/1")])
        stream.queue_text_chunk("See [doc1].")
        await stream.wait_for_queue()
        stream.set_generated_by_ai_label(True)
        stream.set_sensitivity_label(SensitivityUsageInfo(name="Confidential"))
        stream.set_feedback_loop(True)
        stream.set_feedback_loop_type("custom")
        stream.set_attachments([Attachment(content_type="text/plain", content="x")])
        await stream.end_stream()

    adapter = adapter_on("msteams", bot, PaceClock())
    await adapter.receive_activity("go")
    chunk, final = adapter.activity_buffer
    (cited,) = [e for e in chunk.entities or () if e.type == "https://schema.org/Message"]
    claim = cited.additional_properties["citation"][0]
    assert claim["@type"] == "Claim" and claim["position"] == 1
    assert claim["appearance"]["name"] == "One" and claim["appearance"]["url"] == "https://a/1"
    assert len(claim["appearance"]["abstract"]) <= 483  # a snippet, cut at a word
    assert final.text == "See [1]."
    (ai,) = [e for e in final.entities or () if e.type == "https://schema.org/Message"]
    assert ai.additional_properties["additionalType"] == ["AIGeneratedContent"]
    assert ai.additional_properties["usageInfo"]["name"] == "Confidential"
    assert ai.additional_properties["citation"] == [claim]
    assert final.channel_data == {"feedbackLoop": {"type": "custom"}}
    assert final.attachments is not None and final.attachments[0].content == "x"


async def test_reset_starts_a_new_stream() -> None:
    async def bot(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_text_chunk("first")
        await stream.end_stream()
        await stream.reset()
        stream.queue_text_chunk("second")
        await stream.end_stream()

    adapter = adapter_on("msteams", bot, PaceClock())
    await adapter.receive_activity("go")
    sent = adapter.activity_buffer
    assert [(a.text, info(a).get("streamSequence")) for a in sent] == [
        ("first", 1),
        ("first", None),
        ("second", 1),
        ("second", None),
    ]
    assert [info(a).get("streamId") for a in sent] == [None, "reply-1", None, "reply-3"]


async def test_a_turn_run_again_after_its_stream_ended_does_not_stream_it_again() -> None:
    attempts: list[int] = []

    async def conflicting(context: TurnContext) -> None:
        await word_by_word(context)
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:  # the state save conflicted: the turn runs again
            raise EtagConflict("k", "1", "2")

    adapter = adapter_on("msteams", conflicting, PaceClock())
    await adapter.receive_activity("tell me")
    assert attempts == [1, 2]
    # The answer reached the user in the first attempt: the second sends nothing (its final
    # gets the recorded id back, its updates are not shown again).
    sent = adapter.activity_buffer
    assert [a.type for a in sent] == ["typing"] * 5 + ["message"]


async def test_a_turn_run_again_before_its_stream_ended_streams_afresh() -> None:
    attempts: list[int] = []

    async def conflicting(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_text_chunk("half")
        await stream.wait_for_queue()
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            raise EtagConflict("k", "1", "2")
        await stream.end_stream()

    adapter = adapter_on("msteams", conflicting, PaceClock())
    await adapter.receive_activity("tell me")
    sent = adapter.activity_buffer
    assert [(a.type, info(a).get("streamId")) for a in sent] == [
        ("typing", None),
        ("typing", None),  # a new stream: the first was never finished
        ("message", "reply-2"),
    ]


# -- a channel that refuses ---------------------------------------------------------------


class Refusing(ConnectorClient):
    """A Teams-like connector that keeps what it takes and refuses the n-th post with `error`."""

    def __init__(self, refuse_at: int, error: Exception) -> None:  # no HTTP: in process
        self.sent: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self._refuse_at = refuse_at
        self._error = error
        self._posts = itertools.count(1)

    async def reply_to_activity(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
        *,
        before_attempt: BeforeAttempt | None = None,
    ) -> ResourceResponse:
        if before_attempt is not None:
            await before_attempt()
        if next(self._posts) == self._refuse_at:
            raise self._error
        self.sent.append(activity)
        return ResourceResponse(id=f"sent-{len(self.sent)}")

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> ResourceResponse:
        self.updated.append({**activity, "id": activity_id})
        return ResourceResponse(id=activity_id)


def refusal(status: int, code: str, message: str) -> ConnectorError:
    return ConnectorError("POST", "https://test.com/v3/x", status, "", code=code, message=message)


def teams_message(text: str) -> dict[str, Any]:
    return Activity(
        type="message",
        id="in-1",
        text=text,
        channel_id="msteams",
        service_url="https://test.com",
        conversation=ConversationAccount(id="convo1"),
        from_property=ChannelAccount(id="user1"),
        recipient=ChannelAccount(id="bot"),
    ).to_dict()


class Streamer:
    """A bot streaming an endless answer until it is stopped; it records what it observed."""

    def __init__(self, clock: PaceClock) -> None:
        self.clock = clock
        self.observed: list[str] = []

    async def on_turn(self, context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=self.clock.sleep)
        stream = context.streaming_response
        try:
            for n in itertools.count():
                stream.queue_text_chunk(f"word{n} ")
                await asyncio.sleep(0.001)  # the model, producing the next word
                if n == 1000:
                    await stream.end_stream()
                    return
        except asyncio.CancelledError:
            self.observed.append("cancelled")
            raise


async def test_stop_cancels_the_producer_and_the_turn_ends_cleanly_with_nothing_more() -> None:
    stopped = refusal(403, "ContentStreamNotAllowed", "Content stream is not allowed")
    connector = Refusing(3, stopped)
    errors: list[Exception] = []

    async def on_error(context: TurnContext, error: Exception) -> None:
        errors.append(error)

    adapter = ConnectorAdapter(connector, on_turn_error=on_error)
    bot = Streamer(PaceClock())
    await adapter.process_activity(teams_message("go"), bot)
    assert bot.observed == ["cancelled"]
    assert errors == []  # a stop is no error: no apology sent either
    assert [a["type"] for a in connector.sent] == ["typing", "typing"]
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_stop_cancels_a_producer_task_of_the_bots_own_and_the_turn_goes_on() -> None:
    connector = Refusing(2, refusal(403, "ContentStreamNotAllowed", "stopped"))
    observed: list[str] = []

    async def produce(stream: StreamingResponse) -> None:
        try:
            for n in itertools.count():
                stream.queue_text_chunk(f"w{n} ")
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:
            observed.append("producer cancelled")
            raise

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        async with asyncio.TaskGroup() as group:
            group.create_task(produce(stream))
        await stream.end_stream()  # stopped: sends nothing
        observed.append("turn went on")

    await ConnectorAdapter(connector).process_activity(teams_message("go"), _Handler(bot))
    assert observed == ["producer cancelled", "turn went on"]
    assert [a["type"] for a in connector.sent] == ["typing"]
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_a_bot_that_swallows_the_stop_and_resets_leaves_no_cancellation_behind() -> None:
    connector = Refusing(2, refusal(403, "ContentStreamNotAllowed", "stopped"))

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        try:
            for n in itertools.count():
                stream.queue_text_chunk(f"w{n} ")
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:
            pass  # not raised again: the turn still ends normally
        await stream.reset()
        await asyncio.sleep(0.01)  # the task is not cancelled again

    await ConnectorAdapter(connector).process_activity(teams_message("go"), _Handler(bot))
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_a_stop_answering_the_final_message_ends_the_turn_quietly() -> None:
    connector = Refusing(2, refusal(403, "ContentStreamNotAllowed", "stopped"))
    errors: list[Exception] = []

    async def on_error(context: TurnContext, error: Exception) -> None:
        errors.append(error)

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        context.streaming_response.queue_text_chunk("all of it")
        await context.streaming_response.end_stream()

    adapter = ConnectorAdapter(connector, on_turn_error=on_error)
    await adapter.process_activity(teams_message("go"), _Handler(bot))
    assert errors == [] and [a["type"] for a in connector.sent] == ["typing"]


async def test_a_stream_past_the_channels_time_cap_ends_with_the_answer_in_place() -> None:
    timed_out = refusal(
        403,
        "ContentStreamNotAllowed",
        "Content stream finished due to exceeded streaming time.",
    )
    connector = Refusing(2, timed_out)

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        for word in WORDS:
            stream.queue_text_chunk(word)
            await stream.wait_for_queue()
        await stream.end_stream()

    await ConnectorAdapter(connector).process_activity(teams_message("go"), _Handler(bot))
    assert [a["text"] for a in connector.sent] == ["The "]  # then the channel closed it
    (replaced,) = connector.updated
    assert replaced["id"] == "sent-1" and replaced["text"] == "The quick brown fox"
    assert not any(e["type"] == "streaminfo" for e in replaced.get("entities") or ())


@pytest.mark.parametrize(
    "failure",
    [refusal(503, "ServiceUnavailable", "busy"), TimeoutError("no answer")],
    ids=["503", "timeout"],
)
async def test_a_failed_chunk_is_not_sent_again_the_next_one_carries_its_text(
    failure: Exception,
) -> None:
    connector = Refusing(2, failure)

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        for word in WORDS:
            stream.queue_text_chunk(word)
            await stream.wait_for_queue()
        await stream.end_stream()

    await ConnectorAdapter(connector).process_activity(teams_message("go"), _Handler(bot))
    assert [(a["type"], a["text"]) for a in connector.sent] == [
        ("typing", "The "),
        ("typing", "The quick brown "),  # "The quick " was lost, and superseded
        ("typing", "The quick brown fox"),
        ("message", "The quick brown fox"),
    ]


async def test_a_channel_refusing_to_stream_gets_the_answer_as_a_plain_message() -> None:
    connector = Refusing(1, ConnectorError("POST", "u", 400, "", code="BadArgument"))
    outcome: list[str] = []

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        stream.queue_text_chunk("a")
        await stream.wait_for_queue()
        outcome.append(str(stream.is_streaming_channel))
        await stream.end_stream()

    await ConnectorAdapter(connector).process_activity(teams_message("go"), _Handler(bot))
    # A channel refusing to stream: the answer comes whole, as a plain message.
    assert outcome == ["False"]
    assert [(a["type"], a["text"], a.get("entities")) for a in connector.sent] == [
        ("message", "a", None)
    ]


async def test_a_taken_over_turn_stops_streaming_and_its_producer_at_once() -> None:
    class Fenced(Refusing):
        async def reply_to_activity(self, *args: Any, **kwargs: Any) -> ResourceResponse:
            raise TakenOver("entry taken over")

    connector = Fenced(0, refusal(500, "x", "y"))
    observed: list[str] = []

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        stream.queue_text_chunk("a")
        try:
            await asyncio.sleep(3600)  # a slow model: not waited for
        except asyncio.CancelledError:
            observed.append("cancelled")
            raise

    with pytest.raises(TakenOver):
        await ConnectorAdapter(connector).process_activity(teams_message("go"), _Handler(bot))
    assert observed == ["cancelled"] and connector.sent == []
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_a_taken_over_stream_tells_a_bot_waiting_for_its_queue() -> None:
    class Fenced(Refusing):
        async def reply_to_activity(self, *args: Any, **kwargs: Any) -> ResourceResponse:
            raise TakenOver("entry taken over")

    raised: list[str] = []

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=PaceClock().sleep)
        stream = context.streaming_response
        stream.queue_text_chunk("a")
        try:
            await stream.wait_for_queue()
        except asyncio.CancelledError:
            raised.append("cancelled")
            raise

    with pytest.raises(TakenOver):
        await ConnectorAdapter(Fenced(0, refusal(500, "x", "y"))).process_activity(
            teams_message("go"), _Handler(bot)
        )
    assert raised == ["cancelled"]


class _Handler:
    def __init__(self, logic: TurnHandler) -> None:
        self._logic = logic

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self._logic(turn_context)


# -- Microsoft 365 Copilot's limits ----------------------------------------------------------


class CopilotTimers:
    """Pacing returns at once; the keep-alive (35 s) and the time cap (105 s) wait until the
    test fires them."""

    def __init__(self) -> None:
        self._gates = {35.0: asyncio.Event(), 105.0: asyncio.Event()}

    async def sleep(self, seconds: float) -> None:
        gate = self._gates.get(seconds)
        if gate is None:
            await asyncio.sleep(0)
        else:
            await gate.wait()

    async def fire(self, seconds: float) -> None:
        gate, self._gates[seconds] = self._gates[seconds], asyncio.Event()
        gate.set()
        for _ in range(10):  # the timer wakes, queues, and the sender starts
            await asyncio.sleep(0)


def copilot() -> ConversationReference:
    return on("msteams:COPILOT")


async def test_copilot_gets_a_keep_alive_while_the_model_is_silent() -> None:
    timers = CopilotTimers()

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=timers.sleep)
        stream = context.streaming_response
        stream.queue_informative_update("Searching")
        await stream.wait_for_queue()
        await timers.fire(35.0)  # 35 s without an update
        await stream.wait_for_queue()
        stream.queue_text_chunk("abc")
        await stream.wait_for_queue()
        await timers.fire(35.0)
        await stream.wait_for_queue()
        await stream.end_stream()

    adapter = TestAdapter(bot, copilot())
    await adapter.receive_activity("go")
    sent = adapter.activity_buffer
    assert [(a.text, info(a)["streamType"], info(a).get("streamSequence")) for a in sent] == [
        ("Searching", "informative", 1),
        ("Searching", "informative", 2),  # before the answer: the note again
        ("abc", "streaming", 3),
        ("abc", "streaming", 4),  # then the text so far again
        ("abc", "final", None),
    ]


async def test_copilot_closes_the_stream_at_its_cap_and_the_answer_follows_whole() -> None:
    timers = CopilotTimers()

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=timers.sleep)
        stream = context.streaming_response
        stream.streaming_taking_too_long_message = "still writing"
        stream.queue_text_chunk("part one")
        await stream.wait_for_queue()
        await timers.fire(105.0)  # 105 s since the first update
        assert not stream.is_streaming_channel
        stream.queue_text_chunk(", part two")
        await stream.end_stream()

    adapter = TestAdapter(bot, copilot())
    await adapter.receive_activity("go")
    chunk, closing, answer = adapter.activity_buffer
    assert (chunk.type, chunk.text) == ("typing", "part one")
    assert (closing.type, closing.text) == ("message", "part one\n\nstill writing")
    assert info(closing)["streamType"] == "final" and info(closing)["streamResult"] == "success"
    assert info(closing)["streamId"] == "reply-1"  # the id Teams gave the first update
    assert (answer.type, answer.text, answer.entities) == ("message", "part one, part two", None)


async def test_a_copilot_stream_ended_in_time_leaves_no_timer_behind() -> None:
    timers = CopilotTimers()
    running: set[str] = set()

    async def bot(context: TurnContext) -> None:
        context.streaming_response = StreamingResponse(context, sleep=timers.sleep)
        context.streaming_response.queue_text_chunk("quick")
        await context.streaming_response.wait_for_queue()
        running.update(t.get_name() for t in asyncio.all_tasks())
        await context.streaming_response.end_stream()

    activity = Activity(
        type="message",
        text="go",
        channel_id="msteams",
        entities=[Entity(type="productInfo", additional_properties={"id": "COPILOT"})],
    )
    adapter = TestAdapter(bot, on("msteams"))
    await adapter.receive_activity(activity)
    assert [a.type for a in adapter.activity_buffer] == ["typing", "message"]
    # Copilot told by its productInfo entity: the timers ran during the stream, not after.
    assert {"turnstream-stream-cap", "turnstream-stream-keep-alive"} <= running
    tasks = {t.get_name() for t in asyncio.all_tasks()}
    assert not any(name.startswith("turnstream-stream") for name in tasks)
