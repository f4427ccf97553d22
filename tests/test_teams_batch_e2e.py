"""A Teams batch operation as an operator fan-out, through the real gateway, Redis, a worker
process and a connector on loopback: one turn asks Teams to deliver the activity, and the job
shows the operation Teams answered, followed until it ended."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.settings import Settings
from tests.support.http import post_json, serving
from tests.support.processes import start_workers, stop_processes, worker_env
from tests.support.recording_connector import Answer, RecordingConnector
from tests.test_ops_cli import in_thread

pytestmark = pytest.mark.e2e

SECRET = "s" * 40
AUTH = {"Authorization": f"Bearer {SECRET}"}


async def _finished(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """The job's progress once it finished (polled; 30 s at most)."""
    for _ in range(300):
        async with http.get(url, headers=AUTH) as response:
            assert response.status == 200
            progress: dict[str, Any] = await response.json()
        if progress["finished"]:
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(f"the job did not finish: {progress}")


async def test_a_batch_to_a_list_of_users_is_one_turn_and_its_operation_is_in_the_job(
    settings: Settings,
) -> None:
    settings = dataclasses.replace(settings, proactive_secret=SECRET)
    teams = RecordingConnector(
        Answer(body={"operationId": "op-42"}),
        Answer(body={"state": "InProgress", "statusMap": {"201": 1}, "totalEntriesCount": 2}),
        default={"state": "Completed", "statusMap": {"201": 2}, "totalEntriesCount": 2},
    )
    env = worker_env(settings) | {"TURNSTREAM_PROACTIVE_SECRET": SECRET}
    async with (
        serving(teams.app) as service_url,
        serving(create_app(settings)) as gateway,
        aiohttp.ClientSession() as http,
    ):
        workers = await start_workers(env, "samples.echo:bot", 1)
        try:
            batch = {
                "kind": "users",
                "serviceUrl": service_url,
                "tenantId": "tenant-1",
                "members": ["29:a", "29:b"],
                "checkEverySeconds": 0.05,
            }
            body = {"teamsBatch": batch, "activity": {"type": "message", "text": "all hands"}}
            status, job = await post_json(http, f"{gateway}/api/proactive", body, **AUTH)
            assert (status, job["total"]) == (202, 1)
            progress = await _finished(http, f"{gateway}/api/proactive/{job['job']}")
        finally:
            errors = await stop_processes(workers)
    assert "Traceback" not in "".join(errors)
    assert progress == {
        "total": 1,
        "queued": 1,
        "done": 1,
        "failed": 0,
        "finished": True,
        "teamsOperation": {
            "id": "op-42",
            "state": "Completed",
            "totalEntries": 2,
            "statusMap": {"201": 2},
        },
    }
    # One operation for Teams to run, not one turn per user; then its state until it ended.
    request, *checks = teams.requests
    assert (request.method, request.raw_path) == ("POST", "/v3/batch/conversation/users/")
    assert [(c.method, c.raw_path) for c in checks] == [
        ("GET", "/v3/batch/conversation/op-42"),
        ("GET", "/v3/batch/conversation/op-42"),
    ]
    assert request.body["members"] == [{"id": "29:a"}, {"id": "29:b"}]
    assert request.body["tenantId"] == "tenant-1"
    assert request.body["activity"]["text"] == "all hands"


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"kind": "everyone"}, "teamsBatch.kind must be one of"),
        (
            {
                "kind": "tenant",
                "serviceUrl": "https://s.example/",
                "tenantId": "t",
                "checkEverySeconds": 0,
            },
            "checkEverySeconds",
        ),
        ({"kind": "tenant", "serviceUrl": "http://example.com/"}, "serviceUrl"),
        ({"kind": "tenant", "serviceUrl": "https://smba.example/"}, "teamsBatch.tenantId"),
        ({"kind": "team", "serviceUrl": "https://s.example/", "tenantId": "t"}, "teamId"),
        ({"kind": "users", "serviceUrl": "https://s.example/", "tenantId": "t"}, "members"),
        (
            {
                "kind": "channels",
                "serviceUrl": "https://s.example/",
                "tenantId": "t",
                "channels": [1],
            },
            "channels",
        ),
    ],
)
async def test_a_bad_batch_is_refused_and_nothing_is_queued(
    settings: Settings, batch: dict[str, Any], message: str
) -> None:
    settings = dataclasses.replace(settings, proactive_secret=SECRET)
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        body = {"teamsBatch": batch, "activity": {"type": "message", "text": "x"}}
        status, answer = await post_json(http, f"{gateway}/api/proactive", body, **AUTH)
        assert status == 400 and message in answer["message"]
        with_conversations: dict[str, Any] = body | {"conversations": [{}]}
        status, answer = await post_json(
            http, f"{gateway}/api/proactive", with_conversations, **AUTH
        )
        assert status == 400


async def test_turnstream_send_starts_a_batch_to_a_team_and_follows_it(
    settings: Settings, tmp_path: Path
) -> None:
    teams = RecordingConnector(
        Answer(body={"operationId": "op-7"}), default={"state": "Completed", "statusMap": {}}
    )
    async with serving(teams.app) as service_url:
        batch = tmp_path / "batch.json"
        batch.write_text(
            orjson.dumps(
                {
                    "kind": "team",
                    "serviceUrl": service_url,
                    "tenantId": "t-1",
                    "teamId": "19:x",
                    "checkEverySeconds": 0.05,
                }
            ).decode()
        )
        workers = await start_workers(worker_env(settings), "samples.echo:bot", 1)
        try:
            done = await in_thread(settings, "send", "--teams-batch", str(batch), "--text", "hi")
            refused = await in_thread(settings, "send", "--teams-batch", str(batch), "--event", "x")
        finally:
            errors = await stop_processes(workers)
    assert "Traceback" not in "".join(errors)
    assert done.returncode == 0, done.stderr
    assert "done 1/1, failed 0, Teams operation op-7 Completed" in done.stdout
    request, _ = teams.requests
    assert request.raw_path == "/v3/batch/conversation/team/"
    assert (request.body["teamId"], request.body["activity"]["text"]) == ("19:x", "hi")
    assert refused.returncode == 1 and "not an event" in refused.stderr
