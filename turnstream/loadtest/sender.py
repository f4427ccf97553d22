"""The HTTP side of a load test: posts activities to the gateway on keep-alive connections.

The generator's own CPU per request bounds the rate it can offer on time: with aiohttp it spent
~100+ µs per POST, so one core could not offer half a gateway's capacity (~8-10k activities/s).
It now posts through the worker's keep-alive HTTP/1.1 client
(`worker.connector.keepalive_http`: request bytes written directly, answers parsed by
httptools), with the same behaviour a user relies on: every answer's status is recorded, a
connection that fails or breaks is an error of that activity (named by its exception type), one
total timeout per request, https with certificate and host name checks.
"""

from __future__ import annotations

from worker.connector.keepalive_http import KeepAliveHttp, Target

REQUEST_TIMEOUT_SECONDS = 30.0
"""From asking for a connection to the last byte of the answer (as aiohttp's total timeout)."""
HEADERS = {"Content-Type": "application/json"}


class Sender:
    """POSTs bodies to one endpoint over at most `connections` keep-alive connections."""

    def __init__(self, url: str, connections: int) -> None:
        self._endpoint = Target.of(url)
        # The target is the one the user named (loopback by default): private addresses are
        # what a load test is usually aimed at, unlike a bot's service URLs.
        self._http = KeepAliveHttp(
            timeout_seconds=REQUEST_TIMEOUT_SECONDS,
            allow_private=True,
            max_connections=connections,
        )

    async def post(self, body: bytes) -> int:
        """The answer's status. Raises TimeoutError or an OSError (cannot connect, connection
        broken, an answer that is not HTTP/1.1 or past the client's bounds)."""
        e = self._endpoint
        status, _, _ = await self._http.request(
            "POST", e.scheme, e.host, e.port, e.path, HEADERS, body
        )
        return status

    async def aclose(self) -> None:
        await self._http.aclose()
