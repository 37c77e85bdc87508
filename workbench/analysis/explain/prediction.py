"""One prediction: the waterfall of its SHAP values."""

from __future__ import annotations

import numpy as np
import pandas as pd


def waterfall_frame(values: pd.Series, features: pd.Series, base_value: float, max_display: int = 10) -> pd.DataFrame:
    """Bars from the base value to the output, largest |SHAP| first; the rest folded into one bar.

    Columns: ``label`` ("feature = value"), ``shap``, ``start``, ``end`` (cumulative), ``kind``
    ("feature" or "rest").
    """
    order = values.abs().sort_values(ascending=False, kind="stable").index
    shown, rest = list(order[:max_display]), list(order[max_display:])
    labels = [f"{name} = {_short(features[name])}" for name in shown]
    contributions = [float(values[name]) for name in shown]
    kinds = ["feature"] * len(shown)
    if rest:
        labels.append(f"{len(rest)} other features")
        contributions.append(float(values[rest].sum()))
        kinds.append("rest")
    ends = base_value + np.cumsum(contributions)
    starts = np.concatenate([[base_value], ends[:-1]]) if len(ends) else np.array([])
    return pd.DataFrame({"label": labels, "shap": contributions, "start": starts, "end": ends, "kind": kinds})


def _short(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)
