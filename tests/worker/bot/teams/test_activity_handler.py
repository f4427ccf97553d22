"""TeamsActivityHandler's routing: each Teams activity reaches its handler (and the handlers on
the way to it) and no other; each invoke is answered with the status and body Teams expects.
Turns run through worker.bot.testing.TestAdapter (the worker's turn pipeline)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import Activity
from tests.support.teams import TASK_FETCH_VALUE, invoke, teams_activity
from worker.bot import CardFactory, InvokeResponse, ThumbnailCard
from worker.bot.invoke import INVOKE_RESPONSE_KEY
from worker.bot.teams import (
    AppBasedLinkQuery,
    ConfigTaskResponse,
    FileConsentCardResponse,
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    MessagingExtensionAttachment,
    MessagingExtensionQuery,
    MessagingExtensionResponse,
    MessagingExtensionResult,
    O365ConnectorCardActionQuery,
    TabRequest,
    TabResponse,
    TabResponseCard,
    TabResponseCards,
    TabResponsePayload,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleRequest,
    TaskModuleResponse,
    TaskModuleTaskInfo,
    TeamsActivityHandler,
)
from worker.bot.teams.channel_data import ChannelInfo, TeamInfo, TeamsChannelAccount
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext


class Recorder(TeamsActivityHandler):
    """Records every `on_*` handler called, in order, and runs its default behaviour."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.arguments: dict[str, tuple[Any, ...]] = {}

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name.startswith("on_") and name != "on_turn":
            calls = super().__getattribute__("calls")
            arguments = super().__getattribute__("arguments")

            async def recorded(*args: Any) -> Any:
                calls.append(name)
                arguments[name] = args
                return await attribute(*args)

            return recorded
        return attribute


async def run(bot: TeamsActivityHandler, wire: dict[str, Any]) -> TurnContext:
    adapter = TestAdapter(bot.on_turn)
    return await adapter.receive_activity(Activity.from_dict(wire))


def answer(context: TurnContext) -> InvokeResponse:
    sent = context.turn_state[INVOKE_RESPONSE_KEY]
    assert isinstance(sent.value, InvokeResponse)
    return sent.value


def update(event_type: str, **fields: Any) -> dict[str, Any]:
    return teams_activity("conversationUpdate", channel_data={"eventType": event_type, **fields})


RENAMED_CHANNEL = {"id": "19:new@thread.tacv2", "name": "Announcements"}

ROUTES = [
    (update("channelCreated", channel=RENAMED_CHANNEL), ["on_teams_channel_created"]),
    (update("channelDeleted", channel=RENAMED_CHANNEL), ["on_teams_channel_deleted"]),
    (update("channelRenamed", channel=RENAMED_CHANNEL), ["on_teams_channel_renamed"]),
    (update("channelRestored", channel=RENAMED_CHANNEL), ["on_teams_channel_restored"]),
    (update("teamArchived"), ["on_teams_team_archived"]),
    (update("teamDeleted"), ["on_teams_team_deleted"]),
    (update("teamHardDeleted"), ["on_teams_team_hard_deleted"]),
    (update("teamRenamed"), ["on_teams_team_renamed", "on_teams_team_renamed_activity"]),
    (update("teamRestored"), ["on_teams_team_restored"]),
    (update("teamUnarchived"), ["on_teams_team_unarchived"]),
    (update("somethingNew"), []),
]


@pytest.mark.parametrize(("wire", "chain"), ROUTES, ids=lambda v: str(v)[:40])
async def test_a_conversation_update_reaches_its_handler_by_event_type(
    wire: dict[str, Any], chain: list[str]
) -> None:
    bot = Recorder()
    await run(bot, wire)
    assert bot.calls == ["on_conversation_update_activity", *chain]


async def test_channel_and_team_events_get_the_channel_and_the_team() -> None:
    bot = Recorder()
    await run(bot, update("channelRenamed", channel=RENAMED_CHANNEL))
    channel, team, _context = bot.arguments["on_teams_channel_renamed"]
    assert channel == ChannelInfo(id="19:new@thread.tacv2", name="Announcements")
    assert team == TeamInfo(
        id="19:team-general@thread.tacv2", name="Contoso", aad_group_id="group-1"
    )


async def test_outside_teams_the_event_type_is_not_looked_at() -> None:
    bot = Recorder()
    await run(bot, dict(update("channelCreated"), channelId="webchat"))
    assert bot.calls == ["on_conversation_update_activity"]


async def test_members_added_are_teams_accounts_then_plain_accounts() -> None:
    bot = Recorder()
    member = {"id": "29:user-2", "name": "Grace", "email": "grace@example.test"}
    bot_account = {"id": "28:bot-1"}
    wire = teams_activity("conversationUpdate", membersAdded=[member, bot_account])
    await run(bot, wire)
    assert bot.calls == [
        "on_conversation_update_activity",
        "on_teams_members_added_dispatch",
        "on_teams_members_added",
        "on_members_added_activity",
    ]
    teams_members, team, _ = bot.arguments["on_teams_members_added"]
    assert teams_members == [
        TeamsChannelAccount(id="29:user-2", name="Grace", email="grace@example.test"),
        TeamsChannelAccount(id="28:bot-1"),
    ]
    assert team.name == "Contoso"
    plain, _ = bot.arguments["on_members_added_activity"]
    assert plain[0].additional_properties == {"email": "grace@example.test"}


async def test_members_removed() -> None:
    bot = Recorder()
    await run(bot, teams_activity("conversationUpdate", membersRemoved=[{"id": "29:gone"}]))
    assert bot.calls == [
        "on_conversation_update_activity",
        "on_teams_members_removed_dispatch",
        "on_teams_members_removed",
        "on_members_removed_activity",
    ]


@pytest.mark.parametrize(
    ("activity_type", "event_type", "chain"),
    [
        ("messageUpdate", "editMessage", ["on_message_update_activity", "on_teams_message_edit"]),
        (
            "messageUpdate",
            "undeleteMessage",
            ["on_message_update_activity", "on_teams_message_undelete"],
        ),
        ("messageUpdate", "softDeleteMessage", ["on_message_update_activity"]),
        (
            "messageDelete",
            "softDeleteMessage",
            ["on_message_delete_activity", "on_teams_message_soft_delete"],
        ),
        ("messageDelete", "editMessage", ["on_message_delete_activity"]),
    ],
)
async def test_message_updates_and_deletes_by_event_type(
    activity_type: str, event_type: str, chain: list[str]
) -> None:
    bot = Recorder()
    await run(bot, teams_activity(activity_type, channel_data={"eventType": event_type}))
    assert bot.calls == chain


MEETING_START = {
    "Id": "meeting-1",
    "JoinUrl": "https://teams.example.test/join",
    "Title": "Standup",
    "MeetingType": "Scheduled",
    "StartTime": "2026-12-07T09:00:00.0000000Z",
}


@pytest.mark.parametrize(
    ("name", "value", "handler"),
    [
        ("application/vnd.microsoft.readReceipt", {"lastReadMessageId": "17"}, "read_receipt"),
        ("application/vnd.microsoft.meetingStart", MEETING_START, "meeting_start"),
        ("application/vnd.microsoft.meetingEnd", {"EndTime": "t"}, "meeting_end"),
        (
            "application/vnd.microsoft.meetingParticipantJoin",
            {"members": [{"user": {"id": "29:u"}, "meeting": {"inMeeting": True}}]},
            "meeting_participants_join",
        ),
        (
            "application/vnd.microsoft.meetingParticipantLeave",
            {"members": []},
            "meeting_participants_leave",
        ),
    ],
)
async def test_teams_events_reach_their_handler_with_the_value_as_sent(
    name: str, value: Any, handler: str
) -> None:
    bot = Recorder()
    await run(bot, teams_activity("event", name=name, value=value))
    method = f"on_teams_{handler}_event"
    assert bot.calls == ["on_event_activity", method]
    assert bot.arguments[method][0] == value


async def test_other_events_reach_on_event() -> None:
    bot = Recorder()
    await run(bot, teams_activity("event", name="application/vnd.example.other"))
    assert bot.calls == ["on_event_activity", "on_event"]


INVOKES = [
    ("task/fetch", TASK_FETCH_VALUE, ["on_teams_task_module_fetch"], 501),
    ("task/submit", {"data": {}}, ["on_teams_task_module_submit"], 501),
    ("tab/fetch", {"tabContext": {"tabEntityId": "t"}}, ["on_teams_tab_fetch"], 501),
    ("tab/submit", {"data": {"type": "tab/submit"}}, ["on_teams_tab_submit"], 501),
    (
        "composeExtension/query",
        {"commandId": "search"},
        ["on_teams_messaging_extension_query"],
        501,
    ),
    ("composeExtension/selectItem", {"id": 1}, ["on_teams_messaging_extension_select_item"], 501),
    (
        "composeExtension/submitAction",
        {"commandId": "create"},
        [
            "on_teams_messaging_extension_submit_action_dispatch",
            "on_teams_messaging_extension_submit_action",
        ],
        501,
    ),
    (
        "composeExtension/submitAction",
        {"botMessagePreviewAction": "edit"},
        [
            "on_teams_messaging_extension_submit_action_dispatch",
            "on_teams_messaging_extension_bot_message_preview_edit",
        ],
        501,
    ),
    (
        "composeExtension/submitAction",
        {"botMessagePreviewAction": "send"},
        [
            "on_teams_messaging_extension_submit_action_dispatch",
            "on_teams_messaging_extension_bot_message_preview_send",
        ],
        501,
    ),
    (
        "composeExtension/submitAction",
        {"botMessagePreviewAction": "shred"},
        ["on_teams_messaging_extension_submit_action_dispatch"],
        400,
    ),
    ("composeExtension/fetchTask", {}, ["on_teams_messaging_extension_fetch_task"], 501),
    ("composeExtension/queryLink", {"url": "u"}, ["on_teams_app_based_link_query"], 501),
    (
        "composeExtension/anonymousQueryLink",
        {"url": "u"},
        ["on_teams_anonymous_app_based_link_query"],
        501,
    ),
    (
        "composeExtension/querySettingUrl",
        {},
        ["on_teams_messaging_extension_configuration_query_settings_url"],
        501,
    ),
    ("composeExtension/setting", {}, ["on_teams_messaging_extension_configuration_setting"], 501),
    (
        "composeExtension/onCardButtonClicked",
        {},
        ["on_teams_messaging_extension_card_button_clicked"],
        501,
    ),
    ("config/fetch", {}, ["on_teams_config_fetch"], 501),
    ("config/submit", {}, ["on_teams_config_submit"], 501),
    (
        "fileConsent/invoke",
        {"action": "accept"},
        ["on_teams_file_consent", "on_teams_file_consent_accept"],
        501,
    ),
    (
        "fileConsent/invoke",
        {"action": "decline"},
        ["on_teams_file_consent", "on_teams_file_consent_decline"],
        501,
    ),
    ("fileConsent/invoke", {"action": "shrug"}, ["on_teams_file_consent"], 400),
    (
        "actionableMessage/executeAction",
        {"actionId": "a"},
        ["on_teams_o365_connector_card_action"],
        501,
    ),
    (
        "signin/verifyState",
        {"state": "1"},
        ["on_sign_in_invoke", "on_teams_signin_verify_state"],
        501,
    ),
    (
        "signin/tokenExchange",
        {},
        ["on_teams_signin_token_exchange", "on_teams_signin_verify_state"],
        501,
    ),
    (
        "adaptiveCard/action",
        {"action": {"type": "Action.Execute"}},
        ["on_adaptive_card_invoke"],
        501,
    ),
    (None, {}, ["on_teams_card_action_invoke"], 501),
    ("something/else", {}, [], 501),
]


@pytest.mark.parametrize(("name", "value", "chain", "status"), INVOKES, ids=lambda v: str(v)[:50])
async def test_an_invoke_reaches_its_handler_and_unhandled_answers_botbuilders_status(
    name: str | None, value: Any, chain: list[str], status: int
) -> None:
    bot = Recorder()
    context = await run(bot, invoke(name, value) if name else teams_activity("invoke", value=value))
    assert bot.calls == ["on_invoke_activity", *chain]
    assert answer(context).status == status


async def test_an_invoke_value_that_is_no_object_answers_400() -> None:
    context = await run(Recorder(), invoke("task/fetch", ["not", "an", "object"]))
    response = answer(context)
    assert response.status == 400
    assert "TaskModuleRequest" in response.body


CARD = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "Hi"}]}


class TypedBot(TeamsActivityHandler):
    """Answers each invoke with the typed response a Teams bot returns."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def on_teams_task_module_fetch(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        self.received.append(task_module_request)
        info = TaskModuleTaskInfo(
            title="Form", height=250, width="medium", card=CardFactory.adaptive_card(CARD)
        )
        return TaskModuleResponse(task=TaskModuleContinueResponse(value=info))

    async def on_teams_task_module_submit(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        return TaskModuleResponse(task=TaskModuleMessageResponse(value="Thanks"))

    async def on_teams_messaging_extension_query(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        self.received.append(query)
        text = (query.parameters or [])[0].value
        card = CardFactory.thumbnail_card(ThumbnailCard(title=f"Result for {text}"))
        result = MessagingExtensionAttachment(
            content_type=card.content_type, content=card.content, preview=card
        )
        return MessagingExtensionResponse(
            compose_extension=MessagingExtensionResult(
                type="result", attachment_layout="list", attachments=[result]
            )
        )

    async def on_teams_app_based_link_query(
        self, turn_context: TurnContext, query: AppBasedLinkQuery
    ) -> MessagingExtensionResponse:
        return MessagingExtensionResponse(
            compose_extension=MessagingExtensionResult(type="message", text=query.url)
        )

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        self.received.append(action)
        return MessagingExtensionActionResponse(
            task=TaskModuleContinueResponse(value=TaskModuleTaskInfo(url="https://x.test/form"))
        )

    async def on_teams_tab_fetch(
        self, turn_context: TurnContext, tab_request: TabRequest
    ) -> TabResponse:
        self.received.append(tab_request)
        cards = TabResponseCards(cards=[TabResponseCard(card=CARD)])
        return TabResponse(tab=TabResponsePayload(type="continue", value=cards))

    async def on_teams_config_fetch(
        self, turn_context: TurnContext, config_data: Any
    ) -> ConfigTaskResponse:
        return ConfigTaskResponse(
            config=TaskModuleContinueResponse(value=TaskModuleTaskInfo(title="Settings"))
        )

    async def on_teams_file_consent_accept(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        self.received.append(file_consent_card_response)

    async def on_teams_o365_connector_card_action(
        self, turn_context: TurnContext, query: O365ConnectorCardActionQuery
    ) -> None:
        self.received.append(query)


async def test_task_fetch_is_answered_with_the_task_module_as_teams_reads_it() -> None:
    bot = TypedBot()
    response = answer(await run(bot, invoke("task/fetch", TASK_FETCH_VALUE)))
    assert (response.status, response.body) == (
        200,
        {
            "task": {
                "type": "continue",
                "value": {
                    "title": "Form",
                    "height": 250,
                    "width": "medium",
                    "card": {
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": CARD,
                    },
                },
            }
        },
    )
    assert bot.received == [TaskModuleRequest.from_dict(TASK_FETCH_VALUE)]
    assert bot.received[0].data == {"type": "task/fetch", "opening": "form"}


async def test_task_submit_answers_a_message() -> None:
    response = answer(await run(TypedBot(), invoke("task/submit", {"data": {"x": 1}})))
    assert response.body == {"task": {"type": "message", "value": "Thanks"}}


async def test_a_search_is_answered_with_results_and_previews() -> None:
    bot = TypedBot()
    value = {
        "commandId": "searchQuery",
        "parameters": [{"name": "searchQuery", "value": "kittens"}],
        "queryOptions": {"skip": 0, "count": 25},
    }
    response = answer(await run(bot, invoke("composeExtension/query", value)))
    assert bot.received[0].query_options.count == 25
    thumbnail = {
        "contentType": "application/vnd.microsoft.card.thumbnail",
        "content": {"title": "Result for kittens"},
    }
    assert response.body == {
        "composeExtension": {
            "type": "result",
            "attachmentLayout": "list",
            "attachments": [{**thumbnail, "preview": thumbnail}],
        }
    }


async def test_link_unfurling_action_tasks_tabs_and_configuration() -> None:
    bot = TypedBot()
    link = answer(await run(bot, invoke("composeExtension/queryLink", {"url": "https://x.test/1"})))
    assert link.body == {"composeExtension": {"type": "message", "text": "https://x.test/1"}}
    fetch_task = answer(
        await run(
            bot,
            invoke(
                "composeExtension/fetchTask",
                {
                    "commandId": "share",
                    "commandContext": "message",
                    "messagePayload": {
                        "id": "m1",
                        "from": {"user": {"id": "29:u", "displayName": "Ada"}},
                        "body": {"contentType": "html", "content": "<p>hi</p>"},
                    },
                },
            ),
        )
    )
    assert fetch_task.body == {
        "task": {"type": "continue", "value": {"url": "https://x.test/form"}}
    }
    action = bot.received[-1]
    assert action.message_payload.from_property.user.display_name == "Ada"
    assert action.message_payload.body.content == "<p>hi</p>"
    tab = answer(
        await run(
            bot,
            invoke(
                "tab/fetch", {"tabContext": {"tabEntityId": "home"}, "context": {"theme": "dark"}}
            ),
        )
    )
    assert tab.body == {"tab": {"type": "continue", "value": {"cards": [{"card": CARD}]}}}
    assert bot.received[-1].tab_entity_context.tab_entity_id == "home"
    config = answer(await run(bot, invoke("config/fetch", {"data": None})))
    assert config.body == {
        "responseType": "config",
        "config": {"type": "continue", "value": {"title": "Settings"}},
    }


async def test_file_consent_and_connector_card_actions_answer_200_without_a_body() -> None:
    bot = TypedBot()
    accepted = {
        "action": "accept",
        "context": {"file": "report.txt"},
        "uploadInfo": {
            "name": "report.txt",
            "uploadUrl": "https://upload.test/1",
            "uniqueId": "u1",
        },
    }
    consent = answer(await run(bot, invoke("fileConsent/invoke", accepted)))
    query = answer(
        await run(bot, invoke("actionableMessage/executeAction", {"body": "{}", "actionId": "ok"}))
    )
    assert (consent.status, consent.body, query.status, query.body) == (200, None, 200, None)
    assert bot.received[0].upload_info.upload_url == "https://upload.test/1"
    assert bot.received[1] == O365ConnectorCardActionQuery(body="{}", actionId="ok")
