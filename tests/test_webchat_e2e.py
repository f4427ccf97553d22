"""Microsoft's Web Chat (the `botframework-webchat` 4.18.1 browser bundle from npm) in headless
Chromium, against a bot behind the real gateway, Redis and a worker, through a Direct Line
stand-in (tests/support/direct_line.py): the echo sample's reply shows once; the streaming
sample's answer grows in one message, which the final message replaces, and nothing else of the
stream stays on screen (docs/streaming.md)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect

import samples.streaming
from gateway.app import create_app
from samples.echo import bot as echo
from samples.streaming import ANSWER
from samples.streaming import bot as streaming
from shared.settings import Settings
from tests.support.direct_line import DirectLine
from tests.support.http import serving
from tests.support.webchat import webchat_bundle
from tests.test_chat_page import CHROMIUM, CHROMIUM_FLAGS
from worker.bot import TurnContext
from worker.runtime.process import run_worker

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium executable on PATH (Debian: apt-get install -y chromium; "
        "or set TURNSTREAM_TEST_CHROMIUM)",
    ),
]

# Web Chat 4.18's DOM: the send box, the bot's message bubbles, the typing indicator.
SEND_BOX = "[data-id='webchat-sendbox-input']"
BOT_BUBBLES = ".webchat__bubble:not(.webchat__bubble--from-user) .webchat__bubble__content"
USER_BUBBLES = ".webchat__bubble--from-user .webchat__bubble__content"
TYPING = ".webchat__typing-indicator"


class EchoOrStream:
    """The echo sample; the streaming sample for a message that starts with "stream"."""

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type == "message" and (activity.text or "").startswith("stream"):
            await streaming.on_turn(turn_context)
        else:
            await echo.on_turn(turn_context)


@contextlib.asynccontextmanager
async def web_chat(settings: Settings) -> AsyncIterator[tuple[str, DirectLine]]:
    """The page's URL and the stand-in behind it: gateway, worker and Direct Line on loopback."""
    bundle = await asyncio.to_thread(webchat_bundle)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, EchoOrStream(), concurrency=4, handle_signals=False, stop=stop)
    )
    try:
        async with serving(create_app(settings)) as gateway:
            direct_line = DirectLine(f"{gateway}/api/messages", bundle)
            async with serving(direct_line.app) as url:
                direct_line.service_url = url
                yield url, direct_line
    finally:
        stop.set()
        await worker


async def bot_texts(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator(BOT_BUBBLES).all_inner_texts()]


async def send(page: Page, text: str) -> None:
    """Type into Web Chat's send box and press Enter, as a user does."""
    box = page.locator(SEND_BOX)
    await box.fill(text)
    await box.press("Enter")
    await expect(page.locator(USER_BUBBLES, has_text=text)).to_be_visible()


async def watch_the_answer(page: Page, before: int) -> list[list[str]]:
    """Every distinct list of the bot's bubbles after the first `before`, sampled every 50 ms
    until the final answer has been on screen for 1.5 s (three of the stream's paces: anything
    late would show)."""
    states: list[list[str]] = []
    final_since: float | None = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        texts = (await bot_texts(page))[before:]
        if not states or states[-1] != texts:
            states.append(texts)
        if ANSWER in texts:
            final_since = final_since or time.monotonic()
            if time.monotonic() - final_since > 1.5:
                return states
        await asyncio.sleep(0.05)
    raise AssertionError(f"the final answer did not show within 30 s: {states[-3:]}")


async def test_web_chat_shows_a_reply_and_a_streamed_answer_growing_in_one_message(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 106 words at 0.04 s: ~4 s of answer, eight updates at Web Chat's pace of two a second.
    monkeypatch.setattr(samples.streaming, "WORD_SECONDS", 0.04)
    assert CHROMIUM is not None
    console: list[str] = []
    async with web_chat(settings) as (url, direct_line), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page(viewport={"width": 800, "height": 1000})
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
            expect.set_options(timeout=15_000)
            await page.goto(url)

            await send(page, "hello web chat")
            await expect(page.locator(BOT_BUBBLES, has_text="Echo: hello web chat")).to_be_visible()
            assert await bot_texts(page) == ["Echo: hello web chat"]

            await send(page, "stream please")
            states = await watch_the_answer(page, before=1)
            end, typing = (await bot_texts(page))[1:], await page.locator(TYPING).count()
        finally:
            await browser.close()

    sent: list[dict[str, Any]] = direct_line.bot_activities()[1:]  # the stream's
    assert [a["type"] for a in sent][-1] == "message" and len(sent) >= 4
    # One message at a time on screen, its text growing, each state extending the last ...
    partial = [s[-1] for s in states if s and s[-1] != ANSWER and ANSWER.startswith(s[-1])]
    assert len(dict.fromkeys(partial)) >= 3, states
    assert all(len(s) <= 1 for s in states), [s for s in states if len(s) > 1]
    # ... until the final answer, shown once, with nothing of the stream left beside it.
    assert end == [ANSWER] and typing == 0
    assert not [line for line in console if "pageerror" in line or "error:" in line], console
