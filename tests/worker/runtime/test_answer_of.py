"""What a turn's invoke answer becomes on the HTTP response: Models in camelCase."""

from __future__ import annotations

import dataclasses

import orjson

from shared.tokens import TokenExchangeInvokeResponse
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot import Activity, ActivityTypes, TurnContext
from worker.bot.invoke import INVOKE_RESPONSE_KEY, InvokeResponse
from worker.runtime.answer_publisher import answer_of


@dataclasses.dataclass
class Plain:
    some_field: int


def _answered(body: object) -> tuple[int, object]:
    context = TurnContext(RecordingSender(), Activity(type=ActivityTypes.INVOKE, name="x"))
    context.turn_state[INVOKE_RESPONSE_KEY] = Activity(
        type=ActivityTypes.INVOKE_RESPONSE, value=InvokeResponse(412, body)
    )
    answer = answer_of(context)
    return answer.status, orjson.loads(answer.body) if answer.body else None


def test_a_model_in_the_body_is_written_as_on_the_wire() -> None:
    body = TokenExchangeInvokeResponse(id="x1", connection_name="graph", failure_detail="no")
    assert _answered(body) == (412, {"id": "x1", "connectionName": "graph", "failureDetail": "no"})


def test_models_nested_in_plain_data_and_other_dataclasses() -> None:
    body = {"items": [TokenExchangeInvokeResponse(id="a")], "plain": Plain(3)}
    assert _answered(body) == (412, {"items": [{"id": "a"}], "plain": {"some_field": 3}})
