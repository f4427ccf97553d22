"""Which culture a prompt recognizes and answers in."""

from __future__ import annotations

from collections.abc import Iterable

from shared.schema.activity import Activity
from worker.bot.dialogs.prompts.prompt_culture_models import PromptCultureModels

ENGLISH = "en-us"


def prompt_culture(
    activity: Activity, default_locale: str | None, supported: Iterable[str] | None = None
) -> str:
    """The activity's locale, else the prompt's default, else English, lower-cased (as in
    botbuilder, a default does not replace an activity's locale that is not supported).

    With `supported` (e.g. the keys of a prompt's `choice_defaults`), the key that names that
    locale as it is or as mapped to the nearest culture prompts know ("es-MX" → "es-es", see
    `PromptCultureModels`), spelled as in `supported` (so a bot's own "custom-locale" or
    "en-gb" key works); English if none does.
    """
    locale = _normal(activity.locale or default_locale or ENGLISH)
    if supported is None:
        return locale
    nearest = PromptCultureModels.map_to_nearest_language(locale) or ENGLISH
    known = {_normal(key): key for key in supported}
    return known.get(locale) or known.get(nearest) or ENGLISH


def _normal(culture: str) -> str:
    return culture.replace("_", "-").lower()
