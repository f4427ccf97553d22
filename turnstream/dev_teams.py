"""The dev connector's Teams routes (`/v3/teams`, `/v1/meetings`, `/v3/batch/conversation`):
plausible answers, so a Teams bot's `TeamsInfo` calls work under `turnstream dev`. Every team
is "Contoso" with a General channel (the team's id) and an Announcements channel; every
meeting is a scheduled standup the sender attends; batch operations complete at once."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qs, unquote

from starlette.responses import JSONResponse, Response

TEAMS_PREFIXES = ("/v3/teams/", "/v1/meetings/", "/v3/batch/conversation/")


class DevTeams:
    """Answers the Teams routes; numbers the batch operations it starts."""

    def __init__(self) -> None:
        self._operations = itertools.count(1)

    def answer(self, method: str, raw_path: str, query: str) -> Response:
        """The answer to a request on one of `TEAMS_PREFIXES` (raw, still-escaped path)."""
        parts = [unquote(part) for part in raw_path.strip("/").split("/")]
        if parts[:2] == ["v3", "teams"] and method == "GET":
            return _team(parts[2:])
        if parts[:2] == ["v1", "meetings"]:
            return _meeting(method, parts[2:], parse_qs(query))
        if parts[:3] == ["v3", "batch", "conversation"]:
            return self._batch(method, [part for part in parts[3:] if part])
        return _not_found(raw_path)

    def _batch(self, method: str, target: list[str]) -> Response:
        if method == "POST" and target in (["users"], ["tenant"], ["team"], ["channels"]):
            return JSONResponse({"operationId": f"dev-operation-{next(self._operations)}"}, 201)
        if method == "GET" and len(target) == 2 and target[0] == "failedentries":
            return JSONResponse({"continuationToken": None, "failedEntryResponses": []})
        if method == "GET" and len(target) == 1:
            state = {"state": "Completed", "statusMap": {"201": 1}, "totalEntriesCount": 1}
            return JSONResponse(state)
        if method == "DELETE" and len(target) == 1:
            return Response(status_code=200)
        return _not_found("/v3/batch/conversation/" + "/".join(target))


def _team(rest: list[str]) -> Response:
    if len(rest) == 1:
        team_id = rest[0]
        details = {
            "id": team_id,
            "name": "Contoso",
            "aadGroupId": "00000000-0000-0000-0000-000000000001",
            "memberCount": 2,
            "channelCount": 2,
            "type": "standard",
        }
        return JSONResponse(details)
    if len(rest) == 2 and rest[1] == "conversations":
        channels = [
            {"id": rest[0], "name": None, "type": "standard"},
            {"id": f"19:announcements-{len(rest[0])}@thread.tacv2", "name": "Announcements"},
        ]
        return JSONResponse({"conversations": channels})
    return _not_found("/v3/teams/" + "/".join(rest))


def _meeting(method: str, rest: list[str], query: dict[str, list[str]]) -> Response:
    if not rest:
        return _not_found("/v1/meetings")
    meeting_id = rest[0]
    if method == "GET" and len(rest) == 1:
        return JSONResponse(
            {
                "details": {
                    "id": meeting_id,
                    "msGraphResourceId": f"graph-{meeting_id}",
                    "scheduledStartTime": "2026-01-05T09:00:00Z",
                    "scheduledEndTime": "2026-01-05T09:15:00Z",
                    "joinUrl": f"https://teams.example.test/meet/{meeting_id}",
                    "title": "Standup",
                    "type": "Scheduled",
                },
                "conversation": {"id": f"19:meeting-{meeting_id}@thread.v2", "isGroup": True},
                "organizer": {"id": "29:organizer", "name": "Organizer"},
            }
        )
    if method == "GET" and len(rest) == 3 and rest[1] == "participants":
        tenant = query.get("tenantId", [""])[0]
        return JSONResponse(
            {
                "user": {"id": rest[2], "aadObjectId": rest[2], "tenantId": tenant},
                "meeting": {"role": "Attendee", "inMeeting": True},
                "conversation": {"id": f"19:meeting-{meeting_id}@thread.v2", "isGroup": True},
            }
        )
    if method == "POST" and len(rest) == 2 and rest[1] == "notification":
        return Response(status_code=202)  # every recipient reached
    return _not_found("/v1/meetings/" + "/".join(rest))


def _not_found(path: str) -> Response:
    error = {"code": "NotFound", "message": f"the dev connector has no Teams route {path}"}
    return JSONResponse({"error": error}, 404)
