"""Each setting is declared once (shared/settings.py); the configuration reference in
docs/configuration.md is rendered from those declarations, and `turnstream settings` shows what
an environment gives each of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import SETTING, Settings, declared
from turnstream import settings_reference

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_the_reference_in_the_docs_is_the_declarations() -> None:
    text = DOCS.read_text()
    start, end = text.index(settings_reference.START), text.index(settings_reference.END)
    in_docs = text[start : end + len(settings_reference.END)]
    assert in_docs == settings_reference.markdown(), (
        "docs/configuration.md is out of date: replace its settings table with the output of "
        "`turnstream settings --markdown`"
    )


def test_every_field_is_declared_once_with_its_own_variable() -> None:
    fields = dataclasses.fields(Settings)
    assert all(SETTING in f.metadata for f in fields)
    variables = [s.variable for s, _ in declared()]
    assert len(variables) == len(set(variables)) == len(fields)
    assert all(s.doc.strip() for s, _ in declared())


def test_each_number_is_read_from_its_own_variable() -> None:
    # A value no default has, so that the field it lands in is the one declared.
    for field in dataclasses.fields(Settings):
        setting = field.metadata[SETTING]
        if type(field.default) is int:
            low, high = (int(bound) for bound in setting.rule.accepts.split(" to "))
            value = next(v for v in range(high, low - 1, -1) if v != field.default)
            settings = Settings.from_env({setting.variable: str(value)})
            assert getattr(settings, field.name) == value, setting.variable


def test_bounds_come_from_the_declaration() -> None:
    with pytest.raises(ConfigError, match=r"TURNSTREAM_SHARDS='0' is not valid: .*1 and 1024"):
        Settings.from_env({"TURNSTREAM_SHARDS": "0"})


def test_effective_values_hide_secrets_and_passwords() -> None:
    shown = settings_reference.effective(
        {
            "REDIS_URL": "redis://user:hunter2-password@redis:6379/0",
            "MicrosoftAppPassword": "app-secret-value",
            "TURNSTREAM_SHARDS": "8",
        }
    )
    assert "hunter2-password" not in shown and "app-secret-value" not in shown
    lines = {line.split()[0]: line for line in shown.splitlines()}
    assert lines["TURNSTREAM_SHARDS"].split()[1:] == ["8", "(set)"]
    assert lines["MicrosoftAppPassword"].split()[1:] == ["(secret)", "(set)"]
    assert lines["TURNSTREAM_KEY_PREFIX"].split()[1:] == ["turnstream", "(default)"]
    assert "redis:6379" in lines["REDIS_URL"]
