"""Sending files in Teams: the consent card a bot sends before uploading, the user's answer
(`fileConsent/invoke`), and the cards describing an uploaded or received file.
botbuilder-python's names; camelCase on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.schema.activity import Model


@dataclass
class FileConsentCard(Model):
    """Asks the user to accept a file the bot wants to upload to their OneDrive."""

    description: str | None = None
    size_in_bytes: int | None = None
    accept_context: Any = None
    """Sent back to the bot when the user accepts."""
    decline_context: Any = None


@dataclass
class FileUploadInfo(Model):
    """Where to upload an accepted file (`upload_url`) and where it will then be."""

    name: str | None = None
    upload_url: str | None = None
    content_url: str | None = None
    unique_id: str | None = None
    file_type: str | None = None


@dataclass
class FileConsentCardResponse(Model):
    """The value of `fileConsent/invoke`: "accept" (with `upload_info`) or "decline"."""

    action: str | None = None
    context: Any = None
    upload_info: FileUploadInfo | None = None


@dataclass
class FileDownloadInfo(Model):
    """A file a user sent the bot: where to download it."""

    download_url: str | None = None
    unique_id: str | None = None
    file_type: str | None = None
    etag: Any = None


@dataclass
class FileInfoCard(Model):
    """Shows an uploaded file in the conversation."""

    unique_id: str | None = None
    file_type: str | None = None
    etag: Any = None
