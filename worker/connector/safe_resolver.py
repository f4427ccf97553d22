"""An aiohttp resolver that refuses names resolving to non-public addresses.

Checking a service URL's host name before the request is not enough: the name can resolve to
127.0.0.1 or 169.254.169.254 (a cloud metadata service) now, or a moment later (DNS
rebinding). This resolver sits in the connector's own connection path, so every address the
worker connects to by name has passed `service_urls.is_public`. Literal addresses never reach a
resolver; `OutboundPolicy.check_destination` judges those.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from worker.connector.errors import PrivateAddressRefused
from worker.connector.service_urls import is_public

__all__ = ["PrivateAddressRefused", "PublicOnlyResolver"]


class PublicOnlyResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver; refuses the name if any address is not public
    (a name that mixes public and private addresses is refused whole)."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if not is_public(ipaddress.ip_address(result["host"].split("%", 1)[0])):
                raise PrivateAddressRefused(
                    f"{host.rstrip('.')} resolves to a non-public address; set "
                    "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS=true to allow it"
                )
        return results

    async def close(self) -> None:
        await self._inner.close()
