"""@mentions in a message: read them, and strip the bot's own from the text before parsing it.

Channels such as Teams put the mention markup in the text (`"<at>EchoBot</at> hello"`) and describe
it with a `mention` entity. These helpers match botbuilder-python's `TurnContext.get_mentions`,
`remove_mention_text` and `remove_recipient_mention`.
"""

from __future__ import annotations

import re

from shared.schema.activity import Activity, Entity, Mention

# `<at>Name</at>`, and `<at id="0">Name</at>` as some Teams clients write it.
_AT_TAG = re.compile(r"<at(?:\s[^>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def get_mentions(activity: Activity) -> list[Mention]:
    """The `mention` entities of `activity` as `Mention` objects (empty if there are none)."""
    mentions = []
    for entity in activity.entities or []:
        mention = _as_mention(entity)
        if mention is not None:
            mentions.append(mention)
    return mentions


def remove_mention_text(activity: Activity, identifier: str) -> str:
    """Remove the mention markup of account `identifier` from `activity.text`; return the new text.

    Every `<at>…</at>` that mentions `identifier` goes; mentions of other accounts and all other
    text are kept. When something was removed the text is stripped, so `"<at>Bot</at> help"`
    becomes `"help"`. Text without such a mention is returned unchanged; an activity without text
    gives `""` and keeps `text` None.
    """
    if activity.text is None:
        return ""
    text = activity.text
    removed = 0
    for mention in get_mentions(activity):
        if mention.mentioned is None or mention.mentioned.id != identifier:
            continue
        name = _mentioned_name(mention)
        if name is None:
            continue
        # Match on the name between the tags, not the whole `mention.text`, so a tag written
        # with attributes in the text (`<at id="0">`) is found too.
        pattern = rf"<at(?:\s[^>]*)?>{re.escape(name)}</at>"
        text, count = re.subn(pattern, "", text, flags=re.IGNORECASE)
        removed += count
    if removed:
        text = text.strip()
    activity.text = text
    return text


def remove_recipient_mention(activity: Activity) -> str:
    """Remove the mentions of the bot (`activity.recipient`) from `activity.text`; return it."""
    if activity.recipient is None or activity.recipient.id is None:
        return activity.text or ""
    return remove_mention_text(activity, activity.recipient.id)


def _as_mention(entity: object) -> Mention | None:
    if isinstance(entity, Mention):
        return entity
    # Entities arrive as plain `Entity` (the mention fields in additional_properties); a bot may
    # also have put wire-format dicts in the list, which `to_dict` sends just the same.
    data = entity.to_dict() if isinstance(entity, Entity) else entity
    if not isinstance(data, dict):
        return None
    kind = data.get("type")
    if not isinstance(kind, str) or kind.lower() != "mention":
        return None
    return Mention.from_dict(data)


def _mentioned_name(mention: Mention) -> str | None:
    """The text inside the mention's `<at>` tags; the account name when the mention has no text."""
    if mention.text is not None:
        match = _AT_TAG.search(mention.text)
        return match.group(1) if match else None
    return mention.mentioned.name if mention.mentioned is not None else None
