"""PromptCultureModels: how prompts word a list of choices, and say yes and no, per culture.

The cultures are botbuilder's (the languages its prompts are localised in); its names and
shapes are kept so that `choice_defaults` built from them port unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass
class PromptCultureModel:
    """One culture's words: `separator` between choices, `inline_or` between the two of a list
    of two, `inline_or_more` before the last of a longer list, and the yes and no of a
    ConfirmPrompt."""

    locale: str
    separator: str
    inline_or: str
    inline_or_more: str
    yes_in_language: str
    no_in_language: str


class PromptCultureModels:
    """The cultures prompts know, and the nearest of them to a user's locale."""

    Chinese: ClassVar[PromptCultureModel] = PromptCultureModel(
        "zh-cn", "\uff0c ", " 要么 ", "\uff0c 要么 ", "是的", "不"
    )  # fmt: skip ("\uff0c" is the full-width comma)
    Dutch: ClassVar[PromptCultureModel] = PromptCultureModel(
        "nl-nl", ", ", " of ", ", of ", "Ja", "Nee"
    )
    English: ClassVar[PromptCultureModel] = PromptCultureModel(
        "en-us", ", ", " or ", ", or ", "Yes", "No"
    )
    French: ClassVar[PromptCultureModel] = PromptCultureModel(
        "fr-fr", ", ", " ou ", ", ou ", "Oui", "Non"
    )
    German: ClassVar[PromptCultureModel] = PromptCultureModel(
        "de-de", ", ", " oder ", ", oder ", "Ja", "Nein"
    )
    Italian: ClassVar[PromptCultureModel] = PromptCultureModel(
        "it-it", ", ", " o ", " o ", "Si", "No"
    )
    Japanese: ClassVar[PromptCultureModel] = PromptCultureModel(
        "ja-jp", "、 ", " または ", "、 または ", "はい", "いいえ"
    )
    Korean: ClassVar[PromptCultureModel] = PromptCultureModel(
        "ko-kr", ", ", " 또는 ", " 또는 ", "예", "아니"
    )
    Portuguese: ClassVar[PromptCultureModel] = PromptCultureModel(
        "pt-br", ", ", " ou ", ", ou ", "Sim", "Não"
    )
    Spanish: ClassVar[PromptCultureModel] = PromptCultureModel(
        "es-es", ", ", " o ", ", o ", "Sí", "No"
    )
    Turkish: ClassVar[PromptCultureModel] = PromptCultureModel(
        "tr-tr",
        ", ",
        " veya ",
        " veya ",
        "Evet",
        "Hayır",  # noqa: RUF001
    )

    @classmethod
    def get_supported_cultures(cls) -> list[PromptCultureModel]:
        """Every culture above."""
        return [
            cls.Chinese, cls.Dutch, cls.English, cls.French, cls.German, cls.Italian,
            cls.Japanese, cls.Korean, cls.Portuguese, cls.Spanish, cls.Turkish,
        ]  # fmt: skip

    @classmethod
    def map_to_nearest_language(cls, culture_code: str | None) -> str | None:
        """The supported culture for a locale, lower-cased: itself ("es-es"), else the one of
        its language ("es-MX" and "es" give "es-es"); a locale of a language not supported
        comes back lower-cased, and None or "" unchanged."""
        if not culture_code:
            return culture_code
        code = culture_code.replace("_", "-").lower()
        locales = [model.locale for model in cls.get_supported_cultures()]
        if code in locales:
            return code
        language = code.split("-")[0]
        return next((locale for locale in locales if locale.split("-")[0] == language), code)
