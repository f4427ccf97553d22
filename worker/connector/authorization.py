"""The bot's outbound credentials: a client-credentials token, only where the policy allows."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from worker.connector.app_token import ClientCredentialsTokens
from worker.connector.service_urls import OutboundPolicy

log = logging.getLogger(__name__)


class AppCredentials:
    """`Authorization: Bearer <token>` for service URLs the `OutboundPolicy` trusts with the
    token; nothing for the others (the request goes out without it, and a real Bot Connector
    refuses it: the token never reaches a host that is not the channel's)."""

    def __init__(self, tokens: ClientCredentialsTokens, policy: OutboundPolicy) -> None:
        self._tokens = tokens
        self._policy = policy
        self._warned: set[str] = set()

    async def authorization(self, service_url: str) -> str | None:
        if not self._policy.token_allowed(service_url):
            host = urlsplit(service_url).hostname or service_url
            if host not in self._warned and len(self._warned) < 1000:
                self._warned.add(host)
                log.warning(
                    "not sending the bot's token to %s: the host is not on the allow-list "
                    "(TURNSTREAM_OUTBOUND_ALLOWED_HOSTS) and no authenticated activity came "
                    "from this service URL",
                    host,
                )
            return None
        return f"Bearer {await self._tokens.token()}"
