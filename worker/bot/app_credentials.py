"""`MicrosoftAppCredentials`: botbuilder's name for a bot's app id and password, for code that
passes one along (`oauth_app_credentials=` arguments, a connector client of its own).

In turnstream the bot does not hold its credentials: the worker reads them from its settings
(`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppTenantId`, docs/configuration.md),
fetches the Bot Connector token itself, shares it between workers, and sends it only to
service URLs that authenticated activities named (docs/security.md). An object of this class
names credentials; it fetches no token.
"""

from __future__ import annotations

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com"


class MicrosoftAppCredentials:
    """A bot's app id and password (and tenant, OAuth scope), as botbuilder's class holds them.

    `get_access_token` refuses: the worker's own token client (worker/connector/app_token.py)
    is the one that fetches tokens, from the settings. `trust_service_url` does nothing, as in
    botbuilder 4.17, where it is obsolete: which service URLs receive the token is decided by
    turnstream's own rule (docs/security.md).
    """

    def __init__(
        self,
        app_id: str | None,
        password: str | None = None,
        channel_auth_tenant: str | None = None,
        oauth_scope: str | None = None,
    ) -> None:
        self.microsoft_app_id = app_id
        self.microsoft_app_password = password
        self.channel_auth_tenant = channel_auth_tenant
        self.oauth_scope = oauth_scope or BOT_FRAMEWORK_SCOPE

    def __repr__(self) -> str:  # never the password
        return f"MicrosoftAppCredentials(app_id={self.microsoft_app_id!r})"

    @staticmethod
    def empty() -> MicrosoftAppCredentials:
        """No credentials: anonymous, as a bot without an app id runs."""
        return MicrosoftAppCredentials(None, None)

    def get_access_token(self, force_refresh: bool = False) -> str:
        raise NotImplementedError(
            "turnstream's worker fetches the Bot Connector token itself from its settings "
            "(MicrosoftAppId, MicrosoftAppPassword); bot code never needs it"
        )

    @staticmethod
    def trust_service_url(service_url: str, expiration: object = None) -> None:
        """Obsolete in botbuilder 4.17 and here: does nothing."""
