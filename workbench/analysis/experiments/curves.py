"""Metric histories shaped for plotting: smoothing, x-axis choice, grouped mean ± band, line joins."""

from __future__ import annotations

import numpy as np
import pandas as pd

X_AXES = ("step", "relative time", "wall time")


def with_x(history: pd.DataFrame, x_axis: str = "step") -> pd.DataFrame:
    """``history`` (run_id, key, step, timestamp, value) with an ``x`` column for the chosen axis;
    non-finite values become NaN (gaps)."""
    frame = history.copy()
    values = frame["value"].to_numpy(dtype=float, copy=True)
    values[~np.isfinite(values) | (np.abs(values) >= np.finfo(float).max)] = np.nan  # MLflow stores ±inf as ±max
    frame["value"] = values
    if x_axis == "wall time":
        frame["x"] = pd.to_datetime(frame["timestamp"], unit="ms", utc=True).dt.tz_localize(None)
    elif x_axis == "relative time":
        start = frame.groupby("run_id")["timestamp"].transform("min")
        frame["x"] = (frame["timestamp"] - start) / 1000.0
    else:
        frame["x"] = frame["step"].astype(float)
    return frame.sort_values(["run_id", "key", "x"], kind="stable", ignore_index=True)


def smooth(frame: pd.DataFrame, weight: float) -> pd.DataFrame:
    """Exponential moving average per run and metric (TensorBoard-style; weight 0 = raw values)."""
    if weight <= 0 or frame.empty:
        return frame
    alpha = 1.0 - min(weight, 0.999)
    smoothed = frame.copy()
    smoothed["value"] = frame.groupby(["run_id", "key"], sort=False)["value"].transform(
        lambda s: s.ewm(alpha=alpha, adjust=True, ignore_na=True).mean())
    return smoothed


def joined_lines(frame: pd.DataFrame, x: str = "x", y: str = "value", by: str = "run_id") -> pd.DataFrame:
    """All curves in one frame with a NaN row between them: one glyph (or one raster) draws them all."""
    if frame.empty:
        return frame[[x, y]]
    groups = frame[by].to_numpy()
    breaks = np.r_[False, groups[1:] != groups[:-1]]
    positions = np.arange(len(frame)) + np.cumsum(breaks)
    size = len(frame) + int(breaks.sum())
    xs = frame[x].to_numpy()
    out_x = np.full(size, np.datetime64("NaT"), dtype=xs.dtype) if xs.dtype.kind == "M" else np.full(size, np.nan)
    out_y = np.full(size, np.nan)
    out_x[positions] = xs
    out_y[positions] = frame[y].to_numpy(dtype=float)
    return pd.DataFrame({x: out_x, y: out_y})


def group_band(frame: pd.DataFrame, runs: pd.DataFrame, by: str) -> pd.DataFrame:
    """Mean and ± one standard deviation of the value per group (a runs column) and x."""
    groups = runs.set_index("run_id")[by].astype(str)
    data = frame.assign(group=frame["run_id"].map(groups).fillna("(missing)"))
    stats = data.groupby(["group", "x"], sort=True)["value"].agg(["mean", "std", "count"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    stats["lower"] = stats["mean"] - stats["std"]
    stats["upper"] = stats["mean"] + stats["std"]
    return stats
