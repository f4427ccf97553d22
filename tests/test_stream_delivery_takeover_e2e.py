"""A `deliveryMode: "stream"` turn whose worker freezes mid-answer: the client reading the
events sees the abandoned stream's updates, then the answer streamed afresh by the worker that
took the turn over, one final message and `end`; the frozen worker, woken, appends nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
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
from tests.support.processes import stderr_until, stop_processes, worker_env
from tests.support.server_sent import Event, events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST_SAMPLE = (
    "import samples.streaming\n"
    "samples.streaming.WORD_SECONDS = 0.03  # the answer in about three seconds\n"
    "from worker.__main__ import main\n"
    "sys.exit(main(['--bot', 'samples.streaming:bot']))\n"
)


def _info(event: Event) -> dict[str, Any]:
    (info,) = [e for e in event.data["entities"] if e["type"] == "streaminfo"]
    return dict(info)


async def test_a_stream_taken_over_mid_answer_goes_on_afresh_in_the_same_response(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    env = {**worker_env(settings), "TURNSTREAM_CLAIM_IDLE_SECONDS": "2"}

    async def worker() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            f"import sys\n{FAST_SAMPLE}",
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )

    activity = message("why?", activity_id="q-1", conversation="c-1") | {"deliveryMode": "stream"}
    seen: list[Event] = []
    before = 0
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        frozen = await worker()
        other: asyncio.subprocess.Process | None = None
        try:
            async with http.post(
                f"{gateway}/api/messages",
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as response:
                assert response.status == 200
                async for event in events(response):
                    if event.kind == "comment":
                        continue
                    seen.append(event)
                    if len(seen) == 3 and other is None:  # the note and two chunks
                        os.kill(frozen.pid, signal.SIGSTOP)  # past its claim timeout
                        before = len(seen)
                        other = await worker()
            os.kill(frozen.pid, signal.SIGCONT)  # wakes up with its stream still open ...
            await stderr_until(frozen, b"was taken over by another worker; dropped here")
            stored: Any = await redis.xrevrange(
                keys.answer_events(keys.shard_of("test/c-1"), "test/c-1", "q-1"), count=1
            )
        finally:
            if frozen.returncode is None:
                frozen.send_signal(signal.SIGCONT)
            logs = "".join(await stop_processes([frozen, *([other] if other else [])]))
    assert "Traceback" not in logs

    assert seen[-1].kind == "end"
    # Two streams, one after the other: the abandoned one (what the frozen worker had appended
    # by then, read before or after the freeze) and the new one, from its start to the end.
    ids = [_info(e)["streamId"] for e in seen[:-1]]
    first, second = ids[0], ids[-1]
    assert first != second
    switch = ids.index(second)
    assert ids == [first] * switch + [second] * (len(ids) - switch)
    assert switch >= before - 1  # the events read before the freeze were the first stream's
    new = seen[switch:-1]
    assert _info(new[0])["streamType"] == "informative"  # started over
    assert [e.data["type"] for e in seen[:-1]].count("message") == 1
    assert (new[-1].data["type"], new[-1].data["text"]) == ("message", ANSWER)
    # ... and the frozen worker, woken, appended nothing after the turn's end.
    assert stored[0][1][b"k"] == b"end"
