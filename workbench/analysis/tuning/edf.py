"""Empirical distribution function of objective values, sized by resolution rather than trials."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.tuning.history import completed


def edf(trials: pd.DataFrame, value_column: str, max_points: int = 1_000) -> pd.DataFrame:
    """Columns value, probability: P(objective ≤ value) over COMPLETE trials, at most ``max_points`` steps."""
    values = np.sort(completed(trials, value_column)[value_column].to_numpy(dtype=float))
    if len(values) == 0:
        return pd.DataFrame({"value": [], "probability": []})
    probability = np.arange(1, len(values) + 1) / len(values)
    if len(values) > max_points:
        keep = np.unique(np.linspace(0, len(values) - 1, max_points).round().astype(int))
        values, probability = values[keep], probability[keep]
    return pd.DataFrame({"value": values, "probability": probability})
