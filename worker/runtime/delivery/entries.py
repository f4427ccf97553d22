"""What a read or a claim delivers: stream entries decoded into `Entry`s, with the keys a turn
needs; an entry that does not decode (or, with a signer, that no gateway signed) is kept apart
with the reason, for the dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.protocol.envelope import Envelope, EnvelopeError
from shared.protocol.keys import ENVELOPE_FIELD, PREVIOUS_FIELD, Keyspace
from shared.protocol.signing import EnvelopeSigner


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    entry_id: str
    envelope: Envelope
    previous: str
    """The conversation's previous entry id ('' for the first of a chain)."""
    done_key: str
    """The conversation's commit pointer."""
    sent_key: str
    """The record of replies sent while processing this entry
    (worker.runtime.delivery.send_journal)."""
    starts_key: str
    """The count of this entry's tries past its first (worker.runtime.delivery.attempts)."""
    read_at: float
    """When the read or claim that delivered it here was sent (time.monotonic()): its lease
    starts no later (worker.runtime.delivery.leases)."""

    @property
    def key(self) -> tuple[str, str]:
        """Unique across shards (each stream numbers its entries on its own)."""
        return self.stream, self.entry_id


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An entry that cannot run: it goes to the dead letters with the reason."""

    stream: str
    entry_id: str
    reason: str


class EntryDecoder:
    """Decodes XREADGROUP-shaped answers ([(stream, [(id, fields), ...]), ...]); keeps the
    unreadable entries until `take_unreadable()`."""

    def __init__(self, keys: Keyspace, signer: EnvelopeSigner | None) -> None:
        self._keys = keys
        self._signer = signer
        """With a signer, an entry no gateway signed is unreadable: dead-lettered, never run."""
        self._unreadable: list[Unreadable] = []

    def decode(self, response: Any, read_at: float) -> list[Entry]:
        entries = []
        for stream_name, messages in response or []:
            stream = stream_name.decode() if isinstance(stream_name, bytes) else stream_name
            for raw_id, fields in messages:
                entry_id = raw_id.decode()
                try:
                    envelope = Envelope.decode(fields[ENVELOPE_FIELD.encode()], self._signer)
                except (EnvelopeError, KeyError) as e:
                    # Kept, not dropped: it goes to the dead-letter stream with the reason.
                    self._unreadable.append(Unreadable(stream, entry_id, f"unreadable entry: {e}"))
                    continue
                previous = fields.get(PREVIOUS_FIELD.encode(), b"").decode()
                shard = self._keys.shard_of(envelope.conversation)
                entries.append(
                    Entry(
                        stream,
                        entry_id,
                        envelope,
                        previous,
                        self._keys.done(shard, envelope.conversation),
                        self._keys.sent(shard, entry_id),
                        self._keys.starts(shard, entry_id),
                        read_at,
                    )
                )
        return entries

    def take_unreadable(self) -> list[Unreadable]:
        """The unreadable entries decoded since the last call."""
        unreadable, self._unreadable = self._unreadable, []
        return unreadable
