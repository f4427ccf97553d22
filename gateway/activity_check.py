"""Decide whether a request body is a Bot Framework activity we can queue."""

from __future__ import annotations

from typing import Any

import orjson

from shared.keys import conversation_key


class BadActivity(Exception):
    """The body is not an activity; the message says why, for the 400 answer."""


def parse_activity(body: bytes) -> tuple[str, str | None]:
    """Parse and check a body; return its conversation key and its activity id (if any).

    The parsed activity itself is dropped here: the envelope carries the body as received, and
    keeping the parsed objects alive while the request awaits Redis costs garbage-collector time
    under load.

    Required: `type`, `conversation.id`, `serviceUrl`, `channelId`. `id`, `from` and `recipient`
    may be missing (real channels and emulators omit them) but must have the right shape if given.
    """
    try:
        activity = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BadActivity(f"body is not valid JSON: {e}") from None
    if not isinstance(activity, dict):
        raise BadActivity("an activity must be a JSON object")
    _require_text(activity, "type")
    channel_id = _require_text(activity, "channelId")
    service_url = _require_text(activity, "serviceUrl")
    if not service_url.startswith(("https://", "http://")):
        raise BadActivity("serviceUrl must be an absolute http(s) URL")
    conversation = activity.get("conversation")
    if not isinstance(conversation, dict):
        raise BadActivity("conversation must be an object with an id")
    conversation_id = _require_text(conversation, "id", "conversation.id")
    activity_id = activity.get("id")
    if activity_id is not None and not isinstance(activity_id, str):
        raise BadActivity("id must be a string")
    for name in ("from", "recipient"):
        account = activity.get(name)
        if account is not None and not isinstance(account, dict):
            raise BadActivity(f"{name} must be an object")
    return conversation_key(channel_id, conversation_id), activity_id


def _require_text(doc: dict[str, Any], field: str, label: str | None = None) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not value:
        raise BadActivity(f"{label or field} is required and must be a non-empty string")
    return value
