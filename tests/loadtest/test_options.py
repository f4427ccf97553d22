"""Load test options refused before anything is sent, with the option named."""

from __future__ import annotations

import logging

import pytest

from gateway.edge import EdgeLimits
from turnstream.loadtest.options import LoadOptions, OptionsError
from turnstream.loadtest.runner import sink_connection_limit


def test_a_run_with_no_room_for_messages_is_refused() -> None:
    # 2/s for 5 s is 10 activities: with 10 conversations each would be a conversationUpdate.
    with pytest.raises(OptionsError, match="--conversations 10 leaves no message"):
        LoadOptions(rate=2, duration=5, conversations=10).check()
    assert LoadOptions(rate=2, duration=5, conversations=9).check().planned == 10


def test_the_sink_fits_the_open_file_limit_without_the_gateways_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        limits = EdgeLimits(max_connections=sink_connection_limit()).fitted_to_open_files()
    assert limits.max_connections == sink_connection_limit()
    assert not caplog.records
