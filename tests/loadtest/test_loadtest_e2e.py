"""`turnstream loadtest` against a real gateway and worker on loopback."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from turnstream.embedded import free_port
from turnstream.loadtest.options import LoadOptions
from turnstream.loadtest.runner import run_load

pytestmark = pytest.mark.e2e


async def test_a_clean_run_has_every_reply_and_a_full_report(gateway: str, tmp_path: Path) -> None:
    """The command as a user runs it: exit 0, the summary, result.json and report.html."""
    options = LoadOptions(url=gateway, rate=150, duration=3, ramp=1, conversations=20)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "turnstream", "loadtest", "--url", gateway, "--rate", "150",
        "--duration", "3", "--ramp", "1", "--conversations", "20", "--out", str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    assert "PASS" in stdout.decode()
    assert "sent " in stderr.decode()  # the progress line (one per 5 s off a terminal, + final)

    result = orjson.loads((tmp_path / "result.json").read_bytes())
    sent = options.planned
    assert result["sent"] == sent
    assert result["status_codes"] == {"202": sent}
    assert result["errors"] == {}
    replies = result["replies"]
    assert replies["missing"] == 0
    assert replies["duplicate"] == 0
    assert replies["out_of_order"] == 0
    assert replies["messages_answered"] == sent - 20  # the rest are the 20 conversationUpdates
    assert replies["conversation_updates_answered"] == 20  # the echo bot's welcomes
    assert replies["received"] == sent
    assert result["passed"] is True
    for key in ("ack_latency_ms", "end_to_end_latency_ms"):
        stats = result[key]
        assert stats["count"] > 0
        assert 0 < stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["p99_9"] <= stats["max"]
    assert result["throughput"]["sent_per_second"] > 0
    assert len(result["samples"]["end_to_end"]) == sent

    page = (tmp_path / "report.html").read_text()
    assert 'id="latency-over-time"' in page
    assert 'id="latency-by-percentile"' in page
    assert 'id="throughput"' in page
    assert "Plotly.newPlot" in page
    assert sum(result["per_second"]["replied"]) == sent


async def test_out_of_bounds_options_are_refused_before_anything_is_sent() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "turnstream", "loadtest", "--rate", "1000000",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert "--rate must be in" in stderr.decode()


class FaultyConnector:
    """Forwards replies to the load test's sink, but drops the reply to one activity and
    delivers the reply to another twice: what a lossy or retrying connector path does."""

    def __init__(self, sink: str, drop: str, duplicate: str) -> None:
        self.sink, self.drop, self.duplicate = sink, drop, duplicate

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        reply_to = request.match_info.get("reply_to", "")
        copies = (
            0 if reply_to.endswith(self.drop) else 2 if reply_to.endswith(self.duplicate) else 1
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(copies):
                async with http.post(
                    f"{self.sink}{request.path}",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as answer:
                    await answer.read()
        return web.json_response({"id": "forwarded"})


async def test_a_dropped_reply_is_missing_and_a_repeated_one_is_a_duplicate(
    gateway: str,
) -> None:
    sink_port = free_port()
    # Activity ids are `{run}-{index}`: drop the reply to #7, deliver #9's twice (both messages).
    faulty = FaultyConnector(f"http://127.0.0.1:{sink_port}", drop="-7", duplicate="-9")
    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", faulty.handle)
    app.router.add_post("/v3/conversations/{conversation}/activities", faulty.handle)  # welcomes
    runner = web.AppRunner(app)
    await runner.setup()
    proxy_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", proxy_port).start()
    try:
        options = LoadOptions(
            url=gateway,
            rate=40,
            duration=1,
            conversations=4,
            sink_port=sink_port,
            service_url=f"http://127.0.0.1:{proxy_port}",
            reply_timeout=3,
            progress=False,
        )
        result = await run_load(options)
    finally:
        await runner.cleanup()

    replies: dict[str, Any] = result["replies"]
    assert replies["missing"] == 1
    assert replies["duplicate"] == 1
    assert replies["received"] == result["sent"]  # one short, one extra
    assert result["passed"] is False


async def test_the_streaming_workload_measures_first_chunk_pace_and_final(
    streaming_gateway: str, tmp_path: Path
) -> None:
    """Ten 2-second streamed answers on Web Chat (pace 0.5 s): every stream's updates and
    final message reach the sink and the report holds the three streaming figures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "turnstream", "loadtest", "--url", streaming_gateway,
        "--workload", "streaming", "--turn-seconds", "2", "--rate", "20", "--duration", "1",
        "--conversations", "10", "--reply-timeout", "10", "--out", str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(40):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    summary = stdout.decode()
    assert "1st chunk" in summary and "interval" in summary and "PASS" in summary

    result = orjson.loads((tmp_path / "result.json").read_bytes())
    assert result["options"]["channel_id"] == "webchat"
    assert result["options"]["workload"] == "streaming"
    assert result["replies"]["messages_answered"] == 10
    assert result["replies"]["missing"] == 0
    streaming = result["streaming"]
    assert streaming["streams"] == streaming["finished"] == 10
    # Per stream, the informative update and at least one chunk (the last text goes out before
    # the final message); more as the 2 s go by, however slow the machine.
    assert streaming["updates"] >= 10 * 2
    first = streaming["time_to_first_chunk_ms"]
    interval = streaming["chunk_interval_ms"]
    final = streaming["time_to_final_ms"]
    assert first["count"] == 10 and final["count"] == 10
    # The sender pauses the pace after each answered update: no two come closer than that.
    assert interval["count"] == streaming["updates"] - 10
    assert interval["p50"] >= 500
    assert final["p50"] >= 2000  # the answer streams for 2 s
    # Each stream's first update precedes its final message, so every order statistic does.
    assert first["p50"] < final["p50"] and first["max"] < final["max"]


async def test_every_status_is_counted_and_an_unreachable_target_is_an_error_per_activity() -> None:
    """The sender (the worker's keep-alive client) reports what a user's deployment answered:
    each status as it came, and each activity that could not be sent as an error of its kind."""

    async def answer(request: web.Request) -> web.Response:
        activity = orjson.loads(await request.read())
        index = int(activity["id"].rsplit("-", 1)[1])  # ids are `{run}-{index}`
        return web.Response(status=503 if index % 3 == 0 else 202)

    app = web.Application()
    app.router.add_post("/api/messages", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        refusing = LoadOptions(
            url=f"http://127.0.0.1:{port}/api/messages",
            rate=30,
            duration=1,
            conversations=5,
            reply_timeout=0,
            progress=False,
        )
        result = await run_load(refusing)
    finally:
        await runner.cleanup()
    assert result["sent"] == 30
    assert result["status_codes"] == {"202": 20, "503": 10}  # indexes 0, 3, ..., 27 refused
    assert result["errors"] == {}
    assert result["send_lag_ms"]["count"] == 30
    assert result["passed"] is False

    nobody = LoadOptions(
        url=f"http://127.0.0.1:{free_port()}/api/messages",
        rate=10,
        duration=1,
        conversations=5,
        reply_timeout=0,
        progress=False,
    )
    result = await run_load(nobody)
    assert result["status_codes"] == {}
    assert result["errors"] == {"CannotConnect": 10}
    assert result["ack_latency_ms"]["count"] == 0
    assert result["passed"] is False
