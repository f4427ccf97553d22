"""Raw ASGI answers for the hot path: JSON errors with a message, and the empty 202."""

from __future__ import annotations

import orjson
from starlette.types import Send


async def send_empty(send: Send, status: int) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]}
    )
    await send({"type": "http.response.body", "body": b""})


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    retry_after: int | None = None,
    challenge: bool = False,
) -> None:
    """`{"error": code, "message": message}` with the given status (and Retry-After for a 503,
    `WWW-Authenticate: Bearer` for a 401 when `challenge` is set)."""
    body = orjson.dumps({"error": code, "message": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if challenge:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, body: bytes | None) -> None:
    """A JSON body as it is (an answer from a worker), or an empty body for None."""
    if body is None:
        return await send_empty(send, status)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
