"""Each Bot Connector operation against a recording connector on loopback: the request that
went out (method, escaped path, query, body), the typed result, error bodies, retries."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from shared.schema.activity import (
    Activity,
    AttachmentData,
    ChannelAccount,
    ConversationParameters,
    ConversationResourceResponse,
    PagedMembersResult,
    ResourceResponse,
    Transcript,
)
from tests.support.http import serving
from tests.support.recording_connector import Answer, RecordingConnector
from worker.bot.errors import is_transient
from worker.connector import client as connector_module
from worker.connector.client import ConnectorClient
from worker.connector.errors import ConnectorError, ForbiddenServiceUrl
from worker.connector.service_urls import OutboundPolicy

TEAMS_CONVERSATION = "19:meeting_abc@thread.v2;messageid=17"
ESCAPED_CONVERSATION = "19%3Ameeting_abc%40thread.v2%3Bmessageid%3D17"
MEMBER = "29:1a/b?c"
ESCAPED_MEMBER = "29%3A1a%2Fb%3Fc"
TEAMS_MEMBER = {
    "id": "29:1a",
    "name": "Ada",
    "aadObjectId": "00000000-0000-0000-0000-00000000000a",
    "givenName": "Ada",
    "surname": "Lovelace",
    "email": "ada@example.test",
    "userPrincipalName": "ada@example.test",
    "tenantId": "tenant-1",
    "userRole": "user",
}


class _Token:
    async def authorization(self, service_url: str) -> str | None:
        return "Bearer test-token"


@asynccontextmanager
async def connector(
    *answers: Answer, default: Any = None, client_timeout: float = 5
) -> AsyncIterator[tuple[RecordingConnector, ConnectorClient, str]]:
    recording = RecordingConnector(*answers, default=default)
    client = ConnectorClient.create(
        timeout_seconds=client_timeout,
        credentials=_Token(),
        policy=OutboundPolicy(allow_private=True),
    )
    try:
        async with serving(recording.app) as url:
            yield recording, client, url
    finally:
        await client.aclose()


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Retries happen at once; the Retry-After values the client honoured are listed."""
    honoured: list[str | None] = []

    def record(retry_after: str | None, attempt: int) -> float:
        honoured.append(retry_after)
        return 0.0

    monkeypatch.setattr(connector_module, "_retry_delay", record)
    return honoured


# -- one test per operation ----------------------------------------------------------------------


async def test_get_conversation_members_keeps_teams_fields() -> None:
    async with connector(default=[TEAMS_MEMBER, {"id": "28:bot", "name": "Bot"}]) as (
        rec,
        client,
        url,
    ):
        members = await client.get_conversation_members(url, TEAMS_CONVERSATION)
    assert (rec.last.method, rec.last.raw_path, rec.last.body) == (
        "GET",
        f"/v3/conversations/{ESCAPED_CONVERSATION}/members",
        None,
    )
    assert rec.last.headers["authorization"] == "Bearer test-token"
    assert [m.id for m in members] == ["29:1a", "28:bot"]
    ada = members[0]
    assert (ada.name, ada.aad_object_id) == ("Ada", TEAMS_MEMBER["aadObjectId"])
    assert ada.additional_properties["userPrincipalName"] == "ada@example.test"
    assert ada.to_dict() == TEAMS_MEMBER  # a round trip loses nothing


async def test_get_conversation_member() -> None:
    async with connector(default=TEAMS_MEMBER) as (rec, client, url):
        member = await client.get_conversation_member(url, TEAMS_CONVERSATION, MEMBER)
    assert (rec.last.method, rec.last.raw_path) == (
        "GET",
        f"/v3/conversations/{ESCAPED_CONVERSATION}/members/{ESCAPED_MEMBER}",
    )
    assert isinstance(member, ChannelAccount)
    assert member.id == "29:1a" and member.additional_properties["email"] == "ada@example.test"


async def test_get_conversation_paged_members() -> None:
    page = {"continuationToken": "next+1", "members": [TEAMS_MEMBER]}
    async with connector(default=page) as (rec, client, url):
        result = await client.get_conversation_paged_members(
            url, TEAMS_CONVERSATION, page_size=50, continuation_token="a+b/c="
        )
        first = await client.get_conversation_paged_members(url, TEAMS_CONVERSATION)
    assert rec.requests[0].method == "GET"
    assert rec.requests[0].raw_path == f"/v3/conversations/{ESCAPED_CONVERSATION}/pagedmembers"
    assert rec.requests[0].query == "pageSize=50&continuationToken=a%2Bb%2Fc%3D"
    assert rec.requests[1].query == ""  # no parameters: none sent
    assert isinstance(result, PagedMembersResult) and result == first
    assert result.continuation_token == "next+1"
    assert [m.id for m in result.members or []] == ["29:1a"]


async def test_iter_conversation_members_walks_every_page() -> None:
    pages = [
        Answer(body={"continuationToken": "p2", "members": [{"id": "a"}, {"id": "b"}]}),
        Answer(body={"continuationToken": "p3", "members": [{"id": "c"}]}),
        Answer(body={"members": [{"id": "d"}]}),
    ]
    async with connector(*pages) as (rec, client, url):
        ids = [m.id async for m in client.iter_conversation_members(url, "c1", page_size=2)]
    assert ids == ["a", "b", "c", "d"]
    assert [r.query for r in rec.requests] == [
        "pageSize=2",
        "pageSize=2&continuationToken=p2",
        "pageSize=2&continuationToken=p3",
    ]


async def test_iter_conversation_members_stops_on_a_repeated_token() -> None:
    same = {"continuationToken": "again", "members": [{"id": "a"}]}
    async with connector(default=same) as (rec, client, url):
        ids = [m.id async for m in client.iter_conversation_members(url, "c1")]
    assert ids == ["a", "a"] and len(rec.requests) == 2


async def test_get_activity_members() -> None:
    async with connector(default=[{"id": "29:1a"}]) as (rec, client, url):
        members = await client.get_activity_members(url, TEAMS_CONVERSATION, "1:act/1")
    assert (rec.last.method, rec.last.raw_path) == (
        "GET",
        f"/v3/conversations/{ESCAPED_CONVERSATION}/activities/1%3Aact%2F1/members",
    )
    assert members == [ChannelAccount(id="29:1a")]


async def test_create_conversation() -> None:
    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id="28:bot", name="Bot"),
        members=[ChannelAccount(id="29:1a")],
        tenant_id="tenant-1",
        activity=Activity(type="message", text="hello"),
        channel_data={"tenant": {"id": "tenant-1"}},
    )
    answer = {"id": "a:new", "activityId": "1:first", "serviceUrl": "https://smba.test/"}
    async with connector(Answer(status=201, body=answer)) as (rec, client, url):
        created = await client.create_conversation(url, parameters)
    assert (rec.last.method, rec.last.raw_path) == ("POST", "/v3/conversations")
    assert rec.last.body == {
        "isGroup": False,
        "bot": {"id": "28:bot", "name": "Bot"},
        "members": [{"id": "29:1a"}],
        "tenantId": "tenant-1",
        "activity": {"type": "message", "text": "hello"},
        "channelData": {"tenant": {"id": "tenant-1"}},
    }
    assert created == ConversationResourceResponse(
        id="a:new", activity_id="1:first", service_url="https://smba.test/"
    )


async def test_create_conversation_accepts_an_empty_answer() -> None:
    async with connector(Answer(status=202)) as (_rec, client, url):
        created = await client.create_conversation(url, ConversationParameters(is_group=True))
    assert created == ConversationResourceResponse()


async def test_send_conversation_history() -> None:
    transcript = Transcript(
        activities=[Activity(type="message", id="m1", text="earlier"), Activity(type="typing")]
    )
    async with connector(default={"id": "h1"}) as (rec, client, url):
        response = await client.send_conversation_history(url, TEAMS_CONVERSATION, transcript)
    assert (rec.last.method, rec.last.raw_path) == (
        "POST",
        f"/v3/conversations/{ESCAPED_CONVERSATION}/activities/history",
    )
    assert rec.last.body == {
        "activities": [{"type": "message", "id": "m1", "text": "earlier"}, {"type": "typing"}]
    }
    assert response == ResourceResponse(id="h1")


async def test_upload_attachment() -> None:
    data = AttachmentData.from_bytes("image/png", "dot.png", b"\x89PNG-bytes", b"thumb")
    async with connector(default={"id": "att-1"}) as (rec, client, url):
        response = await client.upload_attachment(url, TEAMS_CONVERSATION, data)
    assert (rec.last.method, rec.last.raw_path) == (
        "POST",
        f"/v3/conversations/{ESCAPED_CONVERSATION}/attachments",
    )
    assert rec.last.body == {
        "type": "image/png",
        "name": "dot.png",
        "originalBase64": base64.b64encode(b"\x89PNG-bytes").decode(),
        "thumbnailBase64": base64.b64encode(b"thumb").decode(),
    }
    assert response == ResourceResponse(id="att-1")


async def test_delete_conversation_member() -> None:
    async with connector(Answer(status=204)) as (rec, client, url):
        await client.delete_conversation_member(url, TEAMS_CONVERSATION, MEMBER)
    assert (rec.last.method, rec.last.raw_path, rec.last.body) == (
        "DELETE",
        f"/v3/conversations/{ESCAPED_CONVERSATION}/members/{ESCAPED_MEMBER}",
        None,
    )


async def test_activity_operations() -> None:
    message = {"type": "message", "text": "hi"}
    async with connector(default={"id": "x"}) as (rec, client, url):
        replied = await client.reply_to_activity(url, TEAMS_CONVERSATION, "1:a", message)
        sent = await client.send_to_conversation(url, TEAMS_CONVERSATION, message)
        updated = await client.update_activity(url, TEAMS_CONVERSATION, "1:a", message)
        await client.delete_activity(url, TEAMS_CONVERSATION, "1:a")
    activities = f"/v3/conversations/{ESCAPED_CONVERSATION}/activities"
    assert [(r.method, r.raw_path, r.body) for r in rec.requests] == [
        ("POST", f"{activities}/1%3Aa", message),
        ("POST", activities, message),
        ("PUT", f"{activities}/1%3Aa", message),
        ("DELETE", f"{activities}/1%3Aa", None),
    ]
    assert replied == sent == updated == ResourceResponse(id="x")


# -- error bodies --------------------------------------------------------------------------------

Operation = Callable[[ConnectorClient, str], Awaitable[object]]

OPERATIONS: dict[str, Operation] = {
    "get member": lambda c, u: c.get_conversation_member(u, "c1", "m1"),
    "get members": lambda c, u: c.get_conversation_members(u, "c1"),
    "paged members": lambda c, u: c.get_conversation_paged_members(u, "c1"),
    "create conversation": lambda c, u: c.create_conversation(u, ConversationParameters()),
    "send": lambda c, u: c.send_to_conversation(u, "c1", {"type": "message"}),
    "update": lambda c, u: c.update_activity(u, "c1", "a1", {"type": "message"}),
    "delete member": lambda c, u: c.delete_conversation_member(u, "c1", "m1"),
    "upload": lambda c, u: c.upload_attachment(u, "c1", AttachmentData(name="f")),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_an_error_response_becomes_a_typed_error(operation: Operation) -> None:
    body = {
        "error": {
            "code": "ConversationNotFound",
            "message": "Conversation not found.",
            "innerHttpError": {"statusCode": 404, "body": {"detail": "gone"}},
        }
    }
    answer = Answer(404, body, headers={"X-Correlating-OperationId": "op-123"})
    async with connector(answer) as (rec, client, url):
        with pytest.raises(ConnectorError) as caught:
            await operation(client, url)
    error = caught.value
    assert len(rec.requests) == 1  # a 404 is not retried, whatever the method
    assert (error.status, error.code, error.message, error.operation_id) == (
        404,
        "ConversationNotFound",
        "Conversation not found.",
        "op-123",
    )
    assert error.error is not None and error.error.error is not None
    inner = error.error.error.inner_http_error
    assert inner is not None and (inner.status_code, inner.body) == (404, {"detail": "gone"})
    assert "ConversationNotFound: Conversation not found. (operation op-123)" in str(error)
    assert "ConversationNotFound" in error.body  # the raw body, as before
    assert not is_transient(error)


@pytest.mark.parametrize(
    ("answer", "expected_message"),
    [
        (Answer(403, b"<html><b>Forbidden</b>\n by proxy</html>"), "<html><b>Forbidden</b> by"),
        (Answer(404), "Not Found"),
        (Answer(400, {"error": "bad thing"}), '{"error":"bad thing"}'),
        (Answer(400, [1, 2]), "[1,2]"),
    ],
    ids=["html", "empty", "error-not-an-object", "array"],
)
async def test_an_answer_that_is_not_an_error_response_still_explains(
    answer: Answer, expected_message: str
) -> None:
    async with connector(answer) as (_rec, client, url):
        with pytest.raises(ConnectorError) as caught:
            await client.get_conversation_members(url, "c1")
    error = caught.value
    assert error.status == answer.status and error.code is None and error.error is None
    assert error.message is not None and error.message.startswith(expected_message)
    assert f"GET {url}/v3/conversations/c1/members -> {answer.status}: " in str(error)


@pytest.mark.parametrize(
    "body", [b"not json", {"id": "not a list"}, [1, 2]], ids=["text", "object", "numbers"]
)
async def test_a_2xx_body_of_the_wrong_shape_is_an_error(body: Any) -> None:
    async with connector(Answer(200, body)) as (_rec, client, url):
        with pytest.raises(ConnectorError, match="unusable body") as caught:
            await client.get_conversation_members(url, "c1")
    assert caught.value.status == 200 and not is_transient(caught.value)


# -- retries -------------------------------------------------------------------------------------


async def test_a_get_is_retried_after_a_500(no_waiting: list[str | None]) -> None:
    answers = [Answer(500, {"error": {"code": "ServiceError", "message": "oops"}}), Answer(502)]
    async with connector(*answers, default=[{"id": "a"}]) as (rec, client, url):
        members = await client.get_conversation_members(url, "c1")
    assert members == [ChannelAccount(id="a")]
    assert [r.method for r in rec.requests] == ["GET", "GET", "GET"]
    assert no_waiting == [None, None]


async def test_a_get_gives_up_after_three_tries(no_waiting: list[str | None]) -> None:
    unavailable = Answer(503, headers={"X-Correlating-OperationId": "op-9"})
    async with connector(default=unavailable) as (rec, client, url):
        with pytest.raises(ConnectorError) as caught:
            await client.get_conversation_member(url, "c1", "m1")
    assert len(rec.requests) == 3
    assert caught.value.status == 503 and caught.value.operation_id == "op-9"
    assert is_transient(caught.value)


async def test_a_post_is_not_sent_again_after_a_500(no_waiting: list[str | None]) -> None:
    async with connector(Answer(500), default={"id": "dup"}) as (rec, client, url):
        with pytest.raises(ConnectorError) as caught:
            await client.create_conversation(url, ConversationParameters())
    assert len(rec.requests) == 1 and caught.value.status == 500
    assert no_waiting == []


async def test_a_post_is_retried_after_429_honouring_retry_after(
    no_waiting: list[str | None],
) -> None:
    throttled = Answer(429, headers={"Retry-After": "7"})
    async with connector(throttled, default={"id": "h1"}) as (rec, client, url):
        response = await client.upload_attachment(url, "c1", AttachmentData(name="f"))
    assert response == ResourceResponse(id="h1")
    assert [r.method for r in rec.requests] == ["POST", "POST"]
    assert rec.requests[0].body == rec.requests[1].body
    assert no_waiting == ["7"]


async def test_a_put_is_retried_like_a_get(no_waiting: list[str | None]) -> None:
    async with connector(Answer(504), default={"id": "u"}) as (rec, client, url):
        response = await client.update_activity(url, "c1", "a1", {"type": "message"})
    assert response == ResourceResponse(id="u")
    assert [r.method for r in rec.requests] == ["PUT", "PUT"]


async def test_a_get_that_timed_out_is_sent_again(no_waiting: list[str | None]) -> None:
    slow = Answer(body=[{"id": "late"}], delay=1.0)
    async with connector(slow, default=[{"id": "b"}], client_timeout=0.3) as (rec, client, url):
        members = await client.get_conversation_members(url, "c1")
    assert members == [ChannelAccount(id="b")]
    assert len(rec.requests) == 2


async def test_a_post_that_timed_out_is_not_sent_again(no_waiting: list[str | None]) -> None:
    slow = Answer(body={"id": "late"}, delay=1.0)
    async with connector(slow, default={"id": "dup"}, client_timeout=0.3) as (rec, client, url):
        with pytest.raises(TimeoutError):
            await client.send_to_conversation(url, "c1", {"type": "message"})
    assert len(rec.requests) == 1


def test_urls_go_out_as_escaped_and_anything_unsafe_is_encoded() -> None:
    escaped = "https://smba.test/amer/v3/conversations/a%3Ab%3Bc/members?pageSize=2"
    assert str(connector_module._as_sent(escaped)) == escaped
    forged = connector_module._as_sent("https://smba.test/x y\r\nHost: evil/v3")
    assert "\r" not in str(forged) and " " not in str(forged)


async def test_a_service_url_with_a_path_keeps_it_for_every_request() -> None:
    # The client splits each service URL once and joins request paths to it afterwards.
    async with connector(default={"id": "r"}) as (rec, client, url):
        for service_url in (f"{url}/amer", f"{url}/amer/", url, f"{url}/"):
            await client.reply_to_activity(service_url, "a:b", "m 1", {"type": "message"})
            await client.reply_to_activity(service_url, "a:b", "m 2", {"type": "message"})
    paths = [r.raw_path for r in rec.requests]
    amer, root = "/amer/v3/conversations/a%3Ab/activities/", "/v3/conversations/a%3Ab/activities/"
    assert paths == [amer + "m%201", amer + "m%202"] * 2 + [root + "m%201", root + "m%202"] * 2


async def test_a_refused_service_url_is_refused_again_not_remembered() -> None:
    recording = RecordingConnector(default={"id": "r"})
    client = ConnectorClient.create(timeout_seconds=5, credentials=_Token())  # default policy
    async with serving(recording.app) as url:
        for _ in range(2):
            with pytest.raises(ForbiddenServiceUrl):
                await client.send_to_conversation(url, "c1", {"type": "message"})
    await client.aclose()
    assert recording.requests == []


# -- the outbound policy holds for every operation -------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_a_private_address_is_refused_for_every_operation(operation: Operation) -> None:
    recording = RecordingConnector()
    client = ConnectorClient.create(timeout_seconds=5, credentials=_Token())  # default policy
    async with serving(recording.app) as url:
        with pytest.raises(ForbiddenServiceUrl):
            await operation(client, url)
    await client.aclose()
    assert recording.requests == []


async def test_a_redirect_is_not_followed_by_a_get() -> None:
    moved = Answer(302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    async with connector(moved) as (rec, client, url):
        with pytest.raises(ConnectorError) as caught:
            await client.get_conversation_members(url, "c1")
    assert caught.value.status == 302 and len(rec.requests) == 1


async def test_an_error_response_with_a_code_only() -> None:
    async with connector(Answer(409, {"error": {"code": "Conflict"}})) as (_rec, client, url):
        with pytest.raises(ConnectorError) as caught:
            await client.delete_conversation_member(url, "c1", "m1")
    error = caught.value
    assert (error.code, error.message, error.operation_id) == ("Conflict", None, None)
    assert str(error).endswith("/v3/conversations/c1/members/m1 -> 409: Conflict")
