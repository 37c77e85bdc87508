"""Side-by-side comparison of selected runs: params and metrics as rows, runs as columns."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

LOWER_IS_BETTER = re.compile(r"loss|err|mse|mae|rmse|mape|time|latency|size|cost|perplexity", re.IGNORECASE)


def metric_direction(metric: str) -> str:
    """'min' for losses/errors/durations, else 'max' (overridable per metric by the user)."""
    return "min" if LOWER_IS_BETTER.search(metric) else "max"


def run_labels(runs: pd.DataFrame) -> list[str]:
    """Unique column labels for runs: the run name, suffixed with a short id when names repeat."""
    names = runs["run_name"].fillna("").astype(str).tolist()
    ids = runs["run_id"].astype(str).tolist()
    counts = pd.Series(names).value_counts()
    return [f"{n} ({i[:7]})" if counts[n] > 1 or not n else n for n, i in zip(names, ids, strict=True)]


def diff_runs(runs: pd.DataFrame, run_ids: Sequence[str], only_differences: bool = False,
              include_tags: bool = False) -> pd.DataFrame:
    """Rows: ``params.*`` / ``metrics.*`` (and tags), columns: the selected runs in selection order."""
    chosen = runs.set_index("run_id").reindex(list(run_ids)).dropna(how="all").reset_index()
    prefixes = ("params.", "metrics.", "tags.") if include_tags else ("params.", "metrics.")
    fields = [c for c in runs.columns if c.startswith(prefixes) and chosen[c].notna().any()]
    table = chosen[fields].T
    table.columns = run_labels(chosen)
    table.index.name = "field"
    if only_differences and len(table.columns) > 1:
        table = table[differs(table)]
    return table


def best_per_metric(table: pd.DataFrame, directions: Mapping[str, str] | None = None) -> dict[str, str]:
    """{metric row: column label of the best run} for the ``metrics.*`` rows of a diff table."""
    directions = dict(directions or {})
    best = {}
    for field in table.index:
        if not field.startswith("metrics."):
            continue
        values = pd.to_numeric(table.loc[field], errors="coerce")
        if values.notna().sum() == 0:
            continue
        key = field[len("metrics."):]
        direction = directions.get(key, metric_direction(key))
        best[field] = values.idxmin() if direction == "min" else values.idxmax()
    return best


def differs(table: pd.DataFrame) -> np.ndarray:
    """Boolean per row: do the runs disagree on this field?"""
    as_text = table.astype(object).where(table.notna(), "\0missing").astype(str)
    return (as_text.nunique(axis=1) > 1).to_numpy()
