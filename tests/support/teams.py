"""Teams activities for tests, shaped after the public Teams and Bot Framework documentation:
channelId `msteams`, a team, a channel, a tenant in channelData."""

from __future__ import annotations

from typing import Any

TEAM = {"id": "19:team-general@thread.tacv2", "name": "Contoso", "aadGroupId": "group-1"}
CHANNEL = {"id": "19:team-general@thread.tacv2", "name": None}
TENANT = {"id": "tenant-1"}


def teams_activity(
    activity_type: str,
    *,
    activity_id: str = "1:teams",
    service_url: str = "https://smba.example.test/amer/",
    conversation: str = "19:team-general@thread.tacv2;messageid=1",
    channel_data: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A wire-format activity from Teams in the team's General channel; `fields` (camelCase)
    are added as they are."""
    data = {"team": TEAM, "channel": CHANNEL, "tenant": TENANT}
    data.update(channel_data or {})
    return {
        "type": activity_type,
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {
            "id": conversation,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT["id"],
        },
        "from": {"id": "29:user-1", "name": "Ada", "aadObjectId": "aad-user-1"},
        "recipient": {"id": "28:bot-1", "name": "Bot"},
        "channelData": data,
        "locale": "en-US",
        **fields,
    }


def invoke(name: str, value: Any, **fields: Any) -> dict[str, Any]:
    """A Teams invoke activity named `name` with `value`."""
    return teams_activity("invoke", name=name, value=value, **fields)


TASK_FETCH_VALUE = {
    "data": {"type": "task/fetch", "opening": "form"},
    "context": {"theme": "default"},
}
"""A `task/fetch` value as Teams sends it for an Adaptive Card `Action.Submit` with
`msteams: {type: task/fetch}`."""
