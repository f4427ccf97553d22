"""The base of every error the worker raises. Each room defines its own next to the code that
raises them: `worker.connector.errors`, `worker.bot.errors`, `worker.runtime.errors`."""

from __future__ import annotations

from shared.errors import TurnstreamError


class WorkerError(TurnstreamError):
    """Base of the worker's errors."""
