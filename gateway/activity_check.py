"""Decide whether a request body is a Bot Framework activity we can queue."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from shared.answers import EXPECT_REPLIES
from shared.keys import MAX_ACTIVITY_ID_LENGTH, MAX_USER_ID_LENGTH, BadId, conversation_key

MAX_SERVICE_URL_LENGTH = 2048


class BadActivity(Exception):
    """The body is not an activity; the message says why, for the 400 answer."""


class CheckedActivity(NamedTuple):
    """What the gateway needs of an activity: where it goes and what its token must vouch for."""

    conversation: str
    """`channelId/conversationId`: the ordering unit and shard key."""
    activity_id: str | None
    channel_id: str
    service_url: str
    expects_answer: bool = False
    """An invoke or an expectReplies activity: the HTTP response carries the turn's answer."""


def parse_activity(body: bytes, max_depth: int = 64) -> CheckedActivity:
    """Parse and check a body.

    The parsed activity itself is dropped here: the envelope carries the body as received, and
    keeping the parsed objects alive while the request awaits Redis costs garbage-collector time
    under load.

    Required: `type`, `conversation.id`, `serviceUrl`, `channelId`. `id`, `from` and `recipient`
    may be missing (real channels and emulators omit them) but must have the right shape if given.
    Ids that become parts of Redis keys are bounded (`shared.keys`), and so is nesting.
    """
    try:
        activity = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        # Where, not orjson's own words: no exception text goes into an answer.
        raise BadActivity(f"body is not valid JSON (line {e.lineno}, column {e.colno})") from None
    if not isinstance(activity, dict):
        raise BadActivity("an activity must be a JSON object")
    # Counting brackets is a cheap bound on the depth; walk the tree only when it is not enough.
    if body.count(b"{") + body.count(b"[") > max_depth and _too_deep(activity, max_depth):
        raise BadActivity(f"the activity is nested deeper than {max_depth} levels")
    _require_text(activity, "type")
    channel_id = _require_text(activity, "channelId")
    service_url = _require_text(activity, "serviceUrl")
    if not service_url.startswith(("https://", "http://")):
        raise BadActivity("serviceUrl must be an absolute http(s) URL")
    if len(service_url) > MAX_SERVICE_URL_LENGTH:
        raise BadActivity(f"serviceUrl must be at most {MAX_SERVICE_URL_LENGTH} characters")
    conversation = activity.get("conversation")
    if not isinstance(conversation, dict):
        raise BadActivity("conversation must be an object with an id")
    conversation_id = _require_text(conversation, "id", "conversation.id")
    activity_id = _activity_id(activity)
    _check_accounts(activity)
    try:
        key = conversation_key(channel_id, conversation_id)
    except BadId as e:
        raise BadActivity(str(e)) from None
    expects_answer = activity["type"] == "invoke" or activity.get("deliveryMode") == EXPECT_REPLIES
    return CheckedActivity(key, activity_id, channel_id, service_url, expects_answer)


def _activity_id(activity: dict[str, Any]) -> str | None:
    activity_id = activity.get("id")
    if activity_id is not None and (
        not isinstance(activity_id, str) or len(activity_id) > MAX_ACTIVITY_ID_LENGTH
    ):
        raise BadActivity(f"id must be a string of at most {MAX_ACTIVITY_ID_LENGTH} characters")
    return activity_id


def _check_accounts(activity: dict[str, Any]) -> None:
    for name in ("from", "recipient"):
        account = activity.get(name)
        if account is None:
            continue
        if not isinstance(account, dict):
            raise BadActivity(f"{name} must be an object")
        account_id = account.get("id")
        if account_id is not None and (
            not isinstance(account_id, str) or len(account_id) > MAX_USER_ID_LENGTH
        ):
            raise BadActivity(
                f"{name}.id must be a string of at most {MAX_USER_ID_LENGTH} characters"
            )


def _require_text(doc: dict[str, Any], field: str, label: str | None = None) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not value:
        raise BadActivity(f"{label or field} is required and must be a non-empty string")
    return value


def _too_deep(value: object, max_depth: int) -> bool:
    """True if containers nest deeper than `max_depth` (the activity object is level 1)."""
    level: list[object] = [value]
    for _ in range(max_depth):
        deeper: list[object] = []
        for item in level:
            if isinstance(item, dict):
                deeper.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                deeper.extend(v for v in item if isinstance(v, dict | list))
        if not deeper:
            return False
        level = deeper
    return True
