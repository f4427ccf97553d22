"""BotAssert, BotActionNotImplementedError and StatePropertyInfo as botbuilder has them."""

from __future__ import annotations

import pytest

from worker.bot import BotActionNotImplementedError, BotAssert, StatePropertyInfo


def test_bot_assert_refuses_none_and_non_lists() -> None:
    BotAssert.activity_not_none(object())
    BotAssert.activity_list_not_none([])
    for check in (
        BotAssert.activity_not_none,
        BotAssert.context_not_none,
        BotAssert.conversation_reference_not_none,
        BotAssert.middleware_not_none,
        BotAssert.activity_list_not_none,
        BotAssert.middleware_list_not_none,
    ):
        with pytest.raises(TypeError):
            check(None)
    with pytest.raises(TypeError, match="must be a list"):
        BotAssert.activity_list_not_none("not a list")


def test_the_error_and_the_property_interface() -> None:
    assert issubclass(BotActionNotImplementedError, Exception)

    class Named(StatePropertyInfo):
        @property
        def name(self) -> str:
            return "count"

    assert Named().name == "count"
    with pytest.raises(TypeError):
        StatePropertyInfo()  # type: ignore[abstract]
