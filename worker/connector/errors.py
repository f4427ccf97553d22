"""What a Bot Connector or token service call can fail with."""

from __future__ import annotations

from shared.schema.activity import ErrorResponse
from worker.errors import WorkerError


class ConnectorError(WorkerError):
    """The Bot Connector answered a request with a non-2xx status (or a 2xx body that is not
    what the operation returns).

    `status` and `body` (the raw text) are always set. When the body is the connector's
    `ErrorResponse`, `code` and `message` are its error's, and `error` is the whole of it;
    `operation_id` is the `X-Correlating-OperationId` header, which Microsoft support asks for.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        body: str,
        *,
        code: str | None = None,
        message: str | None = None,
        operation_id: str | None = None,
        error: ErrorResponse | None = None,
    ) -> None:
        detail = f"{code}: {message}" if code and message else (code or message or body[:300])
        suffix = f" (operation {operation_id})" if operation_id else ""
        super().__init__(f"{method} {url} -> {status}: {detail}{suffix}")
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.code = code
        self.message = message
        self.operation_id = operation_id
        self.error = error


class ForbiddenServiceUrl(WorkerError):
    """A request to a service URL the worker must not contact (a private address without
    TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS, or not http(s)). Not transient: never retried."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"refusing to contact {url}: {reason}")
        self.url = url


class TokenUnavailable(WorkerError):
    """The bot's outbound token could not be obtained (the token endpoint failed or refused).
    Transient: the turn runs again later, and lands in the dead letters if it never works."""


class PrivateAddressRefused(OSError):
    """A name resolved to a private, loopback, link-local or reserved address."""
