"""Fuzzing the gateway: schemathesis from its own `GET /openapi.json`, and hypothesis-made bodies
and tokens against an authenticating gateway. No answer is a 5xx, every error is JSON, and no
request that was refused leaves a stream entry.

The gateway runs in a thread with its own event loop: schemathesis calls it synchronously.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import orjson
import pytest
import redis
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from gateway.app import create_app
from gateway.server import EmbeddedServer, server_config
from shared.protocol.keys import Keyspace
from shared.settings import Settings
from turnstream.embedded import free_port
from turnstream.loopback_idp import LoopbackIdentityProvider

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis directory in the tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclasses.dataclass
class Served:
    base: str
    keys: Keyspace
    redis: redis.Redis

    def entries(self) -> int:
        return sum(int(self.redis.xlen(stream)) for stream in self.keys.streams())


@pytest.fixture(scope="module")
def idp() -> Iterator[LoopbackIdentityProvider]:
    with LoopbackIdentityProvider() as provider:
        yield provider


def _serve(settings_: Settings) -> Iterator[Served]:
    port = free_port()
    server = EmbeddedServer(server_config(create_app(settings_), "127.0.0.1", port))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    client = redis.Redis.from_url(settings_.redis_url or "")
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the gateway did not start")
            threading.Event().wait(0.01)
        yield Served(
            f"http://127.0.0.1:{port}", Keyspace(settings_.key_prefix, settings_.shards), client
        )
    finally:
        server.should_exit = True
        thread.join(10)
        client.close()


def _settings(redis_url: str, **changes: Any) -> Settings:
    return Settings(
        redis_url=redis_url, key_prefix=f"fuzz-{uuid.uuid4().hex[:10]}", shards=2, **changes
    )


@pytest.fixture(scope="module")
def anonymous(redis_url: str) -> Iterator[Served]:
    yield from _serve(_settings(redis_url))


@pytest.fixture(scope="module")
def authenticated(redis_url: str, idp: LoopbackIdentityProvider) -> Iterator[Served]:
    yield from _serve(_settings(redis_url, app_id=idp.app_id, openid_metadata_url=idp.metadata_url))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_route_of_the_openapi_document_under_schemathesis(
    anonymous: Served, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{anonymous.base}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document does not load: {result}"
        operations.append(result.ok())
    # Schemathesis leaves out the document's own route; the document lists it.
    assert {op.label for op in operations} == {
        "POST /api/messages",
        "GET /healthz",
        "GET /readyz",
        "POST /api/proactive",
        "GET /api/proactive/{job}",
        "GET /metrics",
    }
    assert "/openapi.json" in schema.raw_schema["paths"]
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.method.upper() != "POST":
            continue  # a GET without parameters has nothing to make invalid

        @FUZZ
        @given(case=operation.as_strategy(mode))
        def check(case: schemathesis.Case[Any]) -> None:
            before = anonymous.entries()
            response = case.call(base_url=anonymous.base)
            case.validate_response(response)  # no 5xx, documented status, type and schema
            if response.status_code != 202:
                assert anonymous.entries() == before, "a refused request left an entry"

        check()


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

_ACTIVITY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["message", "", "conversationUpdate"]) | _JSON,
        "channelId": st.sampled_from(["msteams", "test", "a/b", ""]) | _JSON,
        "serviceUrl": st.sampled_from([SERVICE_URL, "https://attacker.example/", "ftp://x"])
        | _JSON,
        "conversation": st.fixed_dictionaries({"id": st.text(max_size=30) | _JSON}) | _JSON,
    },
    optional={
        "id": st.text(max_size=30) | _JSON,
        "from": st.fixed_dictionaries({"id": st.text(max_size=20) | _JSON}) | _JSON,
        "text": st.text(),
        "value": _JSON,
    },
)

_HEADER_CHARACTERS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
"""Visible ASCII: header values the HTTP layer passes to the app (uvicorn refuses control
characters itself, with a plain-text 400, before any application code runs)."""

_BODY = (
    _ACTIVITY.map(orjson.dumps)
    | _JSON.map(orjson.dumps)
    | st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | st.sampled_from(
        [  # what orjson refuses or a naive parser chokes on
            b'{"type":"message","n":123456789012345678901234567890}',
            b'{"type":"message","n":1e999}',
            b'{"type":"message","s":"\\ud800"}',
            b"[" * 2000 + b"]" * 2000,
            b"\xef\xbb\xbf{}",
        ]
    )
)


@pytest.mark.timeout(120)
def test_hypothesis_bodies_and_tokens_against_an_authenticating_gateway(
    authenticated: Served, idp: LoopbackIdentityProvider
) -> None:
    good = idp.channel_token(SERVICE_URL)
    tokens = st.sampled_from(
        [
            None,
            f"Bearer {good}",
            f"Bearer {idp.channel_token('https://attacker.example/')}",
            f"Bearer {idp.channel_token(SERVICE_URL, audience='someone-else')}",
            "Bearer " + good[:-3],
            "Basic abc",
        ]
    ) | st.text(_HEADER_CHARACTERS, max_size=40).map(lambda t: f"Bearer {t}")
    content_types = st.sampled_from(["application/json", "text/plain", "application/x+json", ""])
    accepted = 0

    @settings(FUZZ, max_examples=150)
    @given(body=_BODY, authorization=tokens, content_type=content_types)
    def check(body: bytes, authorization: str | None, content_type: str) -> None:
        nonlocal accepted
        headers = {"Content-Type": content_type}
        if authorization is not None:
            headers["Authorization"] = authorization
        before = authenticated.entries()
        response = requests.post(
            f"{authenticated.base}/api/messages", data=body, headers=headers, timeout=10
        )
        assert response.status_code in (202, 400, 401, 403, 413, 415), response.text
        if response.status_code == 202:
            accepted += 1
            assert response.content == b""
        else:
            error = response.json()
            assert set(error) == {"error", "message"}
            assert "Traceback" not in error["message"]
            assert authenticated.entries() == before, "a refused request left an entry"

    check()
    # The valid case is reachable: a well-formed activity with the right token is queued.
    ok = requests.post(
        f"{authenticated.base}/api/messages",
        data=orjson.dumps(
            {
                "type": "message",
                "channelId": "msteams",
                "serviceUrl": SERVICE_URL,
                "conversation": {"id": "fuzz-check"},
            }
        ),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {good}"},
        timeout=10,
    )
    assert ok.status_code == 202
    assert authenticated.entries() >= 1
