"""Pure analysis functions of the Experiments panel: diff, best values, curves, nesting, columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.experiments.columns import default_columns, display_frame
from workbench.analysis.experiments.curves import group_band, joined_lines, smooth, with_x
from workbench.analysis.experiments.diff import (
    best_per_metric,
    diff_runs,
    metric_direction,
    run_labels,
)
from workbench.analysis.experiments.nesting import CHILD_MARK, nest_runs


@pytest.fixture
def runs() -> pd.DataFrame:
    return pd.DataFrame({
        "run_id": ["a", "b", "c", "d"],
        "run_name": ["rf", "gb", "gb", "child"],
        "parent_run_id": [None, None, None, "a"],
        "start_time": pd.to_datetime([4, 3, 2, 1], unit="s", utc=True),
        "duration": [1.04, 2.0, np.nan, 1.0],
        "metrics.acc": [0.9, 0.95, np.nan, 0.5],
        "metrics.val_loss": [0.3, 0.2, 0.25, 0.9],
        "params.depth": ["3", "3", "5", None],
        "params.model": ["rf", "gb", "gb", "rf"],
        "tags.team": ["x", "y", "y", "x"],
    })


def test_diff_rows_and_only_differences(runs: pd.DataFrame) -> None:
    table = diff_runs(runs, ["a", "b"])
    assert list(table.columns) == ["rf", "gb"]
    assert list(table.index) == ["metrics.acc", "metrics.val_loss", "params.depth", "params.model"]
    only = diff_runs(runs, ["a", "b"], only_differences=True)
    assert "params.depth" not in only.index and "params.model" in only.index
    assert "tags.team" in diff_runs(runs, ["a", "b"], include_tags=True).index


def test_missing_counts_as_a_difference(runs: pd.DataFrame) -> None:
    assert "params.depth" in diff_runs(runs, ["a", "d"], only_differences=True).index


def test_duplicate_names_get_ids(runs: pd.DataFrame) -> None:
    assert run_labels(runs.iloc[1:3]) == ["gb (b)", "gb (c)"]


def test_best_per_metric_follows_direction(runs: pd.DataFrame) -> None:
    table = diff_runs(runs, ["a", "b", "c"])
    assert best_per_metric(table) == {"metrics.acc": "gb (b)", "metrics.val_loss": "gb (b)"}
    assert best_per_metric(table, {"acc": "min", "val_loss": "max"}) == {"metrics.acc": "rf",
                                                                          "metrics.val_loss": "rf"}
    assert metric_direction("val_loss") == "min" and metric_direction("f1") == "max"


def history() -> pd.DataFrame:
    rows = [(run, "loss", step, 1_000 * step + (0 if run == "a" else 500), value)
            for run, values in {"a": [4.0, 2.0, 1.0], "b": [3.0, 3.0]}.items() for step, value in enumerate(values)]
    return pd.DataFrame(rows, columns=["run_id", "key", "step", "timestamp", "value"])


def test_x_axes() -> None:
    assert with_x(history(), "step")["x"].tolist() == [0, 1, 2, 0, 1]
    assert with_x(history(), "relative time")["x"].tolist() == [0, 1, 2, 0, 1]
    assert with_x(history(), "wall time")["x"].dtype.kind == "M"


def test_smoothing_per_run() -> None:
    frame = with_x(history())
    assert smooth(frame, 0.0)["value"].tolist() == frame["value"].tolist()
    smoothed = smooth(frame, 0.5)["value"].tolist()
    assert smoothed[0] == 4.0 and smoothed[3] == 3.0  # each run starts from its own first value
    assert 1.0 < smoothed[2] < 2.0


def test_joined_lines_break_between_runs() -> None:
    joined = joined_lines(with_x(history()))
    assert len(joined) == 6 and joined["value"].isna().tolist() == [False] * 3 + [True] + [False] * 2


def test_group_band(runs: pd.DataFrame) -> None:
    stats = group_band(with_x(history()), runs, "params.model")
    first = stats[(stats["group"] == "rf") & (stats["x"] == 0)].iloc[0]
    assert first["mean"] == 4.0 and first["lower"] == first["upper"] == 4.0
    assert set(stats["group"]) == {"rf", "gb"}


def test_nesting_puts_children_under_parents(runs: pd.DataFrame) -> None:
    nested = nest_runs(runs)
    assert nested["run_id"].tolist() == ["a", "d", "b", "c"]
    assert nested["run_name"].tolist()[1] == f"{CHILD_MARK}child"
    flat = runs.assign(parent_run_id=None)
    assert nest_runs(flat)["run_id"].tolist() == ["a", "b", "c", "d"]


def test_nesting_survives_cycles() -> None:
    frame = pd.DataFrame({"run_id": ["x", "y"], "run_name": ["x", "y"], "parent_run_id": ["y", "x"]})
    assert sorted(nest_runs(frame)["run_id"]) == ["x", "y"]


def test_default_and_display_columns(runs: pd.DataFrame) -> None:
    columns = default_columns(runs, max_params=1)
    assert columns[:2] == ["run_name", "start_time"] and "params.model" not in columns and "params.depth" in columns
    shown = display_frame(runs)
    assert shown["start_time"].dt.tz is None and shown["duration"].tolist()[0] == 1.0


def test_rasterize_curves_one_hit_per_column_per_curve() -> None:
    from workbench.analysis.experiments.raster import rasterize_curves

    x = np.array([0.0, 9.0, 0.0, 9.0, 0.0, 4.0])
    y = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 0.5])
    image = rasterize_curves(x, y, np.array([0, 0, 1, 1, 2, 2]), (0, 9), (0, 1), width=10, height=3)
    assert image[0].tolist() == [1.0] * 10  # flat curve at the bottom row
    assert image[2].tolist() == [1.0] * 10  # flat curve at the top row
    assert image[1].tolist() == [1.0] * 5 + [0.0] * 5  # the short curve stops at x = 4
    assert image.sum() == 25


def test_rasterize_parallel_mean_colour() -> None:
    from workbench.analysis.experiments.raster import rasterize_parallel

    values = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    image = rasterize_parallel(values, width=4, height=2, weights=np.array([1.0, 3.0, 2.0]))
    assert image[0].tolist() == [1.5] * 4 and image[1].tolist() == [3.0] * 4
    counts = rasterize_parallel(values, width=4, height=2)
    assert counts[0].tolist() == [2.0] * 4


def test_plottable_numbers(runs: pd.DataFrame) -> None:
    from workbench.analysis.experiments.columns import plottable

    wild = runs.assign(**{"metrics.acc": [np.inf, -1.7976931348623157e308, 0.5, np.nan],
                          "params.depth": pd.Series(["3", "3", "5", None], dtype="str")})
    frame = plottable(wild)
    assert frame["metrics.acc"].isna().tolist() == [True, True, False, True]
    assert frame["params.depth"].dtype == float and frame["params.depth"].tolist()[:3] == [3.0, 3.0, 5.0]
    assert frame["params.model"].tolist() == ["rf", "gb", "gb", "rf"]  # text stays text
    assert wild["metrics.acc"].iloc[0] == np.inf  # the input is not modified


def test_binned_mean_grid() -> None:
    from workbench.analysis.experiments.grid import binned_mean

    grid, bounds = binned_mean(np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 3.0, 5.0]),
                               bins=2)
    assert bounds == (0.0, 0.0, 1.0, 1.0)
    assert grid[0, 0] == 2.0 and grid[1, 1] == 5.0 and np.isnan(grid[0, 1])
