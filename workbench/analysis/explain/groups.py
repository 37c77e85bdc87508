"""Comparing explanations between row groups (cohorts, fairness) and between two models (diff)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from workbench.analysis.explain.importance import mean_abs_importance

OPERATORS = {"<": np.less, "<=": np.less_equal, "==": np.equal, "!=": np.not_equal, ">=": np.greater_equal,
             ">": np.greater}


def cohort_mask(features: pd.DataFrame, feature: str, operator: str, value: float) -> pd.Series:
    """Rows where ``feature <operator> value`` (a structured filter: no expression is evaluated)."""
    column = pd.to_numeric(features[feature], errors="coerce")
    return pd.Series(OPERATORS[operator](column.to_numpy(), value), index=features.index)


def compare_cohorts(values: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """Mean |SHAP| per feature in cohort A (mask) and B (the rest), with the difference, by overall rank."""
    a = values[mask.to_numpy()].abs().mean()
    b = values[~mask.to_numpy()].abs().mean()
    frame = pd.DataFrame({"feature": [str(c) for c in values.columns], "cohort A": a.to_numpy(),
                          "cohort B": b.to_numpy()})
    frame["difference"] = frame["cohort A"] - frame["cohort B"]
    order = mean_abs_importance(values)["feature"]
    return frame.set_index("feature").loc[order].reset_index()


def groups_of(column: pd.Series, max_groups: int = 6) -> pd.Series:
    """Group labels of a sensitive column: its values, or quantile bins when numeric with many values."""
    if pd.api.types.is_numeric_dtype(column) and column.nunique() > max_groups:
        return pd.qcut(column, q=min(4, max_groups), duplicates="drop").astype(str)
    return column.astype(str)


def fairness_metrics(groups: pd.Series, scores: pd.Series, y_true: pd.Series | None,
                     threshold: float = 0.5) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per group: rows, selection rate, mean score and (with y) TPR, FPR and error rate; and the gaps
    (max − min across groups) of each rate."""
    frame = pd.DataFrame({"group": groups.to_numpy(), "score": np.asarray(scores, dtype=float)})
    frame["selected"] = (frame["score"] >= threshold).astype(float)
    if y_true is not None:
        frame["actual"] = np.asarray(y_true, dtype=float)
    rows = []
    for name, part in frame.groupby("group", sort=True, observed=True):
        row = {"group": str(name), "rows": len(part), "selection rate": part["selected"].mean(),
               "mean score": part["score"].mean()}
        if y_true is not None:
            positives, negatives = part[part["actual"] == 1], part[part["actual"] == 0]
            row["TPR"] = positives["selected"].mean() if len(positives) else np.nan
            row["FPR"] = negatives["selected"].mean() if len(negatives) else np.nan
            row["error rate"] = (part["selected"] != part["actual"]).mean()
        rows.append(row)
    table = pd.DataFrame(rows)
    rates = [c for c in ("selection rate", "TPR", "FPR", "error rate") if c in table]
    gaps = {c: float(table[c].max() - table[c].min()) for c in rates if table[c].notna().any()}
    return table, gaps


def explanation_diff(values_a: pd.DataFrame, values_b: pd.DataFrame) -> pd.DataFrame:
    """Per shared feature: importance in A and B, the shift, rank change and the Wasserstein distance
    between the two SHAP distributions; largest shift first."""
    shared = [c for c in values_a.columns if c in set(values_b.columns)]
    rank_a = {f: i + 1 for i, f in enumerate(mean_abs_importance(values_a[shared])["feature"])}
    rank_b = {f: i + 1 for i, f in enumerate(mean_abs_importance(values_b[shared])["feature"])}
    rows = []
    for name in shared:
        a, b = values_a[name].to_numpy(dtype=float), values_b[name].to_numpy(dtype=float)
        rows.append({"feature": str(name), "importance A": float(np.abs(a).mean()), "importance B": float(np.abs(b).mean()),
                     "rank A": rank_a[str(name)], "rank B": rank_b[str(name)],
                     "distribution shift": float(wasserstein_distance(a, b))})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["importance shift"] = frame["importance B"] - frame["importance A"]
    frame["rank change"] = frame["rank A"] - frame["rank B"]
    return frame.sort_values("importance shift", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)
