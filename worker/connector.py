"""Bot Connector REST client: one keep-alive aiohttp session per worker process.

aiohttp rather than httpx by measurement on this project's 2-core machine: one process POSTing
to a loopback connector spent ~185 µs CPU per request with aiohttp and 1.2-4.5 ms with httpx 0.28
(docs/decisions/0002-aiohttp-for-the-connector.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import random
import time
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import orjson

from shared.activity import ResourceResponse
from worker.errors import ConnectorError, ForbiddenServiceUrl
from worker.safe_resolver import PrivateAddressRefused, PublicOnlyResolver
from worker.service_urls import OutboundPolicy


class Credentials(Protocol):
    """Supplies the Authorization header for a service URL (None: anonymous dev mode)."""

    async def authorization(self, service_url: str) -> str | None: ...


class ObservedRequest(Protocol):
    """One request as an observer follows it: it ends with a status, or fails."""

    def ended(self, status: int) -> None: ...

    def failed(self, error: BaseException) -> None: ...


class RequestObserver(Protocol):
    """Told of every request the client sends (retries included), before it goes out: it may
    add headers (the trace context)."""

    def start(self, method: str, url: str, headers: dict[str, str]) -> ObservedRequest: ...


class AnonymousCredentials:
    """No token: the Bot Framework's dev mode when `MicrosoftAppId` is unset."""

    async def authorization(self, service_url: str) -> str | None:
        return None


class ConnectorClient:
    """Posts activities to `{serviceUrl}/v3/conversations/...`, never to an address the
    `OutboundPolicy` refuses (see worker/service_urls.py)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: Credentials,
        policy: OutboundPolicy | None = None,
        observer: RequestObserver | None = None,
    ) -> None:
        self._session = session
        self._credentials = credentials
        self._policy = policy or OutboundPolicy()
        self._observer = observer

    @classmethod
    def create(
        cls,
        *,
        timeout_seconds: float,
        credentials: Credentials | None = None,
        policy: OutboundPolicy | None = None,
        max_connections: int = 100,
        observer: RequestObserver | None = None,
    ) -> ConnectorClient:
        """A client with its own session. Without a `policy`, private addresses are refused.
        `observer` sees every request (metrics, tracing: worker.outbound_observer)."""
        policy = policy or OutboundPolicy()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=max_connections,
                keepalive_timeout=60,
                resolver=None if policy.allow_private else PublicOnlyResolver(),
            ),
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            json_serialize=lambda obj: orjson.dumps(obj).decode(),
        )
        return cls(session, credentials or AnonymousCredentials(), policy, observer)

    async def reply_to_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> ResourceResponse:
        """POST /v3/conversations/{conversationId}/activities/{activityId}."""
        path = f"{_activities_path(conversation_id)}/{quote(activity_id, safe='')}"
        return await self._post(service_url, path, activity)

    async def send_to_conversation(
        self, service_url: str, conversation_id: str, activity: dict[str, Any]
    ) -> ResourceResponse:
        """POST /v3/conversations/{conversationId}/activities."""
        return await self._post(service_url, _activities_path(conversation_id), activity)

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> ResourceResponse:
        """PUT /v3/conversations/{conversationId}/activities/{activityId}: edit a sent activity."""
        path = f"{_activities_path(conversation_id)}/{quote(activity_id, safe='')}"
        return await self._request("PUT", service_url, path, activity)

    async def delete_activity(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> None:
        """DELETE /v3/conversations/{conversationId}/activities/{activityId}."""
        path = f"{_activities_path(conversation_id)}/{quote(activity_id, safe='')}"
        await self._request("DELETE", service_url, path, None)

    async def _post(self, service_url: str, path: str, body: dict[str, Any]) -> ResourceResponse:
        return await self._request("POST", service_url, path, body)

    async def _request(
        self, method: str, service_url: str, path: str, body: dict[str, Any] | None
    ) -> ResourceResponse:
        url = f"{service_url.rstrip('/')}/{path}"
        self._policy.check_destination(url)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        authorization = await self._credentials.authorization(service_url)
        if authorization:
            headers["Authorization"] = authorization
        data = orjson.dumps(body) if body is not None else None
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            status, payload, retry_after = await self._observed_send(method, url, data, headers)
            if status < 300:
                return _resource_response(payload)
            # 429 and 503 say the activity was not taken: sending it again cannot duplicate it.
            # Other failures (500, 502, 504, timeouts) may have been delivered: they fail the
            # turn instead of being re-POSTed blindly.
            if status not in (429, 503) or attempt == RETRY_ATTEMPTS:
                raise ConnectorError(method, url, status, payload.decode(errors="replace"))
            await asyncio.sleep(_retry_delay(retry_after, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _observed_send(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None]:
        """`_send`, told to the observer (each attempt on its own)."""
        if self._observer is None:
            return await self._send(method, url, data, headers)
        call = self._observer.start(method, url, headers)
        try:
            answer = await self._send(method, url, data, headers)
        except BaseException as error:
            call.failed(error)
            raise
        call.ended(answer[0])
        return answer

    async def _send(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None]:
        try:
            # No redirects: a 3xx could send the request, token included, somewhere else.
            async with self._session.request(
                method, url, data=data, headers=headers, allow_redirects=False
            ) as response:
                payload = await response.read()
                return response.status, payload, response.headers.get("Retry-After")
        except aiohttp.ClientConnectorError as e:
            if isinstance(e.os_error, PrivateAddressRefused):
                raise ForbiddenServiceUrl(url, str(e.os_error)) from e
            raise

    async def aclose(self) -> None:
        await self._session.close()


RETRY_ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 10.0


def _retry_delay(retry_after: str | None, attempt: int) -> float:
    """The channel's Retry-After (seconds or an HTTP date), capped; else jittered backoff."""
    delay: float | None = None
    if retry_after:
        try:
            delay = float(retry_after)
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):
                when = email.utils.parsedate_to_datetime(retry_after)
                delay = when.timestamp() - time.time()
    if delay is None:
        delay = 0.5 * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, delay))


def _activities_path(conversation_id: str) -> str:
    # Conversation ids carry ':', ';' and '@' (Teams): always one escaped path segment.
    return f"v3/conversations/{quote(conversation_id, safe='')}/activities"


def _resource_response(payload: bytes) -> ResourceResponse:
    """Channels answer `{"id": ...}`, an empty body or something else: take what is there."""
    if not payload.strip():
        return ResourceResponse()
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return ResourceResponse()
    if isinstance(doc, dict) and isinstance(doc.get("id"), str):
        return ResourceResponse(id=doc["id"])
    return ResourceResponse()
