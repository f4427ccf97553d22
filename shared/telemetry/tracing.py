"""W3C Trace Context (`traceparent`): read one, start one, continue one.

The gateway continues the channel's trace (or starts one) and writes its own span's
`traceparent` into the envelope; the worker's turn is a child of it, and every Bot Connector call
of the turn a child of the turn, sent as a `traceparent` header. All of them share the trace id,
which is also in every log line of the turn. Plain string work, no dependency: OpenTelemetry
spans are added on top when the `[otel]` extra is installed (`shared.telemetry.otel`).
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar
from typing import NamedTuple

_HEADER = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
MAX_HEADER_LENGTH = 512
"""Longer headers are ignored (a new trace starts): future versions may append fields, not
kilobytes."""


class TraceParent(NamedTuple):
    """One span's place in a trace: the trace id, the span's id and the sampled flag.

    A named tuple rather than a frozen dataclass: the gateway makes one per request, and a tuple
    is built in a fifth of the time (docs/benchmarks.md, observability)."""

    trace_id: str
    """32 lowercase hex digits, never all zeros."""
    span_id: str
    """16 lowercase hex digits, never all zeros."""
    flags: str = "01"
    """Two hex digits; `01` = sampled."""

    @classmethod
    def parse(cls, header: str | bytes | None) -> TraceParent | None:
        """The header's trace context, or None when it is absent or not valid (the spec says:
        then start a new trace rather than guess)."""
        if not header or len(header) > MAX_HEADER_LENGTH:
            return None
        text = header.decode("ascii", "replace") if isinstance(header, bytes) else header
        match = _HEADER.fullmatch(text.strip())
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest):
            return None
        if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
            return None
        return cls(trace_id, span_id, flags)

    @classmethod
    def new(cls) -> TraceParent:
        """The root of a new, sampled trace."""
        # Not secrets, only unique: the fast generator is enough (os.urandom costs ~3x more).
        ids = f"{random.getrandbits(192):048x}"
        trace_id, span_id = ids[:32], ids[32:]
        if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:  # all zeros are invalid ids
            return cls.new()
        return cls(trace_id, span_id, "01")

    def child(self) -> TraceParent:
        """A new span in the same trace, whose parent is this one."""
        span_id = f"{random.getrandbits(64):016x}"
        if span_id == _ZERO_SPAN:
            return self.child()
        return TraceParent(self.trace_id, span_id, self.flags)

    def header(self) -> str:
        """The `traceparent` header value (version 00)."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def continue_trace(header: str | bytes | None) -> TraceParent:
    """The span of a receiver: a child of `header`'s span, or the root of a new trace."""
    parent = TraceParent.parse(header)
    return parent.child() if parent is not None else TraceParent.new()


current_trace: ContextVar[TraceParent | None] = ContextVar("turnstream_trace", default=None)
"""The span running in this task (a worker's turn): outbound calls send a child of it."""
