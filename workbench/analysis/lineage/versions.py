"""Metrics per data version: runs joined to a dataset's version history by the md5 they trained on.

Inputs are frames only: a tidy runs frame (``MlflowSource.runs``), a Series run_id → md5
(``LineageSource.run_data_md5``) and a version history, oldest first (``LineageSource.versions``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "size", "time", "duration", "latency")
VERSION_COLUMNS = ["version", "order", "commit", "md5", "date", "message", "n_runs", "best", "median",
                   "best_run_id", "best_run_name", "delta", "helped"]
POINT_COLUMNS = ["run_id", "run_name", "version", "order", "value"]


def lower_is_better(metric: str) -> bool:
    """A guess from the metric's name: losses, errors, sizes and times are minimised."""
    name = metric.lower().removeprefix("metrics.")
    return any(word in name for word in LOWER_IS_BETTER)


def version_labels(history: pd.DataFrame) -> pd.Series:
    """A label per version: its first git tag, else its short commit."""
    tags = history["tags"].fillna("").astype(str).str.split(", ").str[0]
    return tags.where(tags != "", history["short"].astype(str))


def run_points(runs: pd.DataFrame, md5s: pd.Series, history: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per run that trained on a version of ``history`` and logged ``metric``."""
    column = metric if metric.startswith("metrics.") else f"metrics.{metric}"
    if column not in runs or history.empty or runs.empty:
        return pd.DataFrame(columns=POINT_COLUMNS)
    order = {md5: position for position, md5 in enumerate(history["md5"], start=1) if isinstance(md5, str)}
    labels = dict(zip(history["md5"], version_labels(history), strict=True))
    run_md5 = runs["run_id"].map(md5s)
    frame = pd.DataFrame({
        "run_id": runs["run_id"].to_numpy(), "run_name": runs["run_name"].to_numpy(),
        "version": run_md5.map(labels).to_numpy(), "order": run_md5.map(order).to_numpy(),
        "value": pd.to_numeric(runs[column], errors="coerce").to_numpy(),
    })
    frame = frame.dropna(subset=["order", "value"])
    frame["order"] = frame["order"].astype(int)
    return frame.sort_values(["order", "run_name"], kind="stable").reset_index(drop=True)


def metric_by_version(points: pd.DataFrame, history: pd.DataFrame, metric: str,
                      minimize: bool | None = None) -> pd.DataFrame:
    """Per version (oldest first): runs, best and median ``metric``, the best run, and whether the
    best improved on the previous version that has runs ("did the data change help?")."""
    minimize = lower_is_better(metric) if minimize is None else minimize
    labels = version_labels(history)
    rows, previous = [], None
    for position, (label, (_, version)) in enumerate(zip(labels, history.iterrows(), strict=True), start=1):
        values = points[points["order"] == position]
        row = {"version": label, "order": position, "commit": version["commit"], "md5": version["md5"],
               "date": version.get("date"), "message": version.get("message", ""), "n_runs": len(values),
               "best": np.nan, "median": np.nan, "best_run_id": None, "best_run_name": None,
               "delta": np.nan, "helped": pd.NA}
        if len(values):
            best = values.loc[values["value"].idxmin() if minimize else values["value"].idxmax()]
            row.update(best=float(best["value"]), median=float(values["value"].median()),
                       best_run_id=best["run_id"], best_run_name=best["run_name"])
            if previous is not None:
                row["delta"] = row["best"] - previous
                row["helped"] = bool(row["delta"] < 0 if minimize else row["delta"] > 0)
            previous = row["best"]
        rows.append(row)
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def shared_metrics(runs: pd.DataFrame, md5s: pd.Series) -> list[str]:
    """Metric names logged by runs on at least two distinct data versions (the chart's choices)."""
    linked = runs[runs["run_id"].map(md5s).notna().to_numpy()]
    names = []
    for column in (c for c in runs.columns if c.startswith("metrics.")):
        versions = linked.loc[linked[column].notna(), "run_id"].map(md5s).nunique()
        if versions >= 2:
            names.append(column[len("metrics."):])
    return sorted(names)
