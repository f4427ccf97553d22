"""OAuthPrompt: a dialog that signs the user in through the Bot Framework token service and
ends with their token (botbuilder's `OAuthPrompt` and `OAuthPromptSettings`).

If the user already has a token the prompt ends at once with it. Otherwise it sends a sign-in
card (an `OAuthCard`, or a `SigninCard` where the channel has no OAuth cards) and waits for
what the channel sends back once the user signed in: a `tokens/response` event, a
`signin/verifyState` invoke (Teams), a `signin/tokenExchange` invoke (Teams single sign-on), or
a six-digit magic code typed as a message. The invokes are answered with their status through
the turn's invoke response, as the channel expects.

Its state is plain data (the options as `PromptOptions.to_dict()`, the deadline as epoch
seconds), so a sign-in started on one worker finishes on any other.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from shared.schema.activity import (
    ActionTypes,
    Activity,
    ActivityTypes,
    CardAction,
    InputHints,
)
from shared.schema.cards import OAuthCard, SigninCard
from shared.schema.constants import SignInConstants
from shared.schema.tokens import (
    SignInUrlResponse,
    TokenExchangeInvokeRequest,
    TokenExchangeInvokeResponse,
    TokenExchangeRequest,
    TokenResponse,
)
from worker.bot.card_factory import CardFactory, ContentTypes
from worker.bot.dialogs.dialog import Dialog, DialogInstance, DialogTurnResult
from worker.bot.dialogs.dialog_context import DialogContext
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    ATTEMPT_COUNT_KEY,
    PromptRecognizerResult,
    PromptValidator,
    PromptValidatorContext,
)
from worker.bot.invoke import invoke_response
from worker.bot.turn_context import TurnContext
from worker.bot.user_tokens import TokensOfTurn

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 900_000
"""How long the prompt waits for the sign-in when the settings give no timeout: 15 minutes."""

_MAGIC_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
_NO_OAUTH_CARDS = ("cortana", "skype", "skypeforbusiness")
"""Channels that show a SigninCard instead of an OAuthCard."""
_NEED_SIGN_IN_LINK = ("msteams",)
"""Channels whose OAuthCard must carry the link (the others fetch it from the token service)."""

PERSISTED_OPTIONS = "options"
PERSISTED_STATE = "state"
PERSISTED_EXPIRES = "expires"


class OAuthPromptSettings:
    """The OAuth connection (as named on the bot's Azure Bot resource) and the card's wording.

    `timeout` is in milliseconds (default 15 minutes); `end_on_invalid_message` ends the prompt
    (with None) on a message that is not a sign-in code instead of waiting on.
    `oauth_app_credentials` is accepted for botbuilder's signature and not used: token calls go
    out with the worker's own credentials.
    """

    def __init__(
        self,
        connection_name: str,
        title: str,
        text: str | None = None,
        timeout: int | None = None,
        oauth_app_credentials: object = None,
        end_on_invalid_message: bool = False,
    ) -> None:
        self.connection_name = connection_name
        self.title = title
        self.text = text
        self.timeout = timeout
        self.oauth_app_credentials = oauth_app_credentials
        self.end_on_invalid_message = end_on_invalid_message


class OAuthPrompt(Dialog):
    """Signs the user in and ends with their `TokenResponse` (None when the prompt timed out
    or, with `end_on_invalid_message`, the user wrote something else)."""

    def __init__(
        self,
        dialog_id: str,
        settings: OAuthPromptSettings,
        validator: PromptValidator[TokenResponse] | None = None,
    ) -> None:
        super().__init__(dialog_id)
        if not isinstance(settings, OAuthPromptSettings):
            raise TypeError("OAuthPrompt needs OAuthPromptSettings (the connection name, a title)")
        self._settings = settings
        self._validator = validator

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        if isinstance(options, Mapping):
            options = PromptOptions.from_dict(options)
        stored = PromptOptions.from_dict((options or PromptOptions()).to_dict())
        for activity in (stored.prompt, stored.retry_prompt):
            if activity is not None and not activity.input_hint:
                activity.input_hint = InputHints.ACCEPTING_INPUT
        timeout = self._settings.timeout
        timeout_ms = timeout if isinstance(timeout, int) and timeout > 0 else DEFAULT_TIMEOUT_MS
        instance = _active(dialog_context)
        instance.state[PERSISTED_OPTIONS] = stored.to_dict()
        instance.state[PERSISTED_STATE] = {}
        instance.state[PERSISTED_EXPIRES] = time.time() + timeout_ms / 1000

        token = await self.get_user_token(dialog_context.context)
        if token is not None:
            return await dialog_context.end_dialog(token)
        await self._send_sign_in_card(dialog_context.context, stored.prompt)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        context = dialog_context.context
        instance = _active(dialog_context)
        is_message = context.activity.type == ActivityTypes.MESSAGE
        if _is_sign_in_activity(context.activity) and time.time() > instance.state.get(
            PERSISTED_EXPIRES, 0
        ):
            return await dialog_context.end_dialog(None)

        state = instance.state.setdefault(PERSISTED_STATE, {})
        state[ATTEMPT_COUNT_KEY] = int(state.get(ATTEMPT_COUNT_KEY, 0)) + 1
        recognized = await self._recognize_token(context)
        options = _options(instance)
        if self._validator is not None:
            valid = await self._validator(
                PromptValidatorContext(context, recognized, state, options)
            )
        else:
            valid = recognized.succeeded
        if valid:
            return await dialog_context.end_dialog(recognized.value)
        if is_message and self._settings.end_on_invalid_message:
            return await dialog_context.end_dialog(None)
        if is_message and not context.responded and options.retry_prompt is not None:
            await context.send_activity(options.retry_prompt)
        return Dialog.end_of_turn

    async def get_user_token(
        self, context: TurnContext, code: str | None = None
    ) -> TokenResponse | None:
        """The user's token for the connection (`code`: a magic code), None if not signed in."""
        return await TokensOfTurn(context).get_user_token(self._settings.connection_name, code)

    async def sign_out_user(self, context: TurnContext) -> None:
        await TokensOfTurn(context).sign_out_user(self._settings.connection_name)

    async def _sign_in_resource(self, context: TurnContext) -> SignInUrlResponse:
        return await TokensOfTurn(context).get_sign_in_resource(self._settings.connection_name)

    async def _exchange(self, context: TurnContext, token: str) -> TokenResponse | None:
        return await TokensOfTurn(context).exchange_token(
            self._settings.connection_name, TokenExchangeRequest(token=token)
        )

    async def _send_sign_in_card(self, context: TurnContext, prompt: Activity | None) -> None:
        message = prompt or Activity(
            type=ActivityTypes.MESSAGE, text="", input_hint=InputHints.ACCEPTING_INPUT
        )
        attachments = list(message.attachments or [])
        channel = context.activity.channel_id or ""
        kinds = {a.content_type for a in attachments}
        if channel not in _NO_OAUTH_CARDS:
            if ContentTypes.OAUTH_CARD not in kinds:
                resource = await self._sign_in_resource(context)
                link = resource.sign_in_link if channel in _NEED_SIGN_IN_LINK else None
                card = OAuthCard(
                    text=self._settings.text,
                    connection_name=self._settings.connection_name,
                    buttons=[
                        CardAction(
                            type=ActionTypes.SIGNIN,
                            title=self._settings.title,
                            text=self._settings.text,
                            value=link,
                        )
                    ],
                    token_exchange_resource=resource.token_exchange_resource,
                    token_post_resource=resource.token_post_resource,
                )
                attachments.append(CardFactory.oauth_card(card))
        elif ContentTypes.SIGNIN_CARD not in kinds:
            resource = await self._sign_in_resource(context)
            signin = SigninCard(
                text=self._settings.text,
                buttons=[
                    CardAction(
                        type=ActionTypes.SIGNIN,
                        title=self._settings.title,
                        value=resource.sign_in_link,
                    )
                ],
            )
            attachments.append(CardFactory.signin_card(signin))
        message.attachments = attachments
        await context.send_activity(message)

    async def _recognize_token(self, context: TurnContext) -> PromptRecognizerResult[TokenResponse]:
        activity = context.activity
        token: TokenResponse | None = None
        if _is_event(activity, SignInConstants.TOKEN_RESPONSE_EVENT_NAME):
            if isinstance(activity.value, Mapping):
                token = TokenResponse.from_dict(dict(activity.value))
            elif isinstance(activity.value, TokenResponse):
                token = activity.value
        elif _is_invoke(activity, SignInConstants.VERIFY_STATE_OPERATION_NAME):
            token = await self._verify_state(context)
        elif _is_invoke(activity, SignInConstants.TOKEN_EXCHANGE_OPERATION_NAME):
            token = await self._exchange_invoke(context)
        elif activity.type == ActivityTypes.MESSAGE and activity.text:
            code = _MAGIC_CODE.search(activity.text)
            if code:
                token = await self.get_user_token(context, code.group(0))
        if token is None:
            return PromptRecognizerResult()
        return PromptRecognizerResult(True, token)

    async def _verify_state(self, context: TurnContext) -> TokenResponse | None:
        """Teams' `signin/verifyState`: the value's `state` is the magic code."""
        value = context.activity.value
        code = value.get("state") if isinstance(value, Mapping) else None
        try:
            token = await self.get_user_token(context, code)
        except Exception as error:  # answered now: Teams waits for the invoke's status
            log.warning("signin/verifyState: the token service failed: %s", error)
            await context.send_activity(invoke_response(HTTPStatus.INTERNAL_SERVER_ERROR))
            return None
        status = HTTPStatus.OK if token is not None else HTTPStatus.NOT_FOUND
        await context.send_activity(invoke_response(status))
        return token

    async def _exchange_invoke(self, context: TurnContext) -> TokenResponse | None:
        """Teams SSO's `signin/tokenExchange`: 200 with the exchange id when the token service
        exchanged the token; 412 when it could not (the user must sign in with the card); 400
        for a malformed request or another connection's."""
        value = context.activity.value
        request = (
            TokenExchangeInvokeRequest.from_dict(dict(value))
            if isinstance(value, Mapping)
            else None
        )
        connection = self._settings.connection_name
        if request is None or not request.connection_name or not request.token:
            await self._exchange_answer(
                context,
                HTTPStatus.BAD_REQUEST,
                "The signin/tokenExchange invoke has no TokenExchangeInvokeRequest value "
                "(connectionName and token).",
            )
            return None
        if request.connection_name != connection:
            await self._exchange_answer(
                context,
                HTTPStatus.BAD_REQUEST,
                f"The signin/tokenExchange invoke names connection {request.connection_name!r}; "
                f"the active OAuthPrompt signs in with {connection!r}.",
            )
            return None
        try:
            exchanged: TokenResponse | None = await self._exchange(context, request.token)
        except Exception:  # the token service refused: the user signs in with the card
            exchanged = None
        if exchanged is None or not exchanged.token:
            await self._exchange_answer(
                context,
                HTTPStatus.PRECONDITION_FAILED,
                "The bot is unable to exchange token. Proceed with regular login.",
            )
            return None
        await self._exchange_answer(context, HTTPStatus.OK, None, request.id)
        return TokenResponse(
            channel_id=exchanged.channel_id,
            connection_name=exchanged.connection_name,
            token=exchanged.token,
        )

    async def _exchange_answer(
        self,
        context: TurnContext,
        status: HTTPStatus,
        failure_detail: str | None,
        exchange_id: str | None = None,
    ) -> None:
        body = TokenExchangeInvokeResponse(
            id=exchange_id,
            connection_name=self._settings.connection_name,
            failure_detail=failure_detail,
        )
        await context.send_activity(invoke_response(status, body))


def _is_event(activity: Activity, name: str) -> bool:
    return activity.type == ActivityTypes.EVENT and activity.name == name


def _is_invoke(activity: Activity, name: str) -> bool:
    return activity.type == ActivityTypes.INVOKE and activity.name == name


def _is_sign_in_activity(activity: Activity) -> bool:
    """What the prompt's timeout applies to: replies that could complete the sign-in."""
    return (
        activity.type == ActivityTypes.MESSAGE
        or _is_event(activity, SignInConstants.TOKEN_RESPONSE_EVENT_NAME)
        or _is_invoke(activity, SignInConstants.VERIFY_STATE_OPERATION_NAME)
        or _is_invoke(activity, SignInConstants.TOKEN_EXCHANGE_OPERATION_NAME)
    )


def _active(dialog_context: DialogContext) -> DialogInstance:
    instance = dialog_context.active_dialog
    if instance is None:
        raise RuntimeError("OAuthPrompt was run with no active dialog on the stack")
    return instance


def _options(instance: DialogInstance) -> PromptOptions:
    stored = instance.state.get(PERSISTED_OPTIONS)
    return PromptOptions.from_dict(stored) if isinstance(stored, Mapping) else PromptOptions()
