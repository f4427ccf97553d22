"""A streamed answer through the real gateway, Redis and two worker processes: its updates
reach the connector in order (sequence, cumulative text, one stream id, the final message), and
a Teams-like 403 ContentStreamNotAllowed (the user pressed Stop) cancels the bot's producer and
ends the turn with nothing more sent; a worker frozen mid-stream is taken over, and the answer
is streamed afresh by the other, never two streams at once."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from samples.streaming import ANSWER
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import start_workers, stderr_until, stop_processes, worker_env
from tests.support.recording_connector import (
    Answer,
    NumberingConnector,
    Recorded,
    RecordingConnector,
)
from tests.support.streams import pending_count

pytestmark = pytest.mark.e2e

BOT = "samples.streaming:bot"


async def ask(gateway: str, service_url: str, channel: str) -> None:
    activity = message("why stream?", activity_id="q1", service_url=service_url, channel=channel)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway}/api/messages",
            data=orjson.dumps(activity),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 202, await response.text()


async def until_received(connector: RecordingConnector, count: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while len(connector.requests) < count:
        assert time.monotonic() < deadline, f"{len(connector.requests)} of {count} requests came"
        await asyncio.sleep(0.05)


async def until_committed(redis: Redis, keys: Keyspace, within: float = 60) -> None:
    """Wait until the turn (already running) is over: its entry acknowledged."""
    deadline = time.monotonic() + within
    while await pending_count(redis, keys) > 0:
        assert time.monotonic() < deadline, "the streamed turn never committed"
        await asyncio.sleep(0.1)


def stream_info(request: Recorded) -> dict[str, Any]:
    (info,) = [e for e in request.body.get("entities") or () if e["type"] == "streaminfo"]
    return dict(info)


@pytest.mark.slow
async def test_a_streamed_answer_reaches_the_connector_in_order(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    connector = NumberingConnector()
    workers: list[asyncio.subprocess.Process] = []
    async with serving(connector.app) as service_url, serving(create_app(settings)) as gateway:
        workers = await start_workers(worker_env(settings), BOT, 2)
        try:
            await ask(gateway, service_url, "webchat")
            await until_received(connector, 1)
            while connector.requests[-1].body["type"] != "message":  # the final one
                await until_received(connector, len(connector.requests) + 1)
            await until_committed(redis, keys)
        finally:
            errors = await stop_processes(workers)
    assert "Traceback" not in "".join(errors)

    sent = connector.requests
    kinds = [r.body["type"] for r in sent]
    assert kinds[-1] == "message" and set(kinds[:-1]) == {"typing"} and len(kinds) >= 4
    infos = [stream_info(r) for r in sent]
    assert [i["streamType"] for i in infos] == (
        ["informative"] + ["streaming"] * (len(sent) - 2) + ["final"]
    )
    assert [i.get("streamSequence") for i in infos[:-1]] == list(range(1, len(sent)))
    # Named by the id the channel gave its first activity, which carries none (Web Chat's
    # livestreaming), and the fields in channelData too (Web Chat up to 4.18 reads only those).
    assert "streamId" not in infos[0]
    assert {i["streamId"] for i in infos[1:]} == {"act-1"}
    assert [r.body["channelData"] for r in sent] == [
        {k: v for k, v in i.items() if k != "type"} for i in infos
    ]
    texts = [r.body["text"] for r in sent[1:]]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(texts))
    assert texts[-1] == ANSWER  # the final message: the whole answer
    # Into the conversation (Web Chat takes no reply-to), by the gateway's conversation id.
    assert {r.raw_path for r in sent} == {"/v3/conversations/conv-1/activities"}


async def test_stop_cancels_the_producer_and_nothing_more_is_sent(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    stopped = {
        "error": {"code": "ContentStreamNotAllowed", "message": "Content stream is not allowed"}
    }
    connector = RecordingConnector(
        Answer(body={"id": "stream-1"}),  # the informative update: its id names the stream
        Answer(status=403, body=stopped),  # the first chunk: the user pressed Stop
        default={"id": "never"},
    )
    async with serving(connector.app) as service_url, serving(create_app(settings)) as gateway:
        workers = await start_workers(worker_env(settings), BOT, 2)
        try:
            await ask(gateway, service_url, "msteams")
            await until_received(connector, 2)
            await until_committed(redis, keys)
            await asyncio.sleep(1.5)  # past the stream's pace: anything late would show
        finally:
            logs = "".join(await stop_processes(workers))
    assert "answer stopped by the user after" in logs  # the bot saw its CancelledError
    assert "Traceback" not in logs and "bot error" not in logs
    assert [r.body["type"] for r in connector.requests] == ["typing", "typing"]
    assert stream_info(connector.requests[1])["streamId"] == "stream-1"
    assert len(connector.requests[1].body["text"]) < len(ANSWER)  # stopped half-way


@pytest.mark.slow
async def test_a_stream_taken_over_mid_way_goes_on_afresh_and_the_old_one_stays_silent(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    connector = NumberingConnector()
    env = {**worker_env(settings), "TURNSTREAM_CLAIM_IDLE_SECONDS": "2"}

    async def worker() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", "--bot", BOT, env=env, stderr=asyncio.subprocess.PIPE
        )

    async with serving(connector.app) as service_url, serving(create_app(settings)) as gateway:
        frozen = await worker()
        other: asyncio.subprocess.Process | None = None
        try:
            await ask(gateway, service_url, "webchat")
            await until_received(connector, 3)  # the note and two chunks: mid-answer
            os.kill(frozen.pid, signal.SIGSTOP)  # frozen mid-stream, past its claim timeout
            before = len(connector.requests)
            other = await worker()
            await stderr_until(other, b"took over")
            while connector.requests[-1].body["type"] != "message":  # the new stream's final
                await until_received(connector, len(connector.requests) + 1)
            await until_committed(redis, keys)
            os.kill(frozen.pid, signal.SIGCONT)  # wakes up with its stream still open ...
            await stderr_until(frozen, b"was taken over by another worker; dropped here")
            await asyncio.sleep(1)  # two of its paces: an update it sent would be here
        finally:
            if frozen.returncode is None:
                frozen.send_signal(signal.SIGCONT)
            logs = "".join(await stop_processes([frozen, *([other] if other else [])]))
    assert "Traceback" not in logs

    sent = connector.requests
    old, new = sent[:before], sent[before:]
    # Each stream is named by its own first activity's id (which carries none).
    old_ids = {stream_info(r).get("streamId") for r in old[1:]}
    new_ids = {stream_info(r).get("streamId") for r in new[1:]}
    assert "streamId" not in stream_info(old[0]) and "streamId" not in stream_info(new[0])
    assert old_ids == {"act-1"} and new_ids == {f"act-{before + 1}"}
    # ... and sends nothing more: every request after the freeze belongs to the new stream,
    # which starts over at 1 and ends with the whole answer.
    assert [stream_info(r).get("streamSequence") for r in new][:2] == [1, 2]
    assert [r.body["type"] for r in sent].count("message") == 1
    assert new[-1].body["text"] == ANSWER
