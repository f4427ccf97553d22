"""Where the worker may send requests, and which of them may carry the bot's token.

A service URL comes from an activity, and an activity can be forged. The bot's token is a
credential that lets its holder act as the bot, so it goes only to:

- hosts on the allow-list: Microsoft's Bot Connector hosts (`DEFAULT_ALLOWED_HOSTS`) plus
  `TURNSTREAM_OUTBOUND_ALLOWED_HOSTS`, each with its subdomains;
- service URLs that arrived in an envelope the gateway authenticated (a channel token whose
  `serviceurl` claim equals the activity's `serviceUrl`), for a day after they were seen,

and only over https (or plain http to a loopback address, which never leaves the machine).
Any request, with a token or not, to a private, loopback, link-local or otherwise non-public
address is refused unless `TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS` is set: that is checked here
for literal addresses and by `worker.connector.safe_resolver` for names, at connect time.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.setting_rules import is_loopback
from worker.connector.errors import ForbiddenServiceUrl

DEFAULT_ALLOWED_HOSTS = (
    "botframework.com",  # Web Chat, Direct Line, Slack, ... (and their regional hosts)
    "botframework.azure.us",  # US Government
    "smba.trafficmanager.net",  # Microsoft Teams
    "teams.microsoft.com",  # Teams GCC (smba.infra.gcc.teams.microsoft.com)
    "teams.microsoft.us",  # Teams GCC High and DoD
)
"""Microsoft-run Bot Connector hosts. Unlike the Agents SDK's list, no host where anyone can
rent a subdomain (blob.core.windows.net, sharepoint.com): the token would reach strangers."""

TRUST_SECONDS = 24 * 3600
"""How long a service URL from an authenticated activity stays trusted (the SDKs' former
`trust_service_url` used a day too)."""
MAX_TRUSTED = 10_000


class OutboundPolicy:
    """Decides, per service URL, whether a request may be made and whether it gets the token."""

    def __init__(self, extra_hosts: Iterable[str] = (), *, allow_private: bool = False) -> None:
        self._hosts = frozenset(DEFAULT_ALLOWED_HOSTS) | frozenset(h.lower() for h in extra_hosts)
        self._allow_private = allow_private
        self._trusted: OrderedDict[str, float] = OrderedDict()

    @property
    def allow_private(self) -> bool:
        return self._allow_private

    def trust(self, service_url: str) -> None:
        """Remember a service URL an authenticated activity came with."""
        self._trusted[service_url] = time.monotonic() + TRUST_SECONDS
        self._trusted.move_to_end(service_url)
        if len(self._trusted) > MAX_TRUSTED:
            self._trusted.popitem(last=False)

    def token_allowed(self, service_url: str) -> bool:
        """May a request to this service URL carry the bot's token?"""
        parts = urlsplit(service_url)
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return False
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
            return False  # the token would cross the network in clear text
        expires = self._trusted.get(service_url)
        if expires is not None and expires > time.monotonic():
            return True
        return any(host == allowed or host.endswith("." + allowed) for allowed in self._hosts)

    def check_destination(self, url: str) -> None:
        """Raise `ForbiddenServiceUrl` for a URL that is not http(s), or whose host is a
        non-public literal address (or `localhost`) while private addresses are not allowed."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("https", "http") or not host:
            raise ForbiddenServiceUrl(url, "not an absolute http(s) URL")
        if self._allow_private:
            return
        if host == "localhost" or host.endswith(".localhost"):
            raise ForbiddenServiceUrl(url, "loopback host (TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS)")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return  # a name: its addresses are checked when it is resolved (safe_resolver)
        if not is_public(address):
            raise ForbiddenServiceUrl(
                url, "private or reserved address (TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS)"
            )


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for globally routable unicast addresses: not private, loopback, link-local,
    shared (CGNAT), reserved, documentation, unspecified or multicast; IPv4-mapped and
    NAT64-embedded IPv6 forms are judged by the IPv4 address inside."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
