"""Running an operator's Teams batch operation (`shared.protocol.teams_batch`): the turn asks
Teams to deliver the activity through `TeamsInfo`'s batch calls, with the worker's credentials,
and records the operation id Teams answers in the job, then the operation's progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from shared.protocol.teams_batch import DEFAULT_CHECK_EVERY_SECONDS, ENDED_STATES, FOLLOW_SECONDS
from shared.schema.activity import Activity
from worker.bot.teams import TeamMember, TeamsInfo
from worker.bot.turn_context import TurnContext
from worker.bot.types import TurnHandler

Record = Callable[[dict[str, str]], Awaitable[None]]
"""Writes fields of the job (its `teamsOperation*` fields)."""


def teams_batch_turn(value: Mapping[str, Any], record: Record) -> TurnHandler:
    """The handler of a batch operation's turn: start it, record its id, then its state as Teams
    reports it until it ends (or `FOLLOW_SECONDS` passed)."""

    async def start(turn_context: TurnContext) -> None:
        activity = Activity.from_dict(dict(value["activity"]))
        kind, tenant_id = value["kind"], value["tenantId"]
        members = [TeamMember(id=i) for i in value.get("ids") or []]
        if kind == "users":
            operation = await TeamsInfo.send_message_to_list_of_users(
                turn_context, activity, members, tenant_id
            )
        elif kind == "tenant":
            operation = await TeamsInfo.send_message_to_all_users_in_tenant(
                turn_context, activity, tenant_id
            )
        elif kind == "team":
            operation = await TeamsInfo.send_message_to_all_users_in_team(
                turn_context, activity, value["teamId"], tenant_id
            )
        else:
            operation = await TeamsInfo.send_message_to_list_of_channels(
                turn_context, activity, members, tenant_id
            )
        await record({"teamsOperationId": operation})
        every = float(value.get("checkEverySeconds") or DEFAULT_CHECK_EVERY_SECONDS)
        deadline = time.monotonic() + FOLLOW_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(every)
            state = await TeamsInfo.get_operation_state(turn_context, operation)
            await record(
                {
                    "teamsOperationState": state.state or "",
                    "teamsOperationStatusMap": orjson.dumps(state.status_map or {}).decode(),
                    "teamsOperationEntries": str(state.total_entries_count or 0),
                }
            )
            if state.state in ENDED_STATES:
                return

    return start
