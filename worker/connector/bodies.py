"""Reading what the Bot Connector answers: typed results of 2xx bodies, typed errors of the rest.

A decoder raises `ValueError` for a 2xx body that is not what its operation returns; the client
turns that into a `ConnectorError` naming the request.
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

import orjson

from shared.schema.activity import (
    ChannelAccount,
    ConversationResourceResponse,
    ErrorResponse,
    PagedMembersResult,
    ResourceResponse,
)
from worker.connector.errors import ConnectorError

OPERATION_ID_HEADER = "X-Correlating-OperationId"


def resource_response(payload: bytes) -> ResourceResponse:
    """Channels answer a send with `{"id": ...}`, an empty body or something else: take what is
    there. Never raises: the activity was taken, and failing now would send it again."""
    if not payload.strip():
        return ResourceResponse()
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return ResourceResponse()
    if isinstance(doc, dict) and isinstance(doc.get("id"), str):
        return ResourceResponse(id=doc["id"])
    return ResourceResponse()


def conversation_resource_response(payload: bytes) -> ConversationResourceResponse:
    """Like `resource_response`, leniently: the conversation exists once the POST succeeded."""
    doc = _loads_or_none(payload)
    if isinstance(doc, dict):
        return ConversationResourceResponse.from_dict(doc)
    return ConversationResourceResponse()


def members(payload: bytes) -> list[ChannelAccount]:
    """A JSON array of accounts; fields beyond `ChannelAccount`'s (Teams' `email`,
    `userPrincipalName`, `tenantId`, ...) stay in each account's `additional_properties`."""
    doc = orjson.loads(payload)
    if not isinstance(doc, list) or not all(isinstance(item, dict) for item in doc):
        raise ValueError("expected a JSON array of accounts")
    return [ChannelAccount.from_dict(item) for item in doc]


def member(payload: bytes) -> ChannelAccount:
    return ChannelAccount.from_dict(_object(payload, "an account"))


def paged_members(payload: bytes) -> PagedMembersResult:
    page = PagedMembersResult.from_dict(_object(payload, "a page of members"))
    if page.members is not None and not all(isinstance(m, ChannelAccount) for m in page.members):
        raise ValueError("expected members to be an array of accounts")
    return page


def json_or_none(payload: bytes) -> Any:
    """Any JSON (None for an empty body); a body that is not JSON is an unusable answer."""
    return orjson.loads(payload) if payload.strip() else None


def nothing(payload: bytes) -> None:
    """For operations that return no body (delete): whatever came is ignored."""


def connector_error(
    method: str, url: str, status: int, payload: bytes, headers: Mapping[str, str]
) -> ConnectorError:
    """The error for a non-2xx answer: an `ErrorResponse` body gives code and message; any other
    body still gives a readable message (its start, or the status's reason when empty)."""
    text = payload.decode(errors="replace")
    operation_id = headers.get(OPERATION_ID_HEADER)
    doc = _loads_or_none(payload)
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        response = ErrorResponse.from_dict(doc)
        error = response.error
        assert error is not None  # a dict under "error" always becomes an Error
        return ConnectorError(
            method,
            url,
            status,
            text,
            code=error.code if isinstance(error.code, str) else None,
            message=error.message if isinstance(error.message, str) else None,
            operation_id=operation_id,
            error=response,
        )
    snippet = " ".join(text.split())[:300]
    return ConnectorError(
        method, url, status, text, message=snippet or _reason(status), operation_id=operation_id
    )


def unexpected_body(
    method: str, url: str, status: int, payload: bytes, problem: ValueError
) -> ConnectorError:
    """A 2xx answer whose body the operation cannot use (not JSON, or the wrong shape)."""
    return ConnectorError(
        method, url, status, payload.decode(errors="replace"), message=f"unusable body: {problem}"
    )


def _object(payload: bytes, what: str) -> dict[str, Any]:
    doc = orjson.loads(payload)
    if not isinstance(doc, dict):
        raise ValueError(f"expected {what} (a JSON object)")
    return doc


def _loads_or_none(payload: bytes) -> Any:
    if not payload.strip():
        return None
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "(empty body)"
