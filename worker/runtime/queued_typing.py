"""Typing while queued: when a user's message waits for its turn longer than a threshold
(behind the conversation's earlier turns, a busy worker, or a backlog in Redis), the worker that
holds it shows a typing indicator in its conversation, so the user sees the bot is on it.

A timer starts when the worker reads the entry, counting from when the gateway received it (but
ending no sooner than half a second after the read); the turn starting cancels it. Only messages
from channels that accept typing get one; it is sent once, straight to the connector, outside
the turn (not a reply: never recorded or replayed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from typing import Any

from shared.protocol.answers import EXPECT_REPLIES, STREAM
from shared.protocol.envelope import Envelope, EnvelopeError
from shared.schema.activity import ActivityTypes
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.5
"""How long after the read an entry's turn may take to start before it gets a typing."""


class QueuedTyping:
    def __init__(
        self,
        connector: ConnectorClient,
        policy: OutboundPolicy,
        *,
        after_seconds: float,
        excluded_channels: tuple[str, ...] = (),
    ) -> None:
        self._connector = connector
        self._policy = policy
        self._after = after_seconds
        self._excluded = frozenset(excluded_channels)
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self.sent = 0

    def queued(self, key: Hashable, envelope: Envelope) -> None:
        """The worker holds this entry now; its turn has not started."""
        if self._after <= 0 or envelope.proactive is not None:
            return
        waited = time.time() - envelope.received_at
        # Never sooner than SETTLE_SECONDS after the read: an entry read late (a backlog) whose
        # turn starts at once gets no typing — its reply is moments away, and a typing per
        # message would double the connector calls exactly when the bot is behind.
        delay = max(self._after - waited, SETTLE_SECONDS)
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._fire, key, envelope)

    def started(self, key: Hashable) -> None:
        """The entry's turn starts (or the entry is gone): no typing for it any more."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _fire(self, key: Hashable, envelope: Envelope) -> None:
        self._timers.pop(key, None)
        try:
            activity = envelope.activity()  # parsed only now: most entries never get here
        except EnvelopeError:
            return
        if (
            activity.get("type") != ActivityTypes.MESSAGE
            or activity.get("channelId") in self._excluded
            or activity.get("deliveryMode") in (EXPECT_REPLIES, STREAM)
        ):
            return
        if envelope.service_url is not None:
            self._policy.trust(envelope.service_url)
        task = asyncio.get_running_loop().create_task(self._send(activity))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, inbound: dict[str, Any]) -> None:
        conversation = inbound.get("conversation") or {}
        typing: dict[str, Any] = {
            "type": ActivityTypes.TYPING,
            "channelId": inbound.get("channelId"),
            "conversation": conversation,
        }
        if inbound.get("recipient"):
            typing["from"] = inbound["recipient"]
        if inbound.get("from"):
            typing["recipient"] = inbound["from"]
        try:
            await self._connector.send_to_conversation(
                str(inbound.get("serviceUrl")), str(conversation.get("id")), typing
            )
            self.sent += 1
        except Exception as e:  # a courtesy: its failure must not touch the turn
            log.info("typing indicator for a queued message not sent: %s", e)

    async def aclose(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
