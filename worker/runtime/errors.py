"""What starting a worker can fail with."""

from __future__ import annotations

from worker.errors import WorkerError


class BotLoadError(WorkerError):
    """`--bot module:attr` does not name a bot."""
