"""What a turn can fail with beyond the bot's own errors, and which failures are worth running
the turn again for."""

from __future__ import annotations

import sys

from redis.exceptions import RedisError

from worker.connector.errors import ConnectorError, TokenUnavailable
from worker.errors import WorkerError


class StorageError(WorkerError):
    """A storage operation was refused: a value cannot be stored, or stored data is unreadable."""


class StateContention(WorkerError):
    """A turn's state save kept conflicting with other turns until its retries ran out."""


class TakenOver(WorkerError):
    """The turn's entry was taken over by another worker (this one paused past the claim
    timeout): its results must not be committed, and the entry is no longer this worker's."""


def is_transient(error: BaseException) -> bool:
    """True for failures worth running the turn again later: the network, Redis, a throttling or
    failing Bot Connector. Anything else is the bot's own error."""
    if isinstance(error, StateContention | TakenOver | TokenUnavailable):
        return True
    if isinstance(error, ConnectorError):
        return error.status in (408, 429) or error.status >= 500
    if isinstance(error, OSError | TimeoutError | RedisError):
        return True
    # aiohttp's errors, if anything loaded it (the bot's own code, or the aiohttp transport):
    # not imported for this check alone, ~11 MB of resident memory (issue 24).
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(error, aiohttp.ClientError)
