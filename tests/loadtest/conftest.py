"""A gateway and one echo worker on loopback, for the load tools to aim at."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gateway.app import create_app
from samples.echo import bot as echo
from shared.settings import Settings
from tests.support.http import serving
from turnstream.loadtest.streaming_bot import bot as streaming_bot
from worker.bot import ActivityHandler
from worker.runtime.process import run_worker


@asynccontextmanager
async def bot_behind_gateway(
    settings: Settings, bot: ActivityHandler, concurrency: int
) -> AsyncIterator[str]:
    """A gateway and one worker running `bot`; yields the messaging endpoint."""
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, bot, concurrency=concurrency, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as url:
        yield f"{url}/api/messages"
    stop.set()
    await worker


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[str]:
    """A gateway and one echo worker; yields the messaging endpoint."""
    async with bot_behind_gateway(settings, echo, 32) as url:
        yield url


@pytest.fixture
async def streaming_gateway(settings: Settings) -> AsyncIterator[str]:
    """A gateway and one worker running the streaming workload's bot."""
    async with bot_behind_gateway(settings, streaming_bot, 64) as url:
        yield url
