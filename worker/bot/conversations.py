"""Connector operations for bot code, about the conversation of the current turn.

botbuilder-python offers these on its adapter (`get_conversation_members`,
`get_activity_members`, `delete_conversation_member`) and on `TeamsInfo` (`get_member`,
`get_paged_members`); here they are functions of the `TurnContext`, so they work with any
adapter that carries a `ConnectorClient`:

    members = await get_conversation_members(turn_context)

The service URL and conversation id are the inbound activity's. Failures raise `ConnectorError`
(status, code, message, operation id), as any connector call does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from shared.schema.activity import (
    AttachmentData,
    ChannelAccount,
    PagedMembersResult,
    ResourceResponse,
    Transcript,
)
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient

CONNECTOR_CLIENT_KEY = "ConnectorClient"
"""Where a turn's `turn_state` may hold the connector client; the SDK's
`BotAdapter.BOT_CONNECTOR_CLIENT_KEY` has the same value."""


def connector_client(context: TurnContext) -> ConnectorClient:
    """The connector client of this turn: `turn_state[CONNECTOR_CLIENT_KEY]`, else the adapter's
    `connector` attribute."""
    client = context.turn_state.get(CONNECTOR_CLIENT_KEY)
    if client is None:
        client = getattr(context.adapter, "connector", None)
    if not isinstance(client, ConnectorClient):
        raise RuntimeError(
            "this turn has no ConnectorClient: neither "
            f"turn_state[{CONNECTOR_CLIENT_KEY!r}] nor the adapter's `connector` holds one"
        )
    return client


async def get_conversation_members(context: TurnContext) -> list[ChannelAccount]:
    """Everyone in this turn's conversation. Teams fields (`email`, `userPrincipalName`, ...)
    are in each account's `additional_properties`."""
    service_url, conversation_id = _route(context)
    return await connector_client(context).get_conversation_members(service_url, conversation_id)


async def get_member(context: TurnContext, member_id: str) -> ChannelAccount:
    """One member of this turn's conversation, by channel account id."""
    service_url, conversation_id = _route(context)
    return await connector_client(context).get_conversation_member(
        service_url, conversation_id, member_id
    )


async def get_paged_members(
    context: TurnContext, page_size: int | None = None, continuation_token: str | None = None
) -> PagedMembersResult:
    """One page of this turn's conversation's members (Teams allows up to 500 per page)."""
    service_url, conversation_id = _route(context)
    return await connector_client(context).get_conversation_paged_members(
        service_url, conversation_id, page_size, continuation_token
    )


async def iter_members(
    context: TurnContext, page_size: int | None = None
) -> AsyncIterator[ChannelAccount]:
    """Every member of this turn's conversation, page by page: `async for m in iter_members(c)`."""
    service_url, conversation_id = _route(context)
    client = connector_client(context)
    async for account in client.iter_conversation_members(service_url, conversation_id, page_size):
        yield account


async def get_activity_members(
    context: TurnContext, activity_id: str | None = None
) -> list[ChannelAccount]:
    """The members an activity was sent to; by default the inbound activity."""
    activity_id = activity_id or context.activity.id
    if not activity_id:
        raise ValueError("get_activity_members needs an activity id (the inbound one has none)")
    service_url, conversation_id = _route(context)
    return await connector_client(context).get_activity_members(
        service_url, conversation_id, activity_id
    )


async def delete_conversation_member(context: TurnContext, member_id: str) -> None:
    """Remove a member from this turn's conversation (channels that allow it)."""
    service_url, conversation_id = _route(context)
    await connector_client(context).delete_conversation_member(
        service_url, conversation_id, member_id
    )


async def send_conversation_history(
    context: TurnContext, transcript: Transcript
) -> ResourceResponse:
    """Upload past activities into this turn's conversation."""
    service_url, conversation_id = _route(context)
    return await connector_client(context).send_conversation_history(
        service_url, conversation_id, transcript
    )


async def upload_attachment(
    context: TurnContext, attachment_data: AttachmentData
) -> ResourceResponse:
    """Store a file with the channel for this turn's conversation; the answer's id names it."""
    service_url, conversation_id = _route(context)
    return await connector_client(context).upload_attachment(
        service_url, conversation_id, attachment_data
    )


def _route(context: TurnContext) -> tuple[str, str]:
    activity = context.activity
    conversation_id = activity.conversation.id if activity.conversation else None
    if not activity.service_url or not conversation_id:
        raise ValueError("the inbound activity has no serviceUrl or conversation id")
    return activity.service_url, conversation_id
