"""The Teams routes of the Bot Connector service: teams, meetings and batch messaging.

Each call goes through `ConnectorClient.call`, so it follows the client's rules (the outbound
policy, the token, retries on throttling, `ConnectorError` with the service's error code and
message) and returns the answer's JSON; `worker.bot.teams.TeamsInfo` reads it into
the Teams schema. Ids are escaped as one path segment each: Teams ids carry ':', '@' and ';'.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from worker.connector import bodies
from worker.connector.client import ConnectorClient


class TeamsOperations:
    """`/v3/teams/...`, `/v1/meetings/...` and `/v3/batch/conversation/...` on one service URL
    (the inbound activity's)."""

    def __init__(self, client: ConnectorClient, service_url: str) -> None:
        self._client = client
        self._service_url = service_url

    async def get_team_details(self, team_id: str) -> Any:
        """GET /v3/teams/{teamId}."""
        return await self._get(f"v3/teams/{_segment(team_id)}")

    async def get_team_channels(self, team_id: str) -> Any:
        """GET /v3/teams/{teamId}/conversations: `{"conversations": [channel, ...]}`."""
        return await self._get(f"v3/teams/{_segment(team_id)}/conversations")

    async def get_meeting_participant(
        self, meeting_id: str, participant_id: str, tenant_id: str
    ) -> Any:
        """GET /v1/meetings/{meetingId}/participants/{participantId}?tenantId=..."""
        path = f"v1/meetings/{_segment(meeting_id)}/participants/{_segment(participant_id)}"
        return await self._get(path + _query({"tenantId": tenant_id}))

    async def get_meeting_info(self, meeting_id: str) -> Any:
        """GET /v1/meetings/{meetingId}."""
        return await self._get(f"v1/meetings/{_segment(meeting_id)}")

    async def send_meeting_notification(self, meeting_id: str, notification: dict[str, Any]) -> Any:
        """POST /v1/meetings/{meetingId}/notification: None (202, all sent) or the recipients
        it failed for."""
        return await self._post(f"v1/meetings/{_segment(meeting_id)}/notification", notification)

    async def send_to_list_of_users(self, body: dict[str, Any]) -> Any:
        """POST /v3/batch/conversation/users/ (`activity`, `members`, `tenantId`)."""
        return await self._post("v3/batch/conversation/users/", body)

    async def send_to_all_users_in_tenant(self, body: dict[str, Any]) -> Any:
        """POST /v3/batch/conversation/tenant/ (`activity`, `tenantId`)."""
        return await self._post("v3/batch/conversation/tenant/", body)

    async def send_to_all_users_in_team(self, body: dict[str, Any]) -> Any:
        """POST /v3/batch/conversation/team/ (`activity`, `teamId`, `tenantId`)."""
        return await self._post("v3/batch/conversation/team/", body)

    async def send_to_list_of_channels(self, body: dict[str, Any]) -> Any:
        """POST /v3/batch/conversation/channels/ (`activity`, `members`, `tenantId`)."""
        return await self._post("v3/batch/conversation/channels/", body)

    async def get_operation_state(self, operation_id: str) -> Any:
        """GET /v3/batch/conversation/{operationId}."""
        return await self._get(f"v3/batch/conversation/{_segment(operation_id)}")

    async def get_failed_entries(
        self, operation_id: str, continuation_token: str | None = None
    ) -> Any:
        """GET /v3/batch/conversation/failedentries/{operationId}[?continuationToken=...]."""
        path = f"v3/batch/conversation/failedentries/{_segment(operation_id)}"
        return await self._get(path + _query({"continuationToken": continuation_token}))

    async def cancel_operation(self, operation_id: str) -> None:
        """DELETE /v3/batch/conversation/{operationId}."""
        path = f"v3/batch/conversation/{_segment(operation_id)}"
        await self._client.call("DELETE", self._service_url, path, None, bodies.nothing)

    async def _get(self, path: str) -> Any:
        return await self._client.call("GET", self._service_url, path, None, bodies.json_or_none)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._client.call("POST", self._service_url, path, body, bodies.json_or_none)


def _segment(identifier: str) -> str:
    return quote(identifier, safe="")


def _query(parameters: dict[str, str | None]) -> str:
    present = {name: value for name, value in parameters.items() if value is not None}
    return f"?{urlencode(present, quote_via=quote, safe='')}" if present else ""
