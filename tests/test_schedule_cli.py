"""`turnstream schedule list|show|cancel` against a real server, as an operator runs it (the
command's `main` in this process, in a thread of its own: a new interpreter per call costs a
second; `tests/test_ops_cli.py` runs the same entry point as a process)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Awaitable, Callable

import pytest

from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.processes import worker_env
from turnstream.cli import main


@dataclasses.dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Awaitable[Result]]:
    for name, value in worker_env(settings).items():
        monkeypatch.setenv(name, value)

    async def run(*args: str) -> Result:
        code = await asyncio.to_thread(main, list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def _reference(conversation: str) -> dict[str, object]:
    return {
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "conversation": {"id": conversation},
    }


async def test_scheduled_turns_listed_shown_and_cancelled_by_id_and_by_key(
    cli: Callable[..., Awaitable[Result]], redis: Redis, keys: Keyspace
) -> None:
    schedule = Schedule(redis, keys)
    now = time.time()
    later = await schedule.schedule(_reference("a"), now + 3600, event="digest", value={"n": 1})
    soon = await schedule.schedule(
        _reference("b"), now + 60, callback="samples.x:remind", key="stand-up"
    )

    listed = await cli("schedule", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [soon, later]  # soonest first
    assert "msteams/b  callback samples.x:remind  key stand-up" in lines[0]
    assert "msteams/a  event digest" in lines[1]
    only_a = json.loads(
        (await cli("schedule", "list", "--conversation", "msteams/a", "--json")).stdout
    )
    assert [(t["id"], t["value"]) for t in only_a] == [(later, {"n": 1})]

    shown = json.loads((await cli("schedule", "show", later)).stdout)
    assert shown["activity"]["name"] == "digest"
    assert shown["due"] == pytest.approx(now + 3600, abs=0.01)

    by_key = await cli("schedule", "cancel", "--conversation", "msteams/b", "--key", "stand-up")
    assert (by_key.returncode, by_key.stdout.strip()) == (0, "cancelled stand-up")
    again = await cli("schedule", "cancel", soon)
    assert again.returncode == 1 and "no turn waits" in again.stdout
    assert (await cli("schedule", "cancel", later)).returncode == 0
    assert (await cli("schedule", "list")).stdout.strip() == "no scheduled turns"
    assert await schedule.waiting() == []


async def test_bad_schedule_commands_are_clear_errors(
    cli: Callable[..., Awaitable[Result]],
) -> None:
    for args in (
        ("schedule", "show", "nonsense"),
        ("schedule", "show", "0-abc"),  # a valid id that names nothing
        ("schedule", "cancel", "99-abc"),
        ("schedule", "cancel"),
        ("schedule", "cancel", "0-abc", "--conversation", "msteams/a", "--key", "k"),
    ):
        result = await cli(*args)
        assert result.returncode == 1, args
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, args
