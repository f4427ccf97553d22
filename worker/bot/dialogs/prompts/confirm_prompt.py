"""ConfirmPrompt: asks a yes/no question."""

from __future__ import annotations

import re
from typing import Any

from shared.schema.activity import ActivityTypes
from worker.bot.dialogs.choices import (
    Choice,
    ChoiceFactoryOptions,
    ChoiceRecognizers,
    FindChoicesOptions,
    ListStyle,
)
from worker.bot.dialogs.prompts.culture import ENGLISH, prompt_culture
from worker.bot.dialogs.prompts.prompt import Prompt, has_content, require
from worker.bot.dialogs.prompts.prompt_culture_models import PromptCultureModels
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
)
from worker.bot.turn_context import TurnContext

ChoiceDefaults = dict[str, tuple[Choice, Choice, ChoiceFactoryOptions]]
"""Per lower-case culture: the yes choice, the no choice, and how to write them."""


def default_confirm_choices() -> ChoiceDefaults:
    """Each culture of `PromptCultureModels`: "(1) Sí o (2) No"."""
    return {
        model.locale: (
            Choice(model.yes_in_language),
            Choice(model.no_in_language),
            ChoiceFactoryOptions(
                model.separator, model.inline_or, model.inline_or_more, include_numbers=True
            ),
        )
        for model in PromptCultureModels.get_supported_cultures()
    }


DEFAULT_CHOICE_DEFAULTS: ChoiceDefaults = default_confirm_choices()

# Words that say yes or no by themselves, per language (the first two letters of the locale).
_YES: dict[str, frozenset[str]] = {
    "en": frozenset(
        {"yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "true", "affirmative"}
    ),
    "es": frozenset({"sí", "si", "claro", "vale", "ok", "okay", "verdadero", "afirmativo"}),
    "fr": frozenset({"oui", "ouais", "ok", "d'accord", "vrai", "bien sûr", "absolument"}),
    "de": frozenset({"ja", "jawohl", "klar", "ok", "okay", "genau", "sicher", "richtig"}),
    "it": frozenset({"sì", "si", "certo", "ok", "okay", "va bene", "vero", "esatto"}),
    "nl": frozenset({"ja", "jawel", "zeker", "ok", "oké", "okay", "prima", "klopt"}),
    "pt": frozenset({"sim", "claro", "ok", "okay", "certo", "verdadeiro", "com certeza"}),
    "ja": frozenset({"はい", "ええ", "うん", "そうです", "オーケー", "いいよ", "ok"}),
    "zh": frozenset({"是", "是的", "对", "對", "好", "好的", "行", "可以", "嗯", "ok"}),
    "ko": frozenset({"예", "네", "응", "그래", "좋아요", "ok"}),
    "tr": frozenset({"evet", "tamam", "olur", "tabii", "ok"}),
}
_NO: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "n", "nope", "nah", "false", "negative"}),
    "es": frozenset({"no", "nop", "falso", "negativo", "nunca"}),
    "fr": frozenset({"non", "nan", "faux", "jamais", "pas du tout"}),
    "de": frozenset({"nein", "nö", "ne", "falsch", "niemals", "auf keinen fall"}),
    "it": frozenset({"no", "falso", "mai", "per niente"}),
    "nl": frozenset({"nee", "neen", "niet", "onwaar", "nooit"}),
    "pt": frozenset({"não", "nao", "falso", "nunca", "negativo"}),
    "ja": frozenset({"いいえ", "いや", "ううん", "違います", "だめ", "ダメ"}),
    "zh": frozenset({"不", "不是", "否", "不要", "不行", "没有", "沒有", "不对", "不對"}),
    "ko": frozenset({"아니", "아니요", "아뇨", "아니오", "싫어요"}),
    "tr": frozenset({"hay\u0131r", "hayir", "yok", "olmaz"}),
}
# Words that turn a yes around: "not sure", "pas d'accord", "nicht sicher".
_NEGATIONS: dict[str, frozenset[str]] = {
    "en": frozenset({"not", "don't", "dont", "never"}),
    "es": frozenset({"no"}),
    "fr": frozenset({"pas", "ne"}),
    "de": frozenset({"nicht", "kein"}),
    "it": frozenset({"non"}),
    "nl": frozenset({"niet", "geen"}),
    "pt": frozenset({"não", "nao"}),
}
# Languages written without spaces between words (Korean has them, but particles attach).
_CJK = frozenset({"ja", "zh", "ko"})
_WORD = re.compile(r"[\w']+")


def recognize_boolean(utterance: str, locale: str | None = None) -> bool | None:
    """True or False for a yes or no in the locale's language (the cultures of
    `PromptCultureModels`; English by default, and for a language not listed): "yeah", "nope",
    "OK!", "sí", "nein danke", "はい", "不是", "네", "evet"; None when
    the reply says neither, or both ("yes no", "not sure")."""
    language = _language(locale)
    digit = utterance.strip().rstrip(".!")
    if digit in ("0", "1"):
        return digit == "1"
    yes, no = _YES[language], _NO[language]
    negations = _NEGATIONS.get(language, frozenset())
    if language in _CJK:
        # No spaces between words: the longest yes or no the reply starts with decides.
        text = utterance.strip().casefold()
        longest = max((w for w in yes | no if text.startswith(w)), key=len, default=None)
        return None if longest is None else longest in yes
    text = utterance.casefold()
    words = set(_WORD.findall(text))
    phrases = {p for p in yes | no if " " in p and p in text}
    says_yes = bool((words | phrases) & yes) and not (words & negations) - yes
    says_no = bool((words | phrases) & no) and not (says_yes and (words & no) <= negations)
    if says_yes == says_no:
        return None
    return says_yes


def _mentions_boolean(utterance: str, locale: str | None) -> bool:
    language = _language(locale)
    text = utterance.casefold()
    words = set(_WORD.findall(text))
    if utterance.strip().rstrip(".!") in ("0", "1"):
        return True
    if language in _CJK:
        return any(w in text for w in _YES[language] | _NO[language])
    return bool(words & (_YES[language] | _NO[language]))


def _language(locale: str | None) -> str:
    language = (locale or "en").replace("_", "-").split("-")[0].lower()
    return language if language in _YES else "en"


class ConfirmPrompt(Prompt[bool]):
    """Ends with True or False. By default it asks "… (1) Yes or (2) No" in the culture's
    language ("(1) Sí o (2) No"; the activity's locale, else `default_locale`, else English:
    see `PromptCultureModels`), or with buttons, per `style` and channel (see `ListStyle`);
    it accepts yes/no words in that language, the choices' own text, and their numbers "1"
    and "2".

    Set `confirm_choices` to a pair of other choices (yes first), `choice_options` to change
    how they are written, `style` to change how they are shown.
    """

    def __init__(
        self,
        dialog_id: str,
        validator: PromptValidator[bool] | None = None,
        default_locale: str | None = None,
        choice_defaults: ChoiceDefaults | None = None,
    ) -> None:
        super().__init__(dialog_id, validator)
        self.style = ListStyle.auto
        self.default_locale = default_locale
        self.choice_options: ChoiceFactoryOptions | None = None
        self.confirm_choices: tuple[Choice | str, Choice | str] | None = None
        self.choice_defaults = choice_defaults or DEFAULT_CHOICE_DEFAULTS

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, Any],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        require(turn_context, options)
        yes, no, factory_options = self._defaults(turn_context)
        prompt = options.retry_prompt if is_retry and options.retry_prompt else options.prompt
        message = self.append_choices(
            prompt,
            turn_context.activity.channel_id,
            [yes, no],
            self.style,
            self.choice_options or factory_options,
        )
        if has_content(message):
            await turn_context.send_activity(message)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[bool]:
        require(turn_context, options)
        activity = turn_context.activity
        utterance = activity.text
        if activity.type != ActivityTypes.MESSAGE or not isinstance(utterance, str):
            return PromptRecognizerResult()
        locale = prompt_culture(activity, self.default_locale)
        value = recognize_boolean(utterance, locale)
        if value is not None:
            return PromptRecognizerResult(True, value)
        if _mentions_boolean(utterance, locale):  # said both yes and no: ask again, do not guess
            return PromptRecognizerResult()
        yes, no, factory_options = self._defaults(turn_context)
        numbered = (self.choice_options or factory_options).include_numbers
        found = ChoiceRecognizers.recognize_choices(
            utterance,
            [yes, no],
            FindChoicesOptions(
                recognize_numbers=numbered, recognize_ordinals=numbered, locale=locale
            ),
        )
        if not found:
            return PromptRecognizerResult()
        return PromptRecognizerResult(True, found[0].resolution.index == 0)

    def _defaults(self, turn_context: TurnContext) -> tuple[Choice, Choice, ChoiceFactoryOptions]:
        culture = prompt_culture(turn_context.activity, self.default_locale, self.choice_defaults)
        yes, no, factory_options = self.choice_defaults.get(
            culture, DEFAULT_CHOICE_DEFAULTS[ENGLISH]
        )
        if self.confirm_choices is not None:
            yes, no = (Choice(c) if isinstance(c, str) else c for c in self.confirm_choices)
        return yes, no, factory_options
