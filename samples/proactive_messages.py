"""Proactive messages bot (the SDK's proactive-messages sample): it remembers the conversation of
everyone who talks to it, and a request to its own route `/api/notify` sends "proactive hello"
into each of those conversations.

Run it: `TURNSTREAM_PROACTIVE_SECRET=... turnstream dev --bot samples.proactive_messages:bot`,
talk to it, then `curl -H "Authorization: Bearer $TURNSTREAM_PROACTIVE_SECRET"
http://127.0.0.1:3978/api/notify`.

What differs from botbuilder's sample, and why:

- The references live in Redis (`RedisStorage`), not in a dict in the process: any worker may
  run a user's turn, and another one the notify request.
- `/api/notify` is declared on the `BotApp` and served by the gateway; it needs the operator's
  secret (the sample's route is open to anyone; pass `public=True` to do the same).
- `continue_conversation` queues each proactive turn after that conversation's own turns and
  returns at once; the lambda runs in the worker that queued it (docs/bot-api.md).
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

from worker.bot import (
    ActivityHandler,
    BotApp,
    BotRoute,
    ChannelAccount,
    EtagConflict,
    RedisStorage,
    RouteRequest,
    RouteResponse,
    Storage,
    TurnContext,
)
from worker.bot.storage import ETAG, IF_ABSENT

REFERENCES_KEY = "proactive-sample/conversation-references"
"""One storage item: user id -> that user's latest conversation reference."""

APP_ID = os.environ.get("MicrosoftAppId", "")
"""The app id the sample passes to continue_conversation (empty in anonymous mode)."""

WELCOME = (
    "Welcome to the Proactive Bot sample. Send a request to /api/notify to proactively message "
    "everyone who has previously messaged this bot."
)


class ConversationReferences:
    """The references, kept in one storage item that turns on any worker update in turn."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def remember(self, turn_context: TurnContext) -> None:
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        user_id = reference.user.id if reference.user else None
        if not user_id:
            return
        for attempt in range(50):  # users' turns on every worker write it: re-read on a conflict
            if attempt:
                await asyncio.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            found = (await self._storage.read([REFERENCES_KEY])).get(REFERENCES_KEY)
            item: dict[str, Any] = dict(found) if found else {ETAG: IF_ABSENT}
            if item.get(user_id) == reference.to_dict():
                return
            item[user_id] = reference.to_dict()
            try:
                await self._storage.write({REFERENCES_KEY: item})
                return
            except EtagConflict:
                continue
        raise RuntimeError("could not store the conversation reference (too much contention)")

    async def all(self) -> list[dict[str, Any]]:
        found = (await self._storage.read([REFERENCES_KEY])).get(REFERENCES_KEY) or {}
        return [value for key, value in found.items() if key != ETAG]


class ProactiveBot(ActivityHandler):
    def __init__(self, references: ConversationReferences) -> None:
        self.references = references

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self.references.remember(turn_context)
        await super().on_conversation_update_activity(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                await turn_context.send_activity(WELCOME)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.references.remember(turn_context)
        await turn_context.send_activity(f"You sent: {turn_context.activity.text}")


references = ConversationReferences(RedisStorage())


async def notify(request: RouteRequest) -> RouteResponse:
    """Send "proactive hello" to every conversation the bot remembers."""
    for reference in await references.all():
        await request.adapter.continue_conversation(
            reference,
            lambda turn_context: turn_context.send_activity("proactive hello"),
            APP_ID,
        )
    return RouteResponse("Proactive messages have been sent")


bot = BotApp(
    ProactiveBot(references),
    routes=[BotRoute("/api/notify", notify, methods=("GET", "POST"))],
)
