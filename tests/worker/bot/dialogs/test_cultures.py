"""Prompts in botbuilder's cultures: choices written per culture, and numbers, ordinals,
yes/no and dates recognized in en, es, fr, de, it, ja, nl, pt and zh, with the activity's
locale first and the prompt's `default_locale` second."""

from __future__ import annotations

from typing import Any

import pytest

from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    ChoiceFactoryOptions,
    ChoicePrompt,
    ConfirmPrompt,
    DateTimePrompt,
    DialogSet,
    DialogTurnStatus,
    NumberPrompt,
    PromptOptions,
)
from worker.bot.dialogs.choices import ListStyle, recognize_number, recognize_ordinal
from worker.bot.dialogs.prompts import PromptCultureModel, PromptCultureModels, recognize_boolean
from worker.bot.state import ConversationState
from worker.bot.storage import MemoryStorage
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext

COLORS = ["red", "green", "blue"]


async def choices_shown(
    prompt: ChoicePrompt | ConfirmPrompt, locale: str | None, choices: list[str] | None = None
) -> str:
    prompt.style = ListStyle.in_line
    options = PromptOptions("Pick:", choices=choices)
    client = DialogTestClient(prompt, options=options, activity_defaults={"locale": locale})
    [shown] = await client.send("hi")
    return shown.text or ""


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en-us", "Pick: (1) red, (2) green, or (3) blue"),
        ("es-ES", "Pick: (1) red, (2) green, o (3) blue"),
        ("es-MX", "Pick: (1) red, (2) green, o (3) blue"),
        ("fr", "Pick: (1) red, (2) green, ou (3) blue"),
        ("de-de", "Pick: (1) red, (2) green, oder (3) blue"),
        ("it-it", "Pick: (1) red, (2) green o (3) blue"),
        ("nl-NL", "Pick: (1) red, (2) green, of (3) blue"),
        ("pt-br", "Pick: (1) red, (2) green, ou (3) blue"),
        ("ja-jp", "Pick: (1) red、 (2) green、 または (3) blue"),
        ("zh-cn", "Pick: (1) red\uff0c (2) green\uff0c 要么 (3) blue"),
        ("xx-yy", "Pick: (1) red, (2) green, or (3) blue"),
        (None, "Pick: (1) red, (2) green, or (3) blue"),
    ],
)
async def test_choices_are_written_in_the_activitys_culture(locale: str | None, shown: str) -> None:
    assert await choices_shown(ChoicePrompt("pick"), locale, COLORS) == shown


async def test_the_default_locale_applies_when_the_activity_has_none() -> None:
    prompt = ChoicePrompt("pick", default_locale="es-es")
    assert await choices_shown(prompt, None, COLORS) == "Pick: (1) red, (2) green, o (3) blue"
    prompt = ChoicePrompt("pick", default_locale="es-es")
    english = await choices_shown(prompt, "en-us", COLORS)
    assert english == "Pick: (1) red, (2) green, or (3) blue"


async def test_a_bots_own_culture_in_choice_defaults() -> None:
    own = {"klingon": ChoiceFactoryOptions(" ~ ", " qoj ", " ~ qoj ", True)}
    prompt = ChoicePrompt("pick", choice_defaults=own)
    assert (
        await choices_shown(prompt, "klingon", COLORS) == "Pick: (1) red ~ (2) green ~ qoj (3) blue"
    )


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en-us", "Pick: (1) Yes or (2) No"),
        ("es-es", "Pick: (1) Sí o (2) No"),
        ("fr-fr", "Pick: (1) Oui ou (2) Non"),
        ("de-de", "Pick: (1) Ja oder (2) Nein"),
        ("it-it", "Pick: (1) Si o (2) No"),
        ("nl-nl", "Pick: (1) Ja of (2) Nee"),
        ("pt-br", "Pick: (1) Sim ou (2) Não"),
        ("ja-jp", "Pick: (1) はい または (2) いいえ"),
        ("zh-cn", "Pick: (1) 是的 要么 (2) 不"),
    ],
)
async def test_confirm_asks_in_the_culture(locale: str, shown: str) -> None:
    assert await choices_shown(ConfirmPrompt("ok"), locale, None) == shown


async def ask(prompt: Any, locale: str, reply: str) -> Any:
    client = DialogTestClient(
        prompt,
        options=PromptOptions("?", choices=COLORS),
        activity_defaults={"locale": locale, "localTimestamp": "2026-12-07T12:00:00+01:00"},
    )
    await client.send("hi")
    await client.send(reply)
    assert client.result is not None
    assert client.result.status == DialogTurnStatus.Complete, (locale, reply)
    return client.result.result


YES_NO = [
    ("en-us", "yes please", "no thanks"),
    ("es-es", "sí, claro", "no"),
    ("fr-fr", "oui", "non merci"),
    ("de-de", "ja bitte", "nein danke"),
    ("it-it", "sì", "no grazie"),
    ("nl-nl", "ja hoor", "nee"),
    ("pt-br", "sim", "não"),
    ("ja-jp", "はい、お願いします", "いいえ"),
    ("zh-cn", "是的", "不是"),
    ("ko-kr", "네", "아니요"),
    ("tr-tr", "evet", "hay\u0131r"),
]


@pytest.mark.parametrize(("locale", "yes", "no"), YES_NO)
async def test_confirm_understands_yes_and_no_in_the_culture(
    locale: str, yes: str, no: str
) -> None:
    assert await ask(ConfirmPrompt("ok"), locale, yes) is True
    assert await ask(ConfirmPrompt("ok"), locale, no) is False


def test_yes_and_no_are_read_in_the_locales_language_only() -> None:
    assert recognize_boolean("ja", "de-de") is True
    assert recognize_boolean("ja", "en-us") is None
    assert recognize_boolean("pas d'accord", "fr-fr") is None
    assert recognize_boolean("oui", "xx") is None  # an unknown language is read as English


NUMBERS = [
    ("en-us", "twenty two", 22),
    ("es-es", "veintidós", 22),
    ("fr-fr", "vingt-deux", 22),
    ("de-de", "zweiundzwanzig", 22),
    ("it-it", "ventidue", 22),
    ("nl-nl", "tweeëntwintig", 22),
    ("pt-br", "vinte e dois", 22),
    ("ja-jp", "二十二", 22),
    ("zh-cn", "二十二", 22),
    ("de-de", "1.234,5", 1234.5),
    ("fr-fr", "3,5", 3.5),
]


@pytest.mark.parametrize(("locale", "said", "value"), NUMBERS)
async def test_numbers_in_the_culture(locale: str, said: str, value: float) -> None:
    assert await ask(NumberPrompt("n"), locale, said) == value


async def test_number_prompt_default_locale() -> None:
    client = DialogTestClient(
        NumberPrompt("n", default_locale="es-es"),
        options=PromptOptions("?"),
        activity_defaults={"locale": None},
    )
    await client.send("hi")
    await client.send("veintidós")
    assert client.result is not None and client.result.result == 22


ORDINALS = [
    ("en-us", "the second one", "green"),
    ("es-es", "el segundo", "green"),
    ("es-es", "la tercera", "blue"),
    ("fr-fr", "le deuxième", "green"),
    ("de-de", "der dritte", "blue"),
    ("it-it", "il terzo", "blue"),
    ("nl-nl", "de tweede", "green"),
    ("pt-br", "o terceiro", "blue"),
    ("ja-jp", "第二", "green"),
    ("zh-cn", "第三个", "blue"),
    ("es-es", "dos", "green"),
    ("zh-cn", "三", "blue"),
]


@pytest.mark.parametrize(("locale", "said", "color"), ORDINALS)
async def test_a_choice_by_ordinal_or_number_in_the_culture(
    locale: str, said: str, color: str
) -> None:
    assert (await ask(ChoicePrompt("pick"), locale, said)).value == color


DATES = [
    ("en-us", "tomorrow", "2026-12-08"),
    ("es-es", "mañana", "2026-12-08"),
    ("fr-fr", "demain", "2026-12-08"),
    ("de-de", "morgen", "2026-12-08"),
    ("it-it", "domani", "2026-12-08"),
    ("nl-nl", "morgen", "2026-12-08"),
    ("pt-br", "amanhã", "2026-12-08"),
    ("ja-jp", "明日", "2026-12-08"),
    ("zh-cn", "明天", "2026-12-08"),
    ("de-de", "24. Dezember 2026", "2026-12-24"),
    ("es-es", "24 de diciembre de 2026", "2026-12-24"),
]


@pytest.mark.parametrize(("locale", "said", "timex"), DATES)
async def test_dates_in_the_culture(locale: str, said: str, timex: str) -> None:
    [resolution] = await ask(DateTimePrompt("when"), locale, said)
    assert resolution.timex == timex


def test_a_whole_hour_has_botbuilders_timex() -> None:
    import datetime

    from worker.bot.dialogs.prompts import recognize_datetime

    [at_nine] = recognize_datetime("5th December 2018 at 9am", datetime.datetime(2018, 1, 1))
    assert (at_nine.timex, at_nine.value) == ("2018-12-05T09", "2018-12-05 09:00:00")


def test_number_and_ordinal_positions_point_into_the_text() -> None:
    [found] = recognize_number("quiero veintidós", "es-es")
    assert (found.text, found.start, found.end, found.value) == ("veintidós", 7, 16, 22)
    assert [(m.text, m.value) for m in recognize_ordinal("le 2e ou le troisième", "fr")] == [
        ("2e", 2),
        ("troisième", 3),
    ]
    assert [(m.text, m.value) for m in recognize_ordinal("第2个", "zh-cn")] == [("第2", 2)]


def test_culture_models_and_nearest_language() -> None:
    assert PromptCultureModels.Spanish == PromptCultureModel(
        "es-es", ", ", " o ", ", o ", "Sí", "No"
    )
    assert len(PromptCultureModels.get_supported_cultures()) == 11
    assert PromptCultureModels.map_to_nearest_language("es-MX") == "es-es"
    assert PromptCultureModels.map_to_nearest_language("EN") == "en-us"
    assert PromptCultureModels.map_to_nearest_language("xx-YY") == "xx-yy"
    assert PromptCultureModels.map_to_nearest_language(None) is None


async def test_test_adapter_activities_have_no_locale_so_the_default_locale_applies() -> None:
    state = ConversationState(MemoryStorage())
    dialogs = DialogSet(state.create_property("dialogState"))
    dialogs.add(NumberPrompt("amount", default_locale="es-es"))

    async def logic(context: TurnContext) -> None:
        dialog_context = await dialogs.create_context(context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.prompt("amount", PromptOptions("¿Cuánto?"))
        elif result.status == DialogTurnStatus.Complete:
            await context.send_activity(f"{result.result}")
        await state.save_changes(context)

    adapter = TestAdapter(logic)
    flow = await adapter.send("hola")
    flow = await flow.assert_reply("¿Cuánto?")
    flow = await flow.send("1.200.555,42")
    await flow.assert_reply("1200555.42")
