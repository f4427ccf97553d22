"""Scheduled turns end to end, with the reminder sample (samples/reminder_bot.py) in two worker
processes: reminders scheduled, then a worker killed with SIGKILL and the Redis server restarted
(AOF) before they are due. Each fires exactly once, in order with its conversation's other
turns, within the lateness bound; a reminder scheduled again with its key is moved, a
cancelled one never fires."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import RedisError

from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis, connect
from shared.settings import Settings
from tests.support.activities import message
from tests.support.processes import start_workers, stop_processes, worker_env
from tests.support.streams import enqueue, envelopes_in, pending_count
from turnstream.devconnector import DevConnector
from turnstream.embedded import EmbeddedRedis

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DUE_IN_SECONDS = 4
LATENESS_BOUND_SECONDS = 3.0
"""The failover bound (docs/scheduled-turns.md: a dead watcher's shards are swept within about
1.5 s), with room for this shared, loaded test machine."""
CONVERSATIONS = [f"conv-{n}" for n in range(6)]


@dataclasses.dataclass
class Server:
    """A server of the test's own, AOF fsynced on every write, that it can restart in place."""

    data: Path
    embedded: EmbeddedRedis | None = None

    def start(self, port: int | None = None) -> str:
        self.embedded = EmbeddedRedis(
            self.data, appendonly=True, port=port, extra_args=["--appendfsync", "always"]
        ).start()
        return self.embedded.url

    def restart(self) -> None:
        assert self.embedded is not None
        port = self.embedded.port
        self.embedded.stop()
        self.start(port)

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    own = Server(tmp_path / "redis")
    try:
        yield own
    finally:
        own.stop()


async def _until(check: Any, what: str, within: float = 30.0) -> None:
    """Poll `check()` until true, for at most `within` seconds (a bound far past the usual)."""
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what}")


async def test_reminders_fire_once_in_order_across_a_killed_worker_and_a_redis_restart(
    server: Server, settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    settings = dataclasses.replace(settings, redis_url=server.start())
    keys = Keyspace(settings.key_prefix, settings.shards)
    env = {**worker_env(settings), "TURNSTREAM_CLAIM_IDLE_SECONDS": "2"}
    workers = await start_workers(env, "samples.reminder_bot:bot", 2)
    redis: Redis = connect(settings)
    try:
        await _until(lambda: _readers(redis, keys, 2), "both workers read")

        async def say(conversation: str, text: str) -> None:
            activity = message(
                text,
                conversation=conversation,
                service_url=f"{service_url}/",
                activity_id=uuid.uuid4().hex,
            )
            await enqueue(redis, keys, activity)

        for conversation in CONVERSATIONS:
            await say(conversation, f"remind me in {DUE_IN_SECONDS} seconds to stretch")
        await say("conv-0", f"remind me in {DUE_IN_SECONDS} seconds to stretch")  # moved: once
        await say("conv-1", f"remind me in {DUE_IN_SECONDS} seconds to drink")
        await say("conv-1", "cancel drink")
        schedule = Schedule(redis, keys)
        await dev.wait_for(len(CONVERSATIONS) + 3, within=30)
        await _until(lambda: _settled(redis, keys), "every turn committed")
        waiting = await schedule.waiting()
        assert sorted(t.conversation for t in waiting) == [f"test/{c}" for c in CONVERSATIONS]

        workers[0].kill()  # SIGKILL: no drain, no goodbye; its shards' watcher is gone
        await workers[0].wait()
        server.restart()  # AOF fsynced on every write: the schedule survives the restart
        assert [t.id for t in await _retrying(schedule.waiting)] == [t.id for t in waiting]
        workers += await start_workers(env, "samples.reminder_bot:bot", 1)
        for conversation in CONVERSATIONS:
            await say(conversation, "hello")  # queued before or after the reminder: in order

        await _until(
            lambda: _reminders_sent(dev, len(CONVERSATIONS)), "every reminder sent", within=60
        )
        await _until(lambda: _settled(redis, keys), "every turn committed")
        assert await schedule.waiting() == []
        # Before the workers stop: a stopping worker trims what the group acknowledged (a
        # running one every 30 s, far past this test's few seconds).
        entries = [e for stream in keys.streams() for e in await envelopes_in(redis, stream)]
    finally:
        stderrs = await stop_processes(workers)
        await redis.aclose()
    for stderr in stderrs[1:]:
        assert "Traceback" not in stderr, stderr

    fired = [e for e in entries if e.activity().get("name") == "reminder"]
    assert sorted(e.conversation for e in fired) == sorted(f"test/{c}" for c in CONVERSATIONS)
    queued_late = [e.received_at - e.activity()["value"]["due"] for e in fired]
    assert min(queued_late) >= 0, queued_late  # never early
    due = {t.conversation.removeprefix("test/"): t.due for t in waiting}
    sent_late = [
        r.received_at - due[r.conversation_id]
        for r in dev.received
        if r.body["text"].startswith("Reminder:")
    ]
    assert max(sent_late) <= LATENESS_BOUND_SECONDS, sent_late  # due to the reply's arrival

    for conversation in CONVERSATIONS:
        sent = [
            re.sub(r" at \d\d:\d\d:\d\d UTC\.$", ".", r.body["text"])
            for r in dev.received
            if r.conversation_id == conversation
        ]
        expected = [
            _reply(e.activity()) for e in entries if e.conversation == f"test/{conversation}"
        ]
        assert sent == expected, conversation  # every turn once, in the stream's order
        assert sent.count("Reminder: stretch") == 1
        assert "Reminder: drink" not in sent


def _reply(activity: dict[str, Any]) -> str:
    """What the reminder bot answers to one turn of these."""
    if activity["type"] == "event":
        return f"Reminder: {activity['value']['text']}"
    text = activity["text"]
    if text.startswith("remind me"):
        what = re.sub(r".* to ", "", text)
        return f"OK, I will remind you to {what}."
    if text.startswith("cancel"):
        return "Cancelled the reminder to drink."
    return 'Say "remind me in 2 minutes to stretch", "reminders", or "cancel stretch".'


async def _retrying(call: Any) -> Any:
    """`call()` once the restarted server answers (the client reconnects)."""
    for _ in range(100):
        try:
            return await call()
        except (RedisError, OSError):
            await asyncio.sleep(0.1)
    return await call()


async def _readers(redis: Redis, keys: Keyspace, count: int) -> bool:
    return bool(await redis.zcard(keys.readers()) == count)


async def _settled(redis: Redis, keys: Keyspace) -> bool:
    return await pending_count(redis, keys) == 0


async def _reminders_sent(dev: DevConnector, count: int) -> bool:
    return sum(1 for a in dev.activities() if a.get("text", "").startswith("Reminder:")) >= count
