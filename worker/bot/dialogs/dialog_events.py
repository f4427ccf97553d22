"""DialogEvent and DialogEvents: named events a dialog raises for the dialogs that started it
(`DialogContext.emit_event`), as in botbuilder."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class DialogEvents(enum.StrEnum):
    """The events botbuilder's dialogs raise; `cancel_dialog` is what
    `DialogContext.cancel_all_dialogs` tells each dialog above the first it ends."""

    begin_dialog = "beginDialog"
    reprompt_dialog = "repromptDialog"
    cancel_dialog = "cancelDialog"
    activity_received = "activityReceived"
    version_changed = "versionChanged"
    error = "error"
    custom = "custom"


@dataclass
class DialogEvent:
    """An event on its way up the dialog stack: `name`, `value`, and whether it goes on to the
    parent context when the dialog it reaches does not handle it (`bubble`)."""

    bubble: bool = False
    name: str = ""
    value: Any = None
