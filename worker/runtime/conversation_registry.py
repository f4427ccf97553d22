"""The worker's side of the conversation registry (shared.protocol.registry): record the
conversation of each activity a user sent, without a Redis write per turn.

A recording is renewed at most once per `REFRESH_SECONDS` per conversation and user in one
process, or at once when the reference changed (a new service URL, say): a conversation's
steady traffic costs nothing, and the registry's TTL (days) is renewed long before it runs out.
A failed recording is logged and never fails the turn: the registry is an operator's
convenience, not part of the turn's guarantees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson

from shared.protocol.registry import ConversationRegistry, Entry
from worker.runtime.delivery.scripts import REDIS_FAILURES

log = logging.getLogger(__name__)

REFRESH_SECONDS = 3600.0
"""How often one process renews the recording of an unchanged conversation and user."""
MAX_REMEMBERED = 100_000
"""Recordings a process remembers (then it forgets them all and records afresh): bounded memory."""


class RegistryRecorder:
    """Records the conversations of users' activities, at most once per `REFRESH_SECONDS`."""

    def __init__(self, registry: ConversationRegistry) -> None:
        self._registry = registry
        self._recorded: dict[tuple[str, str | None], tuple[int, float]] = {}

    async def saw(self, activity: Mapping[str, Any]) -> None:
        """A user sent `activity` (no proactive turn, no bot route): record its conversation
        unless this process did so recently with the same reference."""
        entry = Entry.of(activity)
        if entry is None:
            return
        key = (entry.conversation, entry.user)
        # Its hash, not the JSON itself: each bytes object orjson returns keeps a 4 KB buffer,
        # ~400 MB at MAX_REMEMBERED (issue 24). A 64-bit collision between a conversation's old
        # and new reference would only delay its re-recording by up to REFRESH_SECONDS.
        digest = hash(orjson.dumps([entry.reference, entry.tenant, entry.team]))
        now = time.monotonic()
        known = self._recorded.get(key)
        if known is not None and known[0] == digest and now - known[1] < REFRESH_SECONDS:
            return
        try:
            await self._registry.record(entry)
        except REDIS_FAILURES as e:
            log.warning("conversation %s not recorded in the registry: %s", entry.conversation, e)
            return
        if len(self._recorded) >= MAX_REMEMBERED:
            self._recorded.clear()
        self._recorded[key] = (digest, now)
