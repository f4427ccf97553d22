"""What a load test runs, checked against hard bounds before anything is sent."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

MAX_RATE = 20_000.0
"""Activities per second: one process cannot send more, and a typo must not flood a server."""
MAX_DURATION = 3_600.0
MAX_CONVERSATIONS = 100_000
MAX_TURN_SECONDS = 600.0
DEFAULT_URL = "http://127.0.0.1:3978/api/messages"
WORKLOADS = ("replies", "streaming")
Workload = Literal["replies", "streaming"]


class OptionsError(ValueError):
    """An option out of bounds; the message names it."""


@dataclass(frozen=True)
class LoadOptions:
    """One run. Times in seconds, the rate in activities per second."""

    url: str = DEFAULT_URL
    rate: float = 100.0
    duration: float = 10.0
    ramp: float = 0.0
    """Seconds over which the rate climbs linearly from 0 to `rate` (within `duration`)."""
    conversations: int = 50
    connections: int = 64
    reply_timeout: float = 10.0
    """After the last send, how long to wait for replies still due."""
    sink_host: str = "127.0.0.1"
    sink_port: int = 0
    """0: a free port."""
    service_url: str | None = None
    """The activities' serviceUrl; default: the sink's own URL."""
    channel_id: str | None = None
    """The activities' channelId; default `loadtest`, or `webchat` for the streaming workload
    (a channel the bot streams to)."""
    workload: Workload = "replies"
    """`replies`: every message gets replies, measured to the first. `streaming`: every message
    asks for a streamed answer of `turn_seconds` (`turnstream.loadtest.streaming_bot`), and the
    streams' first update, pace and final message are measured too."""
    turn_seconds: float = 30.0
    """How long each streamed answer takes (the streaming workload)."""
    out_dir: Path | None = None
    """Where result.json and report.html go (none written when unset)."""
    progress: bool = True

    def check(self) -> LoadOptions:
        """Return self, or raise OptionsError naming the first option out of bounds."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OptionsError(f"--url must be an http(s) URL, got {self.url!r}")
        if not 0 < self.rate <= MAX_RATE:
            raise OptionsError(f"--rate must be in (0, {MAX_RATE:g}], got {self.rate:g}")
        if not 0 < self.duration <= MAX_DURATION:
            raise OptionsError(
                f"--duration must be in (0, {MAX_DURATION:g}] seconds, got {self.duration:g}"
            )
        if not 0 <= self.ramp < self.duration:
            raise OptionsError("--ramp must be >= 0 and shorter than --duration")
        if not 1 <= self.conversations <= MAX_CONVERSATIONS:
            raise OptionsError(f"--conversations must be in [1, {MAX_CONVERSATIONS}]")
        if self.planned <= self.conversations:  # else every activity is a conversationUpdate
            raise OptionsError(
                f"--conversations {self.conversations} leaves no message to send: the run sends "
                f"{self.planned} activities (--rate x (--duration - --ramp/2)) and each "
                "conversation opens with a conversationUpdate; use fewer conversations or a "
                "longer run"
            )
        if not 1 <= self.connections <= 4096:
            raise OptionsError("--connections must be in [1, 4096]")
        if not 0 <= self.reply_timeout <= 600:
            raise OptionsError("--reply-timeout must be in [0, 600] seconds")
        if not 0 <= self.sink_port <= 65535:
            raise OptionsError("--sink-port must be a port number")
        return self._check_workload()

    def _check_workload(self) -> LoadOptions:
        if self.workload not in WORKLOADS:
            raise OptionsError(f"--workload must be one of {', '.join(WORKLOADS)}")
        if not 0 < self.turn_seconds <= MAX_TURN_SECONDS:
            raise OptionsError(
                f"--turn-seconds must be in (0, {MAX_TURN_SECONDS:g}], got {self.turn_seconds:g}"
            )
        return self

    @property
    def streaming(self) -> bool:
        return self.workload == "streaming"

    @property
    def channel(self) -> str:
        """The activities' channelId."""
        if self.channel_id is not None:
            return self.channel_id
        return "webchat" if self.streaming else "loadtest"

    @property
    def answer_window(self) -> float:
        """After the last send, how long replies may still come: a streamed answer takes
        `turn_seconds` before its final message."""
        return self.reply_timeout + (self.turn_seconds if self.streaming else 0.0)

    @property
    def planned(self) -> int:
        """Activities the run sends: rate x (duration - ramp/2)."""
        return max(1, int(self.rate * (self.duration - self.ramp / 2)))


def is_loopback(url: str) -> bool:
    """True when the URL's host is a loopback address or `localhost`."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
