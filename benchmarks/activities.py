"""The activity the benchmarks send: a ~1 KB Teams personal-chat message, as the channel posts
it, with slots for the activity id and the conversation id."""

from __future__ import annotations

from typing import Any

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
"""The activities' serviceUrl: the channel token vouches for exactly this."""


ID_SLOT = "@@ID@@"
CONVERSATION_SLOT = "@@CONVERSATION@@"


def activity_template() -> dict[str, Any]:
    """A Teams personal-chat message as the channel posts it (~1 KB), with two slots."""
    tenant = "5f2b6d3e-8a41-4c7e-9d0b-3a6f1e2c7b94"
    return {
        "text": "Hi! Could you tell me where my order #48213 is and when it will be delivered?",
        "textFormat": "plain",
        "attachments": [],
        "type": "message",
        "timestamp": "2026-11-21T06:35:12.3456789Z",
        "localTimestamp": "2026-11-21T07:35:12.3456789+01:00",
        "id": ID_SLOT,
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {
            "id": "29:1c6Zb3vWqkJ4o9EeFhYlSnTtGdUuRrMmXxPpAaBbCcDdIiKk0123456789AbCdEfGhIjKlMnOp",
            "name": "Ada Lovelace",
            "aadObjectId": "0b7d9c2e-4f61-4a8b-b3c5-7e2d1f9a6c48",
        },
        "conversation": {
            "conversationType": "personal",
            "tenantId": tenant,
            "id": f"a:1bench-personal-chat-{CONVERSATION_SLOT}",
        },
        "recipient": {"id": "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c", "name": "turnstream-bot"},
        "entities": [
            {
                "locale": "en-US",
                "country": "DE",
                "platform": "Web",
                "timezone": "Europe/Berlin",
                "type": "clientInfo",
            }
        ],
        "channelData": {"tenant": {"id": tenant}, "source": {"name": "message"}},
        "locale": "en-US",
        "localTimezone": "Europe/Berlin",
    }
