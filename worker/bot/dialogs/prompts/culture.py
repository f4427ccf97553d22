"""Which locale a prompt recognizes and answers in."""

from __future__ import annotations

from collections.abc import Iterable

from shared.schema.activity import Activity

ENGLISH = "en-us"


def prompt_culture(
    activity: Activity, default_locale: str | None, supported: Iterable[str] | None = None
) -> str:
    """The activity's locale, else the prompt's default, else English, lower-cased.

    With `supported` (e.g. the keys of a prompt's `choice_defaults`), the first supported one,
    or one sharing its language ("en-gb" finds "en-us"), spelled as in `supported`; English if
    none is.
    """
    wanted = [_normal(c) for c in (activity.locale, default_locale) if c]
    if supported is None:
        return wanted[0] if wanted else ENGLISH
    known = {_normal(key): key for key in supported}
    for culture in wanted:
        if culture in known:
            return known[culture]
        language = culture.split("-")[0]
        for normal, key in known.items():
            if normal.split("-")[0] == language:
                return key
    return ENGLISH


def _normal(culture: str) -> str:
    return culture.replace("_", "-").lower()
