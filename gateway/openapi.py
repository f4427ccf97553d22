"""`GET /openapi.json`: the gateway's routes, request body and error answers as OpenAPI 3.1.

Written by hand rather than generated: the messaging endpoint is raw ASGI (the hot path), so no
framework knows its shape, and the limits here are the ones `gateway.activity_check` and
`shared.protocol.keys` enforce. The fuzz tests drive the gateway from this document.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.resources import resources
from shared.protocol.keys import (
    MAX_ACTIVITY_ID_LENGTH,
    MAX_CHANNEL_ID_LENGTH,
    MAX_CONVERSATION_ID_LENGTH,
    MAX_SERVICE_URL_LENGTH,
    MAX_USER_ID_LENGTH,
)


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(document(bool(resources(request).settings.app_id)))


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        answer["headers"] = {
            "Retry-After": {"description": "seconds", "schema": {"type": "string"}}
        }
    return answer


def _account() -> dict[str, Any]:
    # null is accepted like a missing field (gateway/activity_check.py), as the SDKs send it.
    return {
        "type": ["object", "null"],
        "properties": {"id": {"type": ["string", "null"], "maxLength": MAX_USER_ID_LENGTH}},
    }


_ACTIVITY: dict[str, Any] = {
    "type": "object",
    "description": "A Bot Framework activity (wire format, camelCase). Other fields are "
    "passed to the bot as received.",
    "required": ["type", "channelId", "serviceUrl", "conversation"],
    "properties": {
        "type": {"type": "string", "minLength": 1},
        "id": {"type": ["string", "null"], "maxLength": MAX_ACTIVITY_ID_LENGTH},
        "channelId": {
            "type": "string",
            "pattern": f"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_CHANNEL_ID_LENGTH - 1}}}$",
        },
        "serviceUrl": {
            "type": "string",
            "pattern": "^https?://",
            "maxLength": MAX_SERVICE_URL_LENGTH,
        },
        "conversation": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_CONVERSATION_ID_LENGTH,
                }
            },
        },
        "from": _account(),
        "recipient": _account(),
    },
}

_HEALTH: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string"}, "reason": {"type": "string"}},
}


_OPERATOR = {
    "401": _error("Missing or wrong `Authorization: Bearer <TURNSTREAM_PROACTIVE_SECRET>`"),
    "404": _error(
        "TURNSTREAM_PROACTIVE_SECRET is not set (or, for a job, unknown or expired; for `to`, "
        "the registry knows no such conversation)"
    ),
    "503": _error("Redis unavailable", retry_after=True),
}

_PROACTIVE_POST: dict[str, Any] = {
    "summary": "Queue a proactive turn in each of up to 10,000 conversations (operator route)",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "`reference` or `conversations` (Bot Framework conversation "
                    "references) or `to` (whom the conversation registry knows: `conversation` "
                    "as channelId/conversationId, `user` with `channel`, or any of `channel`, "
                    "`tenant`, `team`), and `activity` (sent as is) or `event` (`name`, `value`: "
                    "the bot handles it)",
                    "properties": {
                        "reference": {"type": "object"},
                        "conversations": {"type": "array", "items": {"type": "object"}},
                        "to": {
                            "type": "object",
                            "properties": {
                                name: {"type": "string"}
                                for name in ("conversation", "user", "channel", "tenant", "team")
                            },
                        },
                        "activity": {"type": "object"},
                        "event": {"type": "object", "properties": {"name": {"type": "string"}}},
                    },
                }
            }
        },
    },
    "responses": {
        "202": {
            "description": "Queued as one job",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["job", "total"],
                        "properties": {"job": {"type": "string"}, "total": {"type": "integer"}},
                    }
                }
            },
        },
        "400": _error("Not JSON, or a bad reference, activity or event (which and why)"),
        "413": _error("Larger than 16 MiB"),
        **_OPERATOR,
    },
}

_PROACTIVE_GET: dict[str, Any] = {
    "summary": "A proactive job's progress",
    "parameters": [{"name": "job", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": {
        "200": {
            "description": "total, queued, done (ran), failed (the bot raised), finished",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_OPERATOR,
    },
}


@cache
def document(authenticated: bool) -> dict[str, Any]:
    """The OpenAPI document; `authenticated` (an app id is set) adds the bearer requirement."""
    messages: dict[str, Any] = {
        "summary": "Receive an activity from a channel (the Bot Framework messaging endpoint)",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Activity"}}},
        },
        "responses": {
            "200": {
                "description": "The answer of an `invoke` (the bot's InvokeResponse status and "
                "body; any status the bot chooses) or of a `deliveryMode: expectReplies` activity "
                '(`{"activities": [...]}`): the gateway queued it and waited for its turn. For '
                '`deliveryMode: "stream"`, `text/event-stream`: `event: activity` for each '
                "activity the turn sends, `event: invokeResponse` for an invoke, `event: end` "
                "(or `event: error` past TURNSTREAM_STREAM_TIMEOUT_SECONDS); see docs/streaming.md",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "202": {"description": "Queued (or a repeat of an activity id already queued)"},
            "400": _error(
                "Not JSON, not an activity, an id out of bounds, or a Last-Event-ID this gateway "
                "did not send"
            ),
            "401": _error("Missing, malformed or invalid token"),
            "403": _error("The token's signing key is not endorsed for the activity's channel"),
            "406": _error('`deliveryMode: "stream"` with an Accept header refusing event streams'),
            "413": _error("Body larger than TURNSTREAM_MAX_BODY_BYTES"),
            "415": _error("Not application/json"),
            "500": _error("A gateway bug (logged); retry later"),
            "501": {"description": "An invoke the bot does not handle"},
            "504": _error(
                "An invoke or expectReplies turn did not answer within "
                "TURNSTREAM_REPLY_TIMEOUT_SECONDS (status and body configurable)"
            ),
            "503": _error(
                "Redis unavailable, backlog over its limit, or keys unavailable", retry_after=True
            ),
        },
    }
    if authenticated:
        messages["security"] = [{"botFramework": []}]
    components: dict[str, Any] = {
        "schemas": {
            "Activity": _ACTIVITY,
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            },
            "Health": _HEALTH,
        }
    }
    if authenticated:
        components["securitySchemes"] = {
            "botFramework": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A Bot Framework channel token (RS256, audience = the app id)",
            }
        }
    health = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "turnstream gateway",
            "version": "1",
            "description": "Besides these paths, the gateway serves the HTTP routes the bot "
            "declares (`BotApp(routes=[...])`, docs/bot-api.md): they change with the bot "
            "deployed, so they are not listed here.",
        },
        "paths": {
            "/api/messages": {"post": messages},
            "/healthz": {
                "get": {
                    "summary": "The process serves",
                    "responses": {"200": {"description": "alive", **health}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Redis answers and the backlog is under its limit",
                    "responses": {
                        "200": {"description": "ready", **health},
                        "503": {
                            "description": "not ready",
                            "headers": {"Retry-After": {"schema": {"type": "string"}}},
                            **health,
                        },
                    },
                }
            },
            "/api/proactive": {"post": _PROACTIVE_POST},
            "/api/proactive/{job}": {"get": _PROACTIVE_GET},
            "/metrics": {
                "get": {
                    "summary": "Metrics in the Prometheus text format",
                    "responses": {
                        "200": {
                            "description": "this gateway process's metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": components,
    }
