"""A bot in its own folder, outside the repository, as a new user writes one: `turnstream dev
--bot mybot:bot` run from that folder finds it (--app-dir, default the current folder), with no
PYTHONPATH, and a module of the bot's named like one of turnstream's packages never breaks
turnstream: it works, or stops at startup with one line naming the file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

import worker
from tests.support.http import post_json
from turnstream.embedded import free_port
from worker.runtime.errors import BotLoadError
from worker.runtime.loading import _clashing_files, load_bot

pytestmark = pytest.mark.e2e

TURNSTREAM = Path(sys.executable).with_name("turnstream")
"""The console script, as a user runs it: unlike `python -m`, it puts no folder on the path."""

BOT = """\
from worker.bot import ActivityHandler, MessageFactory, TurnContext


class MyBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text
        await turn_context.send_activity(MessageFactory.text(f"mybot heard: {text}"))


bot = MyBot()
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PYTHONPATH"}}
    return {**env, **extra}


async def _reply_to(folder: Path, *args: str, **env: str) -> str:
    """Start `turnstream dev --bot mybot:bot` in `folder`, post one message through its gateway
    and return the line its dev connector logs for the reply; stop it with SIGTERM."""
    port, connector_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        TURNSTREAM, "dev", "--bot", "mybot:bot", "--port", str(port),
        "--connector-port", str(connector_port), *args,
        cwd=folder, env=_env(**env), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    activity = {
        "type": "message", "id": "m-1", "text": "hello", "channelId": "dev",
        "serviceUrl": f"http://127.0.0.1:{connector_port}", "conversation": {"id": "c-1"},
        "from": {"id": "u-1"}, "recipient": {"id": "bot"},
    }  # fmt: skip
    output = []
    try:
        async with asyncio.timeout(30):
            async for line in process.stdout:
                output.append(line.decode())
                if b"Stop with Ctrl-C" in line:
                    async with aiohttp.ClientSession() as http:
                        url = f"http://127.0.0.1:{port}/api/messages"
                        status, _ = await post_json(http, url, activity)
                    assert status == 202
                if b"reply in conversation c-1" in line:
                    return line.decode().split("for u-1: ", 1)[1].strip()
        raise AssertionError("turnstream dev exited:\n" + "".join(output))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await process.wait()


@pytest.fixture
def bot_folder(tmp_path: Path) -> Path:
    (tmp_path / "mybot.py").write_text(BOT)
    return tmp_path


async def test_a_bot_in_its_own_folder_runs_with_no_pythonpath(bot_folder: Path) -> None:
    assert await _reply_to(bot_folder) == 'message "mybot heard: hello"'


async def test_app_dir_names_the_bot_folder_from_anywhere(bot_folder: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    reply = await _reply_to(elsewhere, "--app-dir", str(bot_folder))
    assert reply == 'message "mybot heard: hello"'


async def test_modules_named_like_turnstreams_packages_do_not_break_it(bot_folder: Path) -> None:
    # Names real bot projects use, beside a bot that does not import them; with PYTHONPATH=.
    # as people set it, turnstream's own imports still resolve to turnstream.
    for name in ("shared", "worker", "gateway"):
        (bot_folder / f"{name}.py").write_text("raise RuntimeError('imported the bot module')\n")
    assert await _reply_to(bot_folder, PYTHONPATH=".") == 'message "mybot heard: hello"'


@pytest.mark.parametrize("line", ["import shared", "from shared import GREETING"])
async def test_a_bot_that_imports_its_clashing_module_stops_at_startup(
    bot_folder: Path, line: str
) -> None:
    (bot_folder / "shared.py").write_text('GREETING = "hi"\n')
    (bot_folder / "mybot.py").write_text(f"{line}\n{BOT}")
    process = await asyncio.create_subprocess_exec(
        TURNSTREAM, "dev", "--bot", "mybot:bot", "--port", str(free_port()),
        cwd=bot_folder, env=_env(), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        stdout, stderr = await process.communicate()
    assert process.returncode == 2
    assert stdout == b""  # nothing started: no banner
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert str(bot_folder / "shared.py") in lines[0]
    assert "rename it" in lines[0]


def test_a_missing_app_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(BotLoadError, match=r"--app-dir .*nowhere.*: not a folder"):
        load_bot("mybot:bot", tmp_path / "nowhere")


def test_turnstreams_own_checkout_is_no_clash() -> None:
    # Run from the checkout, `shared/`, `worker/`... in the current folder are turnstream's own.
    root = Path(worker.__file__).resolve().parent.parent
    assert _clashing_files(root) == []
    assert _clashing_files(root / "samples") == []
