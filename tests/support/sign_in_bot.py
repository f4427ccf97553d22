"""A bot that signs its user in through the adapter's token methods, as botbuilder bots did
before OAuthPrompt (`--bot tests.support.sign_in_bot:bot`)."""

from __future__ import annotations

from worker.bot import ActivityHandler, TurnContext

CONNECTION = "graph"


class SignInBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = (turn_context.activity.text or "").strip()
        adapter = turn_context.adapter
        if text == "logout":
            await adapter.sign_out_user(turn_context, CONNECTION)  # type: ignore[attr-defined]
            await turn_context.send_activity("signed out")
            return
        magic_code = text if text.isdigit() else None
        token = await adapter.get_user_token(turn_context, CONNECTION, magic_code)  # type: ignore[attr-defined]
        if token is None:
            link = await adapter.get_oauth_sign_in_link(turn_context, CONNECTION)  # type: ignore[attr-defined]
            await turn_context.send_activity(f"please sign in: {link}")
        else:
            await turn_context.send_activity(f"signed in with {token.token}")


bot = SignInBot()
