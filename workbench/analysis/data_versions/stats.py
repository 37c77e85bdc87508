"""Per-column summary statistics of a version, and before/after side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.data_versions.diff import dtype_name

STAT_NAMES = ["type", "count", "nulls", "unique", "mean", "std", "min", "max", "top"]


def column_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: type, count, nulls, unique, mean/std/min/max (numeric) or top value."""
    rows = []
    for column in frame.columns:
        series = frame[column]
        kind = dtype_name(series)
        row = {"column": str(column), "type": kind, "count": int(series.notna().sum()),
               "nulls": int(series.isna().sum()), "unique": int(series.nunique(dropna=True)),
               "mean": np.nan, "std": np.nan, "min": np.nan, "max": np.nan, "top": None}
        if kind in ("int", "float") and row["count"]:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            row.update(mean=float(np.nanmean(values)), std=float(np.nanstd(values, ddof=1)) if row["count"] > 1 else np.nan,
                       min=float(np.nanmin(values)), max=float(np.nanmax(values)))
        elif row["count"]:
            row["top"] = str(series.mode(dropna=True).iloc[0])
        rows.append(row)
    return pd.DataFrame(rows, columns=["column", *STAT_NAMES])


def stats_comparison(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Statistics before and after for every column of either version (``<stat> before/after``)."""
    old, new = column_stats(before).set_index("column"), column_stats(after).set_index("column")
    columns = list(old.index) + [c for c in new.index if c not in old.index]
    merged = pd.DataFrame(index=pd.Index(columns, name="column"))
    for stat in STAT_NAMES:
        merged[f"{stat} before"] = old[stat].reindex(columns)
        merged[f"{stat} after"] = new[stat].reindex(columns)
    return merged.reset_index()
