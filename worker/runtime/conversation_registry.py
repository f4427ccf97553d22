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
        # (conversation, user) -> (the fields last recorded for it, when): what is in Redis.
        self._recorded: dict[tuple[str, str | None], tuple[int, float]] = {}
        # Those fields -> the (conversation, user) they make: so that a turn of a conversation
        # recorded recently is recognised from its activity's fields as sent, without building
        # its entry (Entry.of checks the whole reference: ~10 µs a turn, issue 24).
        # The fields are kept as their hash, not as the JSON: each bytes object orjson returns
        # keeps a buffer of ~1-4 KB, hundreds of MB at MAX_REMEMBERED (issue 24). A 64-bit
        # collision would only delay a conversation's re-recording by up to REFRESH_SECONDS.
        self._made: dict[int, tuple[str, str | None]] = {}

    async def saw(self, activity: Mapping[str, Any]) -> None:
        """A user sent `activity` (no proactive turn, no bot route): record its conversation
        unless this process did so recently with the same reference."""
        fields = hash(_entry_fields(activity))
        now = time.monotonic()
        key = self._made.get(fields)
        if key is not None:
            known = self._recorded.get(key)
            # Still the latest recorded for that conversation and user (it may have moved to
            # another reference and back since: then it is recorded again), and recent.
            if known is not None and known[0] == fields and now - known[1] < REFRESH_SECONDS:
                return
        entry = Entry.of(activity)
        if entry is None:
            return
        try:
            await self._registry.record(entry)
        except REDIS_FAILURES as e:
            log.warning("conversation %s not recorded in the registry: %s", entry.conversation, e)
            return
        if len(self._recorded) >= MAX_REMEMBERED or len(self._made) >= MAX_REMEMBERED:
            self._recorded.clear()
            self._made.clear()
        key = (entry.conversation, entry.user)
        self._recorded[key] = (fields, now)
        self._made[fields] = key


_ENTRY_FIELDS = ("channelId", "serviceUrl", "conversation", "from", "recipient", "locale")
"""The activity's fields an `Entry` is made of, with channelData's tenant and team."""


def _entry_fields(activity: Mapping[str, Any]) -> bytes:
    """Everything `Entry.of` reads of the activity, as one comparable value: the same fields
    make the same entry."""
    channel_data = activity.get("channelData")
    if not isinstance(channel_data, Mapping):
        channel_data = {}
    return orjson.dumps(
        [
            *(activity.get(name) for name in _ENTRY_FIELDS),
            channel_data.get("tenant"),
            channel_data.get("team"),
        ]
    )
