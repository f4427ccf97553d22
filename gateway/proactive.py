"""`POST /api/proactive` and `GET /api/proactive/{job}`: the operator's way to message
conversations nobody is writing in (see `shared.protocol.proactive`).

Protected by `TURNSTREAM_PROACTIVE_SECRET` as a bearer token; without it the routes do not exist
(404), so a deployment that does not use them exposes nothing.

    POST /api/proactive
    {"conversations": [<conversation reference>, ...],     (or "reference": {...})
     "activity": {"type": "message", "text": "..."}}       (or "event": {"name": ..., "value": ...})
    -> 202 {"job": "...", "total": N}

or, instead of references, whom to reach as the conversation registry knows them
(`shared.protocol.registry`; 404 when it knows none):

    {"to": {"conversation": "msteams/19:..."}, ...}
    {"to": {"user": "29:...", "channel": "msteams"}, ...}
    {"to": {"channel": "msteams", "tenant": "...", "team": "..."}, ...}   (any of the three)

or, for Teams, one batch operation Teams runs itself (`shared.protocol.teams_batch`):

    {"teamsBatch": {"kind": "users", "serviceUrl": ..., "tenantId": ..., "members": [...]},
     "activity": {...}}

Each conversation gets one turn, in order with its other turns; the sends are paced per service
URL and tenant by the workers. `GET /api/proactive/{job}` -> {"total", "queued", "done",
"failed", "finished"}, and `teamsOperation` once a batch operation started.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import orjson
from redis.exceptions import RedisClusterException, RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.resources import resources
from shared.protocol.proactive import MAX_REFERENCES, BadReference, ProactiveQueue, activity_to_send
from shared.protocol.registry import Target
from shared.protocol.teams_batch import TEAMS_BATCH_EVENT, TeamsBatch

MAX_PROACTIVE_BODY_BYTES = 16 * 1024 * 1024


async def start_proactive(request: Request) -> JSONResponse:
    refusal = operator_refusal(request)
    if refusal is not None:
        return refusal
    body = await bounded_body(request, MAX_PROACTIVE_BODY_BYTES)
    if body is None:
        return _error(413, "too_large", f"the request is larger than {MAX_PROACTIVE_BODY_BYTES}")
    try:
        references, event, value, send = _parse(body)
        queue: ProactiveQueue = resources(request).proactive
        async with asyncio.timeout(max(5.0, resources(request).settings.redis_timeout_seconds)):
            if isinstance(references, Target):
                references = await resources(request).registry.references(references)
                if not references:
                    return _error(404, "not_found", "the registry knows no such conversation")
            job, total = await queue.fan_out(references, event=event, value=value, send=send)
    except BadReference as e:
        return _error(400, "bad_request", str(e))
    except (RedisError, RedisClusterException, OSError, TimeoutError):
        return _error(
            503,
            "unavailable",
            "Redis did not take the turns; some may be queued — check the job before retrying",
            retry_after=resources(request).settings.retry_after_seconds,
        )
    return JSONResponse({"job": job, "total": total}, status_code=202)


async def proactive_progress(request: Request) -> JSONResponse:
    refusal = operator_refusal(request)
    if refusal is not None:
        return refusal
    queue: ProactiveQueue = resources(request).proactive
    try:
        progress = await queue.progress(request.path_params["job"])
    except (RedisError, RedisClusterException, OSError):
        return _error(503, "unavailable", "Redis unavailable; retry later", retry_after=1)
    if progress is None:
        return _error(404, "not_found", "no such job (or it expired after a day)")
    return JSONResponse(progress.to_dict())


def operator_refusal(
    request: Request, *, off: str = "proactive messages are off"
) -> JSONResponse | None:
    """None if the request carries the operator's bearer secret; else the answer that refuses
    it: 401, or 404 when no secret is configured (the operator routes do not exist then;
    `off` says what is off)."""
    secret: str | None = resources(request).settings.proactive_secret
    if secret is None:
        return _error(404, "not_found", f"{off}: set TURNSTREAM_PROACTIVE_SECRET")
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), secret.encode()):
        response = _error(401, "unauthorized", "send Authorization: Bearer <proactive secret>")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return None


async def bounded_body(request: Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to pass `limit` bytes: by its declared
    length before a byte is read, else as it streams in (as `/api/messages` reads)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> tuple[list[Any] | Target, str | None, Any, bytes | None]:
    """References (or whom to find in the registry), event name, event value and activity to
    send; raises BadReference."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadReference("the body is not JSON") from None
    if not isinstance(doc, dict):
        raise BadReference("the body must be a JSON object")
    if "teamsBatch" in doc:
        return _teams_batch(doc)
    if sum(name in doc for name in ("reference", "conversations", "to")) > 1:
        raise BadReference("give one of reference, conversations or to")
    references: list[Any] | Target
    if "to" in doc:
        references = Target.parse(doc["to"])
    else:
        given = [doc["reference"]] if "reference" in doc else doc.get("conversations")
        if not isinstance(given, list) or not 0 < len(given) <= MAX_REFERENCES:
            raise BadReference(f"conversations must be a list of 1-{MAX_REFERENCES} references")
        references = given
    activity, event = doc.get("activity"), doc.get("event")
    if (activity is None) == (event is None):
        raise BadReference("give exactly one of activity or event")
    if event is not None:
        if not isinstance(event, dict) or not isinstance(event.get("name"), str):
            raise BadReference("event must be an object with a name")
        return references, event["name"], event.get("value"), None
    return references, None, None, activity_to_send(activity)


def _teams_batch(doc: dict[str, Any]) -> tuple[list[Any], str | None, Any, bytes | None]:
    """One turn that asks Teams to deliver the activity as a batch operation."""
    if any(name in doc for name in ("reference", "conversations", "to", "event")):
        raise BadReference("teamsBatch goes with an activity only (no conversations, no event)")
    batch = TeamsBatch.parse(doc["teamsBatch"])
    activity = orjson.loads(activity_to_send(doc.get("activity")))
    return [batch.reference()], TEAMS_BATCH_EVENT, batch.to_value(activity), None


def _error(status: int, code: str, message: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)
