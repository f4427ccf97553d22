"""The profile the dialog collects, kept in user state."""

from __future__ import annotations

from worker.bot import Attachment


class UserProfile:
    def __init__(
        self,
        name: str | None = None,
        transport: str | None = None,
        age: int = 0,
        picture: Attachment | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.age = age
        self.picture = picture
