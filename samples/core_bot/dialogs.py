"""The flight booking dialogs: main, booking, date resolver, and the help/cancel interruptions."""

from __future__ import annotations

import re
from typing import Any

from samples.core_bot.recognizer import BOOK_FLIGHT, GET_WEATHER, Recognizer
from worker.bot import InputHints, MessageFactory
from worker.bot.dialogs import (
    ComponentDialog,
    ConfirmPrompt,
    DateTimePrompt,
    DateTimeResolution,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

HELP_TEXT = (
    'I can book flights. Tell me where to, from where and when, e.g. "book a flight from '
    'Paris to Berlin tomorrow". Say "cancel" to start over.'
)
CANCEL_TEXT = "Cancelling…"
DEFAULT_TEXT = (
    "Sorry, I didn't get that. I can book flights: try \"book a flight from Paris to Berlin "
    'tomorrow".'
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BookingDetails:
    """What the booking dialog collects."""

    def __init__(
        self,
        destination: str | None = None,
        origin: str | None = None,
        travel_date: str | None = None,
    ) -> None:
        self.destination = destination
        self.origin = origin
        self.travel_date = travel_date


def _ask(text: str) -> PromptOptions:
    return PromptOptions(prompt=MessageFactory.text(text, text, InputHints.EXPECTING_INPUT))


class CancelAndHelpDialog(ComponentDialog):
    """Checks every turn for "help"/"?" (answered, then the dialog keeps waiting: a turn-level
    interruption) and "cancel"/"quit" (every inner dialog cancelled: a dialog-level one)."""

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        result = await self.interrupt(inner_dc)
        if result is not None:
            return result
        return await super().on_continue_dialog(inner_dc)

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        activity = inner_dc.context.activity
        if activity.type != "message" or not activity.text:
            return None
        text = activity.text.strip().lower()
        if text in ("help", "?"):
            await inner_dc.context.send_activity(
                MessageFactory.text(HELP_TEXT, HELP_TEXT, InputHints.EXPECTING_INPUT)
            )
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if text in ("cancel", "quit"):
            await inner_dc.context.send_activity(
                MessageFactory.text(CANCEL_TEXT, CANCEL_TEXT, InputHints.IGNORING_INPUT)
            )
            return await inner_dc.cancel_all_dialogs()
        return None


class DateResolverDialog(CancelAndHelpDialog):
    """Asks for a travel date until it is a definite day."""

    def __init__(self, dialog_id: str = "DateResolverDialog") -> None:
        super().__init__(dialog_id)
        self.add_dialog(WaterfallDialog(f"{dialog_id}.steps", [self.ask_step, self.final_step]))
        self.add_dialog(DateTimePrompt(f"{dialog_id}.date", self.definite_date))

    async def ask_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        if step_context.options:
            return await step_context.next([DateTimeResolution(timex=step_context.options)])
        options = _ask("When would you like to travel?")
        retry = (
            "I'm sorry, for best results, please enter your travel date including the month, "
            "day and year."
        )
        options.retry_prompt = MessageFactory.text(retry, retry, InputHints.EXPECTING_INPUT)
        return await step_context.prompt(f"{self.id}.date", options)

    async def final_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        resolution = step_context.result[0]
        return await step_context.end_dialog(resolution.timex)

    @staticmethod
    async def definite_date(prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            return False
        timex = prompt_context.recognized.value[0].timex or ""
        return bool(_ISO_DATE.match(timex.split("T")[0]))


class BookingDialog(CancelAndHelpDialog):
    """Asks for what the request left out, then for confirmation."""

    def __init__(self, dialog_id: str = "BookingDialog") -> None:
        super().__init__(dialog_id)
        self.add_dialog(
            WaterfallDialog(
                f"{dialog_id}.steps",
                [
                    self.destination_step,
                    self.origin_step,
                    self.travel_date_step,
                    self.confirm_step,
                    self.final_step,
                ],
            )
        )
        self.add_dialog(TextPrompt(f"{dialog_id}.text"))
        self.add_dialog(ConfirmPrompt(f"{dialog_id}.confirm"))
        self.add_dialog(DateResolverDialog())

    async def destination_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        details = step_context.options
        if details.destination is None:
            return await step_context.prompt(
                f"{self.id}.text", _ask("Where would you like to travel to?")
            )
        return await step_context.next(details.destination)

    async def origin_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        details = step_context.options
        details.destination = step_context.result
        if details.origin is None:
            return await step_context.prompt(
                f"{self.id}.text", _ask("From what city will you be travelling?")
            )
        return await step_context.next(details.origin)

    async def travel_date_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        details = step_context.options
        details.origin = step_context.result
        if not details.travel_date:
            return await step_context.begin_dialog("DateResolverDialog")
        return await step_context.next(details.travel_date)

    async def confirm_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        details = step_context.options
        details.travel_date = step_context.result
        text = (
            f"Please confirm, I have you traveling to: {details.destination} from: "
            f"{details.origin} on: {details.travel_date}."
        )
        return await step_context.prompt(f"{self.id}.confirm", _ask(text))

    async def final_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        if step_context.result:
            return await step_context.end_dialog(step_context.options)
        return await step_context.end_dialog(None)


class MainDialog(ComponentDialog):
    """Asks what the user wants, starts a booking, reports it, and starts over."""

    def __init__(self, recognizer: Recognizer, dialog_id: str = "MainDialog") -> None:
        super().__init__(dialog_id)
        self.recognizer = recognizer
        self.add_dialog(
            WaterfallDialog(f"{dialog_id}.steps", [self.intro_step, self.act_step, self.final_step])
        )
        self.add_dialog(TextPrompt(f"{dialog_id}.text"))
        self.add_dialog(BookingDialog())

    async def intro_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        text = str(step_context.options or "What can I help you with today?")
        return await step_context.prompt(f"{self.id}.text", _ask(text))

    async def act_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        result = self.recognizer.recognize(
            str(step_context.result or ""), step_context.context.activity.timestamp
        )
        if result.intent == BOOK_FLIGHT:
            details = BookingDetails(result.destination, result.origin, result.travel_date)
            return await step_context.begin_dialog("BookingDialog", details)
        text = "I can't check the weather yet." if result.intent == GET_WEATHER else DEFAULT_TEXT
        await step_context.context.send_activity(
            MessageFactory.text(text, text, InputHints.IGNORING_INPUT)
        )
        return await step_context.next(None)

    async def final_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        booking: Any = step_context.result
        if booking is not None:
            text = (
                f"I have you booked to {booking.destination} from {booking.origin} "
                f"on {booking.travel_date}"
            )
            await step_context.context.send_activity(
                MessageFactory.text(text, text, InputHints.IGNORING_INPUT)
            )
        return await step_context.replace_dialog(self.id, "What else can I do for you?")
