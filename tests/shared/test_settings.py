from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.settings import AppType, LogFormat, Settings


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.redis_url is None and settings.app_id is None
    assert settings.shards == 16


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "REDIS_URL": "rediss://:pw@redis.example:6380/2",
            "MicrosoftAppId": "app",
            "MicrosoftAppPassword": "secret",
            "MicrosoftAppType": "singletenant",
            "MicrosoftAppTenantId": "tenant",
            "TURNSTREAM_KEY_PREFIX": "bots-prod",
            "TURNSTREAM_SHARDS": "32",
            "TURNSTREAM_MAX_BODY_BYTES": "100000",
            "TURNSTREAM_DEDUPE_WINDOW_SECONDS": "60",
            "TURNSTREAM_REDIS_TIMEOUT_SECONDS": "0.5",
            "TURNSTREAM_REDIS_MAX_CONNECTIONS": "16",
            "TURNSTREAM_MAX_BACKLOG": "5000",
            "TURNSTREAM_RETRY_AFTER_SECONDS": "3",
            "TURNSTREAM_WORKER_CONCURRENCY": "8",
            "TURNSTREAM_MAX_DELIVERIES": "7",
            "TURNSTREAM_CLAIM_IDLE_SECONDS": "3",
            "TURNSTREAM_DRAIN_TIMEOUT_SECONDS": "10",
            "TURNSTREAM_CONNECTOR_TIMEOUT_SECONDS": "5",
            "TURNSTREAM_LOG_FORMAT": "TEXT",
            "TURNSTREAM_LOG_LEVEL": "debug",
            "TURNSTREAM_OPENID_METADATA_URL": "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
            "TURNSTREAM_ALLOW_EMULATOR_TOKENS": "yes",
            "TURNSTREAM_EMULATOR_OPENID_METADATA_URL": "http://127.0.0.1:8000/meta",
            "TURNSTREAM_TOKEN_ENDPOINT": "https://login.example/t/oauth2/v2.0/token",
            "TURNSTREAM_OUTBOUND_ALLOWED_HOSTS": "Bots.Example.org, api.example.net.",
            "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",
            "TURNSTREAM_ENVELOPE_SECRET": f"{'a' * 32}, {'b' * 40}",
            "TURNSTREAM_MAX_JSON_DEPTH": "20",
            "TURNSTREAM_REPLY_TIMEOUT_SECONDS": "4.5",
            "TURNSTREAM_REPLY_TIMEOUT_STATUS": "200",
            "TURNSTREAM_REPLY_TIMEOUT_BODY": '{"task": {"type": "message", "value": "busy"}}',
            "TURNSTREAM_PROACTIVE_SECRET": "p" * 32,
            "TURNSTREAM_PROACTIVE_RATE_PER_SECOND": "12.5",
            "TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS": "0",
            "TURNSTREAM_TYPING_EXCLUDED_CHANNELS": "email, sms ,telegram",
            "TURNSTREAM_METRICS_PORT": "9478",
        }
    )
    assert settings == Settings(
        redis_url="rediss://:pw@redis.example:6380/2",
        app_id="app",
        app_password="secret",
        app_type=AppType.SINGLE_TENANT,
        app_tenant_id="tenant",
        key_prefix="bots-prod",
        shards=32,
        max_body_bytes=100000,
        dedupe_window_seconds=60,
        redis_timeout_seconds=0.5,
        redis_max_connections=16,
        max_backlog=5000,
        retry_after_seconds=3,
        worker_concurrency=8,
        max_deliveries=7,
        claim_idle_seconds=3.0,
        drain_timeout_seconds=10.0,
        connector_timeout_seconds=5.0,
        log_format=LogFormat.TEXT,
        log_level="DEBUG",
        openid_metadata_url="https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
        allow_emulator_tokens=True,
        emulator_openid_metadata_url="http://127.0.0.1:8000/meta",
        token_endpoint="https://login.example/t/oauth2/v2.0/token",
        outbound_allowed_hosts=("bots.example.org", "api.example.net"),
        allow_private_service_urls=True,
        envelope_secrets=("a" * 32, "b" * 40),
        max_json_depth=20,
        reply_timeout_seconds=4.5,
        reply_timeout_status=200,
        reply_timeout_body=b'{"task": {"type": "message", "value": "busy"}}',
        proactive_secret="p" * 32,
        proactive_rate_per_second=12.5,
        typing_while_queued_seconds=0.0,
        typing_excluded_channels=("email", "sms", "telegram"),
        metrics_port=9478,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_URL", "localhost:6379"),
        ("MicrosoftAppType", "Federated"),
        ("TURNSTREAM_SHARDS", "0"),
        ("TURNSTREAM_SHARDS", "many"),
        ("TURNSTREAM_MAX_BODY_BYTES", "-1"),
        ("TURNSTREAM_REDIS_TIMEOUT_SECONDS", "soon"),
        ("TURNSTREAM_KEY_PREFIX", "a{b}"),
        ("TURNSTREAM_LOG_FORMAT", "xml"),
        ("TURNSTREAM_LOG_LEVEL", "loud"),
        ("TURNSTREAM_METRICS_PORT", "70000"),
        ("TURNSTREAM_MAX_BODY_BYTES", str(64 * 1024 * 1024)),
        ("TURNSTREAM_OPENID_METADATA_URL", "http://login.example/meta"),
        ("TURNSTREAM_OPENID_METADATA_URL", "ftp://x/y"),
        ("TURNSTREAM_EMULATOR_OPENID_METADATA_URL", "not a url"),
        ("TURNSTREAM_TOKEN_ENDPOINT", "http://10.0.0.1/token"),
        ("TURNSTREAM_ALLOW_EMULATOR_TOKENS", "maybe"),
        ("TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS", "2"),
        ("TURNSTREAM_OUTBOUND_ALLOWED_HOSTS", "https://bots.example.org"),
        ("TURNSTREAM_OUTBOUND_ALLOWED_HOSTS", "bots.example.org:443"),
        ("TURNSTREAM_MAX_JSON_DEPTH", "1"),
        ("TURNSTREAM_REPLY_TIMEOUT_SECONDS", "15"),
        ("TURNSTREAM_REPLY_TIMEOUT_STATUS", "99"),
        ("TURNSTREAM_REPLY_TIMEOUT_BODY", "{not json"),
        ("TURNSTREAM_PROACTIVE_SECRET", "short"),
        ("TURNSTREAM_PROACTIVE_RATE_PER_SECOND", "0"),
        ("TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS", "-1"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_single_tenant_needs_a_tenant() -> None:
    with pytest.raises(ConfigError, match="MicrosoftAppTenantId"):
        Settings.from_env({"MicrosoftAppId": "a", "MicrosoftAppType": "SingleTenant"})


def test_a_bad_secret_is_named_but_never_shown() -> None:
    with pytest.raises(ConfigError, match="TURNSTREAM_ENVELOPE_SECRET") as raised:
        Settings.from_env({"TURNSTREAM_ENVELOPE_SECRET": "short-secret-value"})
    assert "short-secret-value" not in str(raised.value)
    settings = Settings.from_env({"MicrosoftAppPassword": "pw-value-1234"})
    assert "pw-value-1234" not in repr(settings)


def test_the_token_endpoint_follows_the_app_type() -> None:
    multi = Settings.from_env({"MicrosoftAppId": "a", "MicrosoftAppPassword": "p"})
    assert (
        multi.token_url() == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    )
    single = Settings.from_env(
        {
            "MicrosoftAppId": "a",
            "MicrosoftAppPassword": "p",
            "MicrosoftAppType": "SingleTenant",
            "MicrosoftAppTenantId": "contoso.onmicrosoft.com",
        }
    )
    assert single.token_url() == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    overridden = Settings.from_env({"TURNSTREAM_TOKEN_ENDPOINT": "http://127.0.0.1:9/t"})
    assert overridden.token_url() == "http://127.0.0.1:9/t"


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"MicrosoftAppId": "a"}, "MicrosoftAppPassword"),
        (
            {
                "MicrosoftAppId": "a",
                "MicrosoftAppPassword": "p",
                "MicrosoftAppType": "UserAssignedMSI",
            },
            "MicrosoftAppType",
        ),
    ],
)
def test_a_worker_needs_what_its_token_needs(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(environ).check_worker()
    Settings.from_env({}).check_worker()  # anonymous: nothing needed


def test_typing_can_be_allowed_on_every_channel() -> None:
    assert (
        Settings.from_env({"TURNSTREAM_TYPING_EXCLUDED_CHANNELS": "none"}).typing_excluded_channels
        == ()
    )


def test_a_bad_redis_url_is_shown_without_its_password() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL") as caught:
        Settings.from_env({"REDIS_URL": "http://admin:hunter2@redis.example:6379"})

    assert "hunter2" not in str(caught.value)
    assert "admin:***@redis.example:6379" in str(caught.value)
