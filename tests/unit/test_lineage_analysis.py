"""Pure lineage analysis: metric per data version ("did the data change help?") and link coverage."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.analysis.lineage.coverage import coverage
from workbench.analysis.lineage.versions import (
    lower_is_better,
    metric_by_version,
    run_points,
    shared_metrics,
    version_labels,
)

HISTORY = pd.DataFrame({
    "commit": ["c1" * 20, "c2" * 20, "c3" * 20, "c4" * 20], "short": ["c1c1c1c", "c2c2c2c", "c3c3c3c", "c4c4c4c"],
    "tags": ["v1", "", "v3, release", "v4"], "md5": ["a" * 32, "b" * 32, "c" * 32, "d" * 32],
    "date": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"], utc=True),
    "message": ["raw", "clean", "feature", "rows"],
})
RUNS = pd.DataFrame({
    "run_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
    "run_name": ["a", "b", "c", "d", "e", "<b>f</b>"],
    "metrics.auc": [0.80, 0.70, 0.75, None, 0.90, 0.60],
    "metrics.loss": [0.5, 0.6, 0.4, 0.3, 0.2, 0.9],
})
MD5S = pd.Series({"r1": "a" * 32, "r2": "a" * 32, "r3": "c" * 32, "r4": "c" * 32, "r5": "d" * 32, "r6": None})


def test_version_labels_prefer_the_first_tag():
    assert version_labels(HISTORY).tolist() == ["v1", "c2c2c2c", "v3", "v4"]


def test_run_points_keep_runs_with_a_version_and_the_metric():
    points = run_points(RUNS, MD5S, HISTORY, "auc")
    assert points[["run_id", "version", "order", "value"]].values.tolist() == [
        ["r1", "v1", 1, 0.80], ["r2", "v1", 1, 0.70], ["r3", "v3", 3, 0.75], ["r5", "v4", 4, 0.90]]
    assert run_points(RUNS, MD5S, HISTORY, "nope").empty
    assert run_points(RUNS, MD5S, HISTORY.iloc[0:0], "auc").empty


def test_metric_by_version_compares_each_best_with_the_previous_version_that_has_runs():
    table = metric_by_version(run_points(RUNS, MD5S, HISTORY, "auc"), HISTORY, "auc")
    assert table["n_runs"].tolist() == [2, 0, 1, 1]
    assert table["best"].tolist()[0] == 0.80 and pd.isna(table.loc[1, "best"])
    assert table.loc[0, "median"] == pytest.approx(0.75)
    assert table.loc[2, "delta"] == pytest.approx(-0.05) and table.loc[2, "helped"] is False
    assert table.loc[3, "delta"] == pytest.approx(0.15) and table.loc[3, "helped"] is True
    assert table.loc[0, "best_run_name"] == "a" and pd.isna(table.loc[0, "helped"])


def test_losses_are_minimised():
    assert lower_is_better("val_log_loss") and lower_is_better("metrics.rmse") and not lower_is_better("roc_auc")
    table = metric_by_version(run_points(RUNS, MD5S, HISTORY, "loss"), HISTORY, "loss")
    assert table.loc[0, "best"] == 0.5 and table.loc[0, "best_run_id"] == "r1"
    assert table.loc[2, "best"] == 0.3 and table.loc[2, "helped"] is True
    forced = metric_by_version(run_points(RUNS, MD5S, HISTORY, "loss"), HISTORY, "loss", minimize=False)
    assert forced.loc[0, "best"] == 0.6


def test_shared_metrics_need_two_versions():
    assert shared_metrics(RUNS, MD5S) == ["auc", "loss"]
    assert shared_metrics(RUNS, pd.Series({"r1": "a" * 32})) == []


def test_coverage_counts_links_and_resolution():
    table = pd.DataFrame({"data_status": ["linked", "linked", "missing", "absent"],
                          "trial_status": ["absent"] * 4})
    result = coverage(table, kinds=("data", "trial")).set_index("kind")
    assert result.loc["data", ["linked", "missing", "absent", "recorded"]].tolist() == [2, 1, 1, 3]
    assert result.loc["data", "resolved_pct"] == pytest.approx(200 / 3)
    assert pd.isna(result.loc["trial", "resolved_pct"])
