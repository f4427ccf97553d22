"""msgpack encoding for everything turnstream stores, with limits on what it will unpack."""

from __future__ import annotations

from typing import Any

import msgpack

from shared.errors import TurnstreamError

MAX_UNPACK_BYTES = 17 * 1024 * 1024
"""Above the largest activity the gateway may accept (16 MiB) plus its envelope's own fields."""
_MAX_CONTAINER_ITEMS = 1_000_000


class DecodeError(TurnstreamError):
    """Stored bytes are not a valid msgpack document within the limits."""


class EncodeError(TurnstreamError):
    """A value cannot be stored: nested too deeply, an integer out of range, an unknown type."""


def pack(value: Any) -> bytes:
    """Encode plain data (dicts, lists, str, bytes, numbers, bool, None)."""
    try:
        return msgpack.packb(value, use_bin_type=True)
    except (ValueError, TypeError, OverflowError) as e:
        raise EncodeError(str(e)) from e


def unpack(data: bytes) -> Any:
    """Decode what `pack` produced; refuse oversized or malformed input, never exhaust memory."""
    if len(data) > MAX_UNPACK_BYTES:
        raise DecodeError(f"refusing to unpack {len(data)} bytes (limit {MAX_UNPACK_BYTES})")
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            max_str_len=MAX_UNPACK_BYTES,
            max_bin_len=MAX_UNPACK_BYTES,
            max_array_len=_MAX_CONTAINER_ITEMS,
            max_map_len=_MAX_CONTAINER_ITEMS,
            max_ext_len=0,  # nothing turnstream writes uses extension types
        )
    except (ValueError, TypeError, msgpack.UnpackException) as e:
        raise DecodeError(f"invalid msgpack document: {e}") from e
