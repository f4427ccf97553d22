"""What the gateway's lifespan opens for its endpoints, as one typed object.

Starlette hands lifespan state to each request as an untyped mapping (`scope["state"]`,
`request.state`); the gateway keeps a single entry there, `Resources`, and its endpoints read it
through `resources(...)`, so a typo or a missing resource is a type error, not a KeyError at
the first request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from gateway.answer_board import AnswerBoard
from gateway.authentication import Authenticator
from gateway.backlog import BacklogMonitor
from gateway.enqueue import Enqueuer
from shared.loops import BackgroundLoops
from shared.protocol.proactive import ProactiveQueue
from shared.protocol.registry import ConversationRegistry
from shared.redis.connection import Redis
from shared.settings import Settings

STATE_KEY = "resources"


@dataclass(frozen=True, slots=True)
class Resources:
    """One gateway app's open resources, from its lifespan."""

    settings: Settings
    redis: Redis
    enqueuer: Enqueuer
    backlog: BacklogMonitor
    authenticator: Authenticator | None
    """None in anonymous mode (no app id)."""
    answers: AnswerBoard
    proactive: ProactiveQueue
    registry: ConversationRegistry
    """Where `POST /api/proactive` finds the conversations of a user, conversation or query."""
    loops: BackgroundLoops
    """The lifespan's background loops (/healthz fails once one died)."""

    def as_state(self) -> dict[str, Any]:
        """What the lifespan yields."""
        return {STATE_KEY: self}


def resources(where: Request | Scope) -> Resources:
    """The app's resources, from a request or an ASGI scope."""
    state = where.scope["state"] if isinstance(where, Request) else where["state"]
    found: Resources = state[STATE_KEY]
    return found
