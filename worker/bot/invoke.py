"""Invoke activities: the InvokeResponse a bot returns; Adaptive Card `Action.Execute` values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.schema.activity import Activity, ActivityTypes

INVOKE_RESPONSE_KEY = "turnstream.InvokeResponse"
"""turn_state key of the turn's InvokeResponse: the handler's guard and the adapter use this one
name (the Agents SDK checks one key and writes another, so its guard never fires)."""

BUFFERED_REPLIES_KEY = "turnstream.BufferedReplies"
"""turn_state key of the replies of an expectReplies turn (wire-format dicts, in order): they go
back in the HTTP response instead of to the connector."""

TURN_FAILED_KEY = "turnstream.TurnFailed"
"""turn_state key set when the bot raised and on_turn_error ran."""

ADAPTIVE_CARD_ERROR_TYPE = "application/vnd.microsoft.error"


@dataclass
class InvokeResponse:
    """The HTTP status and body an invoke activity is answered with."""

    status: int = 200
    body: Any = None

    def is_successful_status_code(self) -> bool:
        return 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body}


def invoke_response(status: int, body: Any = None) -> Activity:
    """The activity that answers the turn's invoke with `status` and `body`, for
    `turn_context.send_activity` (middleware and dialogs answer invokes this way)."""
    return Activity(type=ActivityTypes.INVOKE_RESPONSE, value=InvokeResponse(int(status), body))


@dataclass
class AdaptiveCardInvokeAction:
    """The `action` of an `adaptiveCard/action` invoke."""

    type: str
    id: str | None = None
    verb: str | None = None
    data: Any = None


@dataclass
class AdaptiveCardInvokeValue:
    """The `value` of an `adaptiveCard/action` invoke, checked."""

    action: AdaptiveCardInvokeAction
    authentication: Any = None
    state: str | None = None
    trigger: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AdaptiveCardInvokeResponse:
    """What `on_adaptive_card_invoke` returns: a status, a content type and a value."""

    status_code: int = 200
    type: str = "application/vnd.microsoft.activity.message"
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "type": self.type, "value": self.value}


class InvokeResponseError(Exception):
    """Raised inside invoke handling to answer with a status (and body) instead of a crash."""

    def __init__(self, status: int, body: Any = None) -> None:
        super().__init__(f"invoke answered {status}")
        self.status = status
        self.body = body

    def response(self) -> InvokeResponse:
        return InvokeResponse(self.status, self.body)


def adaptive_card_invoke_value(value: Any) -> AdaptiveCardInvokeValue:
    """Check an `adaptiveCard/action` value as the SDK does; raise a 400 InvokeResponseError."""
    if not isinstance(value, dict):
        raise _card_error("BadRequest", "Missing value property")
    action = value.get("action")
    if not isinstance(action, dict):
        raise _card_error("BadRequest", "Missing action property")
    action_type = action.get("type")
    if action_type != "Action.Execute":
        raise _card_error("NotSupported", f"The action '{action_type}' is not supported.")
    known = {"action", "authentication", "state", "trigger"}
    return AdaptiveCardInvokeValue(
        action=AdaptiveCardInvokeAction(
            type=action_type, id=action.get("id"), verb=action.get("verb"), data=action.get("data")
        ),
        authentication=value.get("authentication"),
        state=value.get("state"),
        trigger=value.get("trigger"),
        extra={k: v for k, v in value.items() if k not in known},
    )


def _card_error(code: str, message: str) -> InvokeResponseError:
    body = AdaptiveCardInvokeResponse(
        status_code=400, type=ADAPTIVE_CARD_ERROR_TYPE, value={"code": code, "message": message}
    )
    return InvokeResponseError(400, body.to_dict())
