"""Decide whether a request body is a Bot Framework activity we can queue."""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import mul, sub
from typing import Any, NamedTuple

import orjson

from shared.protocol.answers import EXPECT_REPLIES, STREAM
from shared.protocol.keys import (
    MAX_ACTIVITY_ID_LENGTH,
    MAX_SERVICE_URL_LENGTH,
    MAX_USER_ID_LENGTH,
    BadId,
    conversation_key,
)

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
"""A JSON string, escapes included (written unrolled: linear, no backtracking)."""
_TO_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_RUNS = re.compile(rb"\[+|\]+")
_PEELS = 4


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
    streamed: bool = False
    """`deliveryMode: "stream"`: the response is the turn's events, as they come."""


def parse_activity(body: bytes, max_depth: int = 64) -> CheckedActivity:
    """Parse and check a body.

    The parsed activity itself is dropped here: the envelope carries the body as received, and
    keeping the parsed objects alive while the request awaits Redis costs garbage-collector time
    under load.

    Required: `type`, `conversation.id`, `serviceUrl`, `channelId`. `id`, `from` and `recipient`
    may be missing (real channels and emulators omit them) but must have the right shape if given.
    Ids that become parts of Redis keys are bounded (`shared.protocol.keys`), and so is nesting.
    """
    # Counting brackets is a cheap bound on the depth; measure it only when that is not enough,
    # on the bytes and before parsing: a deep body is refused without building its tree.
    if body.count(b"{") + body.count(b"[") > max_depth and _too_deep(body, max_depth):
        raise BadActivity(f"the activity is nested deeper than {max_depth} levels")
    try:
        activity = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        # Where, not orjson's own words: no exception text goes into an answer.
        raise BadActivity(f"body is not valid JSON (line {e.lineno}, column {e.colno})") from None
    if not isinstance(activity, dict):
        raise BadActivity("an activity must be a JSON object")
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
    delivery_mode = activity.get("deliveryMode")
    streamed = delivery_mode == STREAM
    expects_answer = streamed or activity["type"] == "invoke" or delivery_mode == EXPECT_REPLIES
    return CheckedActivity(key, activity_id, channel_id, service_url, expects_answer, streamed)


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


def _too_deep(body: bytes, max_depth: int) -> bool:
    """True if a JSON body's containers nest deeper than `max_depth` (the activity object is
    level 1). (Bytes that are not JSON may answer either way: parsing refuses them next.)

    Every step is a C loop over at most the body's length: strings removed (`re`), brackets
    kept (`bytes.translate`), then a few passes that each remove every empty pair, one level of
    the dense shallow structures that would make many runs; the deepest level of what is left
    is the running sum of its bracket runs, at most one per two bytes left per level peeled.
    Walking the parsed tree instead cost ~500 ns per container: ~70 ms for a 255 KiB body of
    arrays nested 61 deep (issue 19)."""
    brackets = _JSON_STRING.sub(b"", body).translate(_TO_BRACKETS, _NOT_BRACKETS)
    peeled = 0
    while brackets and peeled < min(_PEELS, max_depth):
        brackets = brackets.replace(b"[]", b"")  # each pass: exactly one level less
        peeled += 1
    if not brackets or peeled >= max_depth:
        return bool(brackets)
    lengths = [len(run) for run in _RUNS.findall(brackets)]
    if brackets[0] != ord("["):
        return False  # not JSON: the parser says so
    # Runs alternate, opening first: after opening run i, the depth is 2 * (opened so far) -
    # (brackets so far).
    opened = accumulate(lengths[0::2])
    so_far = list(accumulate(lengths))[0::2]
    deepest: int = max(map(sub, map(mul, opened, repeat(2)), so_far))
    return peeled + deepest > max_depth
