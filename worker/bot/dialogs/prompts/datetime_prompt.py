"""DateTimePrompt: asks for a date or a time."""

from __future__ import annotations

import datetime
from typing import Any

from shared.schema.activity import Activity, ActivityTypes
from worker.bot.dialogs.prompts.culture import prompt_culture
from worker.bot.dialogs.prompts.datetime_recognizer import (
    DateTimeResolution,
    PreferDatesFrom,
    recognize_datetime,
)
from worker.bot.dialogs.prompts.prompt import Prompt, require
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
)
from worker.bot.turn_context import TurnContext


class DateTimePrompt(Prompt[list[DateTimeResolution]]):
    """Ends with a list of one `DateTimeResolution` for the date or time in the reply.

    Relative dates ("tomorrow", "next friday") count from the user's clock: the activity's
    `localTimestamp`, else its `timestamp`, else now (UTC). `prefer_dates_from` says where a
    date without a year falls (see `recognize_datetime`).
    """

    def __init__(
        self,
        dialog_id: str,
        validator: PromptValidator[list[DateTimeResolution]] | None = None,
        default_locale: str | None = None,
        prefer_dates_from: PreferDatesFrom = "future",
    ) -> None:
        super().__init__(dialog_id, validator)
        self.default_locale = default_locale
        self.prefer_dates_from: PreferDatesFrom = prefer_dates_from

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[list[DateTimeResolution]]:
        require(turn_context, options)
        activity = turn_context.activity
        if activity.type != ActivityTypes.MESSAGE or not isinstance(activity.text, str):
            return PromptRecognizerResult()
        found = recognize_datetime(
            activity.text,
            reference_time(activity),
            prompt_culture(activity, self.default_locale),
            self.prefer_dates_from,
        )
        return PromptRecognizerResult(True, found) if found else PromptRecognizerResult()


def reference_time(activity: Activity) -> datetime.datetime:
    """The time a user's relative date counts from: their local time when the channel sends
    it, else the activity's (UTC) timestamp, else now."""
    for stamp in (activity.local_timestamp, activity.timestamp):
        if isinstance(stamp, datetime.datetime):  # a malformed one stays text: skipped
            return stamp
    return datetime.datetime.now(datetime.UTC)
