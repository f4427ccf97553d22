"""ChoiceFactory: a message that shows choices as text, buttons or a card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.schema.activity import ActionTypes, Activity, CardAction, HeroCard, InputHints
from worker.bot.card_factory import CardFactory
from worker.bot.dialogs.choices.channel import Channel
from worker.bot.dialogs.choices.choice import Choice, to_choices
from worker.bot.message_factory import MessageFactory


@dataclass
class ChoiceFactoryOptions:
    """How `inline` and `list_style` write choices: `(1) a, (2) b, or (3) c`."""

    inline_separator: str = ", "
    """Between choices, except the last two."""
    inline_or: str = " or "
    """Between the two choices of a list of two."""
    inline_or_more: str = ", or "
    """Between the last two choices of a list of three or more."""
    include_numbers: bool = True
    """Number the choices, so the user can answer with a number."""


class ChoiceFactory:
    """Builders of message activities that offer choices, as botbuilder's ChoiceFactory.

    Every message it builds expects input (`InputHints.EXPECTING_INPUT`): it asks a question.
    Choices may be given as strings.
    """

    @staticmethod
    def for_channel(
        channel_id: str | None,
        choices: Sequence[Choice | str],
        text: str | None = None,
        speak: str | None = None,
        options: ChoiceFactoryOptions | None = None,
    ) -> Activity:
        """The best form for the channel (the SDK's rule, `ListStyle.auto`).

        Titles longer than 20 characters always give a numbered list. Otherwise: suggested
        actions if the channel shows that many; else a hero card if it shows that many card
        buttons (Teams); else an inline list for up to three choices, a numbered list beyond.
        """
        items = to_choices(choices)
        longest = max((len(_title(c)) for c in items), default=0)
        if longest > Channel.max_action_title_length(channel_id):
            return ChoiceFactory.list_style(items, text, speak, options)
        if Channel.supports_suggested_actions(channel_id, len(items)):
            return ChoiceFactory.suggested_action(items, text, speak)
        if Channel.supports_card_actions(channel_id, len(items)):
            return ChoiceFactory.hero_card(items, text, speak)
        if len(items) <= 3:
            return ChoiceFactory.inline(items, text, speak, options)
        return ChoiceFactory.list_style(items, text, speak, options)

    @staticmethod
    def inline(
        choices: Sequence[Choice | str],
        text: str | None = None,
        speak: str | None = None,
        options: ChoiceFactoryOptions | None = None,
    ) -> Activity:
        """The choices appended to the text: `Pick one: (1) red, (2) green, or (3) blue`."""
        opts = options or ChoiceFactoryOptions()
        items = to_choices(choices)
        parts: list[str] = []
        for index, choice in enumerate(items):
            if index:
                last = index == len(items) - 1
                if not last:
                    parts.append(opts.inline_separator)
                else:
                    parts.append(opts.inline_or if len(items) == 2 else opts.inline_or_more)
            parts.append(f"({index + 1}) " if opts.include_numbers else "")
            parts.append(_title(choice))
        # As botbuilder: a space before the list even without text (" (1) Yes or (2) No").
        listed = "".join(parts)
        combined = f"{text or ''} {listed}" if listed else text or ""
        return MessageFactory.text(combined, speak, InputHints.EXPECTING_INPUT)

    @staticmethod
    def list_style(
        choices: Sequence[Choice | str],
        text: str | None = None,
        speak: str | None = None,
        options: ChoiceFactoryOptions | None = None,
    ) -> Activity:
        """The choices as a list under the text: numbered (`   1. red`), else bulleted.

        The three-space indent is the SDK's: Markdown channels render it as a list.
        """
        opts = options or ChoiceFactoryOptions()
        lines = [
            f"   {f'{index + 1}.' if opts.include_numbers else '-'} {_title(choice)}"
            for index, choice in enumerate(to_choices(choices))
        ]
        listed = "\n".join(lines)
        combined = f"{text}\n\n{listed}" if text and listed else text or listed
        return MessageFactory.text(combined, speak, InputHints.EXPECTING_INPUT)

    @staticmethod
    def suggested_action(
        choices: Sequence[Choice | str], text: str | None = None, speak: str | None = None
    ) -> Activity:
        """The text with one suggested-action button per choice."""
        return MessageFactory.suggested_actions(
            ChoiceFactory.extract_actions(choices), text, speak, InputHints.EXPECTING_INPUT
        )

    @staticmethod
    def hero_card(
        choices: Sequence[Choice | str], text: str | None = None, speak: str | None = None
    ) -> Activity:
        """A hero card holding the text, with one button per choice."""
        card = HeroCard(text=text or None, buttons=ChoiceFactory.extract_actions(choices))
        return MessageFactory.attachment(
            CardFactory.hero_card(card), None, speak, InputHints.EXPECTING_INPUT
        )

    @staticmethod
    def extract_actions(choices: Sequence[Choice | str]) -> list[CardAction]:
        """One button per choice: its `action`, else an imBack that sends its value."""
        return [
            choice.action
            if choice.action is not None
            else CardAction(type=ActionTypes.IM_BACK, title=choice.value, value=choice.value)
            for choice in to_choices(choices)
        ]


def _title(choice: Choice) -> str:
    if choice.action is not None and choice.action.title:
        return choice.action.title
    return choice.value
