"""HTTP routes a bot declares (`BotApp(routes=[...])`) and the gateway serves: what both sides
agree on. Workers publish their route table in Redis (`Keyspace.bot_routes`: one field per live
worker, stamped with the server's clock); gateways read it, serve the paths it lists, and queue
each request as a turn that a worker answers through the request/reply lane (see
`gateway.bot_routes`, `worker.runtime.bot_routes`, docs/decisions/0019)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from shared.protocol.keys import conversation_key

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The methods a bot route may answer."""
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
"""A route's body limit may not pass this: the request crosses Redis inside one stream entry."""
MAX_PATH_LENGTH = 200
RESERVED_PATHS = ("/api/messages", "/api/proactive", "/healthz", "/readyz", "/metrics", "/chat")
"""The gateway's own paths (and the dev stack's chat page): a bot route may not be one of them
or below one."""
ROUTE_CHANNEL = "turnstream"
"""The channel id of a route request's turn (it comes from no channel)."""
ROUTE_EVENT = "turnstream.route"
"""The name of the event activity a route request's turn carries."""
TABLE_TTL_SECONDS = 60
"""A worker's published table counts for this long after its last renewal."""
RENEW_SECONDS = 10.0
"""How often a running worker publishes its table again."""

_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]+)+")


class BadRoute(ValueError):
    """A route declaration that cannot be served; says which and why."""


@dataclass(frozen=True, slots=True)
class RouteDeclaration:
    """What the gateway needs to know of a route: where, which methods, who may call it."""

    path: str
    methods: tuple[str, ...] = ("POST",)
    public: bool = False
    """True: anyone may call it. False: the caller sends the operator's bearer secret
    (`TURNSTREAM_PROACTIVE_SECRET`), as for `POST /api/proactive`."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        check_path(self.path)
        if not self.methods or any(m not in METHODS for m in self.methods):
            raise BadRoute(f"route {self.path}: methods must be some of {', '.join(METHODS)}")
        if not 0 <= self.max_body_bytes <= MAX_BODY_BYTES:
            raise BadRoute(f"route {self.path}: max_body_bytes must be 0-{MAX_BODY_BYTES}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "methods": list(self.methods),
            "public": self.public,
            "max_body_bytes": self.max_body_bytes,
        }

    @classmethod
    def from_dict(cls, doc: Any) -> RouteDeclaration:
        """Raises BadRoute for anything that is not a declaration."""
        if not isinstance(doc, dict):
            raise BadRoute("a route declaration is an object")
        path, methods = doc.get("path"), doc.get("methods")
        public, limit = doc.get("public"), doc.get("max_body_bytes")
        if not (
            isinstance(path, str)
            and isinstance(methods, list)
            and all(isinstance(m, str) for m in methods)
            and isinstance(public, bool)
            and isinstance(limit, int)
        ):
            raise BadRoute("a route declaration has fields of the wrong type")
        return cls(path, tuple(methods), public, limit)


def check_path(path: str) -> None:
    """Raise BadRoute unless `path` is a plain absolute path a bot may take."""
    if (
        not isinstance(path, str)
        or len(path) > MAX_PATH_LENGTH
        or not _PATH.fullmatch(path)
        or any(segment in (".", "..") for segment in path.split("/"))
    ):
        raise BadRoute(
            f"route path {path!r}: use /segments of letters, digits, '.', '_', '~', '-' "
            f"(not . or .., at most {MAX_PATH_LENGTH} characters)"
        )
    for reserved in RESERVED_PATHS:
        if path == reserved or path.startswith(f"{reserved}/"):
            raise BadRoute(f"route path {path!r}: {reserved} is the gateway's own")


def route_conversation(path: str) -> str:
    """The conversation key a route's requests are chained in: one per route, so a route's
    requests run one at a time, in the order the gateway queued them."""
    return conversation_key(ROUTE_CHANNEL, f"route{path}")


def encode_table(routes: Iterable[RouteDeclaration]) -> bytes:
    return orjson.dumps([route.to_dict() for route in routes])


def decode_table(data: bytes) -> list[RouteDeclaration]:
    """A published table; raises BadRoute if it is not one."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise BadRoute(f"a route table is not JSON: {e}") from None
    if not isinstance(doc, list):
        raise BadRoute("a route table is a list")
    return [RouteDeclaration.from_dict(item) for item in doc]
