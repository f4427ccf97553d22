"""The embedded server when it cannot start: a clear error, and nothing left open."""

from __future__ import annotations

import gc
import socket

import pytest

from turnstream.embedded import EmbeddedRedis, EmbeddedServerError


def test_a_server_whose_port_is_taken_fails_clearly_and_leaves_no_pipe_open() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = EmbeddedRedis(appendonly=False, port=taken.getsockname()[1])
        with pytest.raises(EmbeddedServerError, match="failed to start"):
            server.start(timeout=2)
    # Each of its three attempts had a stderr pipe: one left open would be finalized here and
    # fail this test as an unraisable ResourceWarning (filterwarnings = error).
    gc.collect()
