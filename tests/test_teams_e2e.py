"""A Teams bot (samples/teams_bot.py) behind the real gateway and two worker processes: Teams
invokes are answered in the HTTP response with the bot's typed response, in order with the
conversation's other turns, and Teams events reach their `on_teams_*` handler."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from redis.exceptions import ResponseError

from gateway.app import create_app
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.http import post_json, serving
from tests.support.processes import start_workers, stop_processes, worker_env
from tests.support.teams import TASK_FETCH_VALUE, invoke, teams_activity
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e

FORM_TITLE = "Tell us your name"


async def _wait_for_consumers(redis: Redis, keys: Keyspace, count: int) -> None:
    for _ in range(600):  # both workers are reading before anything is sent
        try:
            if len(await redis.xinfo_consumers(keys.stream(0), CONSUMER_GROUP)) == count:
                return
        except ResponseError:  # no worker has created the stream and group yet
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"the {count} workers did not join the group")


async def test_a_teams_bot_behind_the_gateway_and_two_workers(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    workers = await start_workers(
        worker_env(settings), "samples.teams_bot:bot", 2, "--concurrency", "4"
    )
    try:
        await _wait_for_consumers(redis, keys, 2)
        async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:

            async def post(activity: dict[str, Any]) -> tuple[int, Any]:
                return await post_json(http, f"{gateway}/api/messages", activity)

            def teams(kind: str, activity_id: str, **fields: Any) -> dict[str, Any]:
                return teams_activity(
                    kind, activity_id=activity_id, service_url=service_url, **fields
                )

            # A message, then a task/fetch in the same conversation: the invoke waits for the
            # message's turn and is answered with the bot's TaskModuleResponse.
            assert (await post(teams("message", "m-1", text="form")))[0] == 202
            fetch = invoke("task/fetch", TASK_FETCH_VALUE, service_url=service_url)
            fetch["id"] = "i-1"
            status, body = await post(fetch)
            assert status == 200
            assert body["task"]["type"] == "continue"
            task_info = body["task"]["value"]
            assert (task_info["title"], task_info["height"], task_info["width"]) == (
                FORM_TITLE,
                250,
                400,
            )
            assert task_info["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
            assert task_info["card"]["content"]["body"][1]["id"] == "name"
            # The message's turn ran (and replied) before the invoke's: per-conversation order.
            launcher = list(dev.received)
            assert len(launcher) == 1
            assert launcher[0].body["attachments"][0]["content"]["title"] == "Task module"

            submit = invoke("task/submit", {"data": {"name": "Ada"}}, service_url=service_url)
            submit["id"] = "i-2"
            assert await post(submit) == (
                200,
                {"task": {"type": "message", "value": "Thanks, Ada!"}},
            )
            query = invoke(
                "composeExtension/query",
                {"commandId": "searchQuery", "parameters": [{"name": "q", "value": "ap"}]},
                service_url=service_url,
            )
            query["id"] = "i-3"
            status, body = await post(query)
            assert status == 200
            titles = [
                a["preview"]["content"]["title"] for a in body["composeExtension"]["attachments"]
            ]
            assert titles == ["Apple", "Apricot", "Grape"]
            unhandled = invoke(
                "tab/fetch", {"tabContext": {"tabEntityId": "t"}}, service_url=service_url
            )
            unhandled["id"] = "i-4"
            assert await post(unhandled) == (501, None)

            # A channel created in the team reaches on_teams_channel_created.
            created = teams(
                "conversationUpdate",
                "u-1",
                channel_data={
                    "eventType": "channelCreated",
                    "channel": {"id": "19:new@thread.tacv2", "name": "Announcements"},
                },
            )
            assert (await post(created))[0] == 202
            received = await dev.wait_for(2, within=30)
    finally:
        await stop_processes(workers)

    assert received[1].body["text"] == "A new channel was created: Announcements"
    assert len(dev.activities()) == 2  # invoke answers went in the HTTP responses only


TRAILS: list[tuple[str, dict[str, Any], str, tuple[int, Any] | None]] = [
    (
        "conversationUpdate",
        {"channelData": {"eventType": "channelCreated", "channel": {"id": "19:n", "name": "N"}}},
        "on_conversation_update_activity on_teams_channel_created",
        None,
    ),
    (
        "conversationUpdate",
        {"channelData": {"eventType": "teamArchived"}},
        "on_conversation_update_activity on_teams_team_archived",
        None,
    ),
    (
        "messageUpdate",
        {"channelData": {"eventType": "editMessage"}},
        "on_message_update_activity on_teams_message_edit",
        None,
    ),
    (
        "messageDelete",
        {"channelData": {"eventType": "softDeleteMessage"}},
        "on_message_delete_activity on_teams_message_soft_delete",
        None,
    ),
    (
        "event",
        {"name": "application/vnd.microsoft.meetingStart", "value": {"Id": "m"}},
        "on_event_activity on_teams_meeting_start_event",
        None,
    ),
    (
        "event",
        {"name": "application/vnd.microsoft.readReceipt", "value": {"lastReadMessageId": "1"}},
        "on_event_activity on_teams_read_receipt_event",
        None,
    ),
    (
        "invoke",
        {"name": "task/submit", "value": {"data": {"n": 1}}},
        "on_invoke_activity on_teams_task_module_submit",
        (200, {"task": {"type": "message", "value": "got {'n': 1}"}}),
    ),
    (
        "invoke",
        {"name": "composeExtension/query", "value": {"commandId": "q"}},
        "on_invoke_activity on_teams_messaging_extension_query",
        (501, None),
    ),
    (
        "invoke",
        {"name": "fileConsent/invoke", "value": {"action": "maybe"}},
        "on_invoke_activity on_teams_file_consent",
        (400, "maybe is not a supported Action."),
    ),
]


async def test_each_teams_activity_reaches_its_handlers_and_no_other_through_two_workers(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    workers = await start_workers(
        worker_env(settings), "tests.support.teams_bots:trail", 2, "--concurrency", "4"
    )
    try:
        await _wait_for_consumers(redis, keys, 2)
        async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
            for n, (kind, fields, _trail, answer) in enumerate(TRAILS):
                activity = teams_activity(
                    kind,
                    activity_id=f"t-{n}",
                    service_url=service_url,
                    conversation=f"19:c{n % 3}@thread.tacv2",
                    **{k: v for k, v in fields.items() if k != "channelData"},
                )
                activity["channelData"].update(fields.get("channelData", {}))
                status, body = await post_json(http, f"{gateway}/api/messages", activity)
                assert (status, body) == (answer or (202, None)), kind
            await dev.wait_for(len(TRAILS), within=30)
    finally:
        await stop_processes(workers)

    # One reply a turn, naming exactly the handlers the turn went through (conversation
    # updates are answered in the conversation, not as replies: keyed by text).
    assert sorted(a["text"] for a in dev.activities()) == sorted(
        f"trail: {trail}" for _, _, trail, _ in TRAILS
    )
