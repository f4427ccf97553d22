"""One scripted conversation through the real gateway and two worker processes, the first
worker stopped halfway so the rest of the conversation runs on the second: what a ported
sample's transcript is compared on."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from gateway.app import create_app
from shared.settings import Settings
from tests.support.http import serving
from tests.support.processes import start_workers, stop_processes, worker_env
from turnstream.devconnector import DevConnector

USER = {"id": "user-1", "name": "User"}
BOT = {"id": "bot", "name": "Bot"}
JOIN: dict[str, Any] = {"type": "conversationUpdate", "membersAdded": [USER, BOT]}
"""The Emulator's greeting: the user and the bot join."""

SHOWN = ("text", "inputHint", "attachmentLayout", "replyToId")


@dataclass(frozen=True)
class Script:
    """What the user sends (`text` alone, or activity fields), on which channel, and after
    which turn the first worker stops."""

    bot: str
    channel: str
    turns: list[str | dict[str, Any]]
    handover: int
    worker_options: tuple[str, ...] = ()


def inbound(script: Script, n: int, service_url: str) -> dict[str, Any]:
    """The script's activity `n`, as the channel posts it (id `a{n}`)."""
    turn = script.turns[n]
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"a{n}",
        "channelId": script.channel,
        "serviceUrl": service_url,
        "locale": "en-US",
        "timestamp": "2026-11-21T08:00:00Z",
        "conversation": {"id": f"{script.bot}-conversation"},
        "from": USER,
        "recipient": BOT,
    }
    activity.update({"text": turn} if isinstance(turn, str) else turn)
    return activity


def shown(activity: dict[str, Any]) -> dict[str, Any]:
    """What a transcript compares of a reply: its type, text, input hint, layout, the turn it
    answers, its attachments' content types and its suggested actions."""
    seen: dict[str, Any] = {"type": activity["type"]}
    seen.update({field: activity[field] for field in SHOWN if field in activity})
    if activity.get("attachments"):
        seen["attachments"] = [a["contentType"] for a in activity["attachments"]]
    if activity.get("suggestedActions"):
        seen["suggestedActions"] = [
            (a["type"], a.get("title"), a.get("value"))
            for a in activity["suggestedActions"]["actions"]
        ]
    return seen


async def run_script(
    settings: Settings,
    connector: tuple[DevConnector, str],
    script: Script,
    expected_replies: int,
    first_half_replies: int,
    within: float = 30,
) -> tuple[list[dict[str, Any]], str]:
    """Play `script` (activity ids a0, a1, ...) and return the replies in arrival order and
    both workers' logs. The first worker runs the turns before `handover` and has exited before
    the rest is sent, so every later turn runs in another process than the earlier ones."""
    dev, service_url = connector
    env = worker_env(settings)
    logs: list[str] = []
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:

        async def send(n: int) -> None:
            activity = inbound(script, n, service_url)
            async with http.post(
                f"{gateway}/api/messages",
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as response:
                assert response.status == 202, await response.text()

        first = await start_workers(env, script.bot, 1, *script.worker_options)
        try:
            for n in range(script.handover):
                await send(n)
            with contextlib.suppress(TimeoutError):  # the comparison shows what is missing
                await dev.wait_for(first_half_replies, within=within)
            # The second worker starts (imports the bot) while the first drains; there is
            # nothing for it to run until the first has exited and the rest is sent.
            second = await start_workers(env, script.bot, 1, *script.worker_options)
        finally:
            logs += await stop_processes(first)
        try:
            for n in range(script.handover, len(script.turns)):
                await send(n)
            with contextlib.suppress(TimeoutError):
                await dev.wait_for(expected_replies, within=within)
        finally:
            logs += await stop_processes(second)
    return [shown(a) for a in dev.activities()], "".join(logs)
