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
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_single_tenant_needs_a_tenant() -> None:
    with pytest.raises(ConfigError, match="MicrosoftAppTenantId"):
        Settings.from_env({"MicrosoftAppId": "a", "MicrosoftAppType": "SingleTenant"})
