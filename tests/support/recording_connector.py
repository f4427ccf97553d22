"""A Bot Connector stand-in for tests: records every request exactly as it arrived and answers
what the test scripted (status, body, headers), in order; then 200 with `default`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Recorded:
    method: str
    raw_path: str
    """The path as sent, still percent-encoded: shows how ids were escaped."""
    query: str
    headers: dict[str, str]
    body: Any
    """The JSON body, or None when there was none."""


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None
    """JSON-encoded unless bytes (sent as is); None sends an empty body."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a connector slower than the client's timeout)."""


class RecordingConnector:
    """`app` answers every method on every path; `requests` lists what came, oldest first.
    `default` (an `Answer`, or the body of a 200) answers once the scripted answers ran out."""

    def __init__(self, *answers: Answer, default: Any = None) -> None:
        self.requests: list[Recorded] = []
        self._answers = list(answers)
        self._default = default if isinstance(default, Answer) else Answer(body=default)
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]
                )
            ]
        )

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        self.requests.append(
            Recorded(
                method=request.method,
                raw_path=request.scope["raw_path"].decode(),
                query=request.scope["query_string"].decode(),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=orjson.loads(raw) if raw else None,
            )
        )
        answer = self._answers.pop(0) if self._answers else self._default
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.body is None:
            content = b""
        elif isinstance(answer.body, bytes):
            content = answer.body
        else:
            content = orjson.dumps(answer.body)
        return Response(content, status_code=answer.status, headers=answer.headers)

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


class NumberingConnector(RecordingConnector):
    """Answers the n-th request 200 `{"id": "act-n"}`, as a channel gives each activity an id
    of its own (a stream is named by its first activity's)."""

    async def _handle(self, request: Request) -> Response:
        self._answers.append(Answer(body={"id": f"act-{len(self.requests) + 1}"}))
        return await super()._handle(request)
