"""The ownership fence, written once: a stream entry's turn may change Redis only while the
entry is still pending with this worker's consumer.

A worker frozen past the claim timeout (GC, CPU throttling, a paused VM) loses its entries to
another worker (`worker.runtime.delivery.takeover`). When it wakes up, nothing it does for those
entries may reach Redis: so every script that writes for a turn checks ownership itself, in the
same atomic step as its writes, with the Lua function below. A check made before the write, in
another round trip, would leave the gap the fence exists to close.

`OWNS` is prepended to every such script: the commit of a turn without state (`acks`), the
record of sent replies (`send_journal`), dead letters (`dead_letters`), renewals (`takeover`).
"""

from __future__ import annotations

OWNS = """
local function owns(stream, group, entry, consumer)
  local rows = redis.call('XPENDING', stream, group, entry, entry, 1)
  if #rows > 0 and rows[1][2] == consumer then
    return rows[1]
  end
  return false
end
"""
"""`owns(stream, group, entry, consumer)`: the entry's pending row (id, consumer, idle ms,
deliveries) if it is pending with that consumer, else false (acknowledged, or taken over)."""
