"""What `gateway.edge.GuardedProtocol` costs per request, next to uvicorn's own httptools protocol.

    python -m benchmarks.edge_guard [--requests 20000] [--rounds 7]

Both protocols get the same keep-alive connection (a stand-in transport) and the same request
bytes: a channel's POST with a 1.5 KB token and a 1 KB activity, one read per request, answered
at once by a two-message ASGI app. Rounds alternate between the two; the fastest round of each
is reported (a busy machine slows a round, never speeds one up), as CPU time per request, so the
figure is the protocol's and not the load generator's. The difference is the guard's cost on the
hot path; gateway_ack measures the whole gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.edge import EdgeLimits, guarded_protocol

REQUEST = (
    b"POST /api/messages HTTP/1.1\r\nHost: gateway.example\r\nContent-Type: application/json\r\n"
    b"Authorization: Bearer " + b"t" * 1500 + b"\r\nUser-Agent: Microsoft-SkypeBotApi\r\n"
    b"Content-Length: 1024\r\n\r\n" + b" " * 1024
)


async def _app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _round(protocol_class: type[asyncio.Protocol], requests: int) -> float:
    """CPU seconds per request over one connection."""
    config = uvicorn.Config(_app, lifespan="off", access_log=False, log_config=None)
    config.load()
    state = ServerState()
    protocol: Any = protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    protocol.connection_made(_Transport())
    started = time.process_time()
    for _ in range(requests):
        protocol.data_received(REQUEST)
        # The answer written: the connection is ready for the next request.
        await asyncio.gather(*state.tasks)
    elapsed = time.process_time() - started
    protocol.connection_lost(None)
    return elapsed / requests


async def main(requests: int, rounds: int) -> None:
    guarded = guarded_protocol(EdgeLimits())
    cases: dict[str, type[asyncio.Protocol]] = {"uvicorn": HttpToolsProtocol, "guarded": guarded}
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(rounds):
        for name, protocol_class in cases.items():
            best[name] = min(best[name], await _round(protocol_class, requests))
    for name, seconds in best.items():
        print(f"{name:8} {seconds * 1e6:6.2f} us CPU per request (fastest of {rounds} rounds)")
    print(f"guard    {(best['guarded'] - best['uvicorn']) * 1e6:+6.2f} us per request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.rounds))
