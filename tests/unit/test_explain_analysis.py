"""Pure analysis of explanations: distributions, interactions, waterfalls, performance, groups, diffs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from workbench.analysis.explain import performance as perf
from workbench.analysis.explain.distribution import (
    beeswarm_frame,
    dependence_frame,
    normalised,
    strongest_interaction,
)
from workbench.analysis.explain.groups import (
    cohort_mask,
    compare_cohorts,
    explanation_diff,
    fairness_metrics,
    groups_of,
)
from workbench.analysis.explain.prediction import waterfall_frame


@pytest.fixture
def synthetic():
    rng = np.random.default_rng(0)
    n = 400
    features = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(size=n), "c": rng.normal(size=n)})
    # a's effect flips sign with b (an interaction); c is noise
    values = pd.DataFrame({"a": features["a"] * np.where(features["b"] > 0.5, 1.0, -0.2),
                           "b": 0.1 * features["b"], "c": 0.01 * features["c"]})
    return values, features


def test_beeswarm_rows_and_colours(synthetic):
    values, features = synthetic
    frame = beeswarm_frame(values, features, ["a", "b"])
    assert len(frame) == 2 * len(values)
    top = frame[frame["feature"] == "a"]
    assert (top["row"] == 1).all() and ((top["y"] - 1).abs() <= 0.4).all()
    np.testing.assert_allclose(top["shap"], values["a"])
    colour = normalised(features)["a"]
    assert colour.between(0, 1).all() and colour.loc[features["a"].idxmax()] == 1.0


def test_strongest_interaction_finds_the_modulating_feature(synthetic):
    values, features = synthetic
    assert strongest_interaction(values, features, "a") == "b"
    frame = dependence_frame(values, features, "a", "b")
    np.testing.assert_allclose(frame["colour"], features["b"])


def test_waterfall_adds_up_and_folds_the_rest():
    values = pd.Series({"a": 0.5, "b": -0.3, "c": 0.05, "d": 0.01})
    row = pd.Series({"a": 1.0, "b": "<i>x</i>", "c": 3, "d": 4})
    frame = waterfall_frame(values, row, base_value=1.0, max_display=2)
    assert frame["label"].tolist() == ["a = 1", "b = <i>x</i>", "2 other features"]
    assert frame["end"].iloc[-1] == pytest.approx(1.0 + values.sum())
    assert frame["start"].iloc[0] == 1.0 and frame["kind"].tolist() == ["feature", "feature", "rest"]


def test_classification_performance_matches_sklearn():
    rng = np.random.default_rng(1)
    y = pd.Series(rng.integers(0, 2, 300))
    scores = pd.Series(np.clip(y * 0.6 + rng.uniform(0, 0.5, 300), 0, 1))
    assert perf.is_classification(y, scores)
    _, auc = perf.roc_frame(y, scores)
    assert auc == pytest.approx(metrics.roc_auc_score(y, scores))
    matrix = perf.confusion(y, scores, 0.5)
    assert matrix["count"].sum() == 300
    tp = matrix[(matrix.actual == "1") & (matrix.predicted == "1")]["count"].item()
    assert tp == int(((scores >= 0.5) & (y == 1)).sum())
    rates = perf.threshold_metrics(y, scores, 0.5)
    assert rates["recall"] == pytest.approx(metrics.recall_score(y, scores >= 0.5))
    calibration = perf.calibration_frame(y, scores)
    assert calibration["rows"].sum() == 300 and calibration["observed"].between(0, 1).all()


def test_regression_performance():
    actual = pd.Series([1.0, 2.0, 3.0, 4.0])
    predicted = pd.Series([1.5, 2.0, 2.5, 4.0])
    assert not perf.is_classification(actual, predicted)
    frame, summary = perf.regression_frame(actual, predicted)
    assert frame["residual"].tolist() == [-0.5, 0.0, 0.5, 0.0]
    assert summary["MAE"] == pytest.approx(0.25) and summary["R²"] == pytest.approx(metrics.r2_score(actual, predicted))


def test_cohorts_compare_subsets(synthetic):
    values, features = synthetic
    mask = cohort_mask(features, "b", ">", 0.5)
    assert mask.sum() == (features["b"] > 0.5).sum()
    frame = compare_cohorts(values, mask)
    assert frame["feature"].iloc[0] == "a"
    assert frame.set_index("feature").loc["a", "cohort A"] == pytest.approx(values["a"][mask].abs().mean())
    assert frame.set_index("feature").loc["a", "difference"] > 0  # a matters more where b > 0.5


def test_fairness_rates_and_gaps():
    groups = pd.Series(["x", "x", "x", "y", "y", "y"])
    scores = pd.Series([0.9, 0.8, 0.1, 0.9, 0.2, 0.1])
    y = pd.Series([1, 0, 0, 1, 1, 0])
    table, gaps = fairness_metrics(groups, scores, y, threshold=0.5)
    x, yy = table.set_index("group").loc["x"], table.set_index("group").loc["y"]
    assert x["selection rate"] == pytest.approx(2 / 3) and yy["selection rate"] == pytest.approx(1 / 3)
    assert x["TPR"] == 1.0 and yy["TPR"] == 0.5 and x["FPR"] == 0.5 and yy["FPR"] == 0.0
    assert gaps["selection rate"] == pytest.approx(1 / 3) and gaps["TPR"] == pytest.approx(0.5)
    table, gaps = fairness_metrics(groups, scores, None)
    assert "TPR" not in table and set(gaps) == {"selection rate"}
    assert groups_of(pd.Series(np.arange(100.0))).nunique() == 4
    assert groups_of(pd.Series([0, 1, 1, 0])).tolist() == ["0", "1", "1", "0"]


def test_explanation_diff_ranks_shifts(synthetic):
    values, _ = synthetic
    other = values.assign(c=values["c"] * 100)  # c becomes important in B
    frame = explanation_diff(values, other)
    top = frame.iloc[0]
    assert top["feature"] == "c" and top["importance shift"] > 0 and top["rank change"] > 0
    assert top["distribution shift"] > 0
    assert frame.set_index("feature").loc["a", "distribution shift"] == pytest.approx(0.0)
