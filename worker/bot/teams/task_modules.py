"""Task modules (dialogs), tabs and configuration: the values of `task/fetch`, `task/submit`,
`tab/fetch`, `tab/submit`, `config/fetch`, `config/submit` invokes and the responses a bot
answers them with. botbuilder-python's names; camelCase on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from shared.schema.activity import Attachment, CardAction, Model, SuggestedActions


@dataclass
class CacheInfo(Model):
    """How long Teams may cache an invoke's answer (`cache_type` "cache" or "no-cache")."""

    cache_type: str | None = None
    cache_duration: int | None = None
    """Seconds."""


@dataclass
class TabEntityContext(Model):
    """Which tab an invoke came from."""

    tab_entity_id: str | None = None


@dataclass
class TaskModuleRequestContext(Model):
    """The client's context when a task module was opened: its theme."""

    theme: str | None = None


@dataclass
class TaskModuleRequest(Model):
    """The value of `task/fetch` and `task/submit`: the card's data (what the user entered)."""

    data: Any = None
    context: TaskModuleRequestContext | None = None
    tab_entity_context: TabEntityContext | None = None

    _wire_names: ClassVar[dict[str, str]] = {"tab_entity_context": "tabContext"}


@dataclass
class TaskModuleTaskInfo(Model):
    """What a task module shows: a card or a URL, with its title and size."""

    title: str | None = None
    height: Any = None
    """Pixels, or "small", "medium", "large"."""
    width: Any = None
    url: str | None = None
    card: Attachment | None = None
    fallback_url: str | None = None
    completion_bot_id: str | None = None


@dataclass
class TaskModuleResponseBase(Model):
    """What every task module answer has: its `type` ("continue" or "message")."""

    type: str | None = None


@dataclass(kw_only=True)
class TaskModuleContinueResponse(TaskModuleResponseBase):
    """Show (or keep showing) a task module: `value` says what."""

    type: str | None = "continue"
    value: TaskModuleTaskInfo | None = None


@dataclass(kw_only=True)
class TaskModuleMessageResponse(TaskModuleResponseBase):
    """Close the task module and show `value` as a message."""

    type: str | None = "message"
    value: str | None = None


@dataclass
class TaskModuleResponse(Model):
    """The answer to `task/fetch` and `task/submit`."""

    task: TaskModuleResponseBase | None = None
    cache_info: CacheInfo | None = None


@dataclass
class TabContext(Model):
    """The client's context of a tab invoke: its theme."""

    theme: str | None = None


@dataclass
class TabRequest(Model):
    """The value of `tab/fetch`."""

    tab_entity_context: TabEntityContext | None = None
    context: TabContext | None = None
    state: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"tab_entity_context": "tabContext"}


@dataclass
class TabSubmitData(Model):
    """The data of a `tab/submit`: its type and the properties the user entered."""

    type: str | None = None
    properties: dict[str, Any] | None = None


@dataclass
class TabSubmit(Model):
    """The value of `tab/submit`."""

    tab_entity_context: TabEntityContext | None = None
    context: TabContext | None = None
    data: TabSubmitData | None = None

    _wire_names: ClassVar[dict[str, str]] = {"tab_entity_context": "tabContext"}


@dataclass
class TabResponseCard(Model):
    """One Adaptive Card a tab shows (the card's JSON)."""

    card: Any = None


@dataclass
class TabResponseCards(Model):
    """The cards a tab shows, top to bottom."""

    cards: list[TabResponseCard] | None = None


@dataclass
class TabSuggestedActions(Model):
    """Actions a tab offers (e.g. sign in)."""

    actions: list[CardAction] | None = None


@dataclass
class TabResponsePayload(Model):
    """What a tab answer carries: `type` "continue" with cards, or "auth" / "silentAuth"."""

    type: str | None = None
    value: TabResponseCards | None = None
    suggested_actions: TabSuggestedActions | None = None


@dataclass
class TabResponse(Model):
    """The answer to `tab/fetch` and `tab/submit`."""

    tab: TabResponsePayload | None = None


@dataclass(kw_only=True)
class TaskModuleCardResponse(TaskModuleResponseBase):
    """A tab's answer to a `task/submit`: the cards to show in the tab."""

    type: str | None = "continue"
    value: TabResponse | None = None


@dataclass
class BotConfigAuth(Model):
    """A configuration answer asking the user to sign in first."""

    type: str | None = "auth"
    suggested_actions: SuggestedActions | None = None


@dataclass
class ConfigResponseBase(Model):
    """What every configuration answer has: `response_type` "config"."""

    response_type: str | None = None


@dataclass(kw_only=True)
class ConfigResponse(ConfigResponseBase):
    """The answer to `config/fetch` and `config/submit`: a task module or an auth request."""

    response_type: str | None = "config"
    config: Any = None
    cache_info: CacheInfo | None = None


@dataclass(kw_only=True)
class ConfigTaskResponse(ConfigResponse):
    """A configuration answer that shows a task module (`config` a `TaskModuleResponseBase`)."""

    config: Any = field(default_factory=TaskModuleResponseBase)


@dataclass(kw_only=True)
class ConfigAuthResponse(ConfigResponse):
    """A configuration answer that asks the user to sign in (`config` a `BotConfigAuth`)."""

    config: Any = field(default_factory=BotConfigAuth)
