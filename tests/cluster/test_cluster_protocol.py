"""The request/reply lane and proactive fan-out on a 3-master Redis Cluster: answers stored in
the shard's slot and published cluster-wide, `stream` requests' events likewise; proactive turns
queued on every master."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp

from gateway.app import create_app
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import post_json, serving
from tests.support.server_sent import read_all
from tests.test_request_reply_e2e import CardBot, _execute
from tests.test_stream_delivery_e2e import EventBot
from turnstream.devconnector import DevConnector
from worker.runtime.process import run_worker

SECRET = "c" * 40


async def test_invokes_expect_replies_and_a_fan_out_on_a_cluster(
    cluster_settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    settings = dataclasses.replace(cluster_settings, proactive_secret=SECRET)
    dev, url = connector
    bot = CardBot()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, bot, concurrency=8, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        # Conversations on every master (16 shards over 3 masters).
        invokes = await asyncio.gather(
            *(
                post_json(http, f"{gateway}/api/messages", _execute("go", f"i{n}", url, f"k-{n}"))
                for n in range(12)
            )
        )
        expect = message("hi", activity_id="m1", conversation="k-x", service_url=url)
        replies = await post_json(
            http, f"{gateway}/api/messages", expect | {"deliveryMode": "expectReplies"}
        )
        references = [
            {"channelId": "test", "serviceUrl": url, "conversation": {"id": f"p-{n}"}}
            for n in range(20)
        ]
        status, job = await post_json(
            http,
            f"{gateway}/api/proactive",
            {"conversations": references, "activity": {"text": "notice"}},
            Authorization=f"Bearer {SECRET}",
        )
        assert status == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            async with http.get(
                f"{gateway}/api/proactive/{job['job']}",
                headers={"Authorization": f"Bearer {SECRET}"},
            ) as response:
                progress = await response.json()
            if progress["finished"]:
                break
            await asyncio.sleep(0.1)
    stop.set()
    await worker

    assert [status for status, _ in invokes] == [200] * 12
    assert all(body["value"]["body"][0]["text"] == "did go" for _, body in invokes)
    assert replies[0] == 200
    assert [r["text"] for r in replies[1]["activities"]] == ["hi 1", "hi 2", "hi 3"]
    assert progress == {"total": 20, "queued": 20, "done": 20, "failed": 0, "finished": True}
    notices = sorted(r.conversation_id for r in dev.received if r.body.get("text") == "notice")
    assert notices == sorted(f"p-{n}" for n in range(20))


async def test_stream_requests_on_every_master_of_a_cluster(
    cluster_settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    """Events appended in the shard's slot inside the fence, wake-ups published cluster-wide."""
    _dev, url = connector
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(cluster_settings, EventBot(), concurrency=8, handle_signals=False, stop=stop)
    )
    async with serving(create_app(cluster_settings)) as gateway, aiohttp.ClientSession() as http:
        answers = await asyncio.gather(
            *(
                read_all(
                    http,
                    f"{gateway}/api/messages",
                    message(f"m{n}", activity_id=f"s{n}", conversation=f"k-{n}", service_url=url)
                    | {"deliveryMode": "stream"},
                )
                for n in range(12)
            )
        )
    stop.set()
    await worker

    for n, events in enumerate(answers):
        assert [(e.kind, e.data.get("text")) for e in events] == [
            ("activity", f"m{n} 1"),
            ("activity", f"m{n} 2"),
            ("activity", f"m{n} 3"),
            ("end", None),
        ]
