"""Nested runs: children listed right under their parent, names indented by depth."""

from __future__ import annotations

import pandas as pd

CHILD_MARK = "↳ "


def nest_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Reorder so each run's children follow it (depth-first, original order among siblings).

    Runs whose parent is not in the frame stay top-level. Child names get ``↳`` marks per level.
    """
    if runs is None or runs.empty or "parent_run_id" not in runs.columns or runs["parent_run_id"].isna().all():
        return runs
    ids = set(runs["run_id"])
    parents = runs["parent_run_id"].where(runs["parent_run_id"].isin(ids))
    children: dict[str, list[int]] = {}
    for position, parent in enumerate(parents):
        if isinstance(parent, str):
            children.setdefault(parent, []).append(position)
    order: list[int] = []
    depth: list[int] = []
    run_ids = runs["run_id"].tolist()
    stack = [(p, 0) for p in reversed(range(len(runs))) if not isinstance(parents.iloc[p], str)]
    seen: set[int] = set()
    while stack:
        position, level = stack.pop()
        if position in seen:
            continue
        seen.add(position)
        order.append(position)
        depth.append(level)
        stack += [(c, level + 1) for c in reversed(children.get(run_ids[position], []))]
    order += [p for p in range(len(runs)) if p not in seen]  # cycles: keep them, flat
    depth += [0] * (len(order) - len(depth))
    nested = runs.iloc[order].reset_index(drop=True)
    marks = pd.Series([CHILD_MARK * d for d in depth], dtype=object)
    nested["run_name"] = (marks + nested["run_name"].fillna("").astype(str)).where(marks != "", nested["run_name"])
    return nested
