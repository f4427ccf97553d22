"""Outbound: the bot's token goes to allowed and authenticated service URLs only, never to a
stranger or a private address; a recording connector on loopback shows what arrived."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from gateway.app import create_app
from samples.echo import bot as echo
from shared.protocol.envelope import Envelope
from shared.protocol.keys import ENVELOPE_FIELD, Keyspace, conversation_key
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import enqueue, stream_lengths
from turnstream.devconnector import DevConnector
from turnstream.loopback_idp import LoopbackIdentityProvider
from worker.connector.app_token import AccessToken, ClientCredentialsTokens
from worker.connector.client import ConnectorClient
from worker.connector.errors import ForbiddenServiceUrl
from worker.connector.keepalive_http import KeepAliveHttp
from worker.connector.safe_resolver import PrivateAddressRefused, PublicOnlyResolver
from worker.connector.service_urls import OutboundPolicy
from worker.runtime.process import run_worker

SECRET = "s" * 40


@pytest.fixture(scope="module")
def idp() -> Iterator[LoopbackIdentityProvider]:
    with LoopbackIdentityProvider() as provider:
        yield provider


@pytest.fixture
def bot_settings(settings: Settings, idp: LoopbackIdentityProvider) -> Settings:
    """A bot with an app id and secret, its token from the loopback identity provider; the
    loopback connector is reachable, but 127.0.0.1 is not on the token's allow-list."""
    return dataclasses.replace(
        settings,
        app_id=idp.app_id,
        app_password=idp.app_password,
        token_endpoint=idp.token_url,
        openid_metadata_url=idp.metadata_url,
    )


def _issued(idp: LoopbackIdentityProvider) -> set[str]:
    return {f"Bearer {token.access_token}" for token in idp.issued}


async def test_the_token_goes_to_an_allow_listed_host(
    bot_settings: Settings,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    allowed = dataclasses.replace(bot_settings, outbound_allowed_hosts=("127.0.0.1",))
    await enqueue(redis, keys, message("hi", service_url=service_url))
    await run_worker(allowed, echo, burst=True, handle_signals=False)
    (reply,) = dev.received
    assert reply.body["text"] == "Echo: hi"
    assert reply.authorization in _issued(idp)
    token_requests = [r for r in idp.counters.token_requests if r["client_id"] == idp.app_id]
    assert token_requests[-1]["scope"] == "https://api.botframework.com/.default"


async def test_the_token_never_goes_to_a_host_that_is_not_allowed(
    bot_settings: Settings,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    issued_before = len(idp.issued)
    await enqueue(redis, keys, message("hi", service_url=service_url))
    await run_worker(bot_settings, echo, burst=True, handle_signals=False)
    (reply,) = dev.received  # the request went out, without the credential
    assert reply.authorization is None
    assert len(idp.issued) == issued_before  # not even fetched


async def test_private_addresses_are_refused_unless_allowed(
    bot_settings: Settings,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    issued_before = len(idp.issued)
    strict = dataclasses.replace(
        bot_settings, allow_private_service_urls=False, outbound_allowed_hosts=("127.0.0.1",)
    )
    await enqueue(redis, keys, message("hi", service_url=service_url))
    await enqueue(
        redis, keys, message("hi", service_url=service_url.replace("127.0.0.1", "localhost"))
    )
    consumer = await run_worker(strict, echo, burst=True, handle_signals=False)
    assert dev.received == []  # nothing reached the loopback server, token or not
    assert len(idp.issued) == issued_before
    assert consumer.turns_done == 2  # refused for good (the bot's error path), not retried
    # The same entries' service URL with the flag: allowed and given the token.
    await enqueue(redis, keys, message("again", service_url=service_url))
    await run_worker(
        dataclasses.replace(strict, allow_private_service_urls=True),
        echo,
        burst=True,
        handle_signals=False,
    )
    (reply,) = dev.received
    assert reply.authorization in _issued(idp)


class _FixedResolver(AbstractResolver):
    """Resolves every name to one address: a DNS answer pointing inside the network."""

    def __init__(self, address: str) -> None:
        self._address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self._address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


async def test_a_name_resolving_to_a_private_address_is_refused_at_connect_time(
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    port = service_url.rsplit(":", 1)[1]
    resolver = PublicOnlyResolver(_FixedResolver("127.0.0.1"))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))
    client = ConnectorClient(session, _StaticToken(), OutboundPolicy(["connector.test"]))
    try:
        with pytest.raises(ForbiddenServiceUrl, match="non-public address"):
            await client.send_to_conversation(f"https://connector.test:{port}", "c", {"x": 1})
    finally:
        await client.aclose()
    assert dev.received == []
    with pytest.raises(PrivateAddressRefused):
        await PublicOnlyResolver(_FixedResolver("169.254.169.254")).resolve("metadata.test")
    public = await PublicOnlyResolver(_FixedResolver("20.190.128.1")).resolve("login.test")
    assert public[0]["host"] == "20.190.128.1"


class _StaticToken:
    async def authorization(self, service_url: str) -> str | None:
        return "Bearer static"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://smba.trafficmanager.net/emea/", True),
        ("https://webchat.botframework.com/", True),
        ("https://europe.directline.botframework.com/", True),
        ("https://smba.infra.gcc.teams.microsoft.com/", True),
        ("https://bots.example.org/", True),  # TURNSTREAM_OUTBOUND_ALLOWED_HOSTS
        ("https://eu.bots.example.org/", True),
        ("http://smba.trafficmanager.net/emea/", False),  # clear text
        ("https://botframework.com.attacker.example/", False),
        ("https://evilbotframework.com/", False),
        ("https://attacker.blob.core.windows.net/", False),
        ("https://tenant.sharepoint.com/", False),
        ("https://example.org/", False),
    ],
)
def test_which_hosts_get_the_token(url: str, allowed: bool) -> None:
    assert OutboundPolicy(["bots.example.org"]).token_allowed(url) is allowed


def test_an_authenticated_service_url_gets_the_token_exactly() -> None:
    policy = OutboundPolicy()
    policy.trust("https://channel.example.net/v3/")
    assert policy.token_allowed("https://channel.example.net/v3/")
    assert not policy.token_allowed("https://channel.example.net/other/")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::a00:1]",
        "224.0.0.1",
        "localhost",
    ],
)
def test_private_literal_addresses_are_refused(host: str) -> None:
    with pytest.raises(ForbiddenServiceUrl):
        OutboundPolicy().check_destination(f"http://{host}:8080/v3/conversations")
    OutboundPolicy(allow_private=True).check_destination(f"http://{host}:8080/v3/conversations")


def test_public_addresses_and_names_pass_the_literal_check() -> None:
    for url in (
        "https://20.190.128.1/",
        "https://smba.trafficmanager.net/",
        "https://[2603:1000::1]/",
    ):
        OutboundPolicy().check_destination(url)
    with pytest.raises(ForbiddenServiceUrl, match="http"):
        OutboundPolicy().check_destination("file:///etc/passwd")


async def test_an_authenticated_activity_gets_the_token_end_to_end(
    bot_settings: Settings,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Channel → gateway (token checked) → Redis (signed) → worker → reply with the token, to a
    loopback service URL that no allow-list names: the channel's token vouched for it."""
    caplog.set_level(logging.DEBUG)
    dev, service_url = connector
    signed = dataclasses.replace(bot_settings, envelope_secrets=(SECRET,))
    channel_token = idp.channel_token(service_url)
    async with serving(create_app(signed)) as gateway, aiohttp.ClientSession() as http:
        async with http.post(
            f"{gateway}/api/messages",
            data=orjson.dumps(message("hi", service_url=service_url)),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {channel_token}",
            },
        ) as response:
            assert response.status == 202
    await run_worker(signed, echo, burst=True, handle_signals=False)
    (reply,) = dev.received
    assert reply.authorization in _issued(idp)
    logged = caplog.text
    for secret in (idp.app_password, SECRET, channel_token, reply.authorization.split()[1]):
        assert secret not in logged


async def test_tokens_are_shared_by_workers_and_fetched_once(
    redis: Redis, keys: Keyspace, idp: LoopbackIdentityProvider
) -> None:
    http = KeepAliveHttp(timeout_seconds=5, allow_private=True)
    try:
        workers = [
            ClientCredentialsTokens(
                http=http,
                redis=redis,
                keys=keys,
                token_url=idp.token_url,
                app_id=idp.app_id,
                app_password=idp.app_password,
            )
            for _ in range(3)
        ]
        tokens = await asyncio.gather(*(w.token() for w in workers for _ in range(5)))
    finally:
        await http.aclose()
    assert len(set(tokens)) == 1
    assert sum(w.fetches for w in workers) == 1
    assert await redis.ttl(keys.outbound_token("x")) == -2  # keys are digests, not the app id
    stored = [key async for key in redis.scan_iter(match=f"{keys.prefix}:token:*")]
    assert len(stored) == 1 and idp.app_id.encode() not in stored[0]


async def test_a_token_due_for_renewal_serves_while_a_new_one_is_fetched(
    redis: Redis, keys: Keyspace, idp: LoopbackIdentityProvider
) -> None:
    http = KeepAliveHttp(timeout_seconds=5, allow_private=True)
    try:
        tokens = ClientCredentialsTokens(
            http=http,
            redis=redis,
            keys=keys,
            token_url=idp.token_url,
            app_id=idp.app_id,
            app_password=idp.app_password,
        )
        now = time.time()
        tokens._current = AccessToken("old-token", now + 300, now - 1)
        assert await tokens.token() == "old-token"  # still good: no waiting
        refreshing = tokens._refreshing
        assert refreshing is not None
        renewed = await refreshing
        assert await tokens.token() == renewed.value != "old-token"
        assert tokens.fetches == 1
        # An expired one is never handed out: the caller waits for the new one.
        tokens._current = AccessToken("expired", now - 1, now - 100)
        assert await tokens.token() != "expired"
    finally:
        await http.aclose()


async def test_a_failing_token_endpoint_fails_the_turn_transiently(
    bot_settings: Settings,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    allowed = dataclasses.replace(bot_settings, outbound_allowed_hosts=("127.0.0.1",))
    idp.fail_token_requests(1)
    await enqueue(redis, keys, message("hi", service_url=service_url))
    consumer = await run_worker(allowed, echo, burst=True, handle_signals=False)
    (reply,) = dev.received  # the retry got a token
    assert reply.authorization in _issued(idp)
    assert (consumer.turns_failed, consumer.turns_done) == (1, 1)


async def _dead_letter_reasons(redis: Redis, keys: Keyspace) -> list[str]:
    reasons = []
    for shard in range(keys.shards):
        entries: Any = await redis.xrange(keys.dead_letters(shard))
        reasons += [fields[b"reason"].decode() for _, fields in entries]
    return reasons


async def test_entries_not_signed_by_a_gateway_are_dead_lettered_not_run(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    signing = dataclasses.replace(settings, envelope_secrets=(SECRET,))
    await enqueue(redis, keys, message("unsigned", service_url=service_url, conversation="a"))
    forged = Envelope(
        orjson.dumps(message("forged", service_url=service_url, conversation="b")),
        conversation_key("test", "b"),
        time.time(),
        service_url="https://attacker.example/",
    ).encode(EnvelopeSigner(["x" * 40]))
    await redis.xadd(keys.stream(keys.shard_of("test/b")), {ENVELOPE_FIELD: forged, "p": ""})
    good = Envelope(
        orjson.dumps(message("signed", service_url=service_url, conversation="c")),
        conversation_key("test", "c"),
        time.time(),
    ).encode(EnvelopeSigner([SECRET]))
    await redis.xadd(keys.stream(keys.shard_of("test/c")), {ENVELOPE_FIELD: good, "p": ""})
    await run_worker(signing, echo, burst=True, handle_signals=False)
    assert [r.body["text"] for r in dev.received] == ["Echo: signed"]
    unsigned, forged_one = sorted(await _dead_letter_reasons(redis, keys))
    assert "envelope is not signed" in unsigned
    assert "signature does not match" in forged_one
    assert await stream_lengths(redis, keys) >= 3  # kept in Redis, not lost
