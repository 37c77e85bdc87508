"""Content diff of two versions of a table: schema changes and rows added/removed/changed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KEY_NAMES = ("id", "key", "uuid", "index", "row_id", "record_id")


@dataclass
class RowDiff:
    """Rows added, removed and changed between two versions, matched by ``key`` or by whole-row hash."""

    method: str  # "key" or "row-hash"
    key: str | None
    added: int
    removed: int
    changed: int
    unchanged: int
    rows_before: int
    rows_after: int
    compared_columns: list[str] = field(default_factory=list)
    changed_cells: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    added_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    removed_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed_before: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed_after: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed_mask: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = ""

    def counts(self) -> dict[str, int]:
        return {"rows before": self.rows_before, "rows after": self.rows_after, "added": self.added,
                "removed": self.removed, "changed": self.changed, "unchanged": self.unchanged}


def dtype_name(series: pd.Series) -> str:
    """A short, stable type name: int, float, bool, datetime, string, category."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    return "string"


def schema_diff(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per column of either version: change is added, removed, retyped or same."""
    rows = []
    for column in list(before.columns) + [c for c in after.columns if c not in before.columns]:
        old = dtype_name(before[column]) if column in before.columns else None
        new = dtype_name(after[column]) if column in after.columns else None
        change = ("added" if old is None else "removed" if new is None
                  else "retyped" if old != new else "same")
        rows.append({"column": str(column), "change": change, "type before": old, "type after": new})
    return pd.DataFrame(rows, columns=["column", "change", "type before", "type after"])


def guess_key(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
    """A column that looks like a row key (id-like name, unique and non-null in both versions)."""
    common = [c for c in before.columns if c in after.columns]
    named = [c for c in common if str(c).lower() in KEY_NAMES or str(c).lower().endswith("_id")]
    for column in named:
        if is_unique_key(before[column]) and is_unique_key(after[column]):
            return column
    return None


def is_unique_key(series: pd.Series) -> bool:
    return bool(series.notna().all() and series.is_unique)


def _comparable(before: pd.Series, after: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both columns as arrays that compare equal iff the values are equal (strings when retyped)."""
    if dtype_name(before) != dtype_name(after):
        return (before.astype("string").fillna("\0<NA>").to_numpy(dtype=object),
                after.astype("string").fillna("\0<NA>").to_numpy(dtype=object))
    return before.to_numpy(), after.to_numpy()


def _cells_differ(before: pd.Series, after: pd.Series) -> np.ndarray:
    old, new = _comparable(before, after)
    both_missing = pd.isna(old) & pd.isna(new)
    with np.errstate(invalid="ignore"):
        equal = np.asarray(old == new, dtype=bool)
    return ~(equal | both_missing)


def row_diff(before: pd.DataFrame, after: pd.DataFrame, key: str | None = None,
             sample: int = 50) -> RowDiff:
    """Rows added/removed/changed. With a unique ``key`` rows are matched by it; otherwise (or when
    the key is missing or not unique) by hashing whole rows over the shared columns."""
    note = ""
    if key is not None:
        if key not in before.columns or key not in after.columns:
            note = f"'{key}' is not a column of both versions: rows matched by whole-row hash."
            key = None
        elif not (is_unique_key(before[key]) and is_unique_key(after[key])):
            note = f"'{key}' is not a unique, non-null key in both versions: rows matched by whole-row hash."
            key = None
    if key is None:
        result = _hash_diff(before, after, sample)
    else:
        result = _key_diff(before, after, key, sample)
    result.note = note
    return result


def _key_diff(before: pd.DataFrame, after: pd.DataFrame, key: str, sample: int) -> RowDiff:
    old, new = before.set_index(key), after.set_index(key)
    columns = [c for c in new.columns if c in old.columns]
    in_old = new.index.isin(old.index)
    in_new = old.index.isin(new.index)
    common_new = new.loc[in_old, columns]
    common_old = old.loc[common_new.index, columns]
    mask = pd.DataFrame({c: _cells_differ(common_old[c], common_new[c]) for c in columns},
                        index=common_new.index, columns=columns)
    changed_rows = mask.any(axis=1).to_numpy() if columns else np.zeros(len(mask), dtype=bool)
    changed_idx = common_new.index[changed_rows]
    return RowDiff(
        method="key", key=key, added=int((~in_old).sum()), removed=int((~in_new).sum()),
        changed=int(changed_rows.sum()), unchanged=int((~changed_rows).sum()),
        rows_before=len(before), rows_after=len(after), compared_columns=[str(c) for c in columns],
        changed_cells=mask.sum().astype("int64"),
        added_rows=new.loc[~in_old].head(sample).reset_index(),
        removed_rows=old.loc[~in_new].head(sample).reset_index(),
        changed_before=common_old.loc[changed_idx[:sample]].reset_index(),
        changed_after=common_new.loc[changed_idx[:sample]].reset_index(),
        changed_mask=mask.loc[changed_idx[:sample]].reset_index(drop=True),
    )


def row_hashes(frame: pd.DataFrame, columns: list[str], retyped: set[str] = frozenset()) -> np.ndarray:
    """A uint64 hash per row over ``columns`` (retyped columns hashed as strings)."""
    if not columns:
        return np.zeros(len(frame), dtype="uint64")
    part = frame[columns].copy()
    for column in retyped:
        part[column] = part[column].astype("string")
    return pd.util.hash_pandas_object(part, index=False).to_numpy()


def _hash_diff(before: pd.DataFrame, after: pd.DataFrame, sample: int) -> RowDiff:
    columns = [c for c in after.columns if c in before.columns]
    retyped = {c for c in columns if dtype_name(before[c]) != dtype_name(after[c])}
    old, new = row_hashes(before, columns, retyped), row_hashes(after, columns, retyped)
    old_counts = pd.Series(old).value_counts()
    new_counts = pd.Series(new).value_counts()
    surplus_new = new_counts.sub(old_counts, fill_value=0).clip(lower=0)
    surplus_old = old_counts.sub(new_counts, fill_value=0).clip(lower=0)
    added, removed = int(surplus_new.sum()), int(surplus_old.sum())
    return RowDiff(
        method="row-hash", key=None, added=added, removed=removed, changed=0,
        unchanged=len(after) - added, rows_before=len(before), rows_after=len(after),
        compared_columns=[str(c) for c in columns],
        added_rows=after[~np.isin(new, old)].head(sample).reset_index(drop=True),
        removed_rows=before[~np.isin(old, new)].head(sample).reset_index(drop=True),
    )


def file_diff(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """File-level diff of two directory listings (relpath, md5, size): added, removed, modified."""
    merged = before.merge(after, on="relpath", how="outer", suffixes=(" before", " after"), indicator=True)
    change = np.select(
        [merged["_merge"] == "left_only", merged["_merge"] == "right_only",
         merged["md5 before"] != merged["md5 after"]],
        ["removed", "added", "modified"], default="unchanged")
    merged.insert(1, "change", change)
    return merged.drop(columns="_merge").sort_values(["change", "relpath"]).reset_index(drop=True)
