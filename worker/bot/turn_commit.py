"""The seam between a turn and the runtime that runs it: `TurnContext.turn_commit`.

Bot-facing stores know nothing of streams. A worker runs each turn for a stream entry that it
holds, and may lose that entry to another worker if it stalls past the claim timeout; from then
on nothing it does for the turn may reach Redis or the channel. So inside a turn, a store that
writes to Redis does not run its script itself: it hands the script to the turn's commit object
(`FencedWrite`), and the runtime runs it fenced — ownership checked in the same atomic script
(`worker.runtime.delivery.fence`) — and, for the end-of-turn commit, with the entry's
acknowledgement in that same script: state committed means entry acknowledged.

What no script can fence (a reply posted to the channel, a write to a store outside Redis) asks
`ensure_owned` first: a check, not an atomic fence (see docs/reliability.md).

Outside a turn (a script, a test, an admin tool) there is no commit object, and stores write
as they always did: eTag-checked, unfenced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.redis.connection import Redis
from shared.schema.activity import ResourceResponse


@dataclass(frozen=True, slots=True)
class FencedWrite:
    """One call of a store's own Lua script, to run for the turn.

    The script reads its own `KEYS` and `ARGV` as if called alone, changes nothing unless it
    answers 0 when it may be part of a commit (a conflict answers anything else), and touches
    only keys of one cluster slot."""

    script: str
    keys: Sequence[str]
    args: Sequence[str | bytes | int]


class TurnCommit(Protocol):
    """What the runtime gives each turn it runs for a stream entry (`TurnContext.turn_commit`).

    Every method raises `worker.bot.errors.TakenOver` once the entry belongs to another worker; the
    turn then stops, `on_turn_error` is not called, and the worker drops the entry.
    """

    replies: list[ResourceResponse]
    """Replies earlier attempts of this entry already sent, in order: the n-th reply of a retry
    gets the n-th of these back instead of being sent a second time."""
    bot_error: bool
    """Set when the bot raised and on_turn_error ended the turn (the `failed` outcome)."""

    @property
    def committed(self) -> bool:
        """True once a write with `commit=True` acknowledged the entry."""
        ...

    @property
    def fenced(self) -> bool:
        """True once the entry was found to belong to another worker."""
        ...

    async def write(
        self, client: Redis, writes: Sequence[FencedWrite], *, commit: bool = False
    ) -> list[Any]:
        """Run the writes for the turn on `client` (the store's, on the server that holds the
        streams), each fenced in its own script; return their answers, in order (None for a
        write not run because an earlier one did not answer 0).

        The write in the stream entry's slot runs last, and with `commit`, once it answered 0,
        the entry is committed in that same script. On one server that is every write: one
        script, one round trip. A write in another slot of a cluster cannot share the fence's
        script: `ensure_owned` is checked before it instead.
        """
        ...

    async def read(
        self, script: str, keys: Sequence[str], args: Sequence[str | bytes | int]
    ) -> Any:
        """Run a store's read-only script for the turn on the worker's own connections to the
        server that holds the streams (a store whose client is that server's: opened from
        REDIS_URL), and return its answer. Not fenced: a read changes nothing. Errors as the
        store's redis-py client raises them."""
        ...

    async def ensure_owned(self, operation: str) -> None:
        """Make sure the entry is still this worker's before something no script can fence
        (`operation`: "send", "state", ... for the metrics). A round trip only when the lease
        may have lapsed (this worker missed renewals); raises `TakenOver`."""
        ...

    def sent(self, replies: list[ResourceResponse]) -> None:
        """Every reply sent so far for the entry (`replies` grown by one): recorded, fenced, so
        that a takeover does not send them again."""
        ...
