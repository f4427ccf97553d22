"""Client CPU per Bot Connector POST: `ConnectorClient.create` (worker/connector/keepalive_http.py)
next to the same client over aiohttp (`ConnectorClient.over_aiohttp`), side by side in one run.

Run from the repository root:

    python -m benchmarks.connector_post [--rounds 7] [--number 3000] [--concurrency 16]

A connector stand-in (a bare asyncio HTTP/1.1 server answering `{"id": "1"}` with keep-alive)
runs in a subprocess, pinned to the last CPU; this process, pinned to CPU 0, sends
`--number` replies (`reply_to_activity`, a ~600-byte activity, Teams-style ids) per round with
`--concurrency` in flight, alternating the two clients round by round. Each figure is this
process's CPU time (`time.process_time`) per POST: the median over `--rounds`, with the range.
Nothing but the client's own work is counted: the server's CPU is another process's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy

ANSWER = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"id": "1"}'
)

ACTIVITY = {
    "type": "message",
    "text": "Echo: hello there, this is a benchmark reply",
    "from": {"id": "28:bot-id", "name": "bot"},
    "recipient": {"id": "29:user-id-0123456789abcdef", "name": "A User"},
    "conversation": {"id": "19:meeting_abcdef0123456789@thread.v2;messageid=1", "isGroup": True},
    "replyToId": "1700000000000",
    "serviceUrl": "https://smba.trafficmanager.net/emea/",
    "channelId": "msteams",
    "locale": "en-US",
    "inputHint": "acceptingInput",
    "channelData": {"tenant": {"id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}},
}


class _Server(asyncio.Protocol):
    """Answers every request with ANSWER; counts requests by their blank line (no bodies are
    split across reads that matter here: the count only needs request heads)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._buffer = b""

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self._buffer[:head_end].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15 : head.find(b"\r\n", start)]) if start >= 0 else 0
            if len(self._buffer) < head_end + 4 + length:
                return
            self._buffer = self._buffer[head_end + 4 + length :]
            self._transport.write(ANSWER)


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Server, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)  # the port, for the parent
    await asyncio.sleep(3600)


async def _round(client: ConnectorClient, url: str, number: int, concurrency: int) -> float:
    async def sender(count: int) -> None:
        for n in range(count):
            await client.reply_to_activity(url, "19:meeting_abc@thread.v2;m=1", str(n), ACTIVITY)

    await asyncio.gather(*(sender(5) for _ in range(concurrency)))  # connections open, warm
    start = time.process_time()
    await asyncio.gather(*(sender(number // concurrency) for _ in range(concurrency)))
    return (time.process_time() - start) / (number // concurrency * concurrency) * 1e6


async def measure(url: str, rounds: int, number: int, concurrency: int) -> dict[str, list[float]]:
    policy = OutboundPolicy(allow_private=True)
    factories: dict[str, Callable[[], ConnectorClient]] = {
        "aiohttp": lambda: ConnectorClient.over_aiohttp(timeout_seconds=10, policy=policy),
        "keepalive_http": lambda: ConnectorClient.create(timeout_seconds=10, policy=policy),
    }
    samples: dict[str, list[float]] = {name: [] for name in factories}
    for _ in range(rounds):
        for name, factory in factories.items():
            client = factory()
            try:
                samples[name].append(await _round(client, url, number, concurrency))
            finally:
                await client.aclose()
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the server
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve())
        return 0
    cpus = sorted(os.sched_getaffinity(0))
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.connector_post", "--serve"],
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpus[-1]}),
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        os.sched_setaffinity(0, {cpus[0]})
        samples = asyncio.run(
            measure(f"http://127.0.0.1:{port}/", args.rounds, args.number, args.concurrency)
        )
    finally:
        server.terminate()
        server.wait(10)
    print(f"client CPU per POST, µs (median over {args.rounds} rounds, [min-max]):")
    for name, values in samples.items():
        print(
            f"  {name:15} {statistics.median(values):7.1f}  [{min(values):.1f}-{max(values):.1f}]"
        )
    ratio = statistics.median(samples["aiohttp"]) / statistics.median(samples["keepalive_http"])
    print(f"  aiohttp / keepalive_http: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
