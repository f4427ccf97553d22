"""The collector set-up of server processes, checked in a child process: freezing this test
process's objects would keep its garbage for the rest of the run."""

from __future__ import annotations

import subprocess
import sys

from shared.gc_tuning import YOUNG_GENERATION_THRESHOLD

_PROBE = """
import gc
from shared.gc_tuning import tune_for_serving
before = gc.get_threshold()
tune_for_serving()
print(before[0], gc.get_threshold()[0], gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True
    )
    default, tuned, frozen, tracked = map(int, done.stdout.split())
    assert default == 700  # CPython's default: what the tuning replaces
    assert tuned == YOUNG_GENERATION_THRESHOLD
    assert frozen > 1000  # the imported modules' objects
    assert tracked < frozen  # the collector no longer walks them
