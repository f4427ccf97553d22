"""Bot Connector REST client: one keep-alive connection pool per worker process.

`create` sends through `worker.connector.keepalive_http` (request bytes written directly,
answers parsed by httptools): ~85-130 µs of client CPU per POST against ~180-265 µs with aiohttp
(docs/decisions/0014-keepalive-http-client.md). A client built on an aiohttp session (the
constructor's `session`) still works the same way, through aiohttp
(docs/decisions/0002-aiohttp-for-the-connector.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

import orjson

from shared.backoff import exponential
from shared.schema.activity import (
    AttachmentData,
    ChannelAccount,
    ConversationParameters,
    ConversationResourceResponse,
    PagedMembersResult,
    ResourceResponse,
    Transcript,
)
from worker.connector import bodies
from worker.connector.errors import ConnectorError, ForbiddenServiceUrl, PrivateAddressRefused
from worker.connector.keepalive_http import AnswerRefused, KeepAliveHttp, Target
from worker.connector.service_urls import OutboundPolicy

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

# aiohttp (the former transport, `ConnectorClient.over_aiohttp`) is imported only by a client
# that sends through it: ~11 MB of a worker's resident memory otherwise (issue 24).

T = TypeVar("T")

log = logging.getLogger(__name__)

BAD_ANSWER_STATUS = 502
"""The status of the `ConnectorError` raised for an answer that broke a bound or the protocol
(as a proxy would answer it: a bad gateway). A 5xx: the turn runs again later, and lands in the
dead letters if the service URL keeps answering that way."""

BeforeAttempt = Callable[[], Awaitable[None]]
"""Awaited before each attempt of a request (retries included); what it raises stops the
request. A worker checks there that the turn sending the reply still owns its stream entry: a
retry after a stall must not post for a turn another worker took over."""


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
    """The Bot Connector REST API (`{serviceUrl}/v3/conversations/...`): activities, members,
    conversations, attachments. Never calls an address the `OutboundPolicy` refuses (see
    worker/connector/service_urls.py), never follows a redirect, and never sends a POST twice unless
    the connector said it was not taken (`POST_RETRY`). A failed call raises `ConnectorError` with
    the connector's error code, message and operation id."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        credentials: Credentials,
        policy: OutboundPolicy | None = None,
        observer: RequestObserver | None = None,
        http: KeepAliveHttp | None = None,
        *,
        max_answer_bytes: int = 64 * 1024,
        max_large_answer_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        """Requests go through `http` when given, else through the aiohttp `session`. An answer
        body is read up to `max_answer_bytes` (sends, updates, deletes) or
        `max_large_answer_bytes` (reads: member lists); past it the call fails."""
        if session is None and http is None:
            raise ValueError("a ConnectorClient needs an aiohttp session or a KeepAliveHttp")
        self._connection_errors: tuple[type[BaseException], ...] = (TimeoutError, OSError)
        if session is not None:
            import aiohttp

            self._connection_errors += (aiohttp.ClientConnectionError,)
        self._session = session
        self._http = http
        self._credentials = credentials
        self._policy = policy or OutboundPolicy()
        self._observer = observer
        self._max_answer = max_answer_bytes
        self._max_large_answer = max_large_answer_bytes
        self._bases: dict[str, Target] = {}
        """Service URLs already checked against the policy, split for the HTTP client."""

    @classmethod
    def create(
        cls,
        *,
        timeout_seconds: float,
        credentials: Credentials | None = None,
        policy: OutboundPolicy | None = None,
        max_connections: int = 100,
        observer: RequestObserver | None = None,
        max_answer_bytes: int = 64 * 1024,
        max_large_answer_bytes: int = 8 * 1024 * 1024,
    ) -> ConnectorClient:
        """A client with its own session. Without a `policy`, private addresses are refused.
        `observer` sees every request (metrics, tracing: worker.runtime.outbound_observer)."""
        policy = policy or OutboundPolicy()
        http = KeepAliveHttp(
            timeout_seconds=timeout_seconds,
            allow_private=policy.allow_private,
            max_connections=max_connections,
            idle_seconds=60,
        )
        return cls(
            None,
            credentials or AnonymousCredentials(),
            policy,
            observer,
            http,
            max_answer_bytes=max_answer_bytes,
            max_large_answer_bytes=max_large_answer_bytes,
        )

    @classmethod
    def over_aiohttp(
        cls,
        *,
        timeout_seconds: float,
        credentials: Credentials | None = None,
        policy: OutboundPolicy | None = None,
        max_connections: int = 100,
        observer: RequestObserver | None = None,
        max_answer_bytes: int = 64 * 1024,
        max_large_answer_bytes: int = 8 * 1024 * 1024,
    ) -> ConnectorClient:
        """`create`'s client sending through aiohttp instead (the former transport, kept for
        side-by-side benchmarks: benchmarks/connector_post.py)."""
        import aiohttp

        from worker.connector.safe_resolver import PublicOnlyResolver

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
        return cls(
            session,
            credentials or AnonymousCredentials(),
            policy,
            observer,
            max_answer_bytes=max_answer_bytes,
            max_large_answer_bytes=max_large_answer_bytes,
        )

    # -- activities -----------------------------------------------------------------------------

    async def reply_to_activity(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
        *,
        before_attempt: BeforeAttempt | None = None,
    ) -> ResourceResponse:
        """POST /v3/conversations/{conversationId}/activities/{activityId}. `before_attempt` is
        awaited before each attempt (retries included); raising from it stops the send."""
        path = f"{_activities_path(conversation_id)}/{_segment(activity_id)}"
        return await self._post(service_url, path, activity, before_attempt)

    async def send_to_conversation(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        before_attempt: BeforeAttempt | None = None,
    ) -> ResourceResponse:
        """POST /v3/conversations/{conversationId}/activities (`before_attempt`: as in
        `reply_to_activity`)."""
        path = _activities_path(conversation_id)
        return await self._post(service_url, path, activity, before_attempt)

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> ResourceResponse:
        """PUT /v3/conversations/{conversationId}/activities/{activityId}: edit a sent activity.
        Idempotent, so retried like a GET."""
        path = f"{_activities_path(conversation_id)}/{_segment(activity_id)}"
        return await self._request(
            "PUT", service_url, path, activity, bodies.resource_response, IDEMPOTENT_RETRY
        )

    async def delete_activity(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> None:
        """DELETE /v3/conversations/{conversationId}/activities/{activityId}."""
        path = f"{_activities_path(conversation_id)}/{_segment(activity_id)}"
        await self._request("DELETE", service_url, path, None, bodies.nothing, IDEMPOTENT_RETRY)

    async def send_conversation_history(
        self, service_url: str, conversation_id: str, transcript: Transcript
    ) -> ResourceResponse:
        """POST /v3/conversations/{conversationId}/activities/history: upload past activities."""
        path = f"{_activities_path(conversation_id)}/history"
        return await self._post(service_url, path, transcript.to_dict())

    async def get_activity_members(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> list[ChannelAccount]:
        """GET /v3/conversations/{conversationId}/activities/{activityId}/members: who the
        activity was addressed to."""
        path = f"{_activities_path(conversation_id)}/{_segment(activity_id)}/members"
        return await self._get(service_url, path, bodies.members)

    # -- conversations and members --------------------------------------------------------------

    async def create_conversation(
        self, service_url: str, parameters: ConversationParameters
    ) -> ConversationResourceResponse:
        """POST /v3/conversations: start a conversation (a 1:1 chat, a group, a Teams channel
        thread), with its first activity if `parameters.activity` is set."""
        return await self._request(
            "POST",
            service_url,
            "v3/conversations",
            parameters.to_dict(),
            bodies.conversation_resource_response,
            POST_RETRY,
        )

    async def get_conversation_members(
        self, service_url: str, conversation_id: str
    ) -> list[ChannelAccount]:
        """GET /v3/conversations/{conversationId}/members: everyone in the conversation."""
        return await self._get(service_url, _members_path(conversation_id), bodies.members)

    async def get_conversation_member(
        self, service_url: str, conversation_id: str, member_id: str
    ) -> ChannelAccount:
        """GET /v3/conversations/{conversationId}/members/{memberId}: one member."""
        path = f"{_members_path(conversation_id)}/{_segment(member_id)}"
        return await self._get(service_url, path, bodies.member)

    async def get_conversation_paged_members(
        self,
        service_url: str,
        conversation_id: str,
        page_size: int | None = None,
        continuation_token: str | None = None,
    ) -> PagedMembersResult:
        """GET /v3/conversations/{conversationId}/pagedmembers: one page of members; pass the
        page's `continuation_token` to get the next (see `iter_conversation_members`)."""
        query = {"pageSize": page_size, "continuationToken": continuation_token}
        path = f"v3/conversations/{_segment(conversation_id)}/pagedmembers{_query(query)}"
        return await self._get(service_url, path, bodies.paged_members)

    async def iter_conversation_members(
        self, service_url: str, conversation_id: str, page_size: int | None = None
    ) -> AsyncIterator[ChannelAccount]:
        """Every member of a conversation, fetching page after page as the iteration goes."""
        token: str | None = None
        while True:
            page = await self.get_conversation_paged_members(
                service_url, conversation_id, page_size, token
            )
            for account in page.members or ():
                yield account
            # A channel handing back the token it was given would otherwise loop forever.
            if not page.continuation_token or page.continuation_token == token:
                return
            token = page.continuation_token

    async def delete_conversation_member(
        self, service_url: str, conversation_id: str, member_id: str
    ) -> None:
        """DELETE /v3/conversations/{conversationId}/members/{memberId}: remove a member."""
        path = f"{_members_path(conversation_id)}/{_segment(member_id)}"
        await self._request("DELETE", service_url, path, None, bodies.nothing, IDEMPOTENT_RETRY)

    async def upload_attachment(
        self, service_url: str, conversation_id: str, attachment_upload: AttachmentData
    ) -> ResourceResponse:
        """POST /v3/conversations/{conversationId}/attachments: store a file with the channel;
        the answer's id names it for `/v3/attachments/{id}`."""
        path = f"v3/conversations/{_segment(conversation_id)}/attachments"
        return await self._post(service_url, path, attachment_upload.to_dict())

    # -- transport ------------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        base_url: str,
        path: str,
        body: dict[str, Any] | None,
        decode: Callable[[bytes], T],
    ) -> T:
        """A request to another Bot Framework service with this client's rules (allow-list,
        token, bounds, retries: a POST as a send, anything else as an idempotent call); used by
        `worker.connector.token_service`. `path` must be escaped already."""
        retry = POST_RETRY if method == "POST" else IDEMPOTENT_RETRY
        return await self._request(method, base_url, path, body, decode, retry)

    async def _post(
        self,
        service_url: str,
        path: str,
        body: dict[str, Any],
        before_attempt: BeforeAttempt | None = None,
    ) -> ResourceResponse:
        return await self._request(
            "POST", service_url, path, body, bodies.resource_response, POST_RETRY, before_attempt
        )

    async def _get(self, service_url: str, path: str, decode: Callable[[bytes], T]) -> T:
        return await self._request("GET", service_url, path, None, decode, IDEMPOTENT_RETRY)

    async def _request(
        self,
        method: str,
        service_url: str,
        path: str,
        body: dict[str, Any] | None,
        decode: Callable[[bytes], T],
        retry_statuses: frozenset[int],
        before_attempt: BeforeAttempt | None = None,
    ) -> T:
        """Send, retrying what `retry_statuses` allows (and, for idempotent methods, network
        failures), and decode a 2xx body with `decode`; any other answer raises ConnectorError."""
        url = f"{service_url.rstrip('/')}/{path}"
        target = self._target(service_url, url, path)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        authorization = await self._credentials.authorization(service_url)
        if authorization:
            headers["Authorization"] = authorization
        data = orjson.dumps(body) if body is not None else None
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            if before_attempt is not None:
                await before_attempt()
            try:
                status, payload, response_headers = await self._observed_send(
                    method, url, target, data, headers
                )
            except AnswerRefused as e:
                # Not sent again here: the service answered, and would answer the same way.
                log.warning(
                    "refused the answer of %s %s: %s", method, url, e, extra={"service_url": url}
                )
                raise ConnectorError(method, url, BAD_ANSWER_STATUS, "", message=str(e)) from e
            except self._connection_errors:
                # A POST that timed out may have been delivered: only a request that can be
                # repeated without effect is sent again.
                if method == "POST" or attempt == RETRY_ATTEMPTS:
                    raise
                await asyncio.sleep(_retry_delay(None, attempt))
                continue
            if status < 300:
                try:
                    return decode(payload)
                except ValueError as problem:
                    raise bodies.unexpected_body(method, url, status, payload, problem) from problem
            if status not in retry_statuses or attempt == RETRY_ATTEMPTS:
                raise bodies.connector_error(method, url, status, payload, response_headers)
            await asyncio.sleep(_retry_delay(response_headers.get("Retry-After"), attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _target(self, service_url: str, url: str, path: str) -> Target:
        """Where `url` (= service URL + `path`) goes, checked against the policy. The check and
        the parsing are done once per service URL (they cost ~20 µs per request otherwise):
        `path` is made of escaped segments, so it cannot change the scheme, host or port."""
        base = self._bases.get(service_url)
        if base is None:
            self._policy.check_destination(url)  # raises for a forbidden one: never cached
            sent = _as_sent(service_url.rstrip("/"))
            if sent.raw_query_string or sent.raw_fragment:  # odd: parse every URL whole
                whole = _as_sent(url)
                return Target(
                    whole.scheme, whole.raw_host or "", whole.port or 0, whole.raw_path_qs
                )
            if len(self._bases) >= MAX_KNOWN_SERVICE_URLS:
                self._bases.clear()
            base = Target(
                sent.scheme, sent.raw_host or "", sent.port or 0, sent.raw_path.rstrip("/")
            )
            self._bases[service_url] = base
        return Target(base.scheme, base.host, base.port, f"{base.path}/{path}")

    async def _observed_send(
        self, method: str, url: str, target: Target, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """`_send`, told to the observer (each attempt on its own)."""
        if self._observer is None:
            return await self._send(method, url, target, data, headers)
        call = self._observer.start(method, url, headers)
        try:
            answer = await self._send(method, url, target, data, headers)
        except BaseException as error:
            call.failed(error)
            raise
        call.ended(answer[0])
        return answer

    async def _send(
        self, method: str, url: str, target: Target, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, Mapping[str, str]]:
        max_body = self._max_large_answer if method == "GET" else self._max_answer
        if self._http is not None:
            try:
                return await self._http.request(
                    method,
                    target.scheme,
                    target.host,
                    target.port,
                    target.path,
                    headers,
                    data,
                    max_body=max_body,
                )
            except PrivateAddressRefused as e:
                raise ForbiddenServiceUrl(url, str(e)) from e
        assert self._session is not None
        import aiohttp

        try:
            # No redirects: a 3xx could send the request, token included, somewhere else.
            async with self._session.request(
                method, _as_sent(url), data=data, headers=headers, allow_redirects=False
            ) as response:
                return response.status, await _read_bounded(response, max_body), response.headers
        except aiohttp.ClientConnectorError as e:
            if isinstance(e.os_error, PrivateAddressRefused):
                raise ForbiddenServiceUrl(url, str(e.os_error)) from e
            raise

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._session is not None:
            await self._session.close()


MAX_KNOWN_SERVICE_URLS = 1024
RETRY_ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 10.0
POST_RETRY = frozenset({429, 503})
"""A POST creates something (a message, a conversation): it is sent again only when the answer
says it was not taken (429 throttled, 503 unavailable). After a 500, 502, 504 or a timeout it may
have been delivered, so it fails instead of risking a duplicate."""
IDEMPOTENT_RETRY = frozenset({408, 429, 500, 502, 503, 504})
"""GET, PUT and DELETE have the same effect sent once or twice: retried on any transient answer
(and on timeouts and dropped connections)."""


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or AnswerRefused as soon as it passes `limit` bytes."""
    if (response.content_length or 0) > limit:
        raise AnswerRefused(f"answer body of {response.content_length} bytes, more than {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise AnswerRefused(f"answer body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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
        return exponential(attempt - 1, first=0.5, cap=MAX_RETRY_AFTER_SECONDS)
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, delay))


_ENCODED_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
"""Only characters a URL may carry as they are: anything else (a space, CR/LF, non-ASCII) is
left to yarl to percent-encode."""


def _as_sent(url: str) -> URL:
    # aiohttp would otherwise re-quote the path and turn the ids' %3A, %40, %3B back into
    # ':', '@', ';' (and a ';' starts path parameters on some servers): send what was escaped.
    from yarl import URL  # loaded on first use (once per service URL): not at import

    return URL(url, encoded=True) if _ENCODED_URL.fullmatch(url) else URL(url)


def _segment(identifier: str) -> str:
    # Conversation ids carry ':', ';' and '@' (Teams), any id may carry '/' or '?': always one
    # escaped path segment.
    return quote(identifier, safe="")


def _activities_path(conversation_id: str) -> str:
    return f"v3/conversations/{_segment(conversation_id)}/activities"


def _members_path(conversation_id: str) -> str:
    return f"v3/conversations/{_segment(conversation_id)}/members"


def _query(parameters: dict[str, str | int | None]) -> str:
    present = {name: value for name, value in parameters.items() if value is not None}
    return f"?{urlencode(present, quote_via=quote, safe='')}" if present else ""
