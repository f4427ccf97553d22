"""ActivityHandler's dispatch table and invoke answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shared.schema.activity import Activity, ChannelAccount
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.activity_handler import ActivityHandler
from worker.bot.invoke import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, InvokeResponse
from worker.bot.turn_context import TurnContext

HANDLERS = [
    "on_message_activity",
    "on_message_update_activity",
    "on_message_delete_activity",
    "on_conversation_update_activity",
    "on_members_added_activity",
    "on_members_removed_activity",
    "on_message_reaction_activity",
    "on_reactions_added",
    "on_reactions_removed",
    "on_event_activity",
    "on_token_response_event",
    "on_event",
    "on_end_of_conversation_activity",
    "on_typing_activity",
    "on_installation_update",
    "on_installation_update_add",
    "on_installation_update_remove",
    "on_command_activity",
    "on_command_result_activity",
    "on_unrecognized_activity_type",
]


class Recorder(ActivityHandler):
    """Records each handler called, then runs the base behaviour (the sub-dispatch)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name in HANDLERS:
            calls = super().__getattribute__("calls")

            async def recorded(*args: Any) -> Any:
                calls.append(name)
                return await attribute(*args)

            return recorded
        return attribute


async def dispatch(**fields: Any) -> list[str]:
    bot = Recorder()
    activity = Activity.from_dict({**message("hi"), **fields})
    await bot.on_turn(TurnContext(RecordingSender(), activity))
    return bot.calls


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"type": "message"}, ["on_message_activity"]),
        ({"type": "messageUpdate"}, ["on_message_update_activity"]),
        ({"type": "messageDelete"}, ["on_message_delete_activity"]),
        (
            {"type": "conversationUpdate", "membersAdded": [{"id": "bot-1"}, {"id": "u"}]},
            ["on_conversation_update_activity", "on_members_added_activity"],
        ),
        (
            {"type": "conversationUpdate", "membersRemoved": [{"id": "u"}]},
            ["on_conversation_update_activity", "on_members_removed_activity"],
        ),
        ({"type": "conversationUpdate"}, ["on_conversation_update_activity"]),
        (
            {
                "type": "messageReaction",
                "reactionsAdded": [{"type": "like"}],
                "reactionsRemoved": [{"type": "sad"}],
            },
            ["on_message_reaction_activity", "on_reactions_added", "on_reactions_removed"],
        ),
        (
            {"type": "event", "name": "tokens/response"},
            ["on_event_activity", "on_token_response_event"],
        ),
        ({"type": "event", "name": "custom"}, ["on_event_activity", "on_event"]),
        ({"type": "endOfConversation"}, ["on_end_of_conversation_activity"]),
        ({"type": "typing"}, ["on_typing_activity"]),
        (
            {"type": "installationUpdate", "action": "add"},
            ["on_installation_update", "on_installation_update_add"],
        ),
        (
            {"type": "installationUpdate", "action": "add-upgrade"},
            ["on_installation_update", "on_installation_update_add"],
        ),
        (
            {"type": "installationUpdate", "action": "remove"},
            ["on_installation_update", "on_installation_update_remove"],
        ),
        (
            {"type": "installationUpdate", "action": "remove-upgrade"},
            ["on_installation_update", "on_installation_update_remove"],
        ),
        ({"type": "command"}, ["on_command_activity"]),
        ({"type": "commandResult"}, ["on_command_result_activity"]),
        ({"type": "handoff"}, ["on_unrecognized_activity_type"]),
        ({"type": "somethingNew"}, ["on_unrecognized_activity_type"]),
    ],
)
async def test_every_activity_type_reaches_its_handler(
    fields: dict[str, Any], expected: list[str]
) -> None:
    assert await dispatch(**fields) == expected


async def test_members_added_includes_the_bot_itself() -> None:
    seen: list[list[str | None]] = []

    class Welcome(ActivityHandler):
        async def on_members_added_activity(
            self, members_added: list[ChannelAccount], turn_context: TurnContext
        ) -> None:
            seen.append([m.id for m in members_added])

    activity = Activity.from_dict(
        {
            **message("x"),
            "type": "conversationUpdate",
            "membersAdded": [{"id": "bot-1"}, {"id": "u"}],
        }
    )
    await Welcome().on_turn(TurnContext(RecordingSender(), activity))
    assert seen == [["bot-1", "u"]]


async def invoke(handler: ActivityHandler, name: str, value: Any = None) -> InvokeResponse:
    sender = RecordingSender()
    activity = Activity.from_dict({**message("x"), "type": "invoke", "name": name, "value": value})
    await handler.on_turn(TurnContext(sender, activity))
    (answer,) = sender.sent
    assert answer.type == "invokeResponse"
    assert isinstance(answer.value, InvokeResponse)
    return answer.value


@pytest.mark.parametrize("name", ["signin/verifyState", "signin/tokenExchange", "task/fetch", ""])
async def test_unhandled_invokes_answer_501_and_never_crash(name: str) -> None:
    assert await invoke(ActivityHandler(), name) == InvokeResponse(501)


async def test_a_sign_in_failure_is_answered_200_and_logged_with_what_it_means(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = {"code": "resourcematchfailed", "message": "Resource match failed"}
    with caplog.at_level(logging.WARNING, logger="worker.bot.activity_handler"):
        assert await invoke(ActivityHandler(), "signin/failure", failure) == InvokeResponse(200)
    (record,) = caplog.records
    assert "user-1 in conversation conv-1: resourcematchfailed -- Resource match failed" in (
        record.getMessage()
    )
    assert "Application ID URI" in record.getMessage()


async def test_a_bot_can_answer_a_sign_in_failure_itself() -> None:
    seen: list[tuple[str, str]] = []

    class Bot(ActivityHandler):
        async def on_sign_in_failure(
            self, turn_context: TurnContext, code: str, message: str
        ) -> None:
            seen.append((code, message))

    assert await invoke(Bot(), "signin/failure", "not an object") == InvokeResponse(200)
    assert await invoke(Bot(), "signin/failure", {"code": "tokenmissing"}) == InvokeResponse(200)
    assert seen == [("", ""), ("tokenmissing", "")]


GOOD_CARD_ACTION = {
    "action": {"type": "Action.Execute", "verb": "ok", "data": {"x": 1}},
    "trigger": "manual",
}


@pytest.mark.parametrize(
    ("value", "code", "text"),
    [
        (None, "BadRequest", "Missing value property"),
        ({"trigger": "manual"}, "BadRequest", "Missing action property"),
        (
            {"action": {"type": "Action.Submit"}},
            "NotSupported",
            "The action 'Action.Submit' is not supported.",
        ),
    ],
)
async def test_adaptive_card_action_is_checked(value: Any, code: str, text: str) -> None:
    response = await invoke(ActivityHandler(), "adaptiveCard/action", value)
    assert response == InvokeResponse(
        400,
        {
            "statusCode": 400,
            "type": "application/vnd.microsoft.error",
            "value": {"code": code, "message": text},
        },
    )


async def test_adaptive_card_action_reaches_the_bot() -> None:
    class Cards(ActivityHandler):
        async def on_adaptive_card_invoke(
            self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
        ) -> AdaptiveCardInvokeResponse:
            assert invoke_value.action.verb == "ok" and invoke_value.trigger == "manual"
            return AdaptiveCardInvokeResponse(
                200, "application/vnd.microsoft.card.adaptive", {"done": True}
            )

    assert await invoke(
        ActivityHandler(), "adaptiveCard/action", GOOD_CARD_ACTION
    ) == InvokeResponse(501)
    assert await invoke(Cards(), "adaptiveCard/action", GOOD_CARD_ACTION) == InvokeResponse(
        200,
        {
            "statusCode": 200,
            "type": "application/vnd.microsoft.card.adaptive",
            "value": {"done": True},
        },
    )


async def test_a_turn_without_a_type_is_refused() -> None:
    with pytest.raises(TypeError, match="no type"):
        await ActivityHandler().on_turn(TurnContext(RecordingSender(), Activity()))


async def test_a_handler_of_its_own_invokes_answers_with_botbuilders_helper() -> None:
    class TaskBot(ActivityHandler):
        async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
            if turn_context.activity.name == "task/fetch":
                return self._create_invoke_response(ChannelAccount(id="card"))
            return await super().on_invoke_activity(turn_context)

    assert await invoke(TaskBot(), "task/fetch") == InvokeResponse(200, {"id": "card"})
    assert await invoke(TaskBot(), "task/submit") == InvokeResponse(501)
