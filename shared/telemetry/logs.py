"""Logging set up once, at the process edge: JSON lines in production, readable lines in dev.

A turn's ids (activity, conversation, shard, worker, trace) are set once at the start of the
turn with `log_context(...)`, in a context variable: every line logged while the turn runs,
by turnstream or by the bot, in any module, carries them, without passing `extra=` around.
asyncio gives each task a copy of the context, so concurrent turns never see each other's ids.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

import orjson

from shared.settings import LogFormat

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

_fields: ContextVar[Mapping[str, str] | None] = ContextVar("turnstream_log_fields", default=None)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Add `fields` to every log line emitted inside the block (in this task and the tasks it
    starts), on top of the fields already set."""
    current = _fields.get()
    token = _fields.set({**current, **fields} if current else fields)
    try:
        yield
    finally:
        _fields.reset(token)


def context_fields() -> Mapping[str, str]:
    """The fields `log_context` set for the code running now."""
    return _fields.get() or {}


class ContextFilter(logging.Filter):
    """Copies the `log_context` fields onto each record (an explicit `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _fields.get()
        if fields:
            for key, value in fields.items():
                if key not in record.__dict__:
                    record.__dict__[key] = value
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any `extra=` fields (ids) as top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS:
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """`12:00:01 INFO    logger: message [conversation=... trace_id=...]` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD_ATTRS]
        if not extra:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{first} [{' '.join(extra)}]{newline}{rest}"


def configure_logging(fmt: LogFormat, level: str, stream: TextIO | None = None) -> None:
    """Send every log line to `stream` (stderr) in `fmt`, at `level` and above."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt is LogFormat.JSON else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
