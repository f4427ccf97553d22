"""A gateway and one echo worker on loopback, for the load tools to aim at."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.app import create_app
from samples.echo import bot as echo
from shared.settings import Settings
from tests.support.http import serving
from worker.runtime.process import run_worker


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[str]:
    """A gateway and one echo worker; yields the messaging endpoint."""
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, echo, concurrency=32, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as url:
        yield f"{url}/api/messages"
    stop.set()
    await worker
