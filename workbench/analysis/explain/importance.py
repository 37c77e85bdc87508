"""Global feature importance from SHAP values."""

from __future__ import annotations

import pandas as pd


def mean_abs_importance(values: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Mean |SHAP| per feature, largest first: columns ``feature``, ``importance``, ``share``."""
    return ranked_importance(values.abs().mean(axis=0), top)


def ranked_importance(importance: pd.Series, top: int | None = None) -> pd.DataFrame:
    """An importance per feature (e.g. mean |SHAP| computed elsewhere) as the ranked frame above."""
    importance = importance.sort_values(ascending=False, kind="stable")
    total = float(importance.sum()) or 1.0
    frame = pd.DataFrame({"feature": [str(name) for name in importance.index],
                          "importance": importance.to_numpy(dtype=float)})
    frame["share"] = frame["importance"] / total
    return frame.head(top).reset_index(drop=True) if top else frame
