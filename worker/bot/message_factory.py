"""MessageFactory: build the common message activities (text, suggested actions, attachments).

Same names and arguments as botbuilder-python's `MessageFactory`, so bot code ports by changing its
imports. Each method returns a new message `Activity`; send it with `TurnContext.send_activity`.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.schema.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    AttachmentLayoutTypes,
    CardAction,
    InputHints,
    SuggestedActions,
)
from worker.bot.card_factory import CardFactory


class MessageFactory:
    """Builders for message activities a bot sends.

    `input_hint` defaults to `"acceptingInput"` everywhere: the bot is not waiting for an answer,
    but the user may type. Pass `InputHints.EXPECTING_INPUT` when asking a question.
    """

    @staticmethod
    def text(
        text: str,
        speak: str | None = None,
        input_hint: str | None = InputHints.ACCEPTING_INPUT,
    ) -> Activity:
        """A plain text message; `speak` is what voice channels say instead of `text`.

        Example: `await turn_context.send_activity(MessageFactory.text("Hello!"))`
        """
        return Activity(
            type=ActivityTypes.MESSAGE, text=text, speak=speak or None, input_hint=input_hint
        )

    @staticmethod
    def suggested_actions(
        actions: Sequence[CardAction | str],
        text: str | None = None,
        speak: str | None = None,
        input_hint: str | None = InputHints.ACCEPTING_INPUT,
    ) -> Activity:
        """A message with suggested-action buttons under it, and optional text.

        Strings become imBack actions whose title and value are the string, so
        `MessageFactory.suggested_actions(["red", "blue"], "Pick a color")` sends back the word the
        user tapped as an ordinary message.
        """
        return Activity(
            type=ActivityTypes.MESSAGE,
            text=text or None,
            speak=speak or None,
            input_hint=input_hint,
            suggested_actions=SuggestedActions(actions=CardFactory.actions(actions)),
        )

    @staticmethod
    def attachment(
        attachment: Attachment,
        text: str | None = None,
        speak: str | None = None,
        input_hint: str | None = InputHints.ACCEPTING_INPUT,
    ) -> Activity:
        """A message with one attachment (a card from `CardFactory`, a file, an image…)."""
        return _attachment_activity(
            AttachmentLayoutTypes.LIST, [attachment], text, speak, input_hint
        )

    @staticmethod
    def carousel(
        attachments: Sequence[Attachment],
        text: str | None = None,
        speak: str | None = None,
        input_hint: str | None = InputHints.ACCEPTING_INPUT,
    ) -> Activity:
        """A message whose attachments (usually cards) are shown side by side, scrolling."""
        return _attachment_activity(
            AttachmentLayoutTypes.CAROUSEL, attachments, text, speak, input_hint
        )

    @staticmethod
    def content_url(
        url: str,
        content_type: str,
        name: str | None = None,
        text: str | None = None,
        speak: str | None = None,
        input_hint: str | None = InputHints.ACCEPTING_INPUT,
    ) -> Activity:
        """A message with one image, video or file by URL: `content_url(url, "image/png")`."""
        attachment = Attachment(content_type=content_type, content_url=url, name=name or None)
        return _attachment_activity(
            AttachmentLayoutTypes.LIST, [attachment], text, speak, input_hint
        )

    # Defined last: this class attribute `list` would shadow the builtin in any annotation written
    # after it in the class body (mypy resolves annotations there).
    @staticmethod
    def list(
        attachments: Sequence[Attachment],
        text: str | None = None,
        speak: str | None = None,
        input_hint: str | None = InputHints.ACCEPTING_INPUT,
    ) -> Activity:
        """A message whose attachments are shown one under another."""
        return _attachment_activity(
            AttachmentLayoutTypes.LIST, attachments, text, speak, input_hint
        )


def _attachment_activity(
    layout: str,
    attachments: Sequence[Attachment],
    text: str | None,
    speak: str | None,
    input_hint: str | None,
) -> Activity:
    return Activity(
        type=ActivityTypes.MESSAGE,
        attachment_layout=layout,
        attachments=list(attachments),
        # Empty strings are left out, as botbuilder does, rather than sent as `"text": ""`.
        text=text or None,
        speak=speak or None,
        input_hint=input_hint,
    )
