"""Which shards a worker reads first, so that a conversation's turns stay on one worker.

Any worker may run any entry, and strict order holds across workers
(worker.runtime.delivery.ordering): an entry whose predecessor another worker holds waits until
that one commits. With a backlog, workers reading every shard take turns at each conversation's
entries, and every turn then waits on the other worker: two workers drained a prefilled stream
*slower* than one (the counter bot: ~0.6x), spending ~30 % more CPU per turn on the waiting.

So the live workers split the shards among them (rendezvous hashing over their consumer names,
with a bound on each one's share: see `preferred_streams`) and each reads its own shards first. It
reads the others' only when its own are empty, so nothing waits for a worker that is gone or
busy: a preference, not an ownership, and never needed for correctness. Membership is a sorted
set of consumer names scored by the server's clock, renewed every `REFRESH_SECONDS` by each
worker; a name not renewed for `MEMBER_TTL_SECONDS` drops out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.scripts import REDIS_FAILURES, Script

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5
"""Often: until every worker has seen a newcomer, the others still read its shards (and their
conversations' turns go back and forth). One small script per worker per refresh."""
MEMBER_TTL_SECONDS = 5.0
"""Ten missed refreshes. Until then, a dead worker's shards wait for an idle worker (busy ones
read their own first); the entries it held wait for the claim timeout anyway."""

JOIN_SCRIPT = """
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZADD', KEYS[1], ms, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2] * 2)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
"""KEYS: the readers set. ARGV: this consumer, member TTL in ms. Says this worker is alive, drops
workers silent for the TTL (on the server's clock: no two workers' clocks compared), and
returns the live names."""
_JOIN = Script(JOIN_SCRIPT)


def preferred_streams(me: str, readers: list[str], streams: list[str]) -> list[str]:
    """`me`'s share of the streams: rendezvous hashing with bounded loads. Every (reader,
    stream) pair gets a score; going down the pairs from the highest, a stream goes to the
    reader of its pair unless it went to another already or that reader holds
    ceil(streams / readers). Every reader computes the same split from the same names.

    Plain rendezvous hashing (each stream to its highest-scoring reader) moves the fewest
    streams when a reader joins or leaves, but splits unevenly: with 2 workers and 16 shards
    the busier one got 9.7 shards on average, up to 14, and the drain of a backlog lasts as
    long as the busier worker's share. The bound makes the largest share ceil(16 / 2) = 8; a
    reader leaving still moves few streams among those who stay (0 to 2 of 16 with 3 readers).
    Every stream if `me` is not among `readers` (not registered yet)."""
    if me not in readers or len(readers) < 2:
        return list(streams)
    most = -(-len(streams) // len(readers))
    pairs = sorted(
        ((_score(reader, stream), reader, stream) for reader in readers for stream in streams),
        reverse=True,
    )
    owner: dict[str, str] = {}
    held = dict.fromkeys(readers, 0)
    for _, reader, stream in pairs:
        if stream not in owner and held[reader] < most:
            owner[stream] = reader
            held[reader] += 1
    return [stream for stream in streams if owner[stream] == me]


def _score(reader: str, stream: str) -> bytes:
    return hashlib.blake2b(f"{reader}\n{stream}".encode(), digest_size=8).digest()


class ShardAffinity:
    """`preferred` is this worker's share of the streams (all of them until it knows better);
    `run()` keeps it current until cancelled, `leave()` gives the share back at once."""

    def __init__(self, scripts: RespExecutor, key: str, name: str, streams: list[str]) -> None:
        self._scripts = scripts
        self._key = key
        self._name = name
        self._streams = streams
        self.preferred = list(streams)
        self._readers: frozenset[str] = frozenset()
        """The live names the share was computed from (it is computed again when they change)."""

    async def refresh(self) -> None:
        (readers,) = await _JOIN.run(
            self._scripts, [((self._key,), (self._name, int(MEMBER_TTL_SECONDS * 1000)))]
        )
        if isinstance(readers, Exception):
            raise readers
        assert isinstance(readers, list)
        names = frozenset(r.decode() if isinstance(r, bytes) else str(r) for r in readers)
        if names == self._readers:
            return
        preferred = preferred_streams(self._name, sorted(names), self._streams)
        if preferred != self.preferred:
            log.info(
                "reading %d of %d shard streams first (%d live workers)",
                len(preferred),
                len(self._streams),
                len(names),
            )
        self.preferred = preferred
        self._readers = names

    async def run(self) -> None:
        """Refresh every `REFRESH_SECONDS` until cancelled (`join` first)."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await self.join()

    async def join(self) -> None:
        """Refresh once; when Redis cannot say who is alive, prefer every shard rather than
        leave one to nobody."""
        try:
            await self.refresh()
        except REDIS_FAILURES as e:
            log.debug("could not refresh the readers: %s", e)
            self._prefer_all()

    async def leave(self) -> None:
        """Stop preferring anything: the others take this worker's share at their next refresh."""
        self._prefer_all()
        try:
            await self._scripts.execute([("ZREM", self._key, self._name)])
        except REDIS_FAILURES as e:
            log.debug("could not leave the readers: %s", e)  # it expires in MEMBER_TTL_SECONDS

    def _prefer_all(self) -> None:
        self.preferred = list(self._streams)
        self._readers = frozenset()  # the next refresh computes the share again
