"""The runtime's side of `worker.bot.turn_commit`: one `EntryCommit` per delivery of a stream
entry, handed to its turn as `TurnContext.turn_commit`.

Every write a store makes for the turn runs here inside the ownership fence
(`worker.runtime.delivery.fence`): bot state (explicit `save_changes`, `delete`, AutoSave),
transcripts, proactive turns the bot queues. The end-of-turn commit (AutoSave's save) also moves
the conversation's done pointer, deletes the entry's record of sent replies and acknowledges
the entry, in that same script: one round trip, as before. A refusal marks the delivery fenced:
`TakenOver` is raised in the turn, and every later write or send of it is refused at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import ResponseError

from shared.redis.connection import Redis, is_cluster
from shared.schema.activity import ResourceResponse
from worker.bot.errors import TakenOver
from worker.bot.turn_commit import FencedWrite
from worker.runtime.delivery.fence import fenced, is_fenced
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.send_journal import SendJournal

log = logging.getLogger(__name__)

_NOTHING = "return 0"
"""The body of a commit with nothing to write in the entry's slot."""


class Scripts:
    """The fenced scripts of one worker, registered once per client and body."""

    def __init__(self) -> None:
        self._scripts: dict[tuple[int, str, bool], AsyncScript] = {}

    def get(self, client: Redis, body: str, *, fence: bool) -> AsyncScript:
        key = (id(client), body, fence)
        script = self._scripts.get(key)
        if script is None:
            # register_script keeps the client alive (so its id is not reused) and sends
            # EVALSHA, loading the script itself on NOSCRIPT.
            script = self._scripts[key] = client.register_script(fenced(body) if fence else body)
        return script


class EntryCommit:
    """`TurnCommit` for one delivery of one stream entry."""

    def __init__(
        self,
        *,
        stream: str,
        entry_id: str,
        done_key: str,
        sent_key: str,
        group: str,
        consumer: str,
        replies: list[ResourceResponse],
        leases: Leases,
        journal: SendJournal,
        scripts: Scripts,
        on_fenced: Callable[[str], None],
    ) -> None:
        self.stream = stream
        self.entry_id = entry_id
        self.done_key = done_key
        self.sent_key = sent_key
        self._group = group
        self._consumer = consumer
        self.replies = replies
        self.bot_error = False
        self._leases = leases
        self._journal = journal
        self._scripts = scripts
        self._on_fenced = on_fenced
        self._committed = False
        self._fenced_at: str | None = None

    @property
    def committed(self) -> bool:
        return self._committed

    @property
    def fenced(self) -> bool:
        return self._fenced_at is not None

    @property
    def fenced_at(self) -> str | None:
        """The operation the fence refused first (None: not fenced)."""
        return self._fenced_at

    def acknowledged(self) -> None:
        """The worker committed the entry itself (a turn that saved no state at its end)."""
        self._committed = True

    def fence(self, operation: str) -> TakenOver:
        """Mark this delivery fenced off (first refusal counted); the error to raise."""
        if self._fenced_at is None:
            self._fenced_at = operation
            self._on_fenced(operation)
        return TakenOver(f"entry {self.entry_id} belongs to another worker ({operation} refused)")

    async def ensure_owned(self, operation: str) -> None:
        if self._fenced_at is not None:
            raise TakenOver(f"entry {self.entry_id} belongs to another worker")
        if self._committed:
            return  # committed by this worker: nobody else will run it
        try:
            await self._leases.ensure((self.stream, self.entry_id))
        except TakenOver:
            raise self.fence(operation) from None

    def sent(self, replies: list[ResourceResponse]) -> None:
        # Fenced in its own script (send_journal.RECORD_SCRIPT). A refused record is not
        # reported to the turn: it may also be one that lost the race with this entry's own
        # commit; a real loss is caught by the turn's next write (fenced) or send (checked).
        self._journal.record(self.stream, self.sent_key, self.entry_id, replies)

    async def write(
        self, client: Redis, writes: Sequence[FencedWrite], *, commit: bool = False
    ) -> list[Any]:
        if self._fenced_at is not None:
            raise TakenOver(f"entry {self.entry_id} belongs to another worker")
        answers: list[Any] = [None] * len(writes)
        if self._committed:
            # After its commit the entry is acknowledged: no other worker can run it, and
            # there is no pending entry to fence by (a transcript logged after AutoSave).
            for i, write in enumerate(writes):
                answers[i] = await self._run(client, write, fence=False)
                if answers[i] != 0:
                    break
            return answers
        return await self._write_fenced(client, writes, answers, commit=commit)

    async def _write_fenced(
        self, client: Redis, writes: Sequence[FencedWrite], answers: list[Any], *, commit: bool
    ) -> list[Any]:
        fence_slot = _slot(self.stream) if is_cluster(client) else None
        inside = [i for i, w in enumerate(writes) if fence_slot is None or _in(w, fence_slot)]
        outside = [i for i in range(len(writes)) if i not in inside]
        for i in outside:  # another slot of a cluster: checked, not fenced
            await self.ensure_owned("write")
            answers[i] = await self._run(client, writes[i], fence=False)
            if answers[i] != 0:
                return answers
        if commit and not inside:
            await self._fenced(client, FencedWrite(_NOTHING, [], []), commit=True)
            self._committed = True
            return answers
        for n, i in enumerate(inside):
            last = n == len(inside) - 1
            answers[i] = await self._fenced(client, writes[i], commit=commit and last)
            if answers[i] != 0:
                break
            if commit and last:
                self._committed = True
        return answers

    async def _fenced(self, client: Redis, write: FencedWrite, *, commit: bool) -> Any:
        script = self._scripts.get(client, write.script, fence=True)
        keys = [self.stream, self.done_key, self.sent_key, *write.keys]
        args = [self._group, self.entry_id, self._consumer, "1" if commit else "0", *write.args]
        try:
            return await script(keys=keys, args=args)
        except ResponseError as e:
            if is_fenced(e):
                raise self.fence("commit" if commit else "write") from None
            raise

    async def _run(self, client: Redis, write: FencedWrite, *, fence: bool) -> Any:
        script = self._scripts.get(client, write.script, fence=fence)
        return await script(keys=list(write.keys), args=list(write.args))


def _slot(key: str) -> int:
    return key_slot(key.encode())


def _in(write: FencedWrite, slot: int) -> bool:
    return bool(write.keys) and _slot(write.keys[0]) == slot
