"""A server-sent events client for tests: reads a `deliveryMode: "stream"` answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson


@dataclass(frozen=True)
class Event:
    kind: str
    """The `event:` field; "comment" for a comment line (a keep-alive)."""
    data: Any
    """The `data:` field, parsed as JSON (None for a comment)."""
    id: str | None = None


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[Event]:
    """The events of a response, as they arrive (comments included), until it ends."""
    fields: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith(":"):
            yield Event("comment", None)
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif fields:
            data = orjson.loads(fields["data"]) if "data" in fields else None
            yield Event(fields.get("event", "message"), data, fields.get("id"))
            fields = {}


async def read_all(
    http: aiohttp.ClientSession, url: str, activity: dict[str, Any], **headers: str
) -> list[Event]:
    """POST a `stream` activity and read its whole answer (comments left out)."""
    async with http.post(
        url, data=orjson.dumps(activity), headers={"Content-Type": "application/json", **headers}
    ) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return [event async for event in events(response) if event.kind != "comment"]
