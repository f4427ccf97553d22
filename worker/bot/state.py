"""Bot state: ConversationState, UserState, PrivateConversationState and property accessors.

A state object is shared by every turn a worker runs, so it holds nothing of any turn: what a
turn loaded lives in that turn's `TurnContext.turn_state` (the Agents SDK 1.9 keeps it on the
shared object and can write one conversation's data under another's key).

What a bot keeps comes back as the same types (its own classes, enums, datetimes, tuples, sets;
`worker.bot.state_values`), rebuilt without pickles from classes the worker has imported;
a value that cannot be kept faithfully raises `StorageError` at save time, naming where it is.
State stored as plain dicts before that still reads back, and an accessor's `get` still builds
its default's class from such a dict.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.protocol import codec
from shared.protocol.keys import storage_key_part
from worker.bot.state_values import to_stored
from worker.bot.storage import (
    ETAG,
    IF_ABSENT,
    Storage,
    StorageError,
    is_turn_reader,
    is_turn_storage,
)
from worker.bot.turn_context import TurnContext


@dataclass
class CachedState:
    """What one turn loaded of one state object."""

    key: str
    state: dict[str, Any]
    snapshot: bytes
    """The encoded state as loaded or last saved: a save is due only when it differs."""
    created: bool = False
    """Read as missing: saved only if still missing then (`IF_ABSENT`), so two turns creating
    the same state cannot both win. The bot sees `{}`, as in botbuilder."""
    checked: bytes | None = None
    """The encoded state as `is_changed` last saw it: what a save that follows writes, and so
    the next snapshot, without encoding the state once more (issue 24)."""

    def for_write(self) -> dict[str, Any]:
        """The state as `Storage.write` takes it, with the eTag the write must match."""
        if self.created and ETAG not in self.state:
            return {**self.state, ETAG: IF_ABSENT}
        return self.state

    def is_changed(self, owner: str = "state") -> bool:
        """Whether the state differs from its snapshot; `StorageError` naming `owner` and the
        place if it holds what cannot be stored."""
        self.checked = _encode(self.state, owner)
        return self.checked != self.snapshot


class BotState:
    """State in `storage` under a key computed from the turn (see the subclasses)."""

    def __init__(self, storage: Storage, context_service_key: str) -> None:
        self.storage = storage
        self._cache_key = f"turnstream.state.{context_service_key}.{id(self)}"

    def get_storage_key(self, turn_context: TurnContext) -> str:
        raise NotImplementedError

    def create_property(self, name: str) -> StatePropertyAccessor:
        """An accessor for one named value of this state."""
        if not name:
            raise TypeError("a state property needs a name")  # botbuilder's error type
        return StatePropertyAccessor(self, name)

    def get_cached_state(self, turn_context: TurnContext) -> CachedState | None:
        cached: CachedState | None = turn_context.turn_state.get(self._cache_key)
        return cached

    def get(self, turn_context: TurnContext) -> dict[str, Any]:
        """This turn's loaded state (load it first)."""
        cached = self.get_cached_state(turn_context)
        if cached is None:
            raise StorageError(f"{type(self).__name__} is not loaded in this turn: call load()")
        return cached.state

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        """Read the state once per turn (again with `force`)."""
        if force or self.get_cached_state(turn_context) is None:
            await _load_together([self], turn_context, force=True)

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        """Write the state if this turn changed it (always with `force`); a concurrent change
        since it was read raises EtagConflict and the turn runs again on fresh state.

        In a worker's turn the write is made when the turn ends, with the turn's commit (see
        `save_deferred`): a turn cut short (its worker killed or frozen) leaves no state of
        its own behind, so the run that takes it over starts from the state before it, and a
        conversation's state is that of exactly one run per activity. The bot's own reads in
        the turn see what it set, as before."""
        commit = turn_context.turn_commit
        if commit is not None and not commit.committed:
            deferred: dict[BotState, bool] = turn_context.turn_state.setdefault(_DEFERRED, {})
            deferred[self] = deferred.get(self, False) or force
            return
        await _save_together([self], turn_context, force)

    async def clear_state(self, turn_context: TurnContext) -> None:
        """Empty the state for this turn; saved like any change (`save_changes`)."""
        await self.load(turn_context)
        state = self.get(turn_context)
        etag = state.get(ETAG)
        state.clear()
        if etag is not None:
            state[ETAG] = etag

    async def delete(self, turn_context: TurnContext) -> None:
        """Remove the state from storage now, and from this turn (fenced like a save)."""
        turn_context.turn_state.pop(self._cache_key, None)
        keys = [self.get_storage_key(turn_context)]
        commit = turn_context.turn_commit
        if commit is None:
            await self.storage.delete(keys)
        elif is_turn_storage(self.storage):
            await self.storage.delete_for_turn(keys, commit)
        else:
            await commit.ensure_owned("state")
            await self.storage.delete(keys)

    async def get_property_value(self, turn_context: TurnContext, name: str) -> Any:
        return self.get(turn_context).get(name)

    async def set_property_value(self, turn_context: TurnContext, name: str, value: Any) -> None:
        self.get(turn_context)[name] = value

    async def delete_property_value(self, turn_context: TurnContext, name: str) -> None:
        self.get(turn_context).pop(name, None)

    def _remember(self, turn_context: TurnContext, key: str, item: Any) -> None:
        if item is not None and not isinstance(item, dict):
            # Saving over it would lose what is there: refuse, naming it.
            raise StorageError(f"stored state {key!r} is a {type(item).__name__}, not a map")
        state = item if item is not None else {}
        cached = CachedState(key, state, _encode(state), created=item is None)
        turn_context.turn_state[self._cache_key] = cached


class ConversationState(BotState):
    """State of a conversation: `{channelId}/conversations/{conversationId}`."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage, "ConversationState")

    def get_storage_key(self, turn_context: TurnContext) -> str:
        activity = turn_context.activity
        conversation_id = activity.conversation.id if activity.conversation else None
        if not activity.channel_id or not conversation_id:
            raise StorageError(
                "ConversationState needs the activity's channelId and conversation.id"
            )
        return f"{activity.channel_id}/conversations/{storage_key_part(conversation_id)}"


class UserState(BotState):
    """State of a user across conversations: `{channelId}/users/{userId}`."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage, "UserState")

    def get_storage_key(self, turn_context: TurnContext) -> str:
        activity = turn_context.activity
        user_id = activity.from_property.id if activity.from_property else None
        if not activity.channel_id or not user_id:
            raise StorageError("UserState needs the activity's channelId and from.id")
        return f"{activity.channel_id}/users/{storage_key_part(user_id)}"


class PrivateConversationState(BotState):
    """State of one user in one conversation:
    `{channelId}/conversations/{conversationId}/users/{userId}`."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage, "PrivateConversationState")

    def get_storage_key(self, turn_context: TurnContext) -> str:
        activity = turn_context.activity
        conversation_id = activity.conversation.id if activity.conversation else None
        user_id = activity.from_property.id if activity.from_property else None
        if not activity.channel_id or not conversation_id or not user_id:
            raise StorageError(
                "PrivateConversationState needs the activity's channelId, conversation.id "
                "and from.id"
            )
        conversation, user = storage_key_part(conversation_id), storage_key_part(user_id)
        return f"{activity.channel_id}/conversations/{conversation}/users/{user}"


class StatePropertyAccessor:
    """One named value of a BotState: `get`, `set`, `delete` within a turn."""

    def __init__(self, state: BotState, name: str) -> None:
        self.state = state
        self.name = name

    async def get(self, turn_context: TurnContext, default_value_or_factory: Any = None) -> Any:
        """The stored value; if there is none, the default (a value is copied, a factory called)
        is stored and returned. Falsy stored values and falsy defaults are kept (0, "", [])."""
        await self.state.load(turn_context)
        state = self.state.get(turn_context)
        if self.name in state:
            value = state[self.name]
            factory = default_value_or_factory
            if (
                isinstance(factory, type)
                and isinstance(value, dict)
                and not isinstance(value, factory)
            ):
                value = _rebuild(default_value_or_factory, value)
                state[self.name] = value
            return value
        if default_value_or_factory is None:
            return None
        if callable(default_value_or_factory):
            value = default_value_or_factory()
        else:
            value = copy.deepcopy(default_value_or_factory)
        state[self.name] = value
        return value

    async def set(self, turn_context: TurnContext, value: Any) -> None:
        await self.state.load(turn_context)
        await self.state.set_property_value(turn_context, self.name, value)

    async def delete(self, turn_context: TurnContext) -> None:
        await self.state.load(turn_context)
        await self.state.delete_property_value(turn_context, self.name)


class BotStateSet:
    """Several states loaded in one storage round trip and saved in one (per storage).

    `BotStateSet(a, b)` or, as botbuilder writes it, `BotStateSet([a, b])`. A state whose class
    overrides `load` or `save_changes` is loaded and saved through its own method."""

    def __init__(self, *states: BotState | Sequence[BotState]) -> None:
        self.states: list[BotState] = _flatten(states)

    @property
    def bot_states(self) -> list[BotState]:
        """The states of the set (botbuilder's name)."""
        return self.states

    def add(self, state: BotState) -> BotStateSet:
        self.states.append(state)
        return self

    async def load_all(self, turn_context: TurnContext, force: bool = False) -> None:
        """Read every state not yet loaded in this turn (all of them with `force`): one read
        per storage."""
        own, standard = _split(self.states, "load")
        for state in own:
            await state.load(turn_context, force)
        await _load_together(standard, turn_context, force)

    async def save_all_changes(
        self, turn_context: TurnContext, force: bool = False, *, commit_turn: bool = False
    ) -> None:
        """Write what changed, one write per storage, each fenced by the turn's stream entry
        (`worker.bot.turn_commit`). With `commit_turn` (the end of the turn:
        AutoSaveStateMiddleware), also acknowledge the entry in the same atomic write where the
        storage can; a save in the middle of a turn never acknowledges it."""
        own, standard = _split(self.states, "save_changes")
        for state in own:
            await state.save_changes(turn_context, force)
        await _save_together(standard, turn_context, force, commit_turn=commit_turn)


async def _load_together(
    states: Sequence[BotState], turn_context: TurnContext, force: bool
) -> None:
    for storage, group in _by_storage(states):
        wanted = [s for s in group if force or s.get_cached_state(turn_context) is None]
        if not wanted:
            continue
        keys = [s.get_storage_key(turn_context) for s in wanted]
        commit = turn_context.turn_commit
        if commit is not None and is_turn_reader(storage):
            items, fresh = await storage.read_for_turn(sorted(set(keys)), commit), True
        else:
            items, fresh = await storage.read(sorted(set(keys))), False
        handed: set[str] = set()
        for state, key in zip(wanted, keys, strict=True):
            item = items.get(key)
            # `read_for_turn` decodes its items for this call alone: the first state of a key
            # may keep its item (a copy costs ~8 µs a stateful turn, issue 24). Any other read
            # may hand out what the storage keeps, and a key read twice must not be shared.
            if not fresh or key in handed:
                item = copy.deepcopy(item)
            handed.add(key)
            state._remember(turn_context, key, item)


async def _save_together(
    states: Sequence[BotState],
    turn_context: TurnContext,
    force: bool = False,
    *,
    commit_turn: bool = False,
) -> None:
    states_to_save = list(states)
    deferred: dict[BotState, bool] = turn_context.turn_state.get(_DEFERRED, {})
    if commit_turn and deferred:  # the turn's explicit saves go with its commit
        states_to_save += [s for s in deferred if s not in states_to_save]
        force = force or any(deferred.values())
        deferred.clear()
    groups = _by_storage(states_to_save)
    for storage, group in groups:
        due = [
            (s, c)
            for s in group
            if (c := s.get_cached_state(turn_context)) is not None
            and (force or c.is_changed(type(s).__name__))
        ]
        if not due:
            continue
        changes = {c.key: c.for_write() for _, c in due}
        final = commit_turn and _commits_the_turn(turn_context, groups, storage)
        etags = await _write(turn_context, storage, changes, final=final)
        for _, cached in due:
            if etags is None:
                # A storage written for botbuilder returns nothing: without the new eTag, the
                # next save of this turn is unconditional.
                cached.state.pop(ETAG, None)
                cached.created = False
            else:
                cached.state[ETAG] = etags[cached.key]
            # Without `force`, `is_changed` encoded the state just before the write; the write
            # took that state (the eTag is not part of the encoding).
            written = None if force else cached.checked
            cached.snapshot = written if written is not None else _encode(cached.state)
            cached.checked = None


_DEFERRED = "turnstream.state.deferred"
"""turn_state key: the states a worker's turn saved explicitly, written when it ends."""


async def save_deferred(turn_context: TurnContext) -> None:
    """Write what the turn saved explicitly (`save_changes`), with the turn's commit where the
    storage can; called by the adapter when the turn's handler returned or `on_turn_error` ran.
    A write conflict raises EtagConflict, and the turn runs again on fresh state."""
    deferred: dict[BotState, bool] = turn_context.turn_state.get(_DEFERRED, {})
    if deferred:
        await _save_together(list(deferred), turn_context, commit_turn=True)


def to_plain(value: Any) -> Any:
    """Plain data for storage: dataclasses and simple objects become dicts of their fields."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool | bytes):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "__dict__") and not callable(value):
        return {k: to_plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    raise StorageError(f"cannot keep a {type(value).__name__} in bot state: store plain data")


def _rebuild(cls: type, data: dict[str, Any]) -> Any:
    """An instance of the bot's own class from stored fields, without calling `__init__` twice."""
    instance: Any = object.__new__(cls)
    try:
        defaults = vars(cls())
    except TypeError:  # a class whose constructor needs arguments: fields only
        defaults = {}
    instance.__dict__.update({**defaults, **data})
    return instance


def _encode(state: dict[str, Any], path: str = "state") -> bytes:
    return codec.pack(to_stored({k: v for k, v in state.items() if k != ETAG}, path))


def _commits_the_turn(
    turn_context: TurnContext, groups: list[tuple[Storage, list[BotState]]], storage: Storage
) -> bool:
    """Whether this write may also commit the turn: only when this one write holds all of the
    turn's state, so "acknowledged" still means "all state committed"."""
    commit = turn_context.turn_commit
    return (
        commit is not None
        and not commit.committed
        and len(groups) == 1
        and is_turn_storage(storage)
    )


async def _write(
    turn_context: TurnContext, storage: Storage, changes: dict[str, Any], *, final: bool
) -> dict[str, str] | None:
    commit = turn_context.turn_commit
    if commit is None:
        return await storage.write(changes)
    if is_turn_storage(storage):
        return await storage.write_for_turn(changes, commit, final=final)
    # A storage outside Redis cannot run inside the fence's script: checked, not fenced.
    await commit.ensure_owned("state")
    return await storage.write(changes)


def _flatten(states: Sequence[BotState | Sequence[BotState]]) -> list[BotState]:
    flat: list[BotState] = []
    for item in states:
        flat.extend(item if isinstance(item, Sequence) else [item])
    return flat


def _split(states: Sequence[BotState], method: str) -> tuple[list[BotState], list[BotState]]:
    """(the states whose class has its own `method`, the others): a subclass that overrides
    `load` or `save_changes` (botbuilder's tests and some bots do) gets its own method
    called; the others are read or written together."""
    own = [s for s in states if getattr(type(s), method) is not getattr(BotState, method)]
    return own, [s for s in states if s not in own]


def _by_storage(states: Sequence[BotState]) -> list[tuple[Storage, list[BotState]]]:
    groups: dict[int, tuple[Storage, list[BotState]]] = {}
    for state in states:
        groups.setdefault(id(state.storage), (state.storage, []))[1].append(state)
    return list(groups.values())
