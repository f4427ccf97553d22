"""The streaming workload's pure parts: its options, the answer length a message may ask for,
and how the sink tells a stream's updates from its final message."""

from __future__ import annotations

from typing import Any

import pytest

from turnstream.devconnector import ReceivedRequest
from turnstream.loadtest.options import LoadOptions, OptionsError
from turnstream.loadtest.recorder import Recorder
from turnstream.loadtest.streaming_bot import DEFAULT_SECONDS, MAX_SECONDS, stream_seconds
from turnstream.loadtest.workload import Planned


def test_the_streaming_workload_defaults_to_a_channel_that_streams() -> None:
    assert LoadOptions().channel == "loadtest"
    streaming = LoadOptions(workload="streaming", turn_seconds=5, reply_timeout=2).check()
    assert streaming.channel == "webchat"
    assert streaming.answer_window == 7  # the answer's length, then the reply timeout
    assert LoadOptions(workload="streaming", channel_id="msteams").channel == "msteams"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (LoadOptions(workload="streaming", turn_seconds=0), "--turn-seconds"),
        (LoadOptions(workload="streaming", turn_seconds=601), "--turn-seconds"),
        (LoadOptions(workload="chat"), "--workload"),  # type: ignore[arg-type]
    ],
)
def test_out_of_bounds_streaming_options_name_the_option(options: LoadOptions, named: str) -> None:
    with pytest.raises(OptionsError, match=named):
        options.check()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ({"streamSeconds": 2.5}, 2.5),
        ({"streamSeconds": 10_000}, MAX_SECONDS),
        ({"streamSeconds": -3}, 0.0),
        ({"streamSeconds": "30"}, DEFAULT_SECONDS),
        ({"streamSeconds": True}, DEFAULT_SECONDS),
        ({"streamSeconds": float("nan")}, DEFAULT_SECONDS),
        ({"streamSeconds": float("inf")}, MAX_SECONDS),
        (None, DEFAULT_SECONDS),
        ("streamSeconds", DEFAULT_SECONDS),
    ],
)
def test_a_message_asks_for_an_answer_length_within_bounds(value: object, seconds: float) -> None:
    assert stream_seconds(value) == seconds


def reply(run_id: str, body: dict[str, Any]) -> ReceivedRequest:
    return ReceivedRequest(
        method="POST",
        path=f"/v3/conversations/{run_id}-c0/activities/{run_id}-0",
        conversation_id=f"{run_id}-c0",
        activity_id=f"{run_id}-0",
        body=body,
        received_at=0.0,
    )


def test_the_sink_counts_stream_updates_and_ends_the_stream_at_the_final_message() -> None:
    recorder = Recorder("r1", streaming=True)
    planned = Planned(index=0, due=0.0, conversation=0, sequence=1)
    recorder.sent(planned, 0.0)
    recorder.acked(planned, 202)
    info = {"type": "streaminfo", "streamId": "s1"}

    def update(n: int, kind: str = "streaming") -> dict[str, Any]:
        entity = info | {"streamType": kind, "streamSequence": n}
        return {"type": "typing", "text": "x" * n, "entities": [entity]}

    recorder.on_reply(reply("r1", update(1, "informative")))
    recorder.on_reply(reply("r1", {"type": "typing"}))  # a plain typing indicator: no update
    recorder.on_reply(reply("r1", update(2)))
    assert recorder.awaiting() == 1  # no final message yet

    final = {"type": "message", "text": "xx", "entities": [info | {"streamType": "final"}]}
    recorder.on_reply(reply("r1", final))
    assert recorder.awaiting() == 0
    figures = recorder.stream_figures()
    assert (figures["streams"], figures["finished"], figures["updates"]) == (1, 1, 2)
    assert figures["chunk_interval_ms"]["count"] == 1
    assert figures["time_to_first_chunk_ms"]["count"] == 1
    assert figures["time_to_final_ms"]["count"] == 1
