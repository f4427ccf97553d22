"""The peer of benchmarks/echo_turns.py: an echo bot on botbuilder-python 4.17 + aiohttp.

Not imported by the project: echo_turns.py runs this file with the interpreter of its own
virtual environment, where botbuilder is installed. It has the shape of the SDK's echo sample
(an ActivityHandler behind an aiohttp `POST /api/messages`), with either adapter:

    python peer_echo.py bfa|cloud PORT

`bfa`: BotFrameworkAdapter.process_activity; `cloud`: CloudAdapter.process. No app id, so the
SDK runs anonymous, as turnstream does in the comparison; replies go to the serviceUrl.
"""

import sys

from aiohttp import web
from botbuilder.core import (
    ActivityHandler,
    BotFrameworkAdapter,
    BotFrameworkAdapterSettings,
    TurnContext,
)
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext):
        await turn_context.send_activity(f"Echo: {turn_context.activity.text or ''}")

    async def on_members_added_activity(self, members_added, turn_context: TurnContext):
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                await turn_context.send_activity(f"welcome {member.name or member.id}")


class AnonymousConfig:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def bfa_endpoint(bot):
    adapter = BotFrameworkAdapter(BotFrameworkAdapterSettings("", ""))

    async def messages(request):
        activity = Activity().deserialize(await request.json())
        auth_header = request.headers.get("Authorization", "")
        response = await adapter.process_activity(activity, auth_header, bot.on_turn)
        if response:
            return web.json_response(data=response.body, status=response.status)
        return web.Response(status=201)

    return messages


def cloud_endpoint(bot):
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(AnonymousConfig()))

    async def messages(request):
        return await adapter.process(request, bot)

    return messages


def serve(bot):
    """`bot` behind `POST /api/messages`, with the adapter and port the command line names."""
    mode, port = sys.argv[1], int(sys.argv[2])
    endpoint = bfa_endpoint(bot) if mode == "bfa" else cloud_endpoint(bot)
    app = web.Application()
    app.router.add_post("/api/messages", endpoint)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def main():
    serve(EchoBot())


if __name__ == "__main__":
    main()
