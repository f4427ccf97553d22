"""The base of every error turnstream raises on purpose."""

from __future__ import annotations


class TurnstreamError(Exception):
    """Base class for turnstream's own errors."""


class ConfigError(TurnstreamError):
    """A setting is missing or malformed; the message names the variable."""
