"""The profile the dialogs build."""

from __future__ import annotations


class UserProfile:
    def __init__(
        self, name: str | None = None, age: int = 0, companies_to_review: list[str] | None = None
    ) -> None:
        self.name = name
        self.age = age
        self.companies_to_review = companies_to_review
