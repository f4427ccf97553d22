"""W3C traceparent: what is accepted, what starts a new trace, and that nothing needs
OpenTelemetry unless it is installed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.telemetry import otel
from shared.telemetry.tracing import TraceParent, continue_trace

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_header_is_read() -> None:
    parent = TraceParent.parse(VALID)
    assert parent == TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01")
    assert parent.header() == VALID
    assert TraceParent.parse(VALID.encode()) == parent


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        VALID + "-extra",  # version 00 has nothing after the flags
        "0" * 600,
    ],
)
def test_an_invalid_header_is_ignored(header: str | None) -> None:
    assert TraceParent.parse(header) is None
    started = continue_trace(header)
    assert TraceParent.parse(started.header()) == started  # a new, valid trace


def test_a_future_version_may_append_fields() -> None:
    parent = TraceParent.parse("cc" + VALID[2:] + "-what-comes-later")
    assert parent is not None and parent.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_child_keeps_the_trace_and_gets_a_span_of_its_own() -> None:
    parent = TraceParent.new()
    child = parent.child()
    assert child.trace_id == parent.trace_id and child.span_id != parent.span_id
    assert continue_trace(parent.header()).trace_id == parent.trace_id
    assert TraceParent.new().trace_id != parent.trace_id


BLOCK_OPENTELEMETRY = """
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "opentelemetry":
            raise ImportError(name)
        return None

sys.meta_path.insert(0, Absent())
from shared.telemetry import otel
from gateway.app import create_app
from shared.settings import Settings
import worker.runtime.process, turnstream.cli
create_app(Settings(redis_url="redis://127.0.0.1:1/0"))
assert otel.tracer("test") is None
assert not [m for m in sys.modules if m.startswith("opentelemetry")]
print("ok")
"""


def test_without_the_otel_extra_nothing_needs_opentelemetry() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_OPENTELEMETRY], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_with_opentelemetry_but_no_provider_no_span_is_made() -> None:
    assert otel.tracer("test") is None  # nothing would export it
