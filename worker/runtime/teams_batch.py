"""Running an operator's Teams batch operation (`shared.protocol.teams_batch`): the turn asks
Teams to deliver the activity through `TeamsInfo`'s batch calls, with the worker's credentials,
and records the operation id Teams answers in the job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from shared.schema.activity import Activity
from worker.bot.teams import TeamMember, TeamsInfo
from worker.bot.turn_context import TurnContext
from worker.bot.types import TurnHandler

Record = Callable[[str], Awaitable[None]]


def teams_batch_turn(value: Mapping[str, Any], record: Record) -> TurnHandler:
    """The handler of a batch operation's turn; `record(operation_id)` once Teams took it."""

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
        await record(operation)

    return start
