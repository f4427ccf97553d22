"""A turn's commit whose answer never came back (Redis applied it, then stalled past the
worker's timeout; or the connection broke on the way back): the worker cannot tell it from a
commit that never ran, and retries the turn in place. The retry must not run a committed turn
again, and a commit of an earlier try that lands late must not overwrite a later try's. And a
commit Redis cannot take for a while is sent again until it can, not given up."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from samples.echo import bot as echo
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp import Command, is_noscript
from shared.redis.resp_pools import RespExecutor, open_pipelined_pool
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue, pending_count
from tests.worker.runtime.delivery.commits import deliver
from turnstream.devconnector import DevConnector
from worker.bot import (
    ActivityHandler,
    AutoSaveStateMiddleware,
    BotApp,
    ConversationState,
    RedisStorage,
    TurnContext,
)
from worker.runtime import process
from worker.runtime.delivery import acks, attempts
from worker.runtime.delivery.acks import Acknowledger
from worker.runtime.delivery.fence import is_fenced
from worker.runtime.process import run_worker


class Counter(ActivityHandler):
    """Counts messages in conversation state (AutoSave commits it with the entry). A try that
    finds the count already moved says more than the first try did, so a turn run again
    after its commit shows in the replies."""

    def __init__(self, state: ConversationState) -> None:
        self.count = state.create_property("count")
        self.tries = 0

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.tries += 1
        count = await self.count.get(turn_context, 0) + 1
        await self.count.set(turn_context, count)
        await turn_context.send_activity(f"count {count}")
        if count > 1:
            await turn_context.send_activity("ran again")


def _is_commit(command: Command) -> bool:
    """A fenced script asked to commit (ARGV[4], after the keys, is '1'), or the commit of a
    turn that saved no state."""
    if str(command[0]).upper() != "EVALSHA":
        return False
    if command[1] == acks.COMMIT.sha:
        return True
    args = command[3 + int(command[2]) :]
    return len(args) > 3 and args[3] == "1"


class LosesACommitAnswer:
    """The worker's script connection; the first turn commit is applied by Redis but its answer
    is lost (TimeoutError). `hold`: the commit is not sent then, but just after the retry
    counted its try, as a write stuck in a stalled server lands after the retry began; what it
    answered is kept in `late_answer`."""

    def __init__(self, pool: RespExecutor, *, hold: bool) -> None:
        self._pool = pool
        self._hold = hold
        self._held: list[Command] | None = None
        self.lost = 0
        self.late_answer: list[Any] | None = None

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        if self.lost == 0 and await self._loaded_commit(commands):
            self.lost = 1
            if self._hold:
                self._held = list(commands)
            else:
                await self._pool.execute(commands)
            raise TimeoutError("the answer was lost")
        replies = await self._pool.execute(commands)
        counted = any(
            _counts_a_try(c) and not is_noscript(r) for c, r in zip(commands, replies, strict=True)
        )
        if self._held is not None and counted:
            held, self._held = self._held, None
            self.late_answer = await self._pool.execute(held)
        return replies

    async def _loaded_commit(self, commands: Sequence[Command]) -> bool:
        """A commit the server will run (not one it answers NOSCRIPT to, to be sent again once
        the script is loaded: that one would be lost before it ran)."""
        shas = [c[1] for c in commands if _is_commit(c)]
        if not shas:
            return False
        (loaded,) = await self._pool.execute([("SCRIPT", "EXISTS", *shas)])
        return all(loaded)

    async def aclose(self) -> None:
        await self._pool.aclose()


def _counts_a_try(command: Command) -> bool:
    return str(command[0]).upper() == "EVALSHA" and command[1] == attempts.BEGIN.sha


def _losing(hold: bool, made: list[LosesACommitAnswer]) -> Callable[..., RespExecutor]:
    def open_pool(settings: Settings, *, timeout_seconds: float) -> RespExecutor:
        pool = LosesACommitAnswer(
            open_pipelined_pool(settings, timeout_seconds=timeout_seconds), hold=hold
        )
        made.append(pool)
        return pool

    return open_pool


@pytest.mark.parametrize("hold", [False, True], ids=["landed-before-the-retry", "landed-late"])
async def test_a_commit_whose_answer_was_lost_is_not_run_or_written_twice(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    monkeypatch: pytest.MonkeyPatch,
    hold: bool,
) -> None:
    dev, service_url = connector
    made: list[LosesACommitAnswer] = []
    monkeypatch.setattr(process, "open_pipelined_pool", _losing(hold, made))
    await enqueue(redis, keys, message("hi", service_url=service_url))
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = ConversationState(storage)
    bot = Counter(state)
    app = BotApp(bot, middleware=[AutoSaveStateMiddleware(state)], conversation_state=state)

    consumer = await run_worker(
        dataclasses.replace(settings, max_deliveries=3), app, burst=True, handle_signals=False
    )

    assert [pool.lost for pool in made] == [1]
    assert [a["text"] for a in dev.activities()] == ["count 1"]
    assert await pending_count(redis, keys) == 0
    stored: Any = await storage.read(["test/conversations/conv-1"])
    assert stored["test/conversations/conv-1"]["count"] == 1
    assert consumer.turns_done == 1
    if hold:  # landed late: refused, and the retry committed in its place
        assert bot.tries == 2
        (late,) = [made[0].late_answer]
        assert late is not None and is_fenced(late[0]), late
    else:  # landed before the retry: the retry found the turn committed and did not run it
        assert bot.tries == 1


async def test_a_stateless_commit_whose_answer_was_lost_counts_as_committed(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The commit of a turn that saved nothing is sent again by the worker itself (the turn is
    not run again); the second send finds the entry acknowledged by the first, and that is a
    commit, not a takeover."""
    dev, service_url = connector
    made: list[LosesACommitAnswer] = []
    monkeypatch.setattr(process, "open_pipelined_pool", _losing(False, made))
    await enqueue(redis, keys, message("hi", service_url=service_url))

    consumer = await run_worker(settings, echo, burst=True, handle_signals=False)

    assert [pool.lost for pool in made] == [1]
    assert [a["text"] for a in dev.activities()] == ["Echo: hi"]
    assert await pending_count(redis, keys) == 0
    assert (consumer.turns_done, consumer.turns_failed) == (1, 0)
    assert "taken over" not in caplog.text


class Unreachable:
    """The worker's script connection while Redis cannot be reached: `failures` batches fail
    with ConnectionError, then batches go through."""

    def __init__(self, pool: RespExecutor, failures: int) -> None:
        self._pool = pool
        self.failures = failures

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("Redis unreachable")
        return await self._pool.execute(commands)

    async def aclose(self) -> None:
        await self._pool.aclose()


async def test_a_stateless_commit_is_sent_until_redis_takes_it(
    redis: Redis, keys: Keyspace, scripts: RespExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis unreachable for longer than the commit's backoff once lasted (a cluster failover):
    the commit waits for it, and resolves only once it landed."""
    monkeypatch.setattr(acks, "exponential", lambda *_, **__: 0.01)
    entry = await deliver(redis, keys, "test/conv-1")
    flaky = Unreachable(scripts, failures=12)  # the retries gave up after 5 before
    committing = Acknowledger(flaky, CONSUMER_GROUP, "w1", OutageLog("test"))

    committed = await committing.ack(entry.stream, entry.entry_id, entry.done_key, entry.sent_key)

    assert committed and flaky.failures == 0
    assert await redis.get(entry.done_key) == entry.entry_id.encode()
    assert await pending_count(redis, keys) == 0


async def test_a_stopping_worker_gives_up_a_commit_redis_never_takes(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    entry = await deliver(redis, keys, "test/conv-1")
    committing = Acknowledger(Unreachable(scripts, 10**9), CONSUMER_GROUP, "w1", OutageLog("t"))
    waiting = committing.ack(entry.stream, entry.entry_id, entry.done_key, entry.sent_key)

    await asyncio.wait_for(committing.flush(within=0.3), timeout=5)

    assert waiting.cancelled()  # not taken for a commit
    assert await redis.get(entry.done_key) is None
    assert await pending_count(redis, keys) == 1  # for another worker to run again
