"""`turnstream status` and `turnstream dlq` as an operator runs them, against the real server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from typing import Any

import orjson
import pytest

from samples.echo import bot as echo
from shared.protocol.envelope import Envelope
from shared.protocol.keys import ENVELOPE_FIELD, Keyspace, conversation_key
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.processes import worker_env
from tests.support.streams import enqueue, envelopes_in
from tests.worker.runtime.test_consumer import AlwaysUnreachable
from turnstream import ops
from turnstream.devconnector import DevConnector
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e


def turnstream(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "turnstream", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=worker_env(settings),
    )


async def in_thread(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(turnstream, settings, *args)


async def test_status_of_an_idle_deployment(settings: Settings) -> None:
    result = await in_thread(settings, "status")
    assert result.returncode == 0, result.stderr
    assert "total" in result.stdout and "no consumers" in result.stdout
    report = json.loads((await in_thread(settings, "status", "--json")).stdout)
    assert report["totals"] == {
        "length": 0,
        "lag": 0,
        "pending": 0,
        "oldest_pending_seconds": None,
        "dead_letters": 0,
        "scheduled": 0,
        "scheduled_due": 0,
    }
    assert (report["workers"], report["gateways"]) == ({}, {})
    assert len(report["shards"]) == settings.shards


async def test_dead_letters_listed_shown_replayed_and_purged(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    await enqueue(redis, keys, message("flaky", activity_id="a-1", service_url=service_url))
    one_try = dataclasses.replace(settings, max_deliveries=1)
    await run_worker(one_try, AlwaysUnreachable(), burst=True, handle_signals=False)

    listed = json.loads((await in_thread(settings, "dlq", "list", "--json")).stdout)
    (letter,) = listed
    assert (letter["conversation"], letter["activity_id"]) == ("conv-1", "a-1")
    assert letter["reason"].startswith("failed 1 times (limit 1): ConnectionResetError")
    status = json.loads((await in_thread(settings, "status", "--json")).stdout)
    assert status["totals"]["dead_letters"] == 1

    shown = json.loads((await in_thread(settings, "dlq", "show", letter["id"])).stdout)
    assert shown["activity"]["text"] == "flaky"

    replayed = await in_thread(settings, "dlq", "replay", letter["id"])
    assert replayed.returncode == 0 and replayed.stdout.startswith(f"replayed {letter['id']} as ")
    assert "no dead letters" in (await in_thread(settings, "dlq", "list")).stdout
    await run_worker(settings, echo, burst=True, handle_signals=False)  # the fix is deployed
    assert [a["text"] for a in dev.activities()] == ["Echo: flaky"]

    await enqueue(redis, keys, message("flaky", activity_id="a-2", service_url=service_url))
    await run_worker(one_try, AlwaysUnreachable(), burst=True, handle_signals=False)
    purged = await in_thread(settings, "dlq", "purge", "--all")
    assert purged.stdout.strip() == "purged 1 dead letter"
    assert json.loads((await in_thread(settings, "dlq", "list", "--json")).stdout) == []


async def test_a_bad_dead_letter_id_is_a_clear_error(settings: Settings) -> None:
    for args in (
        ("dlq", "show", "nonsense"),
        ("dlq", "show", "0/1-0"),
        ("dlq", "replay", "99/1-0"),
    ):
        result = await in_thread(settings, *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


async def test_replay_keeps_what_the_gateway_validated_and_never_launders_a_forgery(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    secret, forger = EnvelopeSigner(["s" * 32]), EnvelopeSigner(["f" * 32])
    for conversation, signer in (("genuine", secret), ("forged", forger)):
        envelope = Envelope(
            orjson.dumps(message("x", conversation=conversation)),
            conversation_key("test", conversation),
            1.0,
            service_url="https://smba.trafficmanager.net/emea/",
            claims={"aud": "app"},
        )
        shard = keys.shard_of(envelope.conversation)
        await redis.xadd(keys.dead_letters(shard), {ENVELOPE_FIELD: envelope.encode(signer)})
    letters = {d["conversation"]: d["id"] for d in await ops.dead_letters(redis, keys, 10)}

    new_id = await ops.replay(redis, keys, letters["genuine"], secret)
    (queued,) = await envelopes_in(redis, keys.stream(keys.shard_of("test/genuine")))
    assert queued.service_url == "https://smba.trafficmanager.net/emea/"
    assert queued.claims == {"aud": "app"} and queued.received_at > 1.0
    raw: Any = await redis.xrange(keys.stream(keys.shard_of("test/genuine")), new_id, new_id)
    assert Envelope.decode(raw[0][1][ENVELOPE_FIELD.encode()], secret) == queued  # signed again
    with pytest.raises(ValueError, match="signature does not match"):
        await ops.replay(redis, keys, letters["forged"], secret)
