"""A Teams bot for end-to-end tests, by name in worker subprocesses
(`--bot tests.support.teams_bots:trail`): after each turn it replies with the trail of `on_*`
handlers the turn went through, so a test sees which handlers an activity reached."""

from __future__ import annotations

from typing import Any

from worker.bot import TurnContext
from worker.bot.teams import (
    TaskModuleMessageResponse,
    TaskModuleRequest,
    TaskModuleResponse,
    TeamsActivityHandler,
)

TRAIL_KEY = "tests.HandlerTrail"


class HandlerTrail(TeamsActivityHandler):
    """Every `on_*` handler called is noted in the turn's state; `task/submit` is answered."""

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if not name.startswith("on_") or name == "on_turn":
            return attribute

        async def noted(*args: Any) -> Any:
            context = next(a for a in args if isinstance(a, TurnContext))
            context.turn_state.setdefault(TRAIL_KEY, []).append(name)
            return await attribute(*args)

        return noted

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        trail = turn_context.turn_state.get(TRAIL_KEY, [])
        await turn_context.send_activity("trail: " + " ".join(trail))

    async def on_teams_task_module_submit(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        data = task_module_request.data
        return TaskModuleResponse(task=TaskModuleMessageResponse(value=f"got {data}"))


trail = HandlerTrail()
