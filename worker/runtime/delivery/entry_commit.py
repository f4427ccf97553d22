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
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.redis.connection import Redis, is_cluster
from shared.redis.resp import ReplyError, RespError
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import ResourceResponse
from worker.bot.errors import TakenOver
from worker.bot.turn_commit import FencedWrite
from worker.runtime.delivery.fence import fenced, is_fenced
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.scripts import Script
from worker.runtime.delivery.send_journal import SendJournal

log = logging.getLogger(__name__)

_NOTHING = "return 0"
"""The body of a commit with nothing to write in the entry's slot."""


class Scripts:
    """The stores' scripts as one worker runs them for its turns.

    Fenced, and a turn's reads, they run on the worker's plain RESP connections (`pool`,
    decision 0004): the fence reads the entry's stream, so they must reach the server that
    holds the streams anyway, and there a call costs a fraction of redis-py's client CPU (a
    stateful turn reads and commits its state once each; docs/benchmarks.md, issue 24). Their
    errors come out as the store's own client would raise them (redis-py's `ResponseError`,
    `ConnectionError`, `TimeoutError`). Unfenced writes (after the commit, or in another slot
    of a cluster) run on the store's own client, registered once per client and body."""

    def __init__(self, pool: RespExecutor) -> None:
        self._pool = pool
        self._lean: dict[tuple[str, bool], Script] = {}
        self._unfenced: dict[tuple[int, str], AsyncScript] = {}

    async def run(
        self, body: str, keys: Sequence[str], args: Sequence[str | bytes | int], *, fence: bool
    ) -> Any:
        """One call on the worker's connections, the fence around it or not."""
        script = self._lean.get((body, fence))
        if script is None:
            script = self._lean[body, fence] = Script(fenced(body) if fence else body)
        try:
            (answer,) = await script.run(self._pool, [(keys, args)])
        except TimeoutError as e:  # before OSError: it is one
            raise RedisTimeoutError(f"Redis did not answer in time: {e}") from e
        except (OSError, RespError) as e:
            raise RedisConnectionError(f"Redis unavailable: {e}") from e
        if isinstance(answer, RespError):  # this call's cluster master did not answer
            raise RedisConnectionError(f"Redis unavailable: {answer}") from answer
        if isinstance(answer, ReplyError):
            raise ResponseError(str(answer)) from answer
        return answer

    def unfenced(self, client: Redis, body: str) -> AsyncScript:
        key = (id(client), body)
        script = self._unfenced.get(key)
        if script is None:
            # register_script keeps the client alive (so its id is not reused) and sends
            # EVALSHA, loading the script itself on NOSCRIPT.
            script = self._unfenced[key] = client.register_script(body)
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
        starts_key: str,
        try_count: int,
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
        self.starts_key = starts_key
        self._try_count = try_count
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

    async def read(
        self, script: str, keys: Sequence[str], args: Sequence[str | bytes | int]
    ) -> Any:
        return await self._scripts.run(script, keys, args, fence=False)

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
        self._journal.record(
            self.stream,
            self.sent_key,
            self.entry_id,
            replies,
            starts_key=self.starts_key,
            try_count=self._try_count,
        )

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
                answers[i] = await self._run(client, write)
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
            answers[i] = await self._run(client, writes[i])
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
        keys = [self.stream, self.done_key, self.sent_key, self.starts_key, *write.keys]
        args = [
            self._group,
            self.entry_id,
            self._consumer,
            "1" if commit else "0",
            self._try_count,
            *write.args,
        ]
        try:
            return await self._scripts.run(write.script, keys, args, fence=True)
        except ResponseError as e:
            if is_fenced(e):
                raise self.fence("commit" if commit else "write") from None
            raise

    async def _run(self, client: Redis, write: FencedWrite) -> Any:
        script = self._scripts.unfenced(client, write.script)
        return await script(keys=list(write.keys), args=list(write.args))


def _slot(key: str) -> int:
    return key_slot(key.encode())


def _in(write: FencedWrite, slot: int) -> bool:
    return bool(write.keys) and _slot(write.keys[0]) == slot
