"""How a setting's text becomes a value: parsers with their bounds, as `Rule`s that also say
what they accept (the configuration reference shows it). Each raises ValueError with a reason;
`shared.settings` names the variable."""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import orjson

from shared.redis.url import Topology, parse_target, topology

T = TypeVar("T")

MIN_SECRET_LENGTH = 32
"""The shortest envelope or proactive secret accepted."""


@dataclass(frozen=True)
class Rule(Generic[T]):
    """How a variable's text becomes a value, and what the reference says it accepts."""

    parse: Callable[[str], T]
    accepts: str = ""


N = TypeVar("N", int, float)


def _between(kind: Callable[[str], N], low: N, high: N) -> Callable[[str], N]:
    def parse(raw: str) -> N:
        value = kind(raw)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def int_between(low: int, high: int) -> Rule[int]:
    return Rule(_between(int, low, high), f"{low} to {high}")


def float_between(low: float, high: float) -> Rule[float]:
    return Rule(_between(float, low, high), f"{low:g} to {high:g}")


E = TypeVar("E", bound=enum.StrEnum)


def choice(choices: type[E]) -> Rule[E]:
    return Rule(_choice(choices), ", ".join(c.value for c in choices))


def _choice(choices: type[E]) -> Callable[[str], E]:
    def parse(raw: str) -> E:
        for choice in choices:
            if choice.value.lower() == raw.lower():
                return choice
        raise ValueError("must be one of " + ", ".join(c.value for c in choices))

    return parse


def redis_url(raw: str) -> str:
    if topology(raw) is not Topology.SINGLE:
        parse_target(raw)  # cluster or Sentinel: checked here, so a typo fails at startup
        return raw
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            "must start with redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://"
        )
    return raw


def key_prefix(raw: str) -> str:
    if any(c in raw for c in "{} \t\n"):
        raise ValueError("must not contain braces or whitespace")
    return raw


def log_level(raw: str) -> str:
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


def metadata_url(raw: str) -> str:
    """https, or plain http only to a loopback host (a test identity provider)."""
    parts = urlsplit(raw)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValueError("must be an absolute https:// URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("must use https (plain http is allowed only to a loopback address)")
    return raw


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address (a test identity provider, a local connector)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def host_list(raw: str) -> tuple[str, ...]:
    hosts = []
    for part in raw.split(","):
        host = part.strip().lower().rstrip(".")
        if not host:
            continue
        if not all(_HOST_LABEL.match(label) for label in host.split(".")):
            raise ValueError(f"{part.strip()!r} is not a host name (no scheme, port or path)")
        hosts.append(host)
    return tuple(hosts)


def secret_list(raw: str) -> tuple[str, ...]:
    secrets = tuple(part.strip() for part in raw.split(",") if part.strip())
    if any(len(secret) < MIN_SECRET_LENGTH for secret in secrets):
        # The message must not echo the value: it is a secret.
        raise ValueError(f"each secret must be at least {MIN_SECRET_LENGTH} characters")
    return secrets


def json_document(raw: str) -> bytes:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("must be a JSON document") from None
    return raw.encode()


def shared_secret(raw: str) -> str:
    if len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
    return raw


def name_list(raw: str) -> tuple[str, ...]:
    if raw.lower() == "none":
        return ()
    return tuple(part.strip() for part in raw.split(",") if part.strip())


BOOLEAN = Rule(_boolean, "true, false")
