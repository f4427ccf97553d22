"""CPU per request of the gateway's token check, in one process: a cached token (what a channel
reusing its token costs) next to a full RS256 verification (a cache miss), and the envelope
with and without the validated claims.

Run from the repository root:

    python -m benchmarks.token_check [--rounds 5] [--number 20000]

Each figure is the median over `--rounds` of `--number` calls, in µs per call. The keys come
from a loopback identity provider (`turnstream.loopback_idp`); nothing touches the network or
Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

import orjson

from benchmarks.activities import SERVICE_URL, activity_template
from gateway.activity_check import parse_activity
from gateway.authentication import Authenticator
from shared.protocol.envelope import Envelope
from shared.protocol.signing import EnvelopeSigner
from shared.settings import Settings
from turnstream.loopback_idp import LoopbackIdentityProvider


async def _per_call_us(call: Callable[[], Awaitable[object]], number: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(number):
            await call()
        samples.append((time.process_time() - start) / number * 1e6)
    return statistics.median(samples)


async def measure(number: int, rounds: int) -> dict[str, float]:
    with LoopbackIdentityProvider() as idp:
        settings = Settings(app_id=idp.app_id, openid_metadata_url=idp.metadata_url)
        authenticator = Authenticator(settings)
        await authenticator.start()
        try:
            header = f"Bearer {idp.channel_token(SERVICE_URL)}".encode()
            body = orjson.dumps(activity_template())
            checked = parse_activity(body)
            token = await authenticator.verify(header)
            signer = EnvelopeSigner(["x" * 32])
            # Distinct tokens, each verified once: every call is a cache miss.
            per_round = max(1, number // 40)
            misses = iter(
                [
                    f"Bearer {idp.channel_token(SERVICE_URL, claims={'n': i})}".encode()
                    for i in range(per_round * rounds)
                ]
            )

            async def cached() -> None:
                verified = await authenticator.verify(header)
                authenticator.check_activity(verified, checked.channel_id, checked.service_url)

            async def uncached() -> None:
                await authenticator.verify(next(misses))

            async def plain_envelope() -> bytes:
                return Envelope(body, checked.conversation, time.time()).encode()

            async def validated_envelope() -> bytes:
                return Envelope(
                    body, checked.conversation, time.time(), token.service_url, token.claims
                ).encode()

            async def signed_envelope() -> bytes:
                return Envelope(
                    body, checked.conversation, time.time(), token.service_url, token.claims
                ).encode(signer)

            return {
                "token check, cached (per request)": await _per_call_us(cached, number, rounds),
                "token check, full RS256 verification": await _per_call_us(
                    uncached, per_round, rounds
                ),
                "envelope, anonymous": await _per_call_us(plain_envelope, number, rounds),
                "envelope, with service URL and claims": await _per_call_us(
                    validated_envelope, number, rounds
                ),
                "envelope, with claims, signed": await _per_call_us(
                    signed_envelope, number, rounds
                ),
            }
        finally:
            await authenticator.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.token_check")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.number, args.rounds))
    for name, micros in results.items():
        print(f"{name:<42}{micros:8.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
