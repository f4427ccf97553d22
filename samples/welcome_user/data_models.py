"""What the welcome bot remembers about a user."""

from __future__ import annotations


class WelcomeUserState:
    def __init__(self, did_welcome: bool = False) -> None:
        self.did_welcome_user = did_welcome
