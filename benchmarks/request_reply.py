"""What the request/reply lane costs: an invoke answered through the queue, next to a message
whose reply reaches the connector, through the same gateway and worker in the same run.

    python -m benchmarks.request_reply [--requests 400] [--concurrency 1,16]

An embedded valkey-server, `turnstream gateway` and `turnstream worker --bot
benchmarks.request_reply:bot` run as subprocesses; the script is the channel (aiohttp) and the
Bot Connector (an aiohttp server on loopback). For each concurrency, requests alternate between
the two kinds, each in its own conversation:

- message: POST /api/messages (202), then the reply arriving at the connector: the end-to-end
  time of the normal path (enqueue, read, turn, reply);
- invoke: POST an `adaptiveCard/action` invoke; the HTTP answer carries the bot's card: enqueue,
  read, turn, store + publish the answer, the gateway's subscription, the response.

The ratio invoke/message says what answering through the queue adds to the normal path. Numbers
from a loaded 2-core machine are noisy: compare ratios, not absolute times, across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from benchmarks.harness import machine_line
from turnstream.embedded import EmbeddedRedis, free_port
from worker.bot.activity_handler import ActivityHandler
from worker.bot.invoke import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue
from worker.bot.turn_context import TurnContext

REPO_ROOT = Path(__file__).resolve().parent.parent


class BenchBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"Echo: {turn_context.activity.text}")

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        card = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock"}]}
        return AdaptiveCardInvokeResponse(200, "application/vnd.microsoft.card.adaptive", card)


bot = BenchBot()


class Connector:
    """Loopback Bot Connector: resolves the future of the conversation a reply is for."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        future = self.waiting.pop(request.match_info["conversation"], None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
        return web.json_response({"id": "r"})


@contextlib.asynccontextmanager
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    sink = Connector()
    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", sink.handle)
    app.router.add_post("/v3/conversations/{conversation}/activities", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield sink, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def processes(redis_url: str, port: int, log_dir: Path) -> Iterator[None]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "TURNSTREAM_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",
        "TURNSTREAM_LOG_LEVEL": "WARNING",
    }
    commands = [
        [sys.executable, "-m", "turnstream", "gateway", "--host", "127.0.0.1", "--port", str(port)],
        [sys.executable, "-m", "turnstream", "worker", "--bot", "benchmarks.request_reply:bot"],
    ]
    started = []
    try:
        for n, command in enumerate(commands):
            log = open(log_dir / f"process-{n}.log", "wb")
            started.append(
                (
                    subprocess.Popen(
                        command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                    ),
                    log,
                )
            )
        yield
    finally:
        for process, log in started:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
            if process.poll() is None:
                process.kill()
            log.close()


def _message(n: int, url: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"m{n}",
        "text": f"hi {n}",
        "channelId": "msteams",
        "serviceUrl": url,
        "conversation": {"id": f"m-{n}"},
        "from": {"id": "user"},
        "recipient": {"id": "bot"},
    }


def _invoke(n: int, url: str) -> dict[str, Any]:
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": f"i{n}",
        "channelId": "msteams",
        "serviceUrl": url,
        "conversation": {"id": f"i-{n}"},
        "from": {"id": "user"},
        "recipient": {"id": "bot"},
        "value": {"action": {"type": "Action.Execute", "verb": "go"}},
    }


async def one(
    http: aiohttp.ClientSession, gateway: str, sink: Connector, url: str, n: int, kind: str
) -> float:
    """Seconds from sending to the answer (invoke) or the reply at the connector (message)."""
    activity = _invoke(n, url) if kind == "invoke" else _message(n, url)
    reply: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    if kind == "message":
        sink.waiting[activity["conversation"]["id"]] = reply
    start = time.perf_counter()
    async with http.post(
        f"{gateway}/api/messages",
        data=orjson.dumps(activity),
        headers={"Content-Type": "application/json"},
    ) as response:
        await response.read()
        expected = 200 if kind == "invoke" else 202
        if response.status != expected:
            raise RuntimeError(f"{kind} answered {response.status}")
        if kind == "invoke":
            return time.perf_counter() - start
    return await asyncio.wait_for(reply, 15) - start


async def measure(
    gateway: str, sink: Connector, url: str, requests: int, concurrency: int, offset: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"message": [], "invoke": []}
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def run(n: int) -> None:
            kind = "invoke" if n % 2 else "message"
            async with slots:
                times[kind].append(await one(http, gateway, sink, url, offset + n, kind))

        await asyncio.gather(*(run(n) for n in range(requests)))
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(args: argparse.Namespace) -> None:
    port = free_port()
    gateway = f"http://127.0.0.1:{port}"
    with EmbeddedRedis(appendonly=False) as valkey:
        async with connector() as (sink, url):
            with processes(valkey.url, port, args.logs):
                await _wait_ready(gateway)
                await measure(gateway, sink, url, 100, 4, 10**6)  # warm-up
                print(
                    f"machine: {machine_line()}; gateway, worker, valkey and this script share "
                    "its CPUs"
                )
                print("concurrency  kind      p50 ms   p90 ms   p99 ms   invoke/message p50")
                for offset, concurrency in enumerate(args.concurrency):
                    times = await measure(
                        gateway, sink, url, args.requests, concurrency, offset * 10**5
                    )
                    p50 = {k: statistics.median(v) for k, v in times.items()}
                    for kind in ("message", "invoke"):
                        v = times[kind]
                        ratio = f"{p50['invoke'] / p50['message']:.2f}" if kind == "invoke" else ""
                        print(
                            f"{concurrency:>11}  {kind:<8} {percentile(v, 0.5) * 1000:7.1f}  "
                            f"{percentile(v, 0.9) * 1000:7.1f}  {percentile(v, 0.99) * 1000:7.1f}"
                            f"   {ratio}"
                        )


async def _wait_ready(gateway: str) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{gateway}/readyz") as response:
                    if response.status == 200:
                        await asyncio.sleep(1)  # the worker creates the groups meanwhile
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("the gateway did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="per concurrency level")
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16]
    )
    parser.add_argument(
        "--logs", type=Path, default=Path("/tmp/turnstream-request-reply"), help="process logs"
    )
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
