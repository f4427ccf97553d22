"""botbuilder's telemetry interface: `BotTelemetryClient`, which a bot implements to send events
to its own sink (Application Insights, a log), `NullTelemetryClient`, and
`TelemetryLoggerMiddleware`, which reports every message received, sent, updated and deleted.

turnstream's own telemetry (OpenTelemetry spans, Prometheus metrics: docs/operations.md) needs
none of this; these names let a bot that reports botbuilder's events keep doing so.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from shared.schema.activity import Activity, ActivityTypes, ConversationReference, ResourceResponse
from shared.schema.constants import Channels
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler

Properties = dict[str, Any]


class Severity(enum.Enum):
    """How serious a traced message is."""

    verbose = 0
    information = 1
    warning = 2
    error = 3
    critical = 4


class TelemetryDataPointType(enum.Enum):
    """Whether a metric is one measurement or an aggregate of several."""

    measurement = 0
    aggregation = 1


class BotTelemetryClient(ABC):
    """What a telemetry sink receives: events, exceptions, traces, metrics, requests,
    dependencies, page views. Subclass it to send them where the bot's team looks."""

    @abstractmethod
    def track_pageview(
        self,
        name: str,
        url: str,
        duration: int = 0,
        properties: Properties | None = None,
        measurements: Properties | None = None,
    ) -> None: ...

    @abstractmethod
    def track_exception(
        self,
        exception_type: type | None = None,
        value: BaseException | None = None,
        trace: Any = None,
        properties: Properties | None = None,
        measurements: Properties | None = None,
    ) -> None: ...

    @abstractmethod
    def track_event(
        self,
        name: str,
        properties: Properties | None = None,
        measurements: Properties | None = None,
    ) -> None: ...

    @abstractmethod
    def track_metric(
        self,
        name: str,
        value: float,
        tel_type: TelemetryDataPointType | None = None,
        count: int | None = None,
        min_val: float | None = None,
        max_val: float | None = None,
        std_dev: float | None = None,
        properties: Properties | None = None,
    ) -> None: ...

    @abstractmethod
    def track_trace(
        self, name: str, properties: Properties | None = None, severity: Severity | None = None
    ) -> None: ...

    @abstractmethod
    def track_request(
        self,
        name: str,
        url: str,
        success: bool,
        start_time: str | None = None,
        duration: int | None = None,
        response_code: str | None = None,
        http_method: str | None = None,
        properties: Properties | None = None,
        measurements: Properties | None = None,
        request_id: str | None = None,
    ) -> None: ...

    @abstractmethod
    def track_dependency(
        self,
        name: str,
        data: str,
        type_name: str | None = None,
        target: str | None = None,
        duration: int | None = None,
        success: bool | None = None,
        result_code: str | None = None,
        properties: Properties | None = None,
        measurements: Properties | None = None,
        dependency_id: str | None = None,
    ) -> None: ...

    def flush(self) -> None:  # noqa: B027 (optional: only a buffering client has work here)
        """Send what is buffered, if the client buffers."""


class NullTelemetryClient(BotTelemetryClient):
    """A telemetry client that drops everything: the default where none is given."""

    def track_pageview(self, *args: Any, **kwargs: Any) -> None:
        return None

    def track_exception(self, *args: Any, **kwargs: Any) -> None:
        return None

    def track_event(self, *args: Any, **kwargs: Any) -> None:
        return None

    def track_metric(self, *args: Any, **kwargs: Any) -> None:
        return None

    def track_trace(self, *args: Any, **kwargs: Any) -> None:
        return None

    def track_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def track_dependency(self, *args: Any, **kwargs: Any) -> None:
        return None


class TelemetryConstants:
    """The property names of the events `TelemetryLoggerMiddleware` reports."""

    ATTACHMENTS_PROPERTY = "attachments"
    CHANNEL_ID_PROPERTY = "channelId"
    CONVERSATION_ID_PROPERTY = "conversationId"
    CONVERSATION_NAME_PROPERTY = "conversationName"
    DIALOG_ID_PROPERTY = "dialogId"
    FROM_ID_PROPERTY = "fromId"
    FROM_NAME_PROPERTY = "fromName"
    LOCALE_PROPERTY = "locale"
    RECIPIENT_ID_PROPERTY = "recipientId"
    RECIPIENT_NAME_PROPERTY = "recipientName"
    REPLY_ACTIVITY_ID_PROPERTY = "replyActivityId"
    TEXT_PROPERTY = "text"
    SPEAK_PROPERTY = "speak"
    USER_ID_PROPERTY = "userId"


class TelemetryLoggerConstants:
    """The names of the events `TelemetryLoggerMiddleware` reports."""

    BOT_MSG_RECEIVE_EVENT = "BotMessageReceived"
    BOT_MSG_SEND_EVENT = "BotMessageSend"
    BOT_MSG_UPDATE_EVENT = "BotMessageUpdate"
    BOT_MSG_DELETE_EVENT = "BotMessageDelete"


class TelemetryLoggerMiddleware:
    """Reports each activity received, sent, updated and deleted as an event to
    `telemetry_client`; names, texts and attachments only with `log_personal_information`.
    Override the `fill_*_properties` methods to change what an event carries."""

    def __init__(
        self, telemetry_client: BotTelemetryClient | None, log_personal_information: bool
    ) -> None:
        self._telemetry_client = telemetry_client or NullTelemetryClient()
        self._log_personal_information = log_personal_information

    @property
    def telemetry_client(self) -> BotTelemetryClient:
        return self._telemetry_client

    @property
    def log_personal_information(self) -> bool:
        return self._log_personal_information

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        await self.on_receive_activity(context.activity)

        async def on_send(
            ctx: TurnContext,
            activities: list[Activity],
            following: Callable[[], Awaitable[list[ResourceResponse]]],
        ) -> list[ResourceResponse]:
            responses = await following()
            for activity in activities:
                await self.on_send_activity(activity)
            return responses

        async def on_update(
            ctx: TurnContext,
            activity: Activity,
            following: Callable[[], Awaitable[ResourceResponse | None]],
        ) -> ResourceResponse | None:
            response = await following()
            await self.on_update_activity(activity)
            return response

        async def on_delete(
            ctx: TurnContext,
            reference: ConversationReference,
            following: Callable[[], Awaitable[None]],
        ) -> None:
            await following()
            deleted = Activity(type=ActivityTypes.MESSAGE_DELETE, id=reference.activity_id)
            await self.on_delete_activity(
                TurnContext.apply_conversation_reference(deleted, reference)
            )

        context.on_send_activities(on_send).on_update_activity(on_update).on_delete_activity(
            on_delete
        )
        await logic()

    async def on_receive_activity(self, activity: Activity) -> None:
        self.telemetry_client.track_event(
            TelemetryLoggerConstants.BOT_MSG_RECEIVE_EVENT,
            await self.fill_receive_event_properties(activity),
        )

    async def on_send_activity(self, activity: Activity) -> None:
        self.telemetry_client.track_event(
            TelemetryLoggerConstants.BOT_MSG_SEND_EVENT,
            await self.fill_send_event_properties(activity),
        )

    async def on_update_activity(self, activity: Activity) -> None:
        self.telemetry_client.track_event(
            TelemetryLoggerConstants.BOT_MSG_UPDATE_EVENT,
            await self.fill_update_event_properties(activity),
        )

    async def on_delete_activity(self, activity: Activity) -> None:
        self.telemetry_client.track_event(
            TelemetryLoggerConstants.BOT_MSG_DELETE_EVENT,
            await self.fill_delete_event_properties(activity),
        )

    async def fill_receive_event_properties(
        self, activity: Activity, additional_properties: Properties | None = None
    ) -> Properties:
        """Who sent it to whom, in which conversation and locale (with personal information:
        the sender's name, text and speak); Teams' tenant, user and team."""
        properties: Properties = {
            TelemetryConstants.FROM_ID_PROPERTY: _id(activity.from_property),
            TelemetryConstants.CONVERSATION_NAME_PROPERTY: _name(activity.conversation),
            TelemetryConstants.LOCALE_PROPERTY: activity.locale,
            TelemetryConstants.RECIPIENT_ID_PROPERTY: _id(activity.recipient),
            TelemetryConstants.RECIPIENT_NAME_PROPERTY: _name(activity.recipient),
        }
        if self.log_personal_information:
            self._personal(activity, properties, sender=True)
        if activity.channel_id == Channels.MS_TEAMS:
            properties.update(_teams_properties(activity))
        return {**properties, **(additional_properties or {})}

    async def fill_send_event_properties(
        self, activity: Activity, additional_properties: Properties | None = None
    ) -> Properties:
        """What it replies to, to whom, in which conversation and locale (with personal
        information: attachments as JSON, the sender's name, text and speak)."""
        properties: Properties = {
            TelemetryConstants.REPLY_ACTIVITY_ID_PROPERTY: activity.reply_to_id,
            TelemetryConstants.RECIPIENT_ID_PROPERTY: _id(activity.recipient),
            TelemetryConstants.CONVERSATION_NAME_PROPERTY: _name(activity.conversation),
            TelemetryConstants.LOCALE_PROPERTY: activity.locale,
        }
        if self.log_personal_information:
            if activity.attachments:
                attachments = [a.to_dict() for a in activity.attachments]
                properties[TelemetryConstants.ATTACHMENTS_PROPERTY] = orjson.dumps(
                    attachments
                ).decode()
            self._personal(activity, properties, sender=True)
        return {**properties, **(additional_properties or {})}

    async def fill_update_event_properties(
        self, activity: Activity, additional_properties: Properties | None = None
    ) -> Properties:
        properties: Properties = {
            TelemetryConstants.RECIPIENT_ID_PROPERTY: _id(activity.recipient),
            TelemetryConstants.CONVERSATION_ID_PROPERTY: _id(activity.conversation),
            TelemetryConstants.CONVERSATION_NAME_PROPERTY: _name(activity.conversation),
            TelemetryConstants.LOCALE_PROPERTY: activity.locale,
        }
        if self.log_personal_information:
            self._personal(activity, properties, sender=False)
        return {**properties, **(additional_properties or {})}

    async def fill_delete_event_properties(
        self, activity: Activity, additional_properties: Properties | None = None
    ) -> Properties:
        properties: Properties = {
            TelemetryConstants.RECIPIENT_ID_PROPERTY: _id(activity.recipient),
            TelemetryConstants.CONVERSATION_ID_PROPERTY: _id(activity.conversation),
            TelemetryConstants.CONVERSATION_NAME_PROPERTY: _name(activity.conversation),
        }
        return {**properties, **(additional_properties or {})}

    @staticmethod
    def _personal(activity: Activity, properties: Properties, *, sender: bool) -> None:
        name = activity.from_property.name if activity.from_property else None
        if sender and name and name.strip():
            properties[TelemetryConstants.FROM_NAME_PROPERTY] = name
        if activity.text and activity.text.strip():
            properties[TelemetryConstants.TEXT_PROPERTY] = activity.text
        if sender and activity.speak and activity.speak.strip():
            properties[TelemetryConstants.SPEAK_PROPERTY] = activity.speak


def _id(account: Any) -> str | None:
    return account.id if account is not None else None


def _name(account: Any) -> str | None:
    return account.name if account is not None else None


def _teams_properties(activity: Activity) -> Properties:
    """Teams' tenant, the user's AAD object id and the team (as on the wire), read from the
    channel data."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    if not isinstance(tenant, dict):
        tenant = {}
    properties: Properties = {
        "TeamsTenantId": tenant.get("id") or "",
        "TeamsUserAadObjectId": activity.from_property.aad_object_id
        if activity.from_property
        else "",
    }
    if isinstance(data.get("team"), dict):
        properties["TeamsTeamInfo"] = data["team"]
    return properties
