from __future__ import annotations

from shared.activity import Activity, ResourceResponse
from tests.activities import message
from worker.turn_context import TurnContext


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        self.sent.extend(activities)
        return [ResourceResponse(id=f"r{len(self.sent)}") for _ in activities]


async def test_text_reply_is_addressed_back_to_the_sender() -> None:
    sender = RecordingSender()
    inbound = {**message("hi", activity_id="in-1"), "serviceUrl": "https://smba.example/"}
    context = TurnContext(sender, Activity.from_dict(inbound))
    assert not context.responded

    response = await context.send_activity("hello", speak="hello!")

    assert response == ResourceResponse(id="r1")
    assert context.responded
    assert sender.sent[0].to_dict() == {
        "type": "message",
        "text": "hello",
        "speak": "hello!",
        "inputHint": "acceptingInput",
        "from": {"id": "bot-1", "name": "Bot"},
        "recipient": {"id": "user-1", "name": "user-1 name"},
        "conversation": {"id": "conv-1"},
        "channelId": "test",
        "replyToId": "in-1",
        "locale": "en-US",
    }


async def test_an_activity_keeps_its_content_and_loses_a_stray_id() -> None:
    sender = RecordingSender()
    context = TurnContext(sender, Activity.from_dict(message("hi")))
    outgoing = Activity(type="typing", id="mine", service_url="https://elsewhere", locale="fr-FR")

    await context.send_activities([outgoing, Activity(type="trace", name="t")])

    typing, trace = sender.sent
    assert (typing.type, typing.id, typing.service_url, typing.locale) == (
        "typing",
        None,
        None,
        "fr-FR",
    )
    assert typing.input_hint is None
    assert (trace.type, trace.reply_to_id) == ("trace", "1")
    assert outgoing.id == "mine"  # the caller's object is not modified
