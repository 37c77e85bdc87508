"""Everything the Compare view shows about two versions of a table, in one call."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.analysis.data_versions.diff import RowDiff, guess_key, row_diff, schema_diff
from workbench.analysis.data_versions.drift import drift_table
from workbench.analysis.data_versions.stats import stats_comparison


@dataclass
class VersionComparison:
    """Schema changes, row changes, statistics before/after and ranked drift of two versions."""

    schema: pd.DataFrame
    rows: RowDiff
    stats: pd.DataFrame
    drift: pd.DataFrame


def compare_tables(before: pd.DataFrame, after: pd.DataFrame, key: str | None = "auto",
                   sample: int = 50) -> VersionComparison:
    """Compare two versions; ``key="auto"`` guesses an id-like key, None forces whole-row hashing."""
    if key == "auto":
        key = guess_key(before, after)
    rows = row_diff(before, after, key=key, sample=sample)
    exclude = (rows.key,) if rows.key else ()
    return VersionComparison(schema=schema_diff(before, after), rows=rows,
                             stats=stats_comparison(before, after), drift=drift_table(before, after, exclude))


def changed_cells_frame(rows: RowDiff) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample of changed rows as text (``old → new`` in changed cells) and a same-shaped mask."""
    if rows.changed_after.empty:
        return pd.DataFrame(), pd.DataFrame()
    key = rows.key
    text = rows.changed_after.astype("string").fillna("")
    old = rows.changed_before.astype("string").fillna("")
    mask = pd.DataFrame(False, index=text.index, columns=text.columns)
    for column in rows.changed_mask.columns:
        changed = rows.changed_mask[column].to_numpy()
        mask[column] = changed
        text.loc[changed, column] = old.loc[changed, column] + " → " + text.loc[changed, column]
    if key is not None:
        mask[key] = False
    return text, mask
