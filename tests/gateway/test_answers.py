"""The gateway's answers subscription against a real server: delivery, and catching up on
answers published while the subscription was down."""

from __future__ import annotations

import asyncio

from gateway.answer_board import AnswerBoard
from shared.loops import BackgroundLoops
from shared.protocol.answers import ANSWER_TTL_SECONDS, Answer, publication, wake_up
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis


async def test_an_answer_reaches_every_request_waiting_for_it(redis: Redis, keys: Keyspace) -> None:
    board = AnswerBoard(redis, keys.answers_channel())
    async with BackgroundLoops() as loops:
        loops.start("answers subscription", board.listen())
        await asyncio.wait_for(board.subscribed.wait(), 5)
        key = keys.answer(0, "test/c", "a-1")
        first, retry = board.expect(key), board.expect(key)
        other = board.expect(keys.answer(0, "test/c", "a-2"))
        answer = Answer(200, b'{"ok": true}')

        await redis.publish(keys.answers_channel(), publication(key, answer))
        results = await asyncio.gather(first.result(5, stored=False), retry.result(5, stored=False))

        assert list(results) == [answer, answer]
        assert await other.result(0.2, stored=False) is None  # not its answer
        assert board.waiting == 0  # nobody left behind


async def test_a_stored_answer_is_read_for_a_retried_request(redis: Redis, keys: Keyspace) -> None:
    board = AnswerBoard(redis, keys.answers_channel())  # not even listening
    key = keys.answer(1, "test/c", "a-3")
    await redis.set(key, Answer(501).encode(), ex=ANSWER_TTL_SECONDS)

    assert await board.expect(key).result(1, stored=True) == Answer(501)


async def test_answers_published_while_the_subscription_was_down_are_looked_up(
    redis: Redis, keys: Keyspace
) -> None:
    board = AnswerBoard(redis, keys.answers_channel())
    async with BackgroundLoops() as loops:
        loops.start("answers subscription", board.listen())
        await asyncio.wait_for(board.subscribed.wait(), 5)
        key = keys.answer(2, "test/c", "a-4")
        waiting = asyncio.create_task(board.expect(key).result(10, stored=False))
        # The subscription's connection is cut; the worker's answer is stored (its publication
        # reaches nobody) before the board is back.
        await redis.client_kill_filter(_type="pubsub")
        await redis.set(key, Answer(200, b"[]").encode(), ex=ANSWER_TTL_SECONDS)

        assert await waiting == Answer(200, b"[]")


async def test_a_wake_up_wakes_the_followers_of_its_key_only(redis: Redis, keys: Keyspace) -> None:
    board = AnswerBoard(redis, keys.answers_channel())
    async with BackgroundLoops() as loops:
        loops.start("answers subscription", board.listen())
        await asyncio.wait_for(board.subscribed.wait(), 5)
        key = keys.answer_events(0, "test/c", "s-1")
        followed = board.follow(key)
        other = board.follow(keys.answer_events(0, "test/c", "s-2"))

        await redis.publish(keys.answers_channel(), wake_up(key))
        await asyncio.wait_for(followed.woken.wait(), 5)

        assert not other.woken.is_set()
        board.unfollow(followed)
        board.unfollow(other)
        assert board.waiting == 0


async def test_followers_are_woken_when_the_subscription_comes_back(
    redis: Redis, keys: Keyspace
) -> None:
    """A wake-up published while the subscription was down reached nobody: every follower
    reads again, from the last event it relayed."""
    board = AnswerBoard(redis, keys.answers_channel())
    async with BackgroundLoops() as loops:
        loops.start("answers subscription", board.listen())
        await asyncio.wait_for(board.subscribed.wait(), 5)
        followed = board.follow(keys.answer_events(1, "test/c", "s-3"))

        await redis.client_kill_filter(_type="pubsub")

        await asyncio.wait_for(followed.woken.wait(), 10)
