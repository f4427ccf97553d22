"""botbuilder's telemetry interface: TelemetryLoggerMiddleware reports what a turn receives,
sends, updates and deletes to the bot's own BotTelemetryClient, personal data only when asked."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import Activity, Attachment, ChannelAccount
from worker.bot.telemetry import (
    BotTelemetryClient,
    NullTelemetryClient,
    Severity,
    TelemetryLoggerConstants,
    TelemetryLoggerMiddleware,
)
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext


class RecordingClient(NullTelemetryClient):
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def track_event(self, name: str, properties: Any = None, measurements: Any = None) -> None:
        self.events.append((name, dict(properties or {})))


async def chat(log_personal_information: bool) -> list[tuple[str, dict[str, Any]]]:
    client = RecordingClient()

    async def bot(context: TurnContext) -> None:
        sent = await context.send_activity(
            Activity(type="message", text="hello", attachments=[Attachment(content_type="x")])
        )
        assert sent is not None and sent.id
        await context.update_activity(Activity(type="message", id=sent.id, text="hello!"))
        await context.delete_activity(sent.id)

    adapter = TestAdapter(bot).use(TelemetryLoggerMiddleware(client, log_personal_information))
    await adapter.send("hi")
    return client.events


async def test_every_message_is_reported_without_personal_data_by_default() -> None:
    events = await chat(log_personal_information=False)
    assert [name for name, _ in events] == [
        TelemetryLoggerConstants.BOT_MSG_RECEIVE_EVENT,
        TelemetryLoggerConstants.BOT_MSG_SEND_EVENT,
        TelemetryLoggerConstants.BOT_MSG_UPDATE_EVENT,
        TelemetryLoggerConstants.BOT_MSG_DELETE_EVENT,
    ]
    received, sent, updated, deleted = (properties for _, properties in events)
    assert received == {
        "fromId": "User1",
        "conversationName": None,
        "locale": None,  # botbuilder's TestAdapter sends no locale
        "recipientId": "bot",
        "recipientName": "Bot",
    }
    assert sent["recipientId"] == "User1" and sent["replyActivityId"] == "1"
    assert "text" not in sent and "attachments" not in sent
    assert updated["conversationId"] == "Convo1" and "text" not in updated
    assert deleted == {"recipientId": "User1", "conversationId": "Convo1", "conversationName": None}


async def test_personal_data_when_asked() -> None:
    received, sent, updated, _ = (p for _, p in await chat(log_personal_information=True))
    assert (received["text"], received["fromName"]) == ("hi", "user")
    assert sent["text"] == "hello" and sent["attachments"] == '[{"contentType":"x"}]'
    assert updated["text"] == "hello!"


async def test_teams_properties_and_extra_properties() -> None:
    middleware = TelemetryLoggerMiddleware(None, False)
    assert isinstance(middleware.telemetry_client, NullTelemetryClient)
    activity = Activity(
        type="message",
        channel_id="msteams",
        from_property=ChannelAccount(id="u", aad_object_id="aad-1"),
        channel_data={"tenant": {"id": "t-1"}, "team": {"id": "team-1", "name": "Ops"}},
    )
    properties = await middleware.fill_receive_event_properties(activity, {"extra": "x"})
    assert properties["TeamsTenantId"] == "t-1" and properties["TeamsUserAadObjectId"] == "aad-1"
    assert properties["TeamsTeamInfo"] == {"id": "team-1", "name": "Ops"}
    assert properties["extra"] == "x"


def test_a_client_must_implement_the_tracking_methods() -> None:
    class Partial(BotTelemetryClient):
        def track_event(self, name: str, properties: Any = None, measurements: Any = None) -> None:
            return None

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]
    NullTelemetryClient().track_trace("t", None, Severity.warning)  # accepted, dropped
