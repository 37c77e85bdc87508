"""How much of a workspace's lineage resolves: counts of linked / missing / absent links per kind."""

from __future__ import annotations

import pandas as pd

STATUSES = ("linked", "missing", "absent")
COVERAGE_COLUMNS = ["kind", *STATUSES, "recorded", "resolved_pct"]


def coverage(table: pd.DataFrame, kinds: tuple[str, ...] = ("data", "trial", "model", "explanation")) -> pd.DataFrame:
    """One row per link kind of a lineage table (``LineageSource.lineage_table``).

    ``recorded`` counts links something was logged for (linked + missing); ``resolved_pct`` is the
    share of those that resolve (100 when nothing is broken; NaN when nothing was recorded).
    """
    rows = []
    for kind in kinds:
        counts = table[f"{kind}_status"].value_counts() if f"{kind}_status" in table else pd.Series(dtype=int)
        row = {"kind": kind, **{status: int(counts.get(status, 0)) for status in STATUSES}}
        row["recorded"] = row["linked"] + row["missing"]
        row["resolved_pct"] = 100.0 * row["linked"] / row["recorded"] if row["recorded"] else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
