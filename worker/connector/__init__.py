"""The Bot Connector REST client and what it needs: the HTTP/1.1 keep-alive client, the bot's
outbound token (client credentials), which service URLs may be contacted and given the token.
Imports nothing else of the worker but `worker.errors`."""
