"""Office 365 connector cards (`application/vnd.microsoft.teams.card.o365connector`) and the
value of their `actionableMessage/executeAction` invoke. botbuilder-python's names; the
action and input types are written `@type` on the wire (actions' ids `@id`), as Teams wants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shared.schema.activity import Model


class ContentType:
    """Teams' attachment content types."""

    O365_CONNECTOR_CARD = "application/vnd.microsoft.teams.card.o365connector"
    FILE_CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
    FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
    FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"


class Type:
    """The `@type` of O365 connector card actions and inputs."""

    O365_CONNECTOR_CARD_VIEWACTION = "ViewAction"
    O365_CONNECTOR_CARD_OPEN_URI = "OpenUri"
    O365_CONNECTOR_CARD_HTTP_POST = "HttpPOST"
    O365_CONNECTOR_CARD_ACTION_CARD = "ActionCard"
    O365_CONNECTOR_CARD_TEXT_INPUT = "TextInput"
    O365_CONNECTOR_CARD_DATE_INPUT = "DateInput"
    O365_CONNECTOR_CARD_MULTICHOICE_INPUT = "MultichoiceInput"


@dataclass
class O365ConnectorCardFact(Model):
    """A name and a value shown in a section."""

    name: str | None = None
    value: str | None = None


@dataclass
class O365ConnectorCardImage(Model):
    """An image in a section."""

    image: str | None = None
    title: str | None = None


@dataclass
class O365ConnectorCardActionBase(Model):
    """What every card action has: its `@type`, name and `@id`."""

    type: str | None = None
    name: str | None = None
    id: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"type": "@type", "id": "@id"}


@dataclass
class O365ConnectorCardInputBase(Model):
    """What every input of an action card has."""

    type: str | None = None
    id: str | None = None
    is_required: bool | None = None
    title: str | None = None
    value: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"type": "@type"}


@dataclass(kw_only=True)
class O365ConnectorCardTextInput(O365ConnectorCardInputBase):
    """A text box."""

    is_multiline: bool | None = None
    max_length: float | None = None


@dataclass(kw_only=True)
class O365ConnectorCardDateInput(O365ConnectorCardInputBase):
    """A date (and time) picker."""

    include_time: bool | None = None


@dataclass
class O365ConnectorCardMultichoiceInputChoice(Model):
    """One choice of a multichoice input."""

    display: str | None = None
    value: str | None = None


@dataclass(kw_only=True)
class O365ConnectorCardMultichoiceInput(O365ConnectorCardInputBase):
    """A list to choose from ("compact" or "expanded" `style`)."""

    choices: list[O365ConnectorCardMultichoiceInputChoice] | None = None
    style: str | None = None
    is_multi_select: bool | None = None


@dataclass(kw_only=True)
class O365ConnectorCardViewAction(O365ConnectorCardActionBase):
    """Open a URL (`target`: one URL in a list)."""

    target: list[str] | None = None


@dataclass
class O365ConnectorCardOpenUriTarget(Model):
    """A URL per OS ("default", "iOS", "android", "windows")."""

    os: str | None = None
    uri: str | None = None


@dataclass(kw_only=True)
class O365ConnectorCardOpenUri(O365ConnectorCardActionBase):
    """Open a URL chosen by the client's OS."""

    targets: list[O365ConnectorCardOpenUriTarget] | None = None


@dataclass(kw_only=True)
class O365ConnectorCardHttpPOST(O365ConnectorCardActionBase):
    """Post `body` to the bot (an `actionableMessage/executeAction` invoke)."""

    body: str | None = None


@dataclass(kw_only=True)
class O365ConnectorCardActionCard(O365ConnectorCardActionBase):
    """A card of inputs and actions that opens under the main card."""

    inputs: list[O365ConnectorCardInputBase] | None = None
    actions: list[O365ConnectorCardActionBase] | None = None


@dataclass
class O365ConnectorCardSection(Model):
    """A section of a connector card: an activity line, facts, images, actions."""

    title: str | None = None
    text: str | None = None
    activity_title: str | None = None
    activity_subtitle: str | None = None
    activity_text: str | None = None
    activity_image: str | None = None
    activity_image_type: str | None = None
    """"avatar" or "article"."""
    markdown: bool | None = None
    facts: list[O365ConnectorCardFact] | None = None
    images: list[O365ConnectorCardImage] | None = None
    potential_action: list[O365ConnectorCardActionBase] | None = None


@dataclass
class O365ConnectorCard(Model):
    """An Office 365 connector card."""

    title: str | None = None
    text: str | None = None
    summary: str | None = None
    theme_color: str | None = None
    sections: list[O365ConnectorCardSection] | None = None
    potential_action: list[O365ConnectorCardActionBase] | None = None


# Its own __init__: botbuilder's constructor takes the action id as `actionId`, and ported code
# passes it by that name; `action_id` is accepted too.
@dataclass(init=False)
class O365ConnectorCardActionQuery(Model):
    """The value of `actionableMessage/executeAction`: which action (`action_id`), with the
    inputs' values in `body` (a JSON text)."""

    body: str | None = None
    action_id: str | None = None

    def __init__(
        self,
        body: str | None = None,
        actionId: str | None = None,
        *,
        action_id: str | None = None,
        additional_properties: dict[str, Any] | None = None,
    ) -> None:
        self.body = body
        self.action_id = action_id if action_id is not None else actionId
        self.additional_properties = additional_properties or {}
