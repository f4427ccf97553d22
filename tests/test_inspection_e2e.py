"""Inspection across workers: a session opened in a turn on one worker process is found by
the watched conversation's turns on another, through the real gateway, Redis and connector."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import start_workers, stop_processes
from tests.worker.runtime.test_drain import worker_env
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e

BOT = "samples.inspection:bot"


async def test_a_conversation_is_inspected_from_another_across_workers(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    env = worker_env(settings)
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:

        async def say(text: str, conversation: str, n: int, channel: str = "test") -> None:
            activity = message(
                text,
                activity_id=f"a{n}",
                conversation=conversation,
                service_url=service_url,
                channel=channel,
            )
            async with http.post(
                f"{gateway}/api/messages",
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as response:
                assert response.status == 202, await response.text()

        # The session is opened on the first worker, which then stops: what it knows of the
        # session must be in Redis, not in its memory.
        first = await start_workers(env, BOT, 1)
        await say("/INSPECT open", "emulator-convo", 1, channel="emulator")
        (command,) = await dev.wait_for(1, within=30)
        await stop_processes(first)
        assert command.body["type"] == "trace"
        attach = command.body["value"]
        assert attach.startswith("/INSPECT attach ")

        second = await start_workers(env, BOT, 1)
        try:
            await say(attach, "watched", 2)
            await dev.wait_for(2, within=30)
            await say("hi", "watched", 3)
            received = await dev.wait_for(6, within=30)
        finally:
            errors = await stop_processes(second)
    assert "Traceback" not in "".join(errors)

    bodies: list[dict[str, Any]] = [r.body for r in received]
    to_watched = [b for b in bodies if b["conversation"]["id"] == "watched"]
    to_inspector = [b for b in bodies if b["conversation"]["id"] == "emulator-convo"]
    assert [b["text"] for b in to_watched] == [
        "Attached to session, all traffic is being replicated for inspection.",
        "1/1: you said hi",
    ]
    traces = to_inspector[1:]  # after the attach command
    assert [t["label"] for t in traces] == ["ReceivedActivity", "SentActivity", "BotState"]
    assert traces[0]["value"]["text"] == "hi"
    assert traces[1]["value"]["text"] == "1/1: you said hi"
    assert traces[2]["value"] == {"user_state": {"count": 1}, "conversation_state": {"count": 1}}
