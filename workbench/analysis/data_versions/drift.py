"""Distribution drift between two versions per column: PSI and KS (numeric), chi-square and PSI (categorical)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from workbench.analysis.data_versions.diff import dtype_name

EPSILON = 1e-4
DRIFT_COLUMNS = ["column", "kind", "psi", "statistic", "test", "p_value", "severity"]


def _proportions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts, dtype=float)
    return np.clip(shares, EPSILON, None)


def psi_from_counts(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two histograms over the same bins."""
    e, a = _proportions(np.asarray(expected, float)), _proportions(np.asarray(actual, float))
    return float(np.sum((a - e) * np.log(a / e)))


def _sorted_present(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, float)
    return np.sort(values[~np.isnan(values)])


def psi_numeric(before: np.ndarray, after: np.ndarray, bins: int = 10) -> float:
    """PSI over quantile bins of ``before`` (plus one bin for missing values)."""
    return _psi_sorted(_sorted_present(before), _sorted_present(after), len(before), len(after), bins)


def _psi_sorted(old: np.ndarray, new: np.ndarray, n_old: int, n_new: int, bins: int = 10) -> float:
    if not len(old) or not len(new):
        return float("nan")
    edges = np.unique(np.quantile(old, np.linspace(0, 1, bins + 1)[1:-1]))
    old_bins = np.diff(np.concatenate([[0], np.searchsorted(old, edges, side="right"), [len(old)]]))
    new_bins = np.diff(np.concatenate([[0], np.searchsorted(new, edges, side="right"), [len(new)]]))
    return psi_from_counts(np.append(old_bins, n_old - len(old)), np.append(new_bins, n_new - len(new)))


def ks_2samp(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic two-sided p-value (NaNs dropped).

    The p-value is scipy's ``method="asymp"`` one (``kstwo`` with the effective sample size); above
    ``KS_EXACT_LIMIT`` effective samples the Kolmogorov limit distribution is used (it differs from
    ``kstwo`` by O(1/sqrt(n)) and is much cheaper).
    """
    return _ks_sorted(_sorted_present(before), _sorted_present(after))


KS_EXACT_LIMIT = 10_000


def _ks_sorted(old: np.ndarray, new: np.ndarray) -> tuple[float, float]:
    if not len(old) or not len(new):
        return float("nan"), float("nan")
    values = np.concatenate([old, new])
    cdf_old = np.searchsorted(old, values, side="right") / len(old)
    cdf_new = np.searchsorted(new, values, side="right") / len(new)
    statistic = float(np.max(np.abs(cdf_old - cdf_new)))
    effective = len(old) * len(new) / (len(old) + len(new))
    if effective <= KS_EXACT_LIMIT:
        p_value = float(stats.kstwo.sf(statistic, np.round(effective)))
    else:
        p_value = float(stats.kstwobign.sf(statistic * np.sqrt(effective)))
    return statistic, min(max(p_value, 0.0), 1.0)


def category_counts(before: pd.Series, after: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Counts of each category (missing values as one category) in both versions, aligned."""
    old = before.astype("string").fillna("<missing>").value_counts()
    new = after.astype("string").fillna("<missing>").value_counts()
    labels = sorted(set(old.index) | set(new.index))
    return (old.reindex(labels, fill_value=0).to_numpy(float),
            new.reindex(labels, fill_value=0).to_numpy(float), labels)


def chi_square(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of two count vectors (no continuity correction)."""
    table = np.vstack([expected, actual])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected_cells = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected_cells) ** 2 / expected_cells).sum())
    return statistic, float(stats.chi2.sf(statistic, table.shape[1] - 1))


def severity(psi: float) -> str:
    """The usual PSI reading: < 0.1 stable, < 0.25 moderate, else major."""
    if np.isnan(psi):
        return "n/a"
    return "stable" if psi < 0.1 else "moderate" if psi < 0.25 else "major"


def is_numeric(series: pd.Series) -> bool:
    return dtype_name(series) in ("int", "float")


def column_drift(before: pd.Series, after: pd.Series) -> dict:
    """Drift of one column between two versions."""
    if is_numeric(before) and is_numeric(after):
        old = _sorted_present(before.to_numpy(dtype=float, na_value=np.nan))
        new = _sorted_present(after.to_numpy(dtype=float, na_value=np.nan))
        statistic, p_value = _ks_sorted(old, new)
        psi = _psi_sorted(old, new, len(before), len(after))
        kind, test = "numeric", "KS"
    else:
        expected, actual, _ = category_counts(before, after)
        statistic, p_value = chi_square(expected, actual)
        psi = psi_from_counts(expected, actual)
        kind, test = "categorical", "chi-square"
    return {"column": str(before.name), "kind": kind, "psi": psi, "statistic": statistic, "test": test,
            "p_value": p_value, "severity": severity(psi)}


def drift_table(before: pd.DataFrame, after: pd.DataFrame, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """Drift of every shared column, ranked by PSI (most drifted first)."""
    rows = [column_drift(before[c], after[c]) for c in before.columns
            if c in after.columns and c not in exclude]
    frame = pd.DataFrame(rows, columns=DRIFT_COLUMNS)
    return frame.sort_values(["psi", "statistic"], ascending=False, na_position="last").reset_index(drop=True)
