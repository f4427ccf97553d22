"""Metrics, traces and turn log fields, through a real gateway, Redis, worker and connector."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import LogFormat, Settings
from shared.telemetry import otel
from shared.telemetry.logs import configure_logging
from shared.telemetry.tracing import TraceParent
from tests.support.activities import message
from tests.support.bots import failing
from tests.support.http import serving
from tests.support.streams import enqueue
from tests.worker.runtime.test_consumer import AlwaysUnreachable
from turnstream.devconnector import DevConnector
from turnstream.embedded import free_port
from worker.bot.app import BotApp
from worker.bot.types import Bot
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str) -> Samples:
    """Every sample of a /metrics page: (name, labels) -> value."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def post(gateway: str, activity: dict[str, Any], traceparent: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if traceparent:
        headers["traceparent"] = traceparent
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gateway}/api/messages", data=orjson.dumps(activity), headers=headers) as r,
    ):
        return r.status


@asynccontextmanager
async def stack(settings: Settings, bot: Bot | BotApp) -> AsyncIterator[tuple[str, str]]:
    """A gateway on loopback and a worker serving its metrics on loopback: (gateway URL,
    worker metrics URL). The worker drains and stops on exit."""
    port = free_port()
    settings = dataclasses.replace(settings, metrics_port=port)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, bot, handle_signals=False, stop=stop, metrics_host="127.0.0.1")
    )
    try:
        async with serving(create_app(settings)) as gateway:
            yield gateway, f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        async with asyncio.timeout(15):
            await worker


async def test_a_scrape_after_a_few_turns_counts_them(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    async with stack(settings, failing) as (gateway, worker):
        for n in range(3):
            activity = message(f"m{n}", activity_id=f"a{n}", service_url=service_url)
            assert await post(gateway, activity) == 202
        assert await post(gateway, {"type": "message"}) == 400
        await dev.wait_for(3)
        assert await post(gateway, message("boom", activity_id="b", service_url=service_url)) == 202
        await dev.wait_for(5)  # the default on_turn_error's two messages
        async with aiohttp.ClientSession() as http, http.get(f"{worker}/healthz") as health:
            assert health.status == 200

        for _ in range(50):  # the last turn's commit lands just after its replies
            seen = await scrape(f"{worker}/metrics")
            if value(seen, "turnstream_worker_turns_total", outcome="failed") == 1:
                break
            await asyncio.sleep(0.1)
        front = await scrape(f"{gateway}/metrics")

    route = "/api/messages"
    assert value(front, "turnstream_gateway_requests_total", route=route, status="202") == 4
    assert value(front, "turnstream_gateway_requests_total", route=route, status="400") == 1
    assert value(front, "turnstream_gateway_ack_seconds_count") == 5
    assert value(front, "turnstream_gateway_enqueue_errors_total", reason="timeout") == 0
    assert ("turnstream_stream_lag", frozenset({("shard", "0")})) in front  # polled each second

    assert value(seen, "turnstream_worker_turns_total", outcome="ok") == 3
    assert value(seen, "turnstream_worker_turns_total", outcome="failed") == 1
    assert value(seen, "turnstream_worker_turns_total", outcome="retried") == 0
    assert value(seen, "turnstream_worker_turn_seconds_count") == 4
    assert value(seen, "turnstream_worker_queue_wait_seconds_count") == 4
    assert (
        value(seen, "turnstream_worker_connector_requests_total", method="POST", status="200") == 5
    )
    assert value(seen, "turnstream_worker_connector_request_seconds_count") == 5
    assert value(seen, "turnstream_worker_takeovers_total") == 0
    assert value(seen, "turnstream_worker_lease_conflicts_total") == 0
    assert ("turnstream_dead_letters", frozenset({("shard", "0")})) in seen


async def test_the_trace_of_the_inbound_request_reaches_the_connector(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    inbound = TraceParent.new()
    async with stack(settings, failing) as (gateway, _):
        traced = message("traced", activity_id="t", conversation="c-1", service_url=service_url)
        assert await post(gateway, traced, inbound.header()) == 202
        untraced = message("plain", activity_id="u", conversation="c-2", service_url=service_url)
        assert await post(gateway, untraced) == 202
        await dev.wait_for(2)

    by_text = {r.body["text"]: TraceParent.parse(r.traceparent) for r in dev.received}
    first, second = by_text["ok traced"], by_text["ok plain"]
    assert first is not None and second is not None
    assert first.trace_id == inbound.trace_id
    assert first.span_id != inbound.span_id  # a child span: the connector call's own
    assert second.trace_id != inbound.trace_id  # the gateway started a trace of its own


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """The process's log lines as production writes them (JSON), into a buffer."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging(LogFormat.JSON, "INFO", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_every_log_line_of_a_turn_carries_its_ids(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    inbound = TraceParent.new()
    with captured_logs() as logs:
        async with stack(settings, failing) as (gateway, _):
            boom = message("boom", activity_id="x-1", conversation="c-9", service_url=service_url)
            assert await post(gateway, boom, inbound.header()) == 202
            await dev.wait_for(2)
    lines = [orjson.loads(line) for line in logs.getvalue().splitlines()]
    (error,) = [line for line in lines if line["msg"].startswith("bot error in turn")]
    assert error["activity_id"] == "x-1"
    assert error["conversation"] == "test/c-9"
    assert error["trace_id"] == inbound.trace_id
    assert error["shard"].isdigit()
    assert error["worker_id"] and error["entry_id"]
    assert "RuntimeError: boom" in error["exc"]


async def test_opentelemetry_spans_of_one_turn_share_the_trace(
    settings: Settings, connector: tuple[DevConnector, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, service_url = connector
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # local: the process's global provider stays unset
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(
        otel, "tracer", lambda component: otel.Tracer(provider.get_tracer(component))
    )
    inbound = TraceParent.new()
    async with stack(settings, failing) as (gateway, _):
        activity = message("spans", activity_id="s", service_url=service_url)
        assert await post(gateway, activity, inbound.header()) == 202
        await dev.wait_for(1)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    enqueue, turn = spans["turnstream enqueue"], spans["turnstream turn"]
    call = spans["turnstream connector POST"]
    assert {f"{s.context.trace_id:032x}" for s in (enqueue, turn, call)} == {inbound.trace_id}
    assert enqueue.parent is not None and f"{enqueue.parent.span_id:016x}" == inbound.span_id
    assert turn.parent is not None and turn.parent.span_id == enqueue.context.span_id
    assert call.parent is not None and call.parent.span_id == turn.context.span_id
    header = TraceParent.parse(dev.received[0].traceparent)
    assert header is not None and header.span_id == f"{call.context.span_id:016x}"


async def test_retries_and_dead_letters_are_counted(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    _, service_url = connector
    await enqueue(redis, keys, message("flaky", activity_id="f", service_url=service_url))
    await enqueue(redis, keys, message("fine", activity_id="g", service_url=service_url))
    two_tries = dataclasses.replace(settings, max_deliveries=2)
    consumer = await run_worker(two_tries, AlwaysUnreachable(), burst=True, handle_signals=False)
    registry = consumer.observer.metrics.registry

    def turns(outcome: str) -> float | None:
        return registry.get_sample_value("turnstream_worker_turns_total", {"outcome": outcome})

    assert (turns("ok"), turns("retried"), turns("dead_lettered")) == (1, 1, 1)
    assert registry.get_sample_value("turnstream_worker_turn_seconds_count") == 3
    assert registry.get_sample_value("turnstream_worker_queue_wait_seconds_count") == 2


async def health(url: str) -> int | None:
    """The status of GET url, or None when nothing listens there."""
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status
    except aiohttp.ClientConnectionError:
        return None


async def test_the_worker_health_endpoint_follows_the_worker(settings: Settings) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(
            dataclasses.replace(settings, metrics_port=port),
            failing,
            handle_signals=False,
            stop=stop,
            metrics_host="127.0.0.1",
        )
    )
    for _ in range(100):
        if await health(url) == 200:
            break
        await asyncio.sleep(0.05)
    assert await health(url) == 200
    stop.set()
    async with asyncio.timeout(15):
        await worker
    assert await health(url) is None  # stopped: the port is closed
