"""Settings read once from the environment (12-factor), with errors that name the variable."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from shared import setting_rules as rules
from shared.errors import ConfigError
from shared.redis.url import redacted
from shared.setting_rules import (
    BOOLEAN,
    MIN_SECRET_LENGTH,
    Rule,
    choice,
    float_between,
    int_between,
)

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
MAX_BODY_BYTES_LIMIT = 16 * 1024 * 1024
"""The largest `TURNSTREAM_MAX_BODY_BYTES`: an envelope must stay below what a worker unpacks
(`shared.protocol.codec.MAX_UNPACK_BYTES`), or an acknowledged activity could not be read."""


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
class Setting:
    """One environment variable, declared once: how it is parsed and bounded, and its
    documentation. `turnstream settings --markdown` renders the reference in
    docs/configuration.md from these, and a test keeps the two equal."""

    variable: str
    rule: Rule[Any]
    doc: str
    default_text: str | None = None
    """How the reference shows the default, where the value itself would not say it."""
    secret: bool = False
    """Never shown: not in errors, not in `repr`, not by `turnstream settings`."""
    shown: Callable[[str], str] = repr
    """How an invalid value is quoted in an error (REDIS_URL hides its password)."""


SETTING = "turnstream.setting"
"""The key of a `Settings` field's `Setting` in its dataclass metadata."""


def setting(
    variable: str,
    rule: Rule[Any],
    default: Any,
    doc: str,
    *,
    default_text: str | None = None,
    secret: bool = False,
    shown: Callable[[str], str] = repr,
) -> Any:
    """A `Settings` field read from `variable` (see `Setting`)."""
    declared = Setting(variable, rule, doc, default_text, secret, shown)
    return field(default=default, repr=not secret, metadata={SETTING: declared})


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


@dataclass(frozen=True)
class Settings:
    """Everything the gateway and the workers read from the environment.

    Build it with `Settings.from_env(os.environ)`. Each field is declared once, with its
    variable, rule and documentation (`setting(...)`); `docs/configuration.md` shows them.
    """

    redis_url: str | None = setting(
        "REDIS_URL",
        Rule(rules.redis_url, "a URL"),
        None,
        "One server: `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS) or "
        "`unix:///path`. A Redis Cluster: `redis+cluster://[user:password@]host:port"
        "[,host:port…]` (`rediss+cluster://` for TLS; the hosts are seeds, any masters or "
        "replicas; no path, no query). Sentinel: `redis+sentinel://[user:password@]host:port"
        "[,host:port…]/service_name[/db]` (`rediss+sentinel://` for TLS to the data nodes; the "
        "hosts are the Sentinels, asked without a password; user and password are the data "
        "nodes'). Required by `gateway` and `worker`. See [Scaling past one Redis](scaling.md).",
        default_text="— (dev: embedded)",
        shown=lambda raw: repr(redacted(raw)),
    )
    app_id: str | None = setting(
        "MicrosoftAppId",
        Rule(str),
        None,
        "The bot's app id: the audience inbound tokens must name, the client id of the outbound "
        "token. Unset: anonymous dev mode (no inbound token check, no outbound token), logged "
        "loudly at startup.",
    )
    app_password: str | None = setting(
        "MicrosoftAppPassword",
        Rule(str),
        None,
        "The app's client secret, for the outbound token. Workers need it when an app id is "
        "set; gateways never do (do not give it to them). Never logged.",
        secret=True,
    )
    app_type: AppType = setting(
        "MicrosoftAppType",
        choice(AppType),
        AppType.MULTI_TENANT,
        "`MultiTenant` (token from the `botframework.com` tenant) or `SingleTenant` (from "
        "`MicrosoftAppTenantId`). `UserAssignedMSI` is refused at worker startup: not "
        "supported yet.",
    )
    app_tenant_id: str | None = setting(
        "MicrosoftAppTenantId",
        Rule(str),
        None,
        "Required when `MicrosoftAppType=SingleTenant` and an app id is set.",
    )
    openid_metadata_url: str = setting(
        "TURNSTREAM_OPENID_METADATA_URL",
        Rule(rules.metadata_url, "an https URL"),
        BOT_FRAMEWORK_OPENID_METADATA_URL,
        "OpenID metadata naming the keys that sign channel tokens (tests, sovereign clouds). "
        "https, or http only to a loopback address.",
    )
    allow_emulator_tokens: bool = setting(
        "TURNSTREAM_ALLOW_EMULATOR_TOKENS",
        BOOLEAN,
        False,
        "Also accept Bot Framework Emulator tokens (`appid`/`azp` = the app id). They vouch for "
        "no service URL.",
    )
    emulator_openid_metadata_url: str = setting(
        "TURNSTREAM_EMULATOR_OPENID_METADATA_URL",
        Rule(rules.metadata_url, "an https URL"),
        EMULATOR_OPENID_METADATA_URL,
        "OpenID metadata of the Emulator tokens' keys.",
    )
    token_endpoint: str | None = setting(
        "TURNSTREAM_TOKEN_ENDPOINT",
        Rule(rules.metadata_url, "an https URL"),
        None,
        "The client-credentials token endpoint (tests, sovereign clouds). https, or http only "
        "to a loopback address.",
        default_text="Microsoft's, for the app type's tenant",
    )
    outbound_allowed_hosts: tuple[str, ...] = setting(
        "TURNSTREAM_OUTBOUND_ALLOWED_HOSTS",
        Rule(rules.host_list, "host names, comma-separated"),
        (),
        "Host names (each with its subdomains) that may receive the bot's token, besides "
        "Microsoft's Bot Connector hosts and service URLs of authenticated activities.",
    )
    token_service_url: str = setting(
        "TURNSTREAM_TOKEN_SERVICE_URL",
        Rule(rules.metadata_url, "an https URL"),
        "https://api.botframework.com",
        "The Bot Framework token service, for user sign-in (`UserTokenClient`, `OAuthPrompt`): "
        "another for sovereign clouds (e.g. `https://api.botframework.azure.us`) or tests. "
        "Its host receives the bot's token.",
    )
    allow_private_service_urls: bool = setting(
        "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS",
        BOOLEAN,
        False,
        "Allow requests to private, loopback and link-local addresses (a local connector or the "
        "Emulator). `turnstream dev` sets it.",
    )
    envelope_secrets: tuple[str, ...] = setting(
        "TURNSTREAM_ENVELOPE_SECRET",
        Rule(rules.secret_list, f"secrets of {MIN_SECRET_LENGTH}+ characters, comma-separated"),
        (),
        "Gateways sign each stream entry with the first secret, workers accept any and "
        "dead-letter entries nobody signed. Set it on gateways first, then workers. Never "
        "logged.",
        secret=True,
    )
    max_json_depth: int = setting(
        "TURNSTREAM_MAX_JSON_DEPTH",
        int_between(2, 512),
        64,
        "Activities nested deeper get `400`.",
    )
    key_prefix: str = setting(
        "TURNSTREAM_KEY_PREFIX",
        Rule(rules.key_prefix, "no braces or whitespace"),
        "turnstream",
        "Prefix of every Redis key, so several deployments can share a server.",
    )
    shards: int = setting(
        "TURNSTREAM_SHARDS",
        int_between(1, 1024),
        16,
        "Number of inbound streams. Gateways and workers must agree; changing it moves "
        "conversations to other shards, so drain first.",
    )
    max_body_bytes: int = setting(
        "TURNSTREAM_MAX_BODY_BYTES",
        int_between(1024, MAX_BODY_BYTES_LIMIT),
        256 * 1024,
        "Larger requests get `413`.",
    )
    dedupe_window_seconds: int = setting(
        "TURNSTREAM_DEDUPE_WINDOW_SECONDS",
        int_between(1, 7 * 86400),
        600,
        "How long an activity id is remembered per conversation: a repeat within it is "
        "answered `202` and not queued again.",
    )
    redis_timeout_seconds: float = setting(
        "TURNSTREAM_REDIS_TIMEOUT_SECONDS",
        float_between(0.05, 60),
        1.0,
        "Bound on one Redis round trip (connect, command, pool wait); past it the gateway "
        "answers `503`.",
    )
    redis_max_connections: int = setting(
        "TURNSTREAM_REDIS_MAX_CONNECTIONS",
        int_between(2, 10_000),
        64,
        "Connection pool size per process; callers wait for a free connection rather than fail.",
    )
    max_backlog: int = setting(
        "TURNSTREAM_MAX_BACKLOG",
        int_between(0, 10**9),
        100_000,
        "Above this many queued entries no worker has read yet (all shards), the gateway "
        "answers `503` + `Retry-After` and `/readyz` fails, instead of growing Redis without "
        "bound. `0`: no limit.",
    )
    retry_after_seconds: int = setting(
        "TURNSTREAM_RETRY_AFTER_SECONDS",
        int_between(1, 3600),
        1,
        "`Retry-After` sent with a `503`.",
    )
    worker_concurrency: int = setting(
        "TURNSTREAM_WORKER_CONCURRENCY",
        int_between(1, 10_000),
        64,
        "Turns one worker process runs at once (`--concurrency` overrides). A bot whose turns "
        "mostly wait, streaming a model's answer for seconds, needs far more: one worker "
        "process holds about a thousand 30-second streams on a core (docs/streaming.md).",
    )
    max_deliveries: int = setting(
        "TURNSTREAM_MAX_DELIVERIES",
        int_between(1, 1000),
        5,
        "A turn that keeps failing transiently is tried this many times (with backoff, in "
        "place), then moved to the dead-letter stream; its conversation moves on. Tries that "
        "started count, across workers, not deliveries: an entry held by workers that died "
        "before running it loses none; a turn that kills its worker every time is tried at "
        "most once more.",
    )
    claim_idle_seconds: float = setting(
        "TURNSTREAM_CLAIM_IDLE_SECONDS",
        float_between(1, 3600),
        5.0,
        "An entry whose worker stopped renewing it this long (killed, frozen, cut off) is "
        "taken over by another worker. Live workers renew theirs every third of it.",
    )
    drain_timeout_seconds: float = setting(
        "TURNSTREAM_DRAIN_TIMEOUT_SECONDS",
        float_between(0, 3600),
        25.0,
        "On SIGTERM, how long a worker waits for in-flight turns. Keep it below the pod's "
        "grace period.",
    )
    connector_timeout_seconds: float = setting(
        "TURNSTREAM_CONNECTOR_TIMEOUT_SECONDS",
        float_between(0.1, 600),
        30.0,
        "Total time for one Bot Connector request.",
    )
    reply_timeout_seconds: float = setting(
        "TURNSTREAM_REPLY_TIMEOUT_SECONDS",
        float_between(0.1, 14),
        10.0,
        "How long the gateway waits for the answer of an `invoke` or a `deliveryMode: "
        "expectReplies` activity before it sends the fallback below (channels give up at "
        "15 s).",
    )
    reply_timeout_status: int = setting(
        "TURNSTREAM_REPLY_TIMEOUT_STATUS",
        int_between(200, 599),
        504,
        "Status of that fallback; the timeout is logged with the conversation and activity id.",
    )
    reply_timeout_body: bytes | None = setting(
        "TURNSTREAM_REPLY_TIMEOUT_BODY",
        Rule(rules.json_document, "a JSON document"),
        None,
        "JSON body of the fallback, e.g. a Teams task-module message.",
        default_text="an error message",
    )
    stream_timeout_seconds: float = setting(
        "TURNSTREAM_STREAM_TIMEOUT_SECONDS",
        float_between(1, 3600),
        300.0,
        'How long the gateway relays the events of a `deliveryMode: "stream"` request '
        "before it sends `event: error` (`stream_timeout`) and closes; the turn runs on, and a "
        "retry of the request with the same activity id reads its events.",
    )
    stream_keepalive_seconds: float = setting(
        "TURNSTREAM_STREAM_KEEPALIVE_SECONDS",
        float_between(0.1, 300),
        15.0,
        "A `stream` request that got no event for this long gets a keep-alive comment, so "
        "proxies do not close it as idle.",
    )
    proactive_secret: str | None = setting(
        "TURNSTREAM_PROACTIVE_SECRET",
        Rule(rules.shared_secret, f"{MIN_SECRET_LENGTH}+ characters"),
        None,
        "Bearer secret of `POST /api/proactive`, `GET /api/proactive/{job}` and the bot's own "
        "routes that are not public (`BotRoute`). Unset: those routes answer `404`. Give it "
        "to gateways only. Never logged.",
        secret=True,
    )
    proactive_rate_per_second: float = setting(
        "TURNSTREAM_PROACTIVE_RATE_PER_SECOND",
        float_between(0.1, 10_000),
        30.0,
        "Sends of a proactive fan-out per second per destination (service URL host + tenant), "
        "shared by all workers (Teams throttles an app at about 30/s per tenant).",
    )
    conversation_registry: bool = setting(
        "TURNSTREAM_CONVERSATION_REGISTRY",
        BOOLEAN,
        True,
        "Workers record each conversation's latest reference and its users, so that operators "
        "can send to a user id, a conversation id or a channel/tenant/team "
        "(docs/scheduled-turns.md#the-conversation-registry); `false` records nothing.",
    )
    conversation_registry_ttl_seconds: int = setting(
        "TURNSTREAM_CONVERSATION_REGISTRY_TTL_SECONDS",
        int_between(3600, 400 * 86400),
        30 * 86400,
        "How long a conversation (and a user in it) stays in the registry after its last activity.",
    )
    typing_while_queued_seconds: float = setting(
        "TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS",
        float_between(0, 14),
        2.0,
        "A message whose turn has not started this long after the gateway received it gets a "
        "typing indicator in its conversation, once, and not before its turn has had half a "
        "second after the worker read it (a message read late from a backlog whose turn starts "
        "at once gets none). `0`: never.",
    )
    typing_excluded_channels: tuple[str, ...] = setting(
        "TURNSTREAM_TYPING_EXCLUDED_CHANNELS",
        Rule(rules.name_list, "channel ids, comma-separated, or `none`"),
        ("email", "sms"),
        "Channels that get no such typing indicator (`none`: every channel gets it).",
    )
    ack_durability: AckDurability = setting(
        "TURNSTREAM_ACK_DURABILITY",
        choice(AckDurability),
        AckDurability.NONE,
        "When the gateway may answer `202`: `none` once the primary has the activity (a "
        "failover may lose the last writes not yet replicated); `replica` once "
        "`TURNSTREAM_ACK_REPLICAS` replicas have it in memory (`WAIT`); `replica-aof` once they "
        "have written it to their append-only file (`WAITAOF`; replicas need `appendonly yes`, "
        "and since replicas report their fsyncs about once a second this needs "
        "`TURNSTREAM_REDIS_TIMEOUT_SECONDS` ≥ 3, else a startup error). If they do not confirm "
        "within half of `TURNSTREAM_REDIS_TIMEOUT_SECONDS`, the answer is `503` + `Retry-After` "
        "(the activity may be queued anyway; the channel's retry is deduplicated). Cost: "
        "[benchmarks](benchmarks.md).",
    )
    ack_replicas: int = setting(
        "TURNSTREAM_ACK_REPLICAS",
        int_between(1, 16),
        1,
        "How many replicas must confirm with `TURNSTREAM_ACK_DURABILITY` set (per master on a "
        "cluster).",
    )
    log_format: LogFormat = setting(
        "TURNSTREAM_LOG_FORMAT",
        choice(LogFormat),
        LogFormat.JSON,
        "`json` lines (production) or `text`. `turnstream dev` always logs text.",
    )
    log_level: str = setting(
        "TURNSTREAM_LOG_LEVEL",
        Rule(rules.log_level, "DEBUG, INFO, WARNING, ERROR"),
        "INFO",
        "The least severe level logged.",
    )
    metrics_port: int = setting(
        "TURNSTREAM_METRICS_PORT",
        int_between(0, 65535),
        0,
        "Port on which a worker serves `GET /metrics` (Prometheus) and `GET /healthz`, on all "
        "interfaces. `0`: no server — several workers on one host would collide on a fixed "
        "port; the Kubernetes ConfigMap sets `9478`. Gateways serve `/metrics` on their own "
        "port.",
    )
    # -- the edges: what one client (a caller of the gateway, or a service URL answering a
    # worker) may cost a process, whatever it sends (docs/kubernetes.md pairs them with the
    # ingress's own values) ------------------------------------------------------------------
    max_header_bytes: int = setting(
        "TURNSTREAM_MAX_HEADER_BYTES",
        int_between(1024, 1024 * 1024),
        16 * 1024,
        "A request's line and headers together, in bytes; a larger head gets `431` and the "
        "connection closes. Counted before the HTTP parser buffers anything, and before any "
        "token check. A channel's head with its token is ~2-3 KiB.",
    )
    max_headers: int = setting(
        "TURNSTREAM_MAX_HEADERS",
        int_between(8, 1000),
        100,
        "Headers in one request; more gets `431`.",
    )
    max_request_target_bytes: int = setting(
        "TURNSTREAM_MAX_REQUEST_TARGET_BYTES",
        int_between(256, 64 * 1024),
        2048,
        "The request's path and query, in bytes; longer gets `414`.",
    )
    header_timeout_seconds: float = setting(
        "TURNSTREAM_HEADER_TIMEOUT_SECONDS",
        float_between(0.1, 300),
        10.0,
        "A new connection's first request, and any later request once its first byte arrived, "
        "must have its whole head in within this, else `408` and the connection closes. A "
        "connection that sends nothing is closed after it without an answer.",
    )
    body_timeout_seconds: float = setting(
        "TURNSTREAM_BODY_TIMEOUT_SECONDS",
        float_between(0.1, 300),
        10.0,
        "A request's whole body must follow its head within this, else `408` and the "
        "connection closes.",
    )
    keepalive_seconds: int = setting(
        "TURNSTREAM_KEEPALIVE_SECONDS",
        int_between(1, 3600),
        75,
        "An idle keep-alive connection is closed after this. Keep it longer than the ingress's "
        "upstream keep-alive timeout (ingress-nginx: 60 s), or the ingress may answer `502`.",
    )
    max_connections: int = setting(
        "TURNSTREAM_MAX_CONNECTIONS",
        int_between(16, 1_000_000),
        1000,
        "Open connections per gateway process; one past it gets `503` + `Retry-After` and is "
        "closed. Lowered at startup (with a warning) to fit the process's open-file limit.",
    )
    connector_max_answer_bytes: int = setting(
        "TURNSTREAM_CONNECTOR_MAX_ANSWER_BYTES",
        int_between(1024, 1024**3),
        64 * 1024,
        "The largest Bot Connector answer body a worker reads for a send, update or delete (a "
        "`ResourceResponse` is a few dozen bytes); a larger answer is refused, not read.",
    )
    connector_max_large_answer_bytes: int = setting(
        "TURNSTREAM_CONNECTOR_MAX_LARGE_ANSWER_BYTES",
        int_between(1024, 1024**3),
        8 * 1024 * 1024,
        "The same for reads: member lists, an activity's members.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every setting; raise `ConfigError` naming the first bad variable."""
        env = _Env(environ)
        values: dict[str, Any] = {}
        for declared_field in fields(cls):
            declared: Setting = declared_field.metadata[SETTING]
            value = env.optional(
                declared.variable, declared.rule.parse, secret=declared.secret, shown=declared.shown
            )
            default: Any = declared_field.default
            values[declared_field.name] = default if value is None else value
        settings = cls(**values)
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


def declared() -> list[tuple[Setting, Any]]:
    """Every setting with its default, in declaration order (for the reference)."""
    return [(f.metadata[SETTING], f.default) for f in fields(Settings)]
