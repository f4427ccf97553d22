"""Workers split the shards among them and read their own first
(worker/runtime/delivery/affinity.py): a preference that keeps a conversation's turns on one worker,
never one that strands a shard."""

from __future__ import annotations

import asyncio
from collections import Counter

from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace, conversation_key
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from tests.support.activities import message
from tests.support.streams import enqueue, pending_count
from worker.runtime.consumer import Consumer
from worker.runtime.delivery.affinity import ShardAffinity, preferred_streams
from worker.runtime.delivery.entry_commit import EntryCommit

STREAMS = [f"p:{{{n}}}:in" for n in range(16)]


def test_each_stream_has_exactly_one_preferred_reader() -> None:
    readers = ["w-a", "w-b", "w-c"]
    shares = {reader: preferred_streams(reader, readers, STREAMS) for reader in readers}
    assert sorted(s for share in shares.values() for s in share) == sorted(STREAMS)
    assert all(share for share in shares.values())  # 16 streams over 3: nobody left out here


def test_the_split_is_even_whatever_the_names() -> None:
    # Plain rendezvous hashing gave the busier of 2 workers 9.7 of 16 shards on average (up to
    # 14): a backlog then drains at the pace of the larger share. The bound caps every share.
    for n in range(200):
        for count in (2, 3, 5):
            readers = [f"host-{n}-{k}" for k in range(count)]
            shares = [preferred_streams(r, readers, STREAMS) for r in readers]
            assert sorted(s for share in shares for s in share) == sorted(STREAMS)
            assert max(len(share) for share in shares) == -(-len(STREAMS) // count)


def test_every_reader_computes_the_same_split_in_any_order() -> None:
    readers = ["w-a", "w-b", "w-c"]
    for reader in readers:
        assert preferred_streams(reader, readers, STREAMS) == preferred_streams(
            reader, readers[::-1], STREAMS
        )


def test_a_reader_leaving_moves_few_streams_among_those_who_stay() -> None:
    moved = 0
    for n in range(100):
        three = [f"host-{n}-{k}" for k in range(3)]
        before = {r: set(preferred_streams(r, three, STREAMS)) for r in three[:2]}
        after = {r: set(preferred_streams(r, three[:2], STREAMS)) for r in three[:2]}
        assert after[three[0]] | after[three[1]] == set(STREAMS)
        moved += sum(len(before[r] - after[r]) for r in three[:2])
    assert moved / 100 < 1  # of 16 streams; the leaver's own 5 or 6 move in any case


def test_an_unregistered_or_lone_reader_reads_everything() -> None:
    assert preferred_streams("w-x", ["w-a", "w-b"], STREAMS) == STREAMS
    assert preferred_streams("w-a", ["w-a"], STREAMS) == STREAMS


async def test_live_workers_split_the_shards_and_a_leaver_gives_its_share_back(
    scripts: RespExecutor, keys: Keyspace
) -> None:
    streams = keys.streams()
    a = ShardAffinity(scripts, keys.readers(), "worker-a", streams)
    b = ShardAffinity(scripts, keys.readers(), "worker-b", streams)
    await a.refresh()
    assert a.preferred == streams  # alone so far
    await b.refresh()
    await a.refresh()
    assert set(a.preferred).isdisjoint(b.preferred)
    assert sorted(a.preferred + b.preferred) == sorted(streams)
    await b.leave()
    assert b.preferred == streams
    await a.refresh()
    assert a.preferred == streams


async def test_a_worker_runs_the_entries_of_shards_another_live_worker_prefers(
    redis: Redis, scripts: RespExecutor, keys: Keyspace
) -> None:
    # The other worker is registered (alive as far as membership knows) but not reading, as
    # one busy or stuck would be: its shards must not wait for it.
    streams = keys.streams()
    idle = ShardAffinity(scripts, keys.readers(), "worker-idle", streams)
    await idle.refresh()
    ours, mine = next(  # a name that leaves both workers a share (the prefix differs per test)
        (name, share)
        for name in (f"worker-{n}" for n in range(100))
        if 0 < len(share := set(preferred_streams(name, [name, "worker-idle"], streams))) < 4
    )
    conversations = [f"conv-{n}" for n in range(40)]
    theirs = [
        c
        for c in conversations
        if keys.stream(keys.shard_of(conversation_key("test", c))) not in mine
    ]
    assert theirs, "no conversation hashed to the idle worker's shards"
    ran: list[str] = []

    async def run_turn(envelope: Envelope, commit: EntryCommit) -> None:
        ran.append(envelope.conversation)

    consumer = Consumer(
        redis, keys, run_turn, scripts=scripts, concurrency=8, name=ours, block_ms=100
    )
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(100):  # it knows its share before anything is queued
            await asyncio.sleep(0.02)
            if set(consumer.own_streams) == mine:
                break
        assert set(consumer.own_streams) == mine
        for n in range(3):
            for conversation in theirs:
                await enqueue(redis, keys, message(f"{n}", conversation=conversation))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(ran) == 3 * len(theirs):
                break
    finally:
        consumer.stop()
        await task
    assert Counter(ran) == Counter({conversation_key("test", c): 3 for c in theirs})
    assert await pending_count(redis, keys) == 0
