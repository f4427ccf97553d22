"""The dev chat page in headless Chromium: welcome, echo, suggested actions, a hero card, raw
JSON, a new conversation, a streamed answer and its Stop button. Driven by Playwright; the
browser is Debian's `chromium` (the README's prerequisites), since Playwright's own browser
download is not reachable from CI."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, async_playwright, expect
from starlette.applications import Starlette

from gateway.app import create_app
from samples.authentication import create_app as authentication_bot
from samples.inspection import create_app as inspection_bot
from samples.showcase import bot as showcase
from samples.streaming import ANSWER
from samples.streaming import bot as streaming
from samples.teams_bot import bot as teams_bot
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.http import serving
from turnstream.chat import ChatFrontDoor, ChatPage
from turnstream.dev_token_service import DevTokenService
from turnstream.devconnector import DevConnector
from worker.bot import BotApp, RedisStorage
from worker.bot.types import Bot
from worker.runtime.process import run_worker

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_executable() -> str | None:
    """TURNSTREAM_TEST_CHROMIUM, else `chromium` or `chromium-browser` on PATH."""
    explicit = os.environ.get("TURNSTREAM_TEST_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = chromium_executable()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium executable on PATH (Debian: apt-get install -y chromium; "
        "or set TURNSTREAM_TEST_CHROMIUM)",
    ),
]


@pytest.fixture
async def chat_url(settings: Settings) -> AsyncIterator[str]:
    async with dev_chat(settings, showcase) as url:
        yield url


@contextlib.asynccontextmanager
async def dev_chat(settings: Settings, bot: Bot | BotApp) -> AsyncIterator[str]:
    """What `turnstream dev` serves: chat page + gateway on one port, a worker, the connector
    and the token service on another."""
    connector = DevConnector(echo_log=False)
    tokens = DevTokenService()
    async with serving(Starlette(routes=[*connector.app.routes, *tokens.routes])) as service_url:
        settings = dataclasses.replace(settings, token_service_url=service_url)
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(settings, bot, concurrency=4, handle_signals=False, stop=stop)
        )
        chat = ChatPage(connector, service_url=service_url, token_service_url=service_url)
        try:
            async with serving(ChatFrontDoor(chat.app, create_app(settings))) as url:
                yield url
                await chat.close()
        finally:
            stop.set()
            await worker


async def bot_says(page: Page, text: str) -> None:
    await expect(page.locator(".bot-message .bubble", has_text=text).last).to_be_visible()


async def test_chat_with_the_showcase_bot(chat_url: str) -> None:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            expect.set_options(timeout=15_000)
            await page.goto(f"{chat_url}/")
            await bot_says(page, "welcome You")
            first_conversation = await page.locator("#conversation-id").text_content()

            await page.fill("#input", "hello")
            await page.click("#send")
            await expect(page.locator(".activity.user .bubble", has_text="hello")).to_be_visible()
            await bot_says(page, "Echo: hello")

            await page.click(".suggested-actions button:has-text('show a card')")
            card = page.locator(".hero-card").last
            await expect(card.locator(".title")).to_have_text("turnstream")
            await card.locator("button", has_text="pick a color").click()
            await bot_says(page, "Which color do you like?")
            await page.click(".suggested-actions button:has-text('blue')")
            await bot_says(page, "You picked blue.")

            last = page.locator(".bot-message").last
            await last.locator(".show-json").click()
            await expect(last.locator("pre.raw")).to_contain_text('"replyToId"')
            if os.environ.get("TURNSTREAM_TEST_SCREENSHOT"):  # to look at the page by hand
                await page.screenshot(path=os.environ["TURNSTREAM_TEST_SCREENSHOT"])

            await page.click("#new-conversation")
            await expect(page.locator("#conversation-id")).not_to_have_text(
                first_conversation or ""
            )
            await bot_says(page, "welcome You")
            await expect(page.locator(".bubble", has_text="Echo: hello")).to_have_count(0)
        finally:
            await browser.close()


async def test_one_tab_inspects_the_conversation_of_another(
    settings: Settings, redis: Redis
) -> None:
    """The Emulator's inspection on the chat page: `/INSPECT open` in one tab, the command it
    shows typed in another, and that tab's traffic and state appear in the first."""
    assert CHROMIUM is not None
    bot = inspection_bot(RedisStorage(redis, key_prefix=settings.key_prefix))
    async with dev_chat(settings, bot) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            expect.set_options(timeout=15_000)
            inspector, watched = await browser.new_page(), await browser.new_page()
            for page in (inspector, watched):
                await page.goto(f"{url}/")
                await expect(page.locator("#conversation-id")).not_to_be_empty()

            await inspector.fill("#input", "/INSPECT open")
            await inspector.click("#send")
            command = inspector.locator(".trace code.command")
            await expect(command).to_contain_text("/INSPECT attach ")

            await watched.fill("#input", await command.inner_text())
            await watched.click("#send")
            await bot_says(watched, "Attached to session")
            await watched.fill("#input", "hi")
            await watched.click("#send")
            await bot_says(watched, "1/1: you said hi")

            traces = inspector.locator(".trace")
            await expect(traces.filter(has_text="ReceivedActivity")).to_contain_text("hi")
            await expect(traces.filter(has_text="SentActivity")).to_contain_text("1/1: you said hi")
            state = traces.filter(has_text="BotState")
            await state.locator(".show-json").click()
            await expect(state.locator("pre.raw")).to_contain_text('"conversation_state"')
        finally:
            await browser.close()


async def test_talking_as_teams_opens_a_task_module(settings: Settings) -> None:
    assert CHROMIUM is not None
    async with dev_chat(settings, teams_bot) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            expect.set_options(timeout=15_000)
            await page.goto(f"{url}/")
            await page.check("#teams")  # a new conversation, as Teams
            await bot_says(page, "Welcome to the team, You!")

            await page.fill("#input", "form")
            await page.click("#send")
            card = page.locator(".hero-card").last
            await card.locator("button", has_text="Open the form").click()
            answer = page.locator(".invoke-answer").last
            await expect(answer.locator(".bubble")).to_have_text("invoke task/fetch answered 200")
            await expect(answer.locator("pre.raw")).to_contain_text('"Tell us your name"')

            await page.fill("#input", '/invoke task/submit {"data": {"name": "Ada"}}')
            await page.click("#send")
            answer = page.locator(".invoke-answer").last
            await expect(answer.locator("pre.raw")).to_contain_text('"Thanks, Ada!"')
            await page.fill("#input", "/invoke tab/fetch {}")
            await page.click("#send")
            await expect(page.locator(".invoke-answer .bubble").last).to_have_text(
                "invoke tab/fetch answered 501"
            )
        finally:
            await browser.close()


async def test_signing_in_from_the_chat_page(settings: Settings, redis: Redis) -> None:
    """The authentication sample under the dev stack: its OAuth card opens the dev token
    service's sign-in page, whose magic code, typed in the chat, signs the user in."""
    assert CHROMIUM is not None
    bot = authentication_bot(RedisStorage(redis, key_prefix=settings.key_prefix))
    async with dev_chat(settings, bot) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            expect.set_options(timeout=15_000)
            page = await browser.new_page()
            await page.goto(f"{url}/")
            await bot_says(page, "Welcome to AuthenticationBot")
            await page.fill("#input", "hi")
            await page.click("#send")
            card = page.locator(".sign-in-card").last
            await expect(card).to_contain_text("Please Sign In")
            async with page.expect_popup() as opened:
                await card.locator("button", has_text="Sign In").click()
            sign_in = await opened.value
            code = await sign_in.locator("#magic-code").inner_text()
            await sign_in.close()

            await page.fill("#input", code)
            await page.click("#send")
            await bot_says(page, "You are now logged in.")
        finally:
            await browser.close()


@pytest.mark.slow
async def test_a_streamed_answer_grows_in_place_and_stop_stops_the_bot(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert CHROMIUM is not None
    caplog.set_level(logging.INFO, logger="samples.streaming")
    ending = ANSWER[-40:]
    async with dev_chat(settings, streaming) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            expect.set_options(timeout=15_000)
            await page.goto(f"{url}/")
            await expect(page.locator("#conversation-id")).not_to_be_empty()

            await page.fill("#input", "why stream?")
            await page.click("#send")
            await expect(page.locator(".streaming .bubble")).to_contain_text("Streaming lets")
            await bot_says(page, ending)  # the final message, whole ...
            await expect(page.locator(".streaming")).to_have_count(0)  # ... in the stream's place

            await page.fill("#input", "and again?")
            await page.click("#send")
            await expect(page.locator(".streaming .bubble")).to_contain_text("Streaming lets")
            await page.click(".streaming button.stop")
            await expect(page.locator(".streaming.stopped .meta")).to_have_text("stopped")
            deadline = time.monotonic() + 15
            while "answer stopped by the user" not in caplog.text:  # the bot's CancelledError
                assert time.monotonic() < deadline, "the bot was not stopped"
                await asyncio.sleep(0.1)
            await expect(page.locator(".bot-message .bubble", has_text=ending)).to_have_count(1)
            stopped_text = await page.locator(".streaming.stopped .bubble").inner_text()
            assert 0 < len(stopped_text) < len(ANSWER)
        finally:
            await browser.close()
