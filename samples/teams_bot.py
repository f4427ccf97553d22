"""Teams bot: what Microsoft's Teams conversation bot and task module samples show, written
against `worker.bot.teams` (a botbuilder-python Teams bot ports by changing its imports).

- "mention me": replies with an @mention of the sender.
- "update card": sends a hero card whose button updates that same card in place.
- "who": lists the members of the team (or chat) through `TeamsInfo`.
- "new thread": starts a new thread in the team's General channel.
- "form": a card whose button opens a task module (`task/fetch`), answered with an Adaptive
  Card form; submitting it (`task/submit`) closes the module and says what was entered.
- A search message extension (`composeExtension/query`) answers thumbnail cards.
- Channel created / renamed and members added in a team are greeted.

Run it with `turnstream dev --bot samples.teams_bot:bot`; in Teams, register the app with a
manifest whose bot id is `MicrosoftAppId`, a task module card and a query command.
"""

from __future__ import annotations

from typing import Any

from worker.bot import (
    ActionTypes,
    CardAction,
    CardFactory,
    ChannelAccount,
    HeroCard,
    Mention,
    MessageFactory,
    ThumbnailCard,
    TurnContext,
)
from worker.bot.teams import (
    ChannelInfo,
    MessagingExtensionAttachment,
    MessagingExtensionQuery,
    MessagingExtensionResponse,
    MessagingExtensionResult,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleRequest,
    TaskModuleResponse,
    TaskModuleTaskInfo,
    TeamInfo,
    TeamsActivityHandler,
    TeamsChannelAccount,
    TeamsInfo,
)

FORM = {
    "type": "AdaptiveCard",
    "version": "1.4",
    "body": [
        {"type": "TextBlock", "text": "What should we call you?", "weight": "bolder"},
        {"type": "Input.Text", "id": "name", "placeholder": "Your name"},
    ],
    "actions": [{"type": "Action.Submit", "title": "Submit"}],
}

FRUITS = ["apple", "apricot", "banana", "blueberry", "cherry", "grape", "lemon", "mango"]


class TeamsConversationBot(TeamsActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        TurnContext.remove_recipient_mention(turn_context.activity)
        text = (turn_context.activity.text or "").strip().lower()
        value = turn_context.activity.value
        if isinstance(value, dict) and value.get("action") == "update":
            await self._update_card(turn_context, int(value.get("count", 0)) + 1)
        elif text == "mention me":
            await self._mention(turn_context)
        elif text == "update card":
            await turn_context.send_activity(MessageFactory.attachment(_counter_card(0)))
        elif text == "who":
            members = await TeamsInfo.get_members(turn_context)
            names = ", ".join(sorted(m.name or m.id or "?" for m in members))
            await turn_context.send_activity(f"Here: {names}")
        elif text == "new thread":
            await self._new_thread(turn_context)
        elif text == "form":
            await turn_context.send_activity(MessageFactory.attachment(_task_module_launcher()))
        else:
            await turn_context.send_activity(
                "Say: mention me, update card, who, new thread or form."
            )

    async def on_teams_members_added(
        self,
        teams_members_added: list[TeamsChannelAccount],
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in teams_members_added:
            if member.id != bot_id:
                await turn_context.send_activity(
                    f"Welcome to the team, {member.name or member.id}!"
                )

    async def on_teams_channel_created(
        self,
        channel_info: ChannelInfo | None,
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        name = channel_info.name if channel_info else None
        await turn_context.send_activity(f"A new channel was created: {name}")

    async def on_teams_channel_renamed(
        self,
        channel_info: ChannelInfo | None,
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        name = channel_info.name if channel_info else None
        await turn_context.send_activity(f"A channel is now called {name}")

    async def on_teams_task_module_fetch(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        info = TaskModuleTaskInfo(
            title="Tell us your name",
            height=250,
            width=400,
            card=CardFactory.adaptive_card(FORM),
        )
        return TaskModuleResponse(task=TaskModuleContinueResponse(value=info))

    async def on_teams_task_module_submit(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        data = task_module_request.data if isinstance(task_module_request.data, dict) else {}
        return TaskModuleResponse(
            task=TaskModuleMessageResponse(value=f"Thanks, {data.get('name') or 'stranger'}!")
        )

    async def on_teams_messaging_extension_query(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        text = _search_text(query)
        results = [_result(fruit) for fruit in FRUITS if text.lower() in fruit][
            : (query.query_options.count if query.query_options else None) or 10
        ]
        return MessagingExtensionResponse(
            compose_extension=MessagingExtensionResult(
                type="result", attachment_layout="list", attachments=results
            )
        )

    async def _mention(self, turn_context: TurnContext) -> None:
        sender = turn_context.activity.from_property or ChannelAccount(id="?")
        mention = Mention(mentioned=sender, text=f"<at>{sender.name}</at>")
        reply = MessageFactory.text(f"Hello {mention.text}.")
        reply.entities = [mention]
        await turn_context.send_activity(reply)

    async def _update_card(self, turn_context: TurnContext, count: int) -> None:
        updated = MessageFactory.attachment(_counter_card(count))
        updated.id = turn_context.activity.reply_to_id
        await turn_context.update_activity(updated)

    async def _new_thread(self, turn_context: TurnContext) -> None:
        channel_id = TeamsInfo.get_team_id(turn_context)  # the General channel has the team's id
        if not channel_id:
            await turn_context.send_activity("New threads start in a team's channel.")
            return
        first = MessageFactory.text("This thread was started by the bot.")
        reference, _ = await TeamsInfo.send_message_to_teams_channel(
            turn_context, first, channel_id
        )
        await turn_context.adapter.continue_conversation(reference, self.thread_reply)
        await turn_context.send_activity("I started a new thread in the General channel.")

    async def thread_reply(self, turn_context: TurnContext) -> None:
        """A proactive turn in the new thread (it may run in another worker)."""
        await turn_context.send_activity("And here is a reply in the new thread.")


def _counter_card(count: int) -> Any:
    card = HeroCard(
        title="Card updates",
        text=f"Updated {count} times",
        buttons=[
            CardAction(
                type=ActionTypes.MESSAGE_BACK,
                title="Update",
                text="update card",
                value={"action": "update", "count": count},
            )
        ],
    )
    return CardFactory.hero_card(card)


def _task_module_launcher() -> Any:
    card = HeroCard(
        title="Task module",
        buttons=[CardAction(type="invoke", title="Open the form", value={"type": "task/fetch"})],
    )
    return CardFactory.hero_card(card)


def _search_text(query: MessagingExtensionQuery) -> str:
    for parameter in query.parameters or ():
        if parameter.name != "initialRun" and isinstance(parameter.value, str):
            return parameter.value
    return ""


def _result(fruit: str) -> MessagingExtensionAttachment:
    card = CardFactory.thumbnail_card(ThumbnailCard(title=fruit.title(), text=f"A {fruit}."))
    return MessagingExtensionAttachment(
        content_type=card.content_type, content=card.content, preview=card
    )


bot = TeamsConversationBot()
