"""Drift statistics checked against scipy, PSI against a hand computation, ranking and quality checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.analysis.data_versions.drift import (
    category_counts,
    chi_square,
    drift_table,
    ks_2samp,
    psi_from_counts,
    psi_numeric,
)
from workbench.analysis.data_versions.quality import quality_checks, quality_trend


@pytest.mark.parametrize("shift, n, m", [(0.0, 300, 250), (0.4, 1000, 800), (1.5, 40, 60)])
def test_ks_matches_scipy(shift, n, m):
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, n), rng.normal(shift, 1, m)
    ours = ks_2samp(a, b)
    theirs = stats.ks_2samp(a, b, method="asymp")
    assert ours[0] == pytest.approx(theirs.statistic)
    assert ours[1] == pytest.approx(theirs.pvalue, rel=1e-6, abs=1e-12)


def test_ks_with_ties_and_nans_matches_scipy_on_present_values():
    a = np.array([1, 1, 2, 2, 3, np.nan, 5], float)
    b = np.array([1, 2, 2, 2, 4, 4, np.nan], float)
    ours = ks_2samp(a, b)
    theirs = stats.ks_2samp(a[~np.isnan(a)], b[~np.isnan(b)], method="asymp")
    assert ours[0] == pytest.approx(theirs.statistic)


def test_chi_square_matches_scipy():
    old = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    new = pd.Series(["a"] * 30 + ["b"] * 30 + ["c"] * 35 + [None] * 5)
    expected, actual, labels = category_counts(old, new)
    assert labels == ["<missing>", "a", "b", "c"]
    ours = chi_square(expected, actual)
    theirs = stats.chi2_contingency(np.vstack([expected, actual]), correction=False)
    assert ours[0] == pytest.approx(theirs.statistic)
    assert ours[1] == pytest.approx(theirs.pvalue)


def test_psi_matches_hand_computation():
    expected, actual = np.array([50, 30, 20]), np.array([30, 30, 40])
    e, a = expected / 100, actual / 100
    assert psi_from_counts(expected, actual) == pytest.approx(np.sum((a - e) * np.log(a / e)))
    same = np.random.default_rng(1).normal(size=2000)
    assert psi_numeric(same, same) == pytest.approx(0.0, abs=1e-9)


def test_drift_table_ranks_the_shifted_column_first():
    rng = np.random.default_rng(3)
    old = pd.DataFrame({"stable": rng.normal(0, 1, 2000), "moved": rng.normal(0, 1, 2000),
                        "colour": rng.choice(["r", "g"], 2000)})
    new = pd.DataFrame({"stable": rng.normal(0, 1, 2000), "moved": rng.normal(1, 1, 2000),
                        "colour": rng.choice(["r", "g"], 2000, p=[0.8, 0.2])})
    table = drift_table(old, new)
    assert table["column"].tolist()[:2] == ["moved", "colour"]
    assert table.set_index("column").loc["moved", "severity"] == "major"
    assert table.set_index("column").loc["stable", "severity"] == "stable"
    assert table.set_index("column").loc["colour", "test"] == "chi-square"


def test_quality_checks_flag_problems():
    frame = pd.DataFrame({"id": [1, 2, 2, 4], "v": [1.0, np.nan, np.inf, 2.0],
                          "n": ["1", "2", "3", "x"], "c": ["k", "k", "k", "k"]})
    checks = quality_checks(frame, key="id")
    status = {(r.check, r.column): r.status for r in checks.itertuples()}
    assert status[("unique key", "id")] == "fail"
    assert status[("nulls", "v")] == "warn" and status[("nulls", "id")] == "pass"
    assert status[("range", "v")] == "warn"
    assert status[("constant", "c")] == "warn"
    assert status[("duplicate rows", "(all)")] == "pass"
    good = quality_checks(pd.DataFrame({"id": [1, 2], "n": ["1", "x"]}), key="id")
    assert set(good["status"]) == {"pass"}


def test_quality_trend_tracks_null_rate_over_versions():
    versions = [("v1", pd.DataFrame({"a": [1, 2, 3, 4]})), ("v2", pd.DataFrame({"a": [1, None, 3, None]}))]
    trend = quality_trend(versions)
    nulls = trend[(trend["metric"] == "null rate") & (trend["column"] == "a")]
    assert nulls["value"].tolist() == [0.0, 0.5]


def test_ks_on_large_samples_uses_the_limit_distribution_close_to_scipy():
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, 30_000), rng.normal(0.01, 1, 30_000)
    ours = ks_2samp(a, b)
    theirs = stats.ks_2samp(a, b, method="asymp")
    assert ours[0] == pytest.approx(theirs.statistic)
    assert ours[1] == pytest.approx(theirs.pvalue, abs=5e-3)
