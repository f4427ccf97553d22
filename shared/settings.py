"""Settings read once from the environment (12-factor), with errors that name the variable."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from shared.errors import ConfigError

T = TypeVar("T")


class AppType(enum.StrEnum):
    """How the bot authenticates to the Bot Connector (Bot Framework's `MicrosoftAppType`)."""

    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclass(frozen=True)
class Settings:
    """Everything the gateway and the workers read from the environment.

    Build it with `Settings.from_env(os.environ)`; the field docs name the variables.
    """

    redis_url: str | None = None
    """`REDIS_URL`: redis:// or rediss:// URL. Unset: `turnstream dev` starts its own server."""
    app_id: str | None = None
    """`MicrosoftAppId`. Unset: anonymous dev mode (no inbound JWT check, no outbound token)."""
    app_password: str | None = None
    """`MicrosoftAppPassword`."""
    app_type: AppType = AppType.MULTI_TENANT
    """`MicrosoftAppType`: MultiTenant, SingleTenant or UserAssignedMSI."""
    app_tenant_id: str | None = None
    """`MicrosoftAppTenantId`, required for SingleTenant."""
    key_prefix: str = "turnstream"
    """`TURNSTREAM_KEY_PREFIX`: prefix of every Redis key, so deployments can share a server."""
    shards: int = 16
    """`TURNSTREAM_SHARDS`: inbound stream shards. Gateways and workers must agree on it."""
    max_body_bytes: int = 256 * 1024
    """`TURNSTREAM_MAX_BODY_BYTES`: larger requests get 413."""
    dedupe_window_seconds: int = 600
    """`TURNSTREAM_DEDUPE_WINDOW_SECONDS`: an activity id repeated within it is not re-queued."""
    redis_timeout_seconds: float = 1.0
    """`TURNSTREAM_REDIS_TIMEOUT_SECONDS`: bound on a Redis round trip; past it the gateway 503s."""
    redis_max_connections: int = 64
    """`TURNSTREAM_REDIS_MAX_CONNECTIONS`: pool size per process; callers wait for a free one."""
    max_backlog: int = 100_000
    """`TURNSTREAM_MAX_BACKLOG`: above this many queued entries not yet read by any worker (all
    shards together), the gateway answers 503 + Retry-After and /readyz fails. 0: no limit."""
    retry_after_seconds: int = 1
    """`TURNSTREAM_RETRY_AFTER_SECONDS`: the `Retry-After` sent with a 503."""
    worker_concurrency: int = 64
    """`TURNSTREAM_WORKER_CONCURRENCY`: turns one worker process runs at once."""
    max_deliveries: int = 5
    """`TURNSTREAM_MAX_DELIVERIES`: after this many deliveries without success an entry goes to
    the dead-letter stream and its conversation moves on."""
    claim_idle_seconds: float = 5.0
    """`TURNSTREAM_CLAIM_IDLE_SECONDS`: an entry whose worker has not shown life for this long
    (killed, frozen, cut off) is taken over by another worker. Live workers renew theirs."""
    drain_timeout_seconds: float = 25.0
    """`TURNSTREAM_DRAIN_TIMEOUT_SECONDS`: how long a stopping worker waits for in-flight turns."""
    connector_timeout_seconds: float = 30.0
    """`TURNSTREAM_CONNECTOR_TIMEOUT_SECONDS`: total time for one Bot Connector request."""
    log_format: LogFormat = LogFormat.JSON
    """`TURNSTREAM_LOG_FORMAT`: json (production) or text (what `turnstream dev` uses)."""
    log_level: str = "INFO"
    """`TURNSTREAM_LOG_LEVEL`: DEBUG, INFO, WARNING or ERROR."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every setting; raise `ConfigError` naming the first bad variable."""
        env = _Env(environ)
        settings = cls(
            redis_url=env.optional("REDIS_URL", _redis_url),
            app_id=env.optional("MicrosoftAppId", str),
            app_password=env.optional("MicrosoftAppPassword", str),
            app_type=env.get("MicrosoftAppType", _choice(AppType), cls.app_type),
            app_tenant_id=env.optional("MicrosoftAppTenantId", str),
            key_prefix=env.get("TURNSTREAM_KEY_PREFIX", _key_prefix, cls.key_prefix),
            shards=env.get("TURNSTREAM_SHARDS", _int_between(1, 1024), cls.shards),
            max_body_bytes=env.get(
                "TURNSTREAM_MAX_BODY_BYTES",
                _int_between(1024, 64 * 1024 * 1024),
                cls.max_body_bytes,
            ),
            dedupe_window_seconds=env.get(
                "TURNSTREAM_DEDUPE_WINDOW_SECONDS",
                _int_between(1, 7 * 86400),
                cls.dedupe_window_seconds,
            ),
            redis_timeout_seconds=env.get(
                "TURNSTREAM_REDIS_TIMEOUT_SECONDS",
                _float_between(0.05, 60),
                cls.redis_timeout_seconds,
            ),
            redis_max_connections=env.get(
                "TURNSTREAM_REDIS_MAX_CONNECTIONS",
                _int_between(2, 10_000),
                cls.redis_max_connections,
            ),
            max_backlog=env.get("TURNSTREAM_MAX_BACKLOG", _int_between(0, 10**9), cls.max_backlog),
            retry_after_seconds=env.get(
                "TURNSTREAM_RETRY_AFTER_SECONDS", _int_between(1, 3600), cls.retry_after_seconds
            ),
            worker_concurrency=env.get(
                "TURNSTREAM_WORKER_CONCURRENCY", _int_between(1, 10_000), cls.worker_concurrency
            ),
            max_deliveries=env.get(
                "TURNSTREAM_MAX_DELIVERIES", _int_between(1, 1000), cls.max_deliveries
            ),
            claim_idle_seconds=env.get(
                "TURNSTREAM_CLAIM_IDLE_SECONDS", _float_between(1, 3600), cls.claim_idle_seconds
            ),
            drain_timeout_seconds=env.get(
                "TURNSTREAM_DRAIN_TIMEOUT_SECONDS",
                _float_between(0, 3600),
                cls.drain_timeout_seconds,
            ),
            connector_timeout_seconds=env.get(
                "TURNSTREAM_CONNECTOR_TIMEOUT_SECONDS",
                _float_between(0.1, 600),
                cls.connector_timeout_seconds,
            ),
            log_format=env.get("TURNSTREAM_LOG_FORMAT", _choice(LogFormat), cls.log_format),
            log_level=env.get("TURNSTREAM_LOG_LEVEL", _log_level, cls.log_level),
        )
        if (
            settings.app_type is AppType.SINGLE_TENANT
            and settings.app_id
            and not settings.app_tenant_id
        ):
            raise ConfigError("MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant")
        return settings


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str, parse: Callable[[str], T]) -> T | None:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return None
        return self._parse(name, raw, parse)

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        value = self.optional(name, parse)
        return default if value is None else value

    @staticmethod
    def _parse(name: str, raw: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(raw)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{name}={raw!r} is not valid: {e}") from e


N = TypeVar("N", int, float)


def _between(kind: Callable[[str], N], low: N, high: N) -> Callable[[str], N]:
    def parse(raw: str) -> N:
        value = kind(raw)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    return _between(int, low, high)


def _float_between(low: float, high: float) -> Callable[[str], float]:
    return _between(float, low, high)


E = TypeVar("E", bound=enum.StrEnum)


def _choice(choices: type[E]) -> Callable[[str], E]:
    def parse(raw: str) -> E:
        for choice in choices:
            if choice.value.lower() == raw.lower():
                return choice
        raise ValueError("must be one of " + ", ".join(c.value for c in choices))

    return parse


def _redis_url(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return raw


def _key_prefix(raw: str) -> str:
    if any(c in raw for c in "{} \t\n"):
        raise ValueError("must not contain braces or whitespace")
    return raw


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level
