"""The request/reply lane through real HTTP: invokes and expectReplies answered in the response,
with the turn run by a worker through the queue."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import post_json, serving
from tests.support.streams import pending_count
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.invoke import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue
from worker.bot.turn_context import TurnContext
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

CARD = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "Done"}]}


class CardBot(ActivityHandler):
    """Answers `Action.Execute` with a card; says three things to expectReplies messages;
    takes its time when asked to: "wait" for half a second, "slow" until `release` is set."""

    def __init__(self) -> None:
        self.turns: list[str] = []
        self.release = asyncio.Event()

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        self.turns.append(f"invoke {invoke_value.action.verb}")
        if invoke_value.action.verb == "slow":
            await self.release.wait()
        await asyncio.sleep(0.5 if invoke_value.action.verb == "wait" else 0)
        card = dict(CARD, body=[{"type": "TextBlock", "text": f"did {invoke_value.action.verb}"}])
        return AdaptiveCardInvokeResponse(
            200, "application/vnd.microsoft.card.adaptive", value=card
        )

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        self.turns.append(f"message {text}")
        for n in (1, 2, 3):
            await turn_context.send_activity(f"{text} {n}")


def _execute(verb: str, activity_id: str, service_url: str, conversation: str) -> dict[str, Any]:
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {"id": conversation},
        "from": {"id": "user-1"},
        "recipient": {"id": "bot-1"},
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": {"x": 1}}},
    }


@dataclasses.dataclass
class Running:
    gateway: str
    service_url: str
    connector: DevConnector
    bot: CardBot
    http: aiohttp.ClientSession

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        return await post_json(self.http, f"{self.gateway}/api/messages", activity)


@pytest.fixture
def reply_timeout() -> float:
    """Far past a turn's time on a busy machine: an answer the tests expect must not time out.
    The test of the timeout itself sets a short one (its turn waits until it timed out)."""
    return 10.0


@pytest.fixture
async def running(
    settings: Settings, connector: tuple[DevConnector, str], reply_timeout: float
) -> AsyncIterator[Running]:
    settings = dataclasses.replace(settings, reply_timeout_seconds=reply_timeout)
    dev, service_url = connector
    bot = CardBot()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, bot, concurrency=8, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        yield Running(gateway, service_url, dev, bot, http)
    stop.set()
    await worker


async def test_action_execute_is_answered_with_the_bots_card(running: Running) -> None:
    status, body = await running.post(_execute("approve", "i-1", running.service_url, "c-1"))

    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": dict(CARD, body=[{"type": "TextBlock", "text": "did approve"}]),
    }
    assert running.connector.received == []  # the answer went in the response, nowhere else


async def test_an_unhandled_invoke_is_answered_501(running: Running) -> None:
    invoke = _execute("x", "i-2", running.service_url, "c-2") | {"name": "composeExtension/query"}

    status, body = await running.post(invoke)

    assert (status, body) == (501, None)


async def test_expect_replies_returns_the_replies_in_order_and_posts_none(
    running: Running,
) -> None:
    activity = message("hi", activity_id="m-1", conversation="c-3", service_url=running.service_url)
    activity["deliveryMode"] = "expectReplies"

    status, body = await running.post(activity)

    assert status == 200
    assert [reply["text"] for reply in body["activities"]] == ["hi 1", "hi 2", "hi 3"]
    assert all(reply["replyToId"] == "m-1" for reply in body["activities"])
    # A normal message after it still goes to the connector: the mode is per activity.
    follow = message("bye", activity_id="m-2", conversation="c-3", service_url=running.service_url)
    assert (await running.post(follow))[0] == 202
    received = await running.connector.wait_for(3)
    assert [r.body["text"] for r in received] == ["bye 1", "bye 2", "bye 3"]


async def test_a_retried_invoke_gets_the_same_answer_without_a_second_turn(
    running: Running,
) -> None:
    invoke = _execute("approve", "i-4", running.service_url, "c-4")

    first = await running.post(invoke)
    again = await running.post(invoke)

    assert first == again
    assert first[0] == 200
    assert running.bot.turns == ["invoke approve"]


async def test_a_retry_while_the_first_copy_runs_waits_for_its_answer(
    running: Running,
) -> None:
    invoke = _execute("wait", "i-8", running.service_url, "c-8")

    first, again = await asyncio.gather(running.post(invoke), running.post(invoke))

    assert first == again
    assert first[0] == 200
    assert running.bot.turns == ["invoke wait"]


@pytest.mark.parametrize("reply_timeout", [2.0])
async def test_a_slow_invoke_gets_the_fallback_and_its_late_answer_is_dropped(
    running: Running, redis: Redis, keys: Keyspace
) -> None:
    status, body = await running.post(_execute("slow", "i-5", running.service_url, "c-5"))

    assert status == 504
    assert body["error"] == "reply_timeout"
    running.bot.release.set()  # the turn answers only now, after the gateway gave up
    # The turn still finishes and commits; the late answer reaches a gateway nobody waits on.
    for _ in range(100):
        if running.bot.turns == ["invoke slow"] and await pending_count(redis, keys) == 0:
            break
        await asyncio.sleep(0.05)
    assert running.bot.turns == ["invoke slow"]
    assert await pending_count(redis, keys) == 0
    # The conversation goes on, in order, and the next invoke is answered normally.
    status, body = await running.post(_execute("next", "i-6", running.service_url, "c-5"))
    assert status == 200
    assert body["value"]["body"][0]["text"] == "did next"
    assert running.bot.turns == ["invoke slow", "invoke next"]


async def test_invokes_wait_behind_the_conversations_earlier_turns(running: Running) -> None:
    url = running.service_url
    slow = asyncio.create_task(running.post(_execute("wait", "i-7", url, "c-6")))
    for _ in range(600):  # the invoke's turn started: the message is queued behind it
        if running.bot.turns:
            break
        await asyncio.sleep(0.05)
    status, body = await running.post(
        message("after", activity_id="m-7", conversation="c-6", service_url=url)
        | {"deliveryMode": "expectReplies"}
    )
    assert (await slow)[0] == 200

    assert status == 200
    assert [reply["text"] for reply in body["activities"]] == ["after 1", "after 2", "after 3"]
    assert running.bot.turns == ["invoke wait", "message after"]
