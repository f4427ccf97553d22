"""Envelope signatures: HMAC-SHA256 with a secret shared by gateways and workers.

A worker that holds the secret refuses stream entries that no gateway holding it wrote: anything
else with write access to Redis can add entries, but cannot make a worker trust a service URL or
claims it made up. The signature proves origin, not freshness: a dead letter replayed by an
operator keeps its signature and is accepted again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

_DOMAIN = b"turnstream envelope\x00"
"""Prefixed to every signed message, so this secret's MACs mean nothing anywhere else."""


class EnvelopeSigner:
    """Signs with the first secret; accepts a signature by any of them (secret rotation: add
    the new secret second everywhere, then first, then drop the old one)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("an EnvelopeSigner needs at least one secret")
        self._keys = [secret.encode() for secret in secrets]

    @classmethod
    def from_secrets(cls, secrets: Sequence[str]) -> EnvelopeSigner | None:
        """A signer, or None when no secret is configured (no signing)."""
        return cls(secrets) if secrets else None

    def sign(self, message: bytes) -> bytes:
        return hmac.new(self._keys[0], _DOMAIN + message, hashlib.sha256).digest()

    def verify(self, message: bytes, signature: bytes) -> bool:
        return any(
            hmac.compare_digest(
                hmac.new(key, _DOMAIN + message, hashlib.sha256).digest(), signature
            )
            for key in self._keys
        )

    def __repr__(self) -> str:
        return f"EnvelopeSigner({len(self._keys)} secrets)"  # never the secrets themselves
