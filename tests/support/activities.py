"""Activity builders for tests."""

from __future__ import annotations

from typing import Any


def message(
    text: str,
    *,
    activity_id: str | None = "1",
    conversation: str = "conv-1",
    service_url: str = "http://127.0.0.1:9/",
    channel: str = "test",
    user: str = "user-1",
) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "text": text,
        "channelId": channel,
        "serviceUrl": service_url,
        "conversation": {"id": conversation},
        "from": {"id": user, "name": f"{user} name"},
        "recipient": {"id": "bot-1", "name": "Bot"},
        "locale": "en-US",
    }
    if activity_id is not None:
        activity["id"] = activity_id
    return activity
