"""The connector operations bot code calls with a TurnContext (worker/bot/conversations.py)."""

from __future__ import annotations

import pytest

from shared.schema.activity import (
    Activity,
    AttachmentData,
    ChannelAccount,
    ConversationAccount,
    ResourceResponse,
    Transcript,
)
from tests.support.http import serving
from tests.support.recording_connector import Answer, RecordingConnector
from tests.worker.bot.test_turn_context import RecordingSender
from turnstream.devconnector import DevConnector
from worker.bot import conversations
from worker.bot.adapter import ConnectorAdapter
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.errors import ConnectorError
from worker.connector.service_urls import OutboundPolicy


def inbound(service_url: str) -> Activity:
    return Activity(
        type="message",
        id="1:in",
        service_url=service_url,
        channel_id="msteams",
        conversation=ConversationAccount(id="a:conv"),
        from_property=ChannelAccount(id="29:user"),
        recipient=ChannelAccount(id="28:bot"),
    )


def client() -> ConnectorClient:
    return ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))


def context_with(connector: ConnectorClient, service_url: str) -> TurnContext:
    """A turn whose turn_state carries the client, as the SDK's adapters do."""
    context = TurnContext(ConnectorAdapter(connector), inbound(service_url))
    context.turn_state[conversations.CONNECTOR_CLIENT_KEY] = connector
    return context


async def test_members_of_the_turns_conversation() -> None:
    recording = RecordingConnector(
        Answer(body=[{"id": "29:user", "email": "u@example.test"}]),
        Answer(body={"id": "29:user"}),
        Answer(body={"continuationToken": "t", "members": [{"id": "a"}]}),
        Answer(body={"members": [{"id": "b"}]}),
        Answer(body=[{"id": "28:bot"}]),
    )
    connector = client()
    async with serving(recording.app) as url:
        context = context_with(connector, url)
        members = await conversations.get_conversation_members(context)
        member = await conversations.get_member(context, "29:user")
        ids = [m.id async for m in conversations.iter_members(context, page_size=1)]
        addressed = await conversations.get_activity_members(context)
    await connector.aclose()
    assert members[0].additional_properties == {"email": "u@example.test"}
    assert member == ChannelAccount(id="29:user")
    assert ids == ["a", "b"]
    assert addressed == [ChannelAccount(id="28:bot")]
    assert [(r.method, r.raw_path, r.query) for r in recording.requests] == [
        ("GET", "/v3/conversations/a%3Aconv/members", ""),
        ("GET", "/v3/conversations/a%3Aconv/members/29%3Auser", ""),
        ("GET", "/v3/conversations/a%3Aconv/pagedmembers", "pageSize=1"),
        ("GET", "/v3/conversations/a%3Aconv/pagedmembers", "pageSize=1&continuationToken=t"),
        ("GET", "/v3/conversations/a%3Aconv/activities/1%3Ain/members", ""),
    ]


async def test_history_attachments_and_removing_a_member() -> None:
    recording = RecordingConnector(
        Answer(body={"id": "h"}),
        Answer(body={"id": "att"}),
        Answer(status=200),
        Answer(body={"continuationToken": None, "members": []}),
    )
    connector = client()
    async with serving(recording.app) as url:
        context = context_with(connector, url)
        history = await conversations.send_conversation_history(
            context, Transcript(activities=[Activity(type="message", text="old")])
        )
        attachment = await conversations.upload_attachment(
            context, AttachmentData(type="text/plain", name="a.txt", original_base64="aGk=")
        )
        await conversations.delete_conversation_member(context, "29:user")
        page = await conversations.get_paged_members(context, 10, "tok")
    await connector.aclose()
    assert (history, attachment) == (ResourceResponse(id="h"), ResourceResponse(id="att"))
    assert page.members == []
    assert [(r.method, r.raw_path) for r in recording.requests] == [
        ("POST", "/v3/conversations/a%3Aconv/activities/history"),
        ("POST", "/v3/conversations/a%3Aconv/attachments"),
        ("DELETE", "/v3/conversations/a%3Aconv/members/29%3Auser"),
        ("GET", "/v3/conversations/a%3Aconv/pagedmembers"),
    ]
    assert recording.requests[-1].query == "pageSize=10&continuationToken=tok"


async def test_the_adapters_connector_is_found_too() -> None:
    recording = RecordingConnector(
        Answer(404, {"error": {"code": "NotFound", "message": "no such member"}})
    )
    connector = client()
    async with serving(recording.app) as url:
        context = TurnContext(ConnectorAdapter(connector), inbound(url))
        with pytest.raises(ConnectorError) as caught:
            await conversations.get_member(context, "29:nobody")
    await connector.aclose()
    assert (caught.value.status, caught.value.code) == (404, "NotFound")


async def test_without_a_connector_client_the_error_says_so() -> None:
    context = TurnContext(RecordingSender(), inbound("http://127.0.0.1:9"))  # not a worker's
    with pytest.raises(RuntimeError, match="no ConnectorClient"):
        await conversations.get_conversation_members(context)


async def test_an_activity_without_an_id_needs_one_given() -> None:
    connector = client()
    context = context_with(connector, "http://127.0.0.1:9")
    context.activity.id = None
    with pytest.raises(ValueError, match="activity id"):
        await conversations.get_activity_members(context)
    await connector.aclose()


async def test_the_dev_connector_knows_the_members_it_has_seen() -> None:
    dev = DevConnector(echo_log=False)
    connector = client()
    async with serving(dev.app) as url:
        context = context_with(connector, url)
        await context.send_activity("hello")  # from the bot, to the user
        members = await conversations.get_conversation_members(context)
        user = await conversations.get_member(context, "29:user")
        page = await conversations.get_paged_members(context)
        with pytest.raises(ConnectorError) as caught:
            await conversations.get_member(context, "29:stranger")
    await connector.aclose()
    assert [m.id for m in members] == ["28:bot", "29:user"]
    assert user == ChannelAccount(id="29:user")
    assert page.members == members
    assert (caught.value.status, caught.value.code) == (404, "MemberNotFound")
