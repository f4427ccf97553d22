"""The core bot's transcripts through the real gateway and two worker processes.

Each message is sent only when the previous turn is over (its entry acknowledged, which happens
with the state commit), because order across workers is not guaranteed yet. The two workers
block on the same streams, so consecutive turns of one conversation land on either of them:
the dialog stack must be continued from Redis, never from a process's memory.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from samples.core_bot.dialogs import CANCEL_TEXT, HELP_TEXT
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import worker_env
from tests.support.streams import pending_count
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e

NOW = "2026-11-21T08:00:00Z"
WHAT = "What can I help you with today?"
ELSE = "What else can I do for you?"
WHERE_TO = "Where would you like to travel to?"
FROM = "From what city will you be travelling?"
WHEN = "When would you like to travel?"
RETRY_DATE = (
    "I'm sorry, for best results, please enter your travel date including the month, day and year."
)


@dataclass
class Chat:
    """One user's conversation with the bot through the gateway."""

    name: str
    http: aiohttp.ClientSession
    gateway: str
    service_url: str
    dev: DevConnector
    redis: Redis
    keys: Keyspace
    sent: int = 0
    seen: int = field(default=0)

    async def say(self, text: str) -> list[str]:
        self.sent += 1
        activity = message(
            text,
            activity_id=f"{self.name}-{self.sent}",
            conversation=self.name,
            service_url=self.service_url,
        )
        activity["timestamp"] = NOW
        async with self.http.post(
            f"{self.gateway}/api/messages",
            data=orjson.dumps(activity),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 202
        for _ in range(1000):  # the turn is over: its entry is acknowledged (20 s at most)
            if await self._turn_over():
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"turn {activity['id']} did not finish")
        replies = [r for r in self.dev.activities() if r["conversation"]["id"] == self.name]
        new, self.seen = replies[self.seen :], len(replies)
        return [r.get("text", "") for r in new]

    async def _turn_over(self) -> bool:
        stream = self.keys.stream(self.keys.shard_of(f"test/{self.name}"))
        groups = await self.redis.xinfo_groups(stream)
        return (
            bool(groups)
            and groups[0]["lag"] == 0
            and await pending_count(self.redis, self.keys) == 0
        )


@pytest.fixture
async def two_workers(settings: Settings) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "worker",
            "--bot",
            "tests.support.bots:crashing_core_bot",
            env=worker_env(settings),
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    yield processes
    for process in processes:
        process.send_signal(signal.SIGTERM)
    turns = []
    for process in processes:
        async with asyncio.timeout(15):
            _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        turns.append(int(re.findall(rb"stopped: (\d+) turns done", stderr)[-1]))
    assert sum(turns) == 18, turns  # the messages the scenarios send: 3 + 5 + 3 + 4 + 3
    assert min(turns) > 0, f"one worker ran every turn: {turns}"


async def test_core_bot_transcripts(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    two_workers: list[asyncio.subprocess.Process],
) -> None:
    dev, service_url = connector
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:

        def chat(name: str) -> Chat:
            return Chat(name, http, gateway, service_url, dev, redis, keys)

        async def full_booking() -> None:
            c = chat("booking")
            assert await c.say("hi") == [WHAT]
            (confirm,) = await c.say("book a flight from Paris to Berlin tomorrow")
            assert confirm.startswith(
                "Please confirm, I have you traveling to: Berlin from: Paris on: 2026-11-22."
            )
            assert await c.say("yes") == [
                "I have you booked to Berlin from Paris on 2026-11-22",
                ELSE,
            ]

        async def help_then_continue() -> None:
            c = chat("help")
            await c.say("hi")
            assert await c.say("book a flight") == [WHERE_TO]
            assert await c.say("help") == [HELP_TEXT]
            assert await c.say("Rome") == [FROM]  # the next turn continues where it left off
            assert await c.say("Madrid") == [WHEN]

        async def cancel_midway() -> None:
            c = chat("cancel")
            await c.say("hi")
            assert await c.say("book a flight to Berlin") == [FROM]
            assert await c.say("cancel") == [CANCEL_TEXT, ELSE]

        async def bad_date_reprompted() -> None:
            c = chat("date")
            await c.say("hi")
            assert await c.say("book a flight from Oslo to Rome") == [WHEN]
            assert await c.say("whenever suits") == [RETRY_DATE]
            (confirm,) = await c.say("January 5, 2027")
            assert confirm.startswith(
                "Please confirm, I have you traveling to: Rome from: Oslo on: 2027-01-05."
            )

        async def crash_then_fresh_start() -> None:
            c = chat("crash")
            await c.say("hi")
            assert await c.say("crash") == [
                "The bot encountered an error or bug.",
                "To continue to run this bot, please fix the bot source code.",
            ]
            assert await c.say("hello again") == [WHAT]  # state was deleted: a fresh start

        for scenario in (full_booking, help_then_continue, cancel_midway, bad_date_reprompted):
            await scenario()
        await crash_then_fresh_start()
