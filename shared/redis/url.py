"""What `REDIS_URL` names: one server, a Redis Cluster, or a Sentinel-managed primary.

- `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS), `unix:///path`: one server.
- `redis+cluster://[user:password@]host:port[,host:port...]` (`rediss+cluster://` for TLS): a
  Redis Cluster; the hosts are seeds, the client learns every master from them.
- `redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]`
  (`rediss+sentinel://` for TLS to the data nodes): Sentinels watching the primary named
  `service`; user and password are the data nodes' (Sentinels are asked without auth).

Parsing is strict so that a typo is a startup error naming `REDIS_URL`, not a hang later.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import unquote


class Topology(enum.StrEnum):
    SINGLE = "single"
    CLUSTER = "cluster"
    SENTINEL = "sentinel"


@dataclass(frozen=True)
class RedisTarget:
    """A parsed cluster or Sentinel URL (single-server URLs are read by redis-py itself)."""

    topology: Topology
    nodes: tuple[tuple[str, int], ...]
    """Cluster seeds, or the Sentinels."""
    service: str = ""
    """The Sentinel service (master) name."""
    username: str | None = None
    password: str | None = None
    db: int = 0
    tls: bool = False


_SCHEMES = {
    "redis+cluster": (Topology.CLUSTER, False),
    "rediss+cluster": (Topology.CLUSTER, True),
    "redis+sentinel": (Topology.SENTINEL, False),
    "rediss+sentinel": (Topology.SENTINEL, True),
}


def topology(url: str) -> Topology:
    """Which kind of deployment a URL names (no validation: see `parse_target`)."""
    scheme = url.partition("://")[0].lower()
    entry = _SCHEMES.get(scheme)
    return entry[0] if entry else Topology.SINGLE


def parse_target(url: str) -> RedisTarget:
    """Parse a `redis+cluster://` or `redis+sentinel://` URL; ValueError says what is wrong."""
    scheme, sep, rest = url.partition("://")
    entry = _SCHEMES.get(scheme.lower())
    if not sep or entry is None:
        raise ValueError("must start with redis+cluster:// or redis+sentinel://")
    kind, tls = entry
    if "?" in rest or "#" in rest:
        raise ValueError("query strings and fragments are not supported in cluster/sentinel URLs")
    authority, _, path = rest.partition("/")
    username = password = None
    if "@" in authority:
        credentials, _, authority = authority.rpartition("@")
        user, colon, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    nodes = tuple(_node(part) for part in authority.split(","))
    parts = [p for p in path.split("/") if p]
    service, db = "", 0
    if kind is Topology.SENTINEL:
        if not parts:
            raise ValueError("names no service: redis+sentinel://host:port,.../service_name")
        service = unquote(parts[0])
        if len(parts) > 2:
            raise ValueError("path must be /service_name or /service_name/db")
        if len(parts) == 2:
            db = _db(parts[1])
    elif parts:
        raise ValueError("a cluster URL has no path (Redis Cluster has only database 0)")
    return RedisTarget(kind, nodes, service, username, password, db, tls)


def _node(part: str) -> tuple[str, int]:
    host, colon, port = part.strip().rpartition(":")
    if not colon or not host:
        raise ValueError(f"{part!r} is not host:port")
    host = host.strip("[]")  # [::1]:7000
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{part!r} has no numeric port") from None
    if not 0 < number < 65536:
        raise ValueError(f"{part!r}: port out of range")
    return host, number


def _db(raw: str) -> int:
    try:
        db = int(raw)
    except ValueError:
        raise ValueError(f"database {raw!r} is not a number") from None
    if not 0 <= db < 1 << 16:
        raise ValueError(f"database {db} out of range")
    return db


def redacted(url: str) -> str:
    """The URL with any password replaced, fit for a log line."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else f"{scheme}{sep}***@{host}"
