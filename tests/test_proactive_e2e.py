"""Proactive messages through real HTTP: the operator route, fan-out pacing and progress, events
handled by the bot, and `continue_conversation` from bot code."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import stream_lengths
from tests.test_ops_cli import in_thread
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.turn_context import TurnContext
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

SECRET = "s" * 40
RATE = 100.0


class NotifyingBot(ActivityHandler):
    """Echoes; handles a `news` event; `remind me` queues a proactive turn for itself."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        self.seen.append(text)
        if text == "remind me":
            reference = TurnContext.get_conversation_reference(turn_context.activity)
            await turn_context.adapter.continue_conversation(reference, self.remind)
            await turn_context.send_activity("will do")
        else:
            await turn_context.send_activity(f"Echo: {text}")

    async def on_event(self, turn_context: TurnContext) -> None:
        self.seen.append(f"event {turn_context.activity.name}")
        await turn_context.send_activity(f"news: {turn_context.activity.value['headline']}")

    async def remind(self, turn_context: TurnContext) -> None:
        self.seen.append("remind")
        await turn_context.send_activity("reminder!")


def _reference(conversation: str, service_url: str, tenant: str = "t-1") -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {"id": conversation, "tenantId": tenant},
        "user": {"id": f"{conversation}-user"},
        "bot": {"id": "bot-1", "name": "Bot"},
    }


@dataclasses.dataclass
class Running:
    gateway: str
    service_url: str
    connector: DevConnector
    bot: NotifyingBot
    http: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, body: Any = None, *, secret: str | None = SECRET
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["Authorization"] = f"Bearer {secret}"
        data = orjson.dumps(body) if body is not None else None
        async with self.http.request(
            method, f"{self.gateway}{path}", data=data, headers=headers
        ) as response:
            raw = await response.read()
            return response.status, orjson.loads(raw) if raw else None

    async def finished(self, job: str, within: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status, progress = await self.call("GET", f"/api/proactive/{job}")
            assert status == 200, progress
            if progress["finished"]:
                return dict(progress)
            await asyncio.sleep(0.1)
        raise AssertionError(f"job {job} did not finish: {progress}")


@pytest.fixture
async def running(
    settings: Settings, connector: tuple[DevConnector, str]
) -> AsyncIterator[Running]:
    settings = dataclasses.replace(
        settings, proactive_secret=SECRET, proactive_rate_per_second=RATE
    )
    dev, service_url = connector
    bot = NotifyingBot()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, bot, concurrency=32, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        yield Running(gateway, service_url, dev, bot, http)
    stop.set()
    await worker


async def test_a_message_to_200_conversations_arrives_once_in_each_at_the_paced_rate(
    running: Running,
) -> None:
    references = [_reference(f"c-{n}", running.service_url) for n in range(200)]

    status, body = await running.call(
        "POST",
        "/api/proactive",
        {"conversations": references, "activity": {"text": "maintenance at 6"}},
    )
    assert status == 202, body
    assert body["total"] == 200
    progress = await running.finished(body["job"])

    assert progress == {"total": 200, "queued": 200, "done": 200, "failed": 0, "finished": True}
    received = running.connector.received
    assert sorted(r.conversation_id for r in received) == sorted(f"c-{n}" for n in range(200))
    assert all(r.body["text"] == "maintenance at 6" for r in received)
    assert all(r.body["from"] == {"id": "bot-1", "name": "Bot"} for r in received)
    assert all(r.path.endswith("/activities") for r in received)  # sent, not a reply
    # Paced: one send per 1/RATE s for the destination, whatever the worker's concurrency (32
    # turns at once would send all 200 in a fraction of a second). Sends start on schedule and
    # arrive with jitter (a stalled event loop bunches them), hence the slack.
    times = sorted(r.received_at for r in received)
    busiest = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
    assert busiest <= RATE * 1.5
    assert times[-1] - times[0] >= (len(times) - 1) / RATE * 0.9


async def test_each_tenant_is_paced_on_its_own(
    running: Running, redis: Redis, keys: Keyspace
) -> None:
    references = [_reference(f"d-{n}", running.service_url, tenant=f"t-{n % 2}") for n in range(60)]
    schedules: set[str] = set()

    async def watch() -> None:
        # A schedule lives a second past its last slot: looked for while the job runs, not
        # after it, when a busy machine may have let that second pass.
        while True:
            found: Any = await redis.keys(keys.throttle("*"))
            schedules.update(key.decode() for key in found)
            await asyncio.sleep(0.02)

    watching = asyncio.create_task(watch())
    try:
        status, body = await running.call(
            "POST", "/api/proactive", {"conversations": references, "activity": {"text": "hi"}}
        )
        assert status == 202
        await running.finished(body["job"])
    finally:
        watching.cancel()

    assert len(running.connector.received) == 60
    # One schedule per service URL host and tenant.
    assert schedules == {keys.throttle(f"127.0.0.1:{tenant}") for tenant in ("t-0", "t-1")}


async def test_an_event_is_handled_by_the_bot_in_order_with_the_users_turns(
    running: Running,
) -> None:
    url = running.service_url
    for n in range(3):
        first = message(f"m{n}", activity_id=f"m{n}", conversation="e-1", service_url=url)
        assert (await running.call("POST", "/api/messages", first, secret=None))[0] == 202
    status, body = await running.call(
        "POST",
        "/api/proactive",
        {
            "reference": _reference("e-1", url) | {"channelId": "test"},
            "event": {"name": "news", "value": {"headline": "rain"}},
        },
    )
    assert status == 202
    await running.finished(body["job"])

    assert running.bot.seen == ["m0", "m1", "m2", "event news"]
    texts = [r.body["text"] for r in running.connector.received]
    assert texts == ["Echo: m0", "Echo: m1", "Echo: m2", "news: rain"]


async def test_continue_conversation_from_bot_code_runs_the_callback_after_the_turn(
    running: Running,
) -> None:
    url = running.service_url
    activity = message("remind me", activity_id="r1", conversation="r-1", service_url=url)

    assert (await running.call("POST", "/api/messages", activity, secret=None))[0] == 202
    received = await running.connector.wait_for(2)

    assert [r.body["text"] for r in received] == ["will do", "reminder!"]
    assert running.bot.seen == ["remind me", "remind"]
    assert received[1].path == "/v3/conversations/r-1/activities"


@pytest.mark.parametrize(
    ("secret", "status"),
    [(None, 401), ("wrong-secret", 401), (f"{SECRET}x", 401)],
)
async def test_the_operator_route_needs_the_secret(
    running: Running, redis: Redis, keys: Keyspace, secret: str | None, status: int
) -> None:
    body = {"reference": _reference("x", running.service_url), "activity": {"text": "hi"}}

    answer, error = await running.call("POST", "/api/proactive", body, secret=secret)

    assert answer == status
    assert error["error"] == "unauthorized"
    assert await stream_lengths(redis, keys) == 0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"activity": {"text": "hi"}}, "conversations must be a list"),
        ({"reference": {"channelId": "msteams"}, "activity": {"text": "x"}}, "serviceUrl"),
        ({"reference": 42, "event": {"name": "e"}}, "reference must be an object"),
        ({"reference": "REF", "event": {"value": 1}}, "event must be an object with a name"),
        ({"reference": "REF", "activity": {"text": "x"}, "event": {"name": "e"}}, "exactly one"),
        ({"reference": "REF", "activity": ["text"]}, "activity must be an object"),
        ({"conversations": ["REF", {"channelId": "x"}], "event": {"name": "e"}}, "conversation 1"),
    ],
)
async def test_a_bad_request_changes_nothing(
    running: Running, redis: Redis, keys: Keyspace, body: dict[str, Any], needle: str
) -> None:
    reference = _reference("y", running.service_url)
    text = orjson.dumps(body).decode().replace('"REF"', orjson.dumps(reference).decode())

    status, error = await running.call("POST", "/api/proactive", orjson.loads(text))

    assert status == 400
    assert needle in error["message"]
    assert await stream_lengths(redis, keys) == 0


async def test_without_a_secret_the_routes_do_not_exist(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        async with http.post(f"{gateway}/api/proactive", json={}) as response:
            assert response.status == 404
        async with http.get(f"{gateway}/api/proactive/abc") as response:
            assert response.status == 404


async def test_turnstream_send_queues_and_follows_the_job(
    running: Running, settings: Settings, tmp_path: Path
) -> None:
    references = tmp_path / "references.jsonl"
    references.write_text(
        "\n".join(
            orjson.dumps(_reference(f"cli-{n}", running.service_url)).decode() for n in range(5)
        )
    )

    done = await in_thread(settings, "send", "--references", str(references), "--text", "hello")

    assert done.returncode == 0, done.stderr
    assert "5 conversations queued" in done.stdout
    assert "done 5/5, failed 0" in done.stdout
    received = running.connector.received
    assert sorted(r.conversation_id for r in received) == [f"cli-{n}" for n in range(5)]
    assert {r.body["text"] for r in received} == {"hello"}


async def test_turnstream_send_refuses_a_bad_reference_file(
    settings: Settings, redis: Redis, keys: Keyspace, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"channelId": "msteams"}')

    refused = await in_thread(settings, "send", "--reference", str(bad), "--event", "x")
    missing = await in_thread(settings, "send", "--reference", str(tmp_path / "no"), "--text", "x")

    assert refused.returncode == 1
    assert "serviceUrl" in refused.stderr
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
    assert "Traceback" not in refused.stderr + missing.stderr
    assert await stream_lengths(redis, keys) == 0


async def test_operators_reach_users_and_conversations_the_registry_knows(
    running: Running, settings: Settings
) -> None:
    url = running.service_url
    for conversation, user in (("r-1", "ann"), ("r-2", "ann"), ("r-3", "bob")):
        said = message("hi", activity_id=f"{conversation}-hi", conversation=conversation, user=user)
        said["serviceUrl"] = url
        assert (await running.call("POST", "/api/messages", said, secret=None))[0] == 202
    await running.connector.wait_for(3, within=20)  # each echo comes after its recording

    status, body = await running.call(
        "POST",
        "/api/proactive",
        {"to": {"user": "ann", "channel": "test"}, "activity": {"text": "for ann"}},
    )
    assert status == 202 and body["total"] == 2, body
    await running.finished(body["job"])
    unknown = await running.call(
        "POST", "/api/proactive", {"to": {"conversation": "test/nobody"}, "activity": {"text": "x"}}
    )
    bad = await running.call(
        "POST", "/api/proactive", {"to": {"user": "ann"}, "activity": {"text": "x"}}
    )
    sent = await in_thread(settings, "send", "--to-conversation", "test/r-3", "--text", "for bob")

    assert sent.returncode == 0, sent.stderr
    assert "1 conversation queued" in sent.stdout
    assert unknown[0] == 404 and "registry" in unknown[1]["message"]
    assert bad[0] == 400 and "to.channel" in bad[1]["message"]
    texts = sorted((r.conversation_id, r.body["text"]) for r in running.connector.received)
    assert texts == [
        ("r-1", "Echo: hi"),
        ("r-1", "for ann"),
        ("r-2", "Echo: hi"),
        ("r-2", "for ann"),
        ("r-3", "Echo: hi"),
        ("r-3", "for bob"),
    ]
    assert all(r.body["recipient"]["id"] in ("ann", "bob") for r in running.connector.received)
