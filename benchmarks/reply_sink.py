"""A Bot Connector stand-in that costs as little CPU as possible: `python -m
benchmarks.reply_sink PORT`.

The benchmarks' connector used to be the dev connector (Starlette under uvicorn, every request
parsed and kept): ~250 µs of CPU per reply. Where the benchmark shares two cores between the
workers, valkey and the connector (1 vs 2 workers), the connector's CPU is taken from the
workers being measured. This one parses the request line and headers with httptools, counts the
reply by conversation and answers a fixed ResourceResponse, on uvloop: a few tens of µs.

It answers every POST with 200 `{"id": ...}` and `GET STATS_PATH?prefix=P` with
`[replies, first arrival, last arrival]` (unix seconds) over conversations whose id starts with
P — the same contract as `benchmarks.stateful_turns.connector_app`.

Replies to conversations whose id starts with PROBE are also kept, so that a benchmark can check
what two bots said: `GET TEXTS_PATH?conversation=C` answers `[[activity id replied to, text],
...]` in order of arrival. Only those are parsed; every other reply stays a count.
"""

from __future__ import annotations

import asyncio
import sys
import time
from urllib.parse import unquote

import httptools
import orjson
import uvloop

STATS_PATH = b"/_bench/replies"
TEXTS_PATH = b"/_bench/texts"
PROBE = b"probe"
CONNECTIONS_PATH = b"/_bench/connections"
"""`GET` answers `[connections accepted so far]`: replies per connection tell whether a client
keeps its connections alive."""
HOST = "127.0.0.1"
_CONVERSATIONS = b"/v3/conversations/"


class Tally:
    """Replies per conversation: [count, first arrival, last arrival]."""

    def __init__(self) -> None:
        self.by_conversation: dict[bytes, list[float]] = {}
        self.texts: dict[str, list[tuple[str, str | None]]] = {}
        """Per probe conversation: (activity id replied to, text) of each reply."""
        self.connections = 0

    def add(self, conversation: bytes, now: float) -> None:
        row = self.by_conversation.get(conversation)
        if row is None:
            self.by_conversation[conversation] = [1, now, now]
        else:
            row[0] += 1
            row[2] = now

    def stats(self, prefix: str) -> bytes:
        rows = [
            row
            for conversation, row in self.by_conversation.items()
            if unquote(conversation.decode()).startswith(prefix)
        ]
        count = sum(int(row[0]) for row in rows)
        first = min((row[1] for row in rows), default=0.0)
        last = max((row[2] for row in rows), default=0.0)
        return orjson.dumps([count, first, last])

    def keep_text(self, conversation: bytes, reply_to: bytes, body: bytes) -> None:
        text = orjson.loads(body).get("text")
        row = (unquote(reply_to.decode()), text)
        self.texts.setdefault(unquote(conversation.decode()), []).append(row)


class SinkProtocol(asyncio.Protocol):
    """One keep-alive connection: parse requests as they come, answer each at once."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body = b""
        self._replies = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._tally.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            assert self._transport is not None
            self._transport.write(_answer(400, b'{"error":"bad request"}', close=True))
            self._transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        if self._url.startswith(_CONVERSATIONS + PROBE):
            self._body += body

    def on_message_complete(self) -> None:
        url, self._url = self._url, b""
        body, self._body = self._body, b""
        assert self._transport is not None
        if url.startswith(STATS_PATH):
            prefix = url.partition(b"prefix=")[2].decode()
            self._transport.write(_answer(200, self._tally.stats(unquote(prefix))))
            return
        if url.startswith(TEXTS_PATH):
            texts = self._tally.texts.get(unquote(url.partition(b"conversation=")[2].decode()))
            self._transport.write(_answer(200, orjson.dumps(texts)))
            return
        if url.startswith(CONNECTIONS_PATH):
            self._transport.write(_answer(200, orjson.dumps([self._tally.connections])))
            return
        if url.startswith(_CONVERSATIONS):
            conversation, _, rest = url[len(_CONVERSATIONS) :].partition(b"/")
            self._tally.add(conversation, time.time())
            if body:  # a probe conversation's: /v3/conversations/C/activities[/replied-to id]
                self._tally.keep_text(conversation, rest.rpartition(b"/")[2], body)
        self._replies += 1
        self._transport.write(_answer(200, b'{"id":"r%d"}' % self._replies))


def _answer(status: int, body: bytes, *, close: bool = False) -> bytes:
    reason = b"OK" if status == 200 else b"Bad Request"
    connection = b"close" if close else b"keep-alive"
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: %s\r\n\r\n%s" % (status, reason, len(body), connection, body)
    )


async def serve(port: int) -> None:
    tally = Tally()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(tally), HOST, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    uvloop.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
