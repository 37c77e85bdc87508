"""Quality checks of one version (nulls, duplicates, ranges, unique keys, type consistency) and trends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.data_versions.diff import dtype_name

CHECK_COLUMNS = ["check", "column", "status", "value", "detail"]
NULL_FAIL = 0.5
NUMERIC_LIKE_WARN = 0.9


def _check(check: str, column: str, status: str, value: float, detail: str) -> dict:
    return {"check": check, "column": column, "status": status, "value": value, "detail": detail}


def quality_checks(frame: pd.DataFrame, key: str | None = None) -> pd.DataFrame:
    """Pass/warn/fail checks of one version of a table."""
    rows = []
    duplicates = int(frame.duplicated().sum())
    rows.append(_check("duplicate rows", "(all)", "pass" if duplicates == 0 else "warn", duplicates,
                       f"{duplicates} of {len(frame)} rows repeat an earlier row"))
    if key is not None and key in frame.columns:
        repeated, missing = int(frame[key].duplicated().sum()), int(frame[key].isna().sum())
        ok = repeated == 0 and missing == 0
        rows.append(_check("unique key", str(key), "pass" if ok else "fail", repeated + missing,
                           f"{repeated} repeated and {missing} missing key values"))
    for column in frame.columns:
        series = frame[column]
        name = str(column)
        rate = float(series.isna().mean()) if len(series) else 0.0
        status = "pass" if rate == 0 else "fail" if rate >= NULL_FAIL else "warn"
        rows.append(_check("nulls", name, status, rate, f"{rate:.1%} missing"))
        kind = dtype_name(series)
        if kind in ("int", "float"):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            finite = values[np.isfinite(values)]
            infinite = int(np.isinf(values).sum())
            detail = f"{finite.min():g} … {finite.max():g}" if len(finite) else "no finite values"
            rows.append(_check("range", name, "warn" if infinite or not len(finite) else "pass",
                               infinite, detail + (f"; {infinite} infinite" if infinite else "")))
        elif kind == "string":
            present = series.dropna().astype("string")
            numeric = pd.to_numeric(present, errors="coerce").notna().mean() if len(present) else 0.0
            mixed = 0 < numeric < 1 and numeric >= NUMERIC_LIKE_WARN
            rows.append(_check("type consistency", name, "warn" if mixed else "pass", float(numeric),
                               f"{numeric:.1%} of values look numeric" if mixed else "consistent text"))
        if len(series) > 1 and series.nunique(dropna=True) <= 1:
            rows.append(_check("constant", name, "warn", 1, "a single distinct value"))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def quality_trend(versions: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Null rate per column, rows and duplicate rows for each (label, frame), oldest first (long form)."""
    rows = []
    for order, (label, frame) in enumerate(versions):
        rows.append({"order": order, "version": label, "column": "(rows)", "metric": "rows", "value": float(len(frame))})
        rows.append({"order": order, "version": label, "column": "(all)", "metric": "duplicate rows",
                     "value": float(frame.duplicated().sum())})
        rates = frame.isna().mean() if len(frame) else pd.Series(0.0, index=frame.columns)
        rows += [{"order": order, "version": label, "column": str(c), "metric": "null rate", "value": float(r)}
                 for c, r in rates.items()]
    return pd.DataFrame(rows, columns=["order", "version", "column", "metric", "value"])
