"""The serving process's garbage-collector thresholds (workbench/collector.py)."""

from __future__ import annotations

import gc

from workbench.collector import SERVING_THRESHOLDS, tune_for_serving


def test_serving_thresholds_collect_young_objects_less_often() -> None:
    previous = tune_for_serving()
    try:
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert SERVING_THRESHOLDS[0] > previous[0] and gc.isenabled()  # still collecting, less often
    finally:
        gc.set_threshold(*previous)
