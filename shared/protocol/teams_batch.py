"""A Teams batch operation as an operator fan-out (`POST /api/proactive` with `teamsBatch`,
`turnstream send --teams-batch`): instead of one turn per conversation, one turn in which a
worker asks Teams to deliver the activity itself — to a list of users, every user of a tenant,
every member of a team, or a list of channels (Teams' `v3/batch/conversation` routes). The
gateway never holds the bot's token, so it queues that turn like any proactive turn; the worker
records the operation id Teams answers in the job, where `GET /api/proactive/{job}` shows it.

    {"teamsBatch": {"kind": "users", "serviceUrl": "https://smba.trafficmanager.net/emea/",
                    "tenantId": "…", "members": ["29:…", …]},
     "activity": {"type": "message", "text": "…"}}

`kind` is `users` (with `members`), `tenant`, `team` (with `teamId`) or `channels` (with
`channels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.protocol.keys import MAX_SERVICE_URL_LENGTH
from shared.protocol.proactive import MAX_REFERENCES, BadReference
from shared.setting_rules import is_loopback

TEAMS_BATCH_EVENT = "turnstream/teamsBatch"
"""The event name of the turn that starts a batch operation (handled by the runtime, never by
the bot)."""

KINDS = ("users", "tenant", "team", "channels")
DEFAULT_CHECK_EVERY_SECONDS = 5.0
FOLLOW_SECONDS = 600.0
"""How long a job follows its operation (the turn waits meanwhile, its lease renewed); Teams
goes on past it, and `TeamsInfo.get_operation_state` tells the rest."""
ENDED_STATES = frozenset({"Completed", "Failed", "Cancelled"})
MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class TeamsBatch:
    kind: str
    service_url: str
    tenant_id: str
    team_id: str | None = None
    ids: list[str] = field(default_factory=list)
    """The users' ids (`users`) or the channels' ids (`channels`)."""
    check_every_seconds: float = DEFAULT_CHECK_EVERY_SECONDS
    """How often the worker asks Teams how the operation goes, for the job's progress."""

    @classmethod
    def parse(cls, doc: object) -> TeamsBatch:
        """From the request's `teamsBatch` object; raises `BadReference` saying what is wrong."""
        if not isinstance(doc, Mapping):
            raise BadReference("teamsBatch must be an object")
        kind = doc.get("kind")
        if kind not in KINDS:
            raise BadReference(f"teamsBatch.kind must be one of {', '.join(KINDS)}")
        service_url = doc.get("serviceUrl")
        if not isinstance(service_url, str) or not _https_or_loopback(service_url):
            raise BadReference("teamsBatch.serviceUrl must be the tenant's https Teams service URL")
        tenant_id = _id(doc.get("tenantId"), "teamsBatch.tenantId")
        team_id = _id(doc.get("teamId"), "teamsBatch.teamId") if kind == "team" else None
        ids: list[str] = []
        if kind in ("users", "channels"):
            listed = doc.get("members" if kind == "users" else "channels")
            name = f"teamsBatch.{'members' if kind == 'users' else 'channels'}"
            if not isinstance(listed, list) or not 0 < len(listed) <= MAX_REFERENCES:
                raise BadReference(f"{name} must be a list of 1-{MAX_REFERENCES} ids")
            ids = [_id(item, name) for item in listed]
        every = doc.get("checkEverySeconds", DEFAULT_CHECK_EVERY_SECONDS)
        if not isinstance(every, int | float) or not 0.05 <= every <= 60:
            raise BadReference("teamsBatch.checkEverySeconds must be a number from 0.05 to 60")
        return cls(kind, service_url, tenant_id, team_id, ids, float(every))

    def reference(self) -> dict[str, Any]:
        """The conversation the turn runs in: one per tenant, so a tenant's batch operations
        start in the order they were asked for."""
        return {
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "conversation": {"id": f"teams-batch/{self.tenant_id}", "tenantId": self.tenant_id},
        }

    def to_value(self, activity: Mapping[str, Any]) -> dict[str, Any]:
        """The turn's event value: this operation and the activity Teams is to deliver."""
        return {
            "kind": self.kind,
            "tenantId": self.tenant_id,
            "teamId": self.team_id,
            "ids": self.ids,
            "checkEverySeconds": self.check_every_seconds,
            "activity": dict(activity),
        }


def _https_or_loopback(url: str) -> bool:
    """https, or plain http to a loopback address (a test connector)."""
    parts = urlsplit(url)
    if not parts.hostname or len(url) > MAX_SERVICE_URL_LENGTH:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))


def _id(value: object, name: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise BadReference(f"{name} must be a string of 1-{MAX_ID_LENGTH} characters")
    return value
