"""Which columns of a runs frame to show, and a display-friendly copy of it."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["run_name", "experiment", "status", "start_time", "duration"]
HIDDEN_TAG_PREFIXES = ("tags.mlflow.",)


def default_columns(runs: pd.DataFrame, max_metrics: int = 12, max_params: int = 12) -> list[str]:
    """Summary columns, then the first metrics and params (alphabetical), capped for wide stores."""
    columns = [c for c in SUMMARY_COLUMNS if c in runs.columns]
    columns += [c for c in runs.columns if c.startswith("metrics.")][:max_metrics]
    columns += [c for c in runs.columns if c.startswith("params.")][:max_params]
    return columns


def display_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for a table: naive UTC times, durations rounded, ±inf kept, text left as text."""
    frame = runs.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    if "duration" in frame.columns:
        frame["duration"] = frame["duration"].round(1)
    return frame.reset_index(drop=True)


def plottable(runs: pd.DataFrame) -> pd.DataFrame:
    """A copy ready for plots: metric columns hold only finite numbers (±inf, which MLflow stores as
    ±1.797e308, become NaN, so axis ranges stay meaningful) and params whose values all parse as
    numbers become floats (MLflow stores params as text)."""
    frame = runs.copy()
    metrics = [c for c in runs.columns if c.startswith("metrics.")]
    if metrics:
        values = runs[metrics].to_numpy(dtype=float, copy=True)
        values[~np.isfinite(values) | (np.abs(values) >= np.finfo(float).max)] = np.nan
        frame[metrics] = values
    for column in (c for c in runs.columns if c.startswith("params.")):
        numbers = pd.to_numeric(runs[column], errors="coerce")
        if numbers.notna().any() and numbers.notna().sum() == runs[column].notna().sum():
            frame[column] = numbers.astype(float)
    return frame
