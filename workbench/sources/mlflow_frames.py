"""Turn raw run rows (infos + long params/metrics/tags) into the tidy one-row-per-run frame.

Column layout of the tidy frame::

    run_id, run_name, experiment_id, experiment, status, start_time, end_time, duration,
    artifact_uri, parent_run_id, metrics.<key>..., params.<key>..., tags.<key>...

Times are UTC timestamps, ``duration`` is in seconds (NaN while a run has no end time), metrics are
the latest value per key (as ``mlflow.search_runs`` returns them), params and tags are strings (missing: NaN, like ``mlflow.search_runs``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

INFO_COLUMNS = ["run_id", "run_name", "experiment_id", "status", "start_time", "end_time", "artifact_uri"]
LONG_COLUMNS = ["run_id", "key", "value"]
BASE_COLUMNS = ["run_id", "run_name", "experiment_id", "experiment", "status", "start_time", "end_time",
                "duration", "artifact_uri", "parent_run_id"]
PREFIXES = ("metrics.", "params.", "tags.")
PARENT_TAG = "mlflow.parentRunId"


@dataclass
class RunBatch:
    """Raw rows of some runs: ``infos`` (INFO_COLUMNS, times in epoch ms) and long key/value frames."""

    infos: pd.DataFrame
    params: pd.DataFrame
    metrics: pd.DataFrame
    tags: pd.DataFrame


def _wide(data: pd.DataFrame, prefix: str, index: pd.Index, numeric: bool) -> pd.DataFrame:
    """One column per key: from a long (run_id, key, value) frame, or an already wide one (index run_id)."""
    if data.empty:
        return pd.DataFrame(index=index)
    if "key" in data.columns:
        rows = index.get_indexer(data["run_id"])
        columns, keys = pd.factorize(data["key"])
        keep = rows >= 0
        matrix = np.full((len(index), len(keys)), np.nan if numeric else None, dtype=float if numeric else object)
        matrix[rows[keep], columns[keep]] = data["value"].to_numpy()[keep]
        wide = pd.DataFrame(matrix, index=index, columns=list(keys))
    else:
        wide = data.reindex(index)
    wide = wide[sorted(wide.columns)]
    wide.columns = [f"{prefix}{key}" for key in wide.columns]
    if numeric:
        return wide.astype(float)
    return wide.astype("str")


def assemble_runs(batch: RunBatch, experiment_names: dict[str, str]) -> pd.DataFrame:
    """The tidy frame of ``batch``, newest run first (MLflow's default order)."""
    infos = batch.infos
    index = pd.Index(infos["run_id"], name="run_id")
    start = pd.to_datetime(infos["start_time"].astype("Int64"), unit="ms", utc=True)
    end = pd.to_datetime(infos["end_time"].astype("Int64"), unit="ms", utc=True)
    base = pd.DataFrame({
        "run_id": infos["run_id"].to_numpy(),
        "run_name": infos["run_name"].to_numpy(),
        "experiment_id": infos["experiment_id"].astype(str).to_numpy(),
        "experiment": infos["experiment_id"].astype(str).map(experiment_names).to_numpy(),
        "status": infos["status"].to_numpy(),
        "start_time": start.to_numpy(),
        "end_time": end.to_numpy(),
        "duration": ((end - start).dt.total_seconds()).to_numpy(dtype=float, na_value=np.nan),
        "artifact_uri": infos["artifact_uri"].to_numpy(),
    }, index=index)
    tags = _wide(batch.tags, "tags.", index, numeric=False)
    parent = tags.get(f"tags.{PARENT_TAG}")
    base["parent_run_id"] = parent if parent is not None else pd.Series(pd.NA, index=index, dtype="str")
    frame = pd.concat([base, _wide(batch.metrics, "metrics.", index, numeric=True),
                       _wide(batch.params, "params.", index, numeric=False), tags], axis=1)
    return order_runs(frame.reset_index(drop=True))


def order_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical column order (base, then sorted metrics/params/tags) and row order."""
    columns = [c for c in BASE_COLUMNS if c in frame.columns]
    for prefix in PREFIXES:
        columns += sorted(c for c in frame.columns if c.startswith(prefix))
    frame = frame[columns]
    if frame.empty:
        return frame.reset_index(drop=True)
    order = frame.assign(_start=frame["start_time"]).sort_values(
        ["_start", "run_id"], ascending=[False, True], na_position="last", kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def combine_runs(fresh: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """Re-read runs (``fresh``) plus unchanged cached runs (``kept``), columns unioned."""
    if kept.empty:
        return order_runs(fresh)
    if fresh.empty:
        return order_runs(kept)
    frame = pd.concat([fresh, kept], ignore_index=True, sort=False)
    text = [c for c in frame.columns if c.startswith(("params.", "tags."))]
    frame[text] = frame[text].astype("str")
    return order_runs(frame)


def empty_runs() -> pd.DataFrame:
    """A tidy frame with no runs."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in BASE_COLUMNS})
