"""REDIS_URL for a Redis Cluster or Sentinel: parsed strictly, errors name the variable."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.redis.connection import redacted
from shared.redis.url import RedisTarget, Topology, parse_target, topology
from shared.settings import Settings


def test_cluster_url() -> None:
    assert parse_target("redis+cluster://u:p%40ss@10.0.0.1:7000,node-2:7001") == RedisTarget(
        Topology.CLUSTER, (("10.0.0.1", 7000), ("node-2", 7001)), "", "u", "p@ss", 0, False
    )
    assert parse_target("rediss+cluster://[::1]:7000").tls
    assert topology("redis+cluster://h:1") is Topology.CLUSTER


def test_sentinel_url() -> None:
    target = parse_target("redis+sentinel://:secret@s1:26379,s2:26379,s3:26379/mymaster/2")
    assert target.topology is Topology.SENTINEL
    assert target.nodes == (("s1", 26379), ("s2", 26379), ("s3", 26379))
    assert (target.service, target.db, target.password, target.username) == (
        "mymaster",
        2,
        "secret",
        None,
    )
    assert topology("redis://h:1/0") is Topology.SINGLE


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis+sentinel://s1:26379", "names no service"),
        ("redis+sentinel://s1:26379/m/1/2", "path must be"),
        ("redis+sentinel://s1:26379/m/x", "is not a number"),
        ("redis+cluster://h:7000/0", "has no path"),
        ("redis+cluster://h", "is not host:port"),
        ("redis+cluster://h:70000", "port out of range"),
        ("redis+cluster://h:abc", "no numeric port"),
        ("redis+cluster://h:1,", "is not host:port"),
        ("redis+cluster://h:1?ssl=1", "query strings"),
        ("http://h:1", "must start with"),
    ],
)
def test_a_bad_url_is_a_config_error_naming_redis_url(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=f"REDIS_URL=.*{reason}"):
        Settings.from_env({"REDIS_URL": url})


def test_the_password_is_redacted_in_logs() -> None:
    url = "redis+sentinel://:hunter2@s1:1,s2:2/svc"
    assert "hunter2" not in redacted(url)
    assert Settings.from_env({"REDIS_URL": url}).redis_url == url


def test_durability_settings() -> None:
    settings = Settings.from_env(
        {
            "TURNSTREAM_ACK_DURABILITY": "replica-aof",
            "TURNSTREAM_ACK_REPLICAS": "2",
            "TURNSTREAM_REDIS_TIMEOUT_SECONDS": "3",
        }
    )
    assert (settings.ack_durability.value, settings.ack_replicas) == ("replica-aof", 2)
    with pytest.raises(ConfigError, match="TURNSTREAM_ACK_DURABILITY"):
        Settings.from_env({"TURNSTREAM_ACK_DURABILITY": "always"})
    with pytest.raises(ConfigError, match="TURNSTREAM_REDIS_TIMEOUT_SECONDS must be at least 3"):
        Settings.from_env({"TURNSTREAM_ACK_DURABILITY": "replica-aof"})
    with pytest.raises(ConfigError, match="TURNSTREAM_ACK_REPLICAS"):
        Settings.from_env({"TURNSTREAM_ACK_REPLICAS": "0"})
