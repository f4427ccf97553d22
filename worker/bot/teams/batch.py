"""Teams batch messaging (`/v3/batch/conversation/...`): one message to many users or channels
as one operation Teams runs, its progress, and the entries that failed. The C# and JavaScript
SDKs' names (botbuilder-python 4.17 has none); camelCase on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shared.schema.activity import Model


@dataclass
class TeamMember(Model):
    """A user or channel, by id, a batch operation sends to."""

    id: str | None = None


@dataclass
class BatchOperationState(Model):
    """The progress of a batch operation: its `state` ("InProgress", "Completed", ...), the
    number of entries per status code, and when to ask again."""

    state: str | None = None
    status_map: dict[str, Any] | None = None
    retry_after: str | None = None
    total_entries_count: int | None = None


@dataclass
class BatchFailedEntry(Model):
    """An entry (a user or channel id) a batch operation could not send to, and the error."""

    entry_id: str | None = None
    error: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"entry_id": "id"}


@dataclass
class BatchFailedEntriesResponse(Model):
    """One page of a batch operation's failed entries; ask again with `continuation_token`."""

    continuation_token: str | None = None
    failed_entries: list[BatchFailedEntry] | None = None

    _wire_names: ClassVar[dict[str, str]] = {"failed_entries": "failedEntryResponses"}
