"""Settings read once from the environment (12-factor), with errors that name the variable."""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

import orjson

from shared.errors import ConfigError
from shared.redis_url import Topology, parse_target, redacted, topology

T = TypeVar("T")


class AppType(enum.StrEnum):
    """How the bot authenticates to the Bot Connector (Bot Framework's `MicrosoftAppType`)."""

    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


BOT_FRAMEWORK_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
"""Where the Bot Framework publishes the keys that sign channel tokens."""
EMULATOR_OPENID_METADATA_URL = (
    "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
)
"""Where Microsoft Entra ID publishes the keys that sign Bot Framework Emulator tokens."""
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"
"""The tenant a MultiTenant bot asks for its outbound token."""
TOKEN_ENDPOINT_TEMPLATE = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MIN_ENVELOPE_SECRET_LENGTH = 32
MAX_BODY_BYTES_LIMIT = 16 * 1024 * 1024
"""The largest `TURNSTREAM_MAX_BODY_BYTES`: an envelope must stay below what a worker unpacks
(`shared.codec.MAX_UNPACK_BYTES`), or an acknowledged activity could not be read."""


class AckDurability(enum.StrEnum):
    """When the gateway may answer 2xx: once the primary has the activity (`none`), once
    replicas have it in memory (`replica`: WAIT), or fsynced to their AOF (`replica-aof`:
    WAITAOF)."""

    NONE = "none"
    REPLICA = "replica"
    REPLICA_AOF = "replica-aof"


MIN_TIMEOUT_FOR_WAITAOF = 3.0
"""Seconds of `TURNSTREAM_REDIS_TIMEOUT_SECONDS` that `replica-aof` needs (WAITAOF gets half)."""


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclass(frozen=True)
class Settings:
    """Everything the gateway and the workers read from the environment.

    Build it with `Settings.from_env(os.environ)`; the field docs name the variables.
    """

    redis_url: str | None = None
    """`REDIS_URL`: redis://, rediss://, unix://, redis+cluster:// or redis+sentinel:// URL
    (`shared.redis_url`). Unset: `turnstream dev` starts its own server."""
    app_id: str | None = None
    """`MicrosoftAppId`. Unset: anonymous dev mode (no inbound JWT check, no outbound token)."""
    app_password: str | None = field(default=None, repr=False)
    """`MicrosoftAppPassword`: the client secret of the outbound token (workers only)."""
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
    openid_metadata_url: str = BOT_FRAMEWORK_OPENID_METADATA_URL
    """`TURNSTREAM_OPENID_METADATA_URL`: OpenID metadata of the channel tokens' keys (tests,
    sovereign clouds)."""
    allow_emulator_tokens: bool = False
    """`TURNSTREAM_ALLOW_EMULATOR_TOKENS`: also accept Bot Framework Emulator tokens."""
    emulator_openid_metadata_url: str = EMULATOR_OPENID_METADATA_URL
    """`TURNSTREAM_EMULATOR_OPENID_METADATA_URL`: OpenID metadata of the emulator tokens' keys."""
    token_endpoint: str | None = None
    """`TURNSTREAM_TOKEN_ENDPOINT`: the client-credentials token endpoint. Unset: Microsoft's,
    for the `botframework.com` tenant (MultiTenant) or `MicrosoftAppTenantId` (SingleTenant)."""
    outbound_allowed_hosts: tuple[str, ...] = ()
    """`TURNSTREAM_OUTBOUND_ALLOWED_HOSTS`: comma-separated hosts (each with its subdomains)
    that get the bot's token, besides the Microsoft hosts and validated service URLs."""
    allow_private_service_urls: bool = False
    """`TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS`: allow service URLs on private, loopback or
    link-local addresses (development; `turnstream dev` sets it)."""
    envelope_secrets: tuple[str, ...] = field(default=(), repr=False)
    """`TURNSTREAM_ENVELOPE_SECRET`: comma-separated secrets; gateways sign envelopes with the
    first, workers accept any of them and refuse unsigned entries. Unset: no signing."""
    max_json_depth: int = 64
    """`TURNSTREAM_MAX_JSON_DEPTH`: activities nested deeper get 400."""
    reply_timeout_seconds: float = 10.0
    """`TURNSTREAM_REPLY_TIMEOUT_SECONDS`: how long the gateway waits for the answer of an
    invoke or an expectReplies activity (channels give up at 15 s)."""
    reply_timeout_status: int = 504
    """`TURNSTREAM_REPLY_TIMEOUT_STATUS`: the status answered when that wait runs out."""
    reply_timeout_body: bytes | None = None
    """`TURNSTREAM_REPLY_TIMEOUT_BODY`: JSON answered with it (unset: an error message)."""
    proactive_secret: str | None = field(default=None, repr=False)
    """`TURNSTREAM_PROACTIVE_SECRET`: the bearer secret of `POST /api/proactive` (unset: the
    route answers 404)."""
    proactive_rate_per_second: float = 30.0
    """`TURNSTREAM_PROACTIVE_RATE_PER_SECOND`: proactive sends per service URL and tenant per
    second, shared by every worker (Teams throttles an app at about 30/s per tenant)."""
    typing_while_queued_seconds: float = 2.0
    """`TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS`: a message that waited this long for its turn
    gets a typing indicator in its conversation first. 0: never."""
    typing_excluded_channels: tuple[str, ...] = ("email", "sms")
    """`TURNSTREAM_TYPING_EXCLUDED_CHANNELS`: comma-separated channel ids that reject typing."""
    ack_durability: AckDurability = AckDurability.NONE
    """`TURNSTREAM_ACK_DURABILITY`: none, replica (WAIT) or replica-aof (WAITAOF) before 2xx."""
    ack_replicas: int = 1
    """`TURNSTREAM_ACK_REPLICAS`: how many replicas must confirm (with a durability setting)."""
    log_format: LogFormat = LogFormat.JSON
    """`TURNSTREAM_LOG_FORMAT`: json (production) or text (what `turnstream dev` uses)."""
    log_level: str = "INFO"
    """`TURNSTREAM_LOG_LEVEL`: DEBUG, INFO, WARNING or ERROR."""
    metrics_port: int = 0
    """`TURNSTREAM_METRICS_PORT`: where a worker serves /metrics and /healthz over HTTP (all
    interfaces). 0: no server. Gateways serve /metrics on their own port."""
    # -- the edges: what one client (a caller of the gateway, or a service URL answering a
    # worker) may cost a process, whatever it sends (docs/kubernetes.md pairs them with the
    # ingress's own values) ------------------------------------------------------------------
    max_header_bytes: int = 16 * 1024
    """`TURNSTREAM_MAX_HEADER_BYTES`: a request's line and headers together; more gets 431."""
    max_headers: int = 100
    """`TURNSTREAM_MAX_HEADERS`: headers in one request; more gets 431."""
    max_request_target_bytes: int = 2048
    """`TURNSTREAM_MAX_REQUEST_TARGET_BYTES`: the request's path and query; longer gets 414."""
    header_timeout_seconds: float = 10.0
    """`TURNSTREAM_HEADER_TIMEOUT_SECONDS`: a new connection's first request, and any request
    once begun, must have its whole head in within this (else 408 and the connection closes)."""
    body_timeout_seconds: float = 10.0
    """`TURNSTREAM_BODY_TIMEOUT_SECONDS`: a request's whole body must follow its head within
    this (else 408 and the connection closes)."""
    keepalive_seconds: int = 75
    """`TURNSTREAM_KEEPALIVE_SECONDS`: an idle keep-alive connection is closed after this. Keep
    it longer than the ingress's upstream keep-alive timeout (ingress-nginx 60 s)."""
    max_connections: int = 1000
    """`TURNSTREAM_MAX_CONNECTIONS`: open connections per gateway process; a connection past it
    gets 503 + Retry-After and is closed. Lowered to fit the process's open-file limit."""
    connector_max_answer_bytes: int = 64 * 1024
    """`TURNSTREAM_CONNECTOR_MAX_ANSWER_BYTES`: the largest Bot Connector answer body a worker
    reads for a send, update or delete (a `ResourceResponse` is a few dozen bytes)."""
    connector_max_large_answer_bytes: int = 8 * 1024 * 1024
    """`TURNSTREAM_CONNECTOR_MAX_LARGE_ANSWER_BYTES`: the same for reads (member lists, an
    activity's members)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every setting; raise `ConfigError` naming the first bad variable."""
        env = _Env(environ)
        settings = cls(
            redis_url=env.optional("REDIS_URL", _redis_url, shown=lambda raw: repr(redacted(raw))),
            app_id=env.optional("MicrosoftAppId", str),
            app_password=env.optional("MicrosoftAppPassword", str, secret=True),
            app_type=env.get("MicrosoftAppType", _choice(AppType), cls.app_type),
            app_tenant_id=env.optional("MicrosoftAppTenantId", str),
            key_prefix=env.get("TURNSTREAM_KEY_PREFIX", _key_prefix, cls.key_prefix),
            shards=env.get("TURNSTREAM_SHARDS", _int_between(1, 1024), cls.shards),
            max_body_bytes=env.get(
                "TURNSTREAM_MAX_BODY_BYTES",
                _int_between(1024, MAX_BODY_BYTES_LIMIT),
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
            openid_metadata_url=env.get(
                "TURNSTREAM_OPENID_METADATA_URL", _metadata_url, cls.openid_metadata_url
            ),
            allow_emulator_tokens=env.get(
                "TURNSTREAM_ALLOW_EMULATOR_TOKENS", _boolean, cls.allow_emulator_tokens
            ),
            emulator_openid_metadata_url=env.get(
                "TURNSTREAM_EMULATOR_OPENID_METADATA_URL",
                _metadata_url,
                cls.emulator_openid_metadata_url,
            ),
            token_endpoint=env.optional("TURNSTREAM_TOKEN_ENDPOINT", _metadata_url),
            outbound_allowed_hosts=env.get(
                "TURNSTREAM_OUTBOUND_ALLOWED_HOSTS", _host_list, cls.outbound_allowed_hosts
            ),
            allow_private_service_urls=env.get(
                "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS", _boolean, cls.allow_private_service_urls
            ),
            envelope_secrets=env.get(
                "TURNSTREAM_ENVELOPE_SECRET", _secret_list, cls.envelope_secrets, secret=True
            ),
            max_json_depth=env.get(
                "TURNSTREAM_MAX_JSON_DEPTH", _int_between(2, 512), cls.max_json_depth
            ),
            reply_timeout_seconds=env.get(
                "TURNSTREAM_REPLY_TIMEOUT_SECONDS",
                _float_between(0.1, 14),
                cls.reply_timeout_seconds,
            ),
            reply_timeout_status=env.get(
                "TURNSTREAM_REPLY_TIMEOUT_STATUS", _int_between(200, 599), cls.reply_timeout_status
            ),
            reply_timeout_body=env.optional("TURNSTREAM_REPLY_TIMEOUT_BODY", _json_document),
            proactive_secret=env.optional(
                "TURNSTREAM_PROACTIVE_SECRET", _shared_secret, secret=True
            ),
            proactive_rate_per_second=env.get(
                "TURNSTREAM_PROACTIVE_RATE_PER_SECOND",
                _float_between(0.1, 10_000),
                cls.proactive_rate_per_second,
            ),
            typing_while_queued_seconds=env.get(
                "TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS",
                _float_between(0, 14),
                cls.typing_while_queued_seconds,
            ),
            typing_excluded_channels=env.get(
                "TURNSTREAM_TYPING_EXCLUDED_CHANNELS", _name_list, cls.typing_excluded_channels
            ),
            ack_durability=env.get(
                "TURNSTREAM_ACK_DURABILITY", _choice(AckDurability), cls.ack_durability
            ),
            ack_replicas=env.get("TURNSTREAM_ACK_REPLICAS", _int_between(1, 16), cls.ack_replicas),
            log_format=env.get("TURNSTREAM_LOG_FORMAT", _choice(LogFormat), cls.log_format),
            log_level=env.get("TURNSTREAM_LOG_LEVEL", _log_level, cls.log_level),
            metrics_port=env.get(
                "TURNSTREAM_METRICS_PORT", _int_between(0, 65535), cls.metrics_port
            ),
            max_header_bytes=env.get(
                "TURNSTREAM_MAX_HEADER_BYTES", _int_between(1024, 1024 * 1024), cls.max_header_bytes
            ),
            max_headers=env.get("TURNSTREAM_MAX_HEADERS", _int_between(8, 1000), cls.max_headers),
            max_request_target_bytes=env.get(
                "TURNSTREAM_MAX_REQUEST_TARGET_BYTES",
                _int_between(256, 64 * 1024),
                cls.max_request_target_bytes,
            ),
            header_timeout_seconds=env.get(
                "TURNSTREAM_HEADER_TIMEOUT_SECONDS",
                _float_between(0.1, 300),
                cls.header_timeout_seconds,
            ),
            body_timeout_seconds=env.get(
                "TURNSTREAM_BODY_TIMEOUT_SECONDS",
                _float_between(0.1, 300),
                cls.body_timeout_seconds,
            ),
            keepalive_seconds=env.get(
                "TURNSTREAM_KEEPALIVE_SECONDS", _int_between(1, 3600), cls.keepalive_seconds
            ),
            max_connections=env.get(
                "TURNSTREAM_MAX_CONNECTIONS", _int_between(16, 1_000_000), cls.max_connections
            ),
            connector_max_answer_bytes=env.get(
                "TURNSTREAM_CONNECTOR_MAX_ANSWER_BYTES",
                _int_between(1024, 1024**3),
                cls.connector_max_answer_bytes,
            ),
            connector_max_large_answer_bytes=env.get(
                "TURNSTREAM_CONNECTOR_MAX_LARGE_ANSWER_BYTES",
                _int_between(1024, 1024**3),
                cls.connector_max_large_answer_bytes,
            ),
        )
        if (
            settings.ack_durability is AckDurability.REPLICA_AOF
            and settings.redis_timeout_seconds < MIN_TIMEOUT_FOR_WAITAOF
        ):
            # Replicas report their fsynced offset about once a second (measured: WAITAOF takes
            # ~1 s, docs/benchmarks.md); the wait gets half the timeout, so less always fails.
            raise ConfigError(
                f"TURNSTREAM_REDIS_TIMEOUT_SECONDS must be at least {MIN_TIMEOUT_FOR_WAITAOF:g} "
                "with TURNSTREAM_ACK_DURABILITY=replica-aof"
            )
        if (
            settings.app_type is AppType.SINGLE_TENANT
            and settings.app_id
            and not settings.app_tenant_id
        ):
            raise ConfigError("MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant")
        return settings

    @property
    def authenticated(self) -> bool:
        """True when an app id is set: inbound tokens are checked, outbound tokens sent."""
        return bool(self.app_id)

    def token_url(self) -> str:
        """Where a worker asks for its client-credentials token."""
        if self.token_endpoint:
            return self.token_endpoint
        tenant = (
            self.app_tenant_id
            if self.app_type is AppType.SINGLE_TENANT and self.app_tenant_id
            else MULTI_TENANT_AUTHORITY_TENANT
        )
        return TOKEN_ENDPOINT_TEMPLATE.format(tenant=tenant)

    def check_worker(self) -> None:
        """What a worker needs beyond what the gateway does: the client secret of its token.
        (Gateways never need the secret, so it is not asked of them.)"""
        if not self.app_id:
            return
        if self.app_type is AppType.USER_ASSIGNED_MSI:
            raise ConfigError(
                "MicrosoftAppType=UserAssignedMSI is not supported yet; use MultiTenant or "
                "SingleTenant with MicrosoftAppPassword"
            )
        if not self.app_password:
            raise ConfigError("MicrosoftAppPassword is required when MicrosoftAppId is set")


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(
        self,
        name: str,
        parse: Callable[[str], T],
        *,
        secret: bool = False,
        shown: Callable[[str], str] = repr,
    ) -> T | None:
        """The parsed value, None when unset; a bad value raises ConfigError naming `name` and
        showing the value through `shown` (never, for a `secret`)."""
        raw = self._environ.get(name, "").strip()
        if not raw:
            return None
        try:
            return parse(raw)
        except (ValueError, TypeError) as e:
            shown_value = "(secret value not shown)" if secret else shown(raw)
            raise ConfigError(f"{name}={shown_value} is not valid: {e}") from e

    def get(self, name: str, parse: Callable[[str], T], default: T, *, secret: bool = False) -> T:
        value = self.optional(name, parse, secret=secret)
        return default if value is None else value


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
    if topology(raw) is not Topology.SINGLE:
        parse_target(raw)  # cluster or Sentinel: checked here, so a typo fails at startup
        return raw
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            "must start with redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://"
        )
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


def _boolean(raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _metadata_url(raw: str) -> str:
    """https, or plain http only to a loopback host (a test identity provider)."""
    parts = urlsplit(raw)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValueError("must be an absolute https:// URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("must use https (plain http is allowed only to a loopback address)")
    return raw


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _host_list(raw: str) -> tuple[str, ...]:
    hosts = []
    for part in raw.split(","):
        host = part.strip().lower().rstrip(".")
        if not host:
            continue
        if not all(_HOST_LABEL.match(label) for label in host.split(".")):
            raise ValueError(f"{part.strip()!r} is not a host name (no scheme, port or path)")
        hosts.append(host)
    return tuple(hosts)


def _secret_list(raw: str) -> tuple[str, ...]:
    secrets = tuple(part.strip() for part in raw.split(",") if part.strip())
    if any(len(secret) < MIN_ENVELOPE_SECRET_LENGTH for secret in secrets):
        # The message must not echo the value: it is a secret.
        raise ValueError(f"each secret must be at least {MIN_ENVELOPE_SECRET_LENGTH} characters")
    return secrets


def _json_document(raw: str) -> bytes:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("must be a JSON document") from None
    return raw.encode()


def _shared_secret(raw: str) -> str:
    if len(raw) < MIN_ENVELOPE_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_ENVELOPE_SECRET_LENGTH} characters")
    return raw


def _name_list(raw: str) -> tuple[str, ...]:
    if raw.lower() == "none":
        return ()
    return tuple(part.strip() for part in raw.split(",") if part.strip())
