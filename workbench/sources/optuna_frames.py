"""Assemble tidy trial frames from long (trial id, key, value) records — shared by every Optuna backend.

Column names follow ``optuna.Study.trials_dataframe``: ``number``, ``state``, ``value`` (single
objective) or ``values_0``.. (multi-objective), ``datetime_start``, ``datetime_complete``,
``duration``, ``params_<name>``, ``user_attrs_<key>``; plus ``trial_id`` (the storage's key).
Datetimes are naive UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    IntDistribution,
    json_to_distribution,
)

FINISHED_STATES = ("COMPLETE", "PRUNED", "FAIL")
STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")
PARAM_PREFIX = "params_"
USER_ATTR_PREFIX = "user_attrs_"
INTERMEDIATE_COLUMNS = ["trial_id", "number", "step", "value", "state"]


def value_columns(n_objectives: int) -> list[str]:
    """The objective column names of a study with ``n_objectives`` objectives."""
    return ["value"] if n_objectives == 1 else [f"values_{i}" for i in range(n_objectives)]


@dataclass
class RawTrials:
    """Long records of some trials, as read from a storage (before pivoting)."""

    trials: pd.DataFrame  # trial_id, number, state, datetime_start, datetime_complete
    values: pd.DataFrame  # trial_id, objective, value
    params: pd.DataFrame  # trial_id, param_name, param_value (internal repr), distribution_json
    user_attrs: pd.DataFrame  # trial_id, key, value_json
    intermediate: pd.DataFrame  # trial_id, step, value
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)


def empty_raw() -> RawTrials:
    return RawTrials(
        trials=pd.DataFrame(columns=["trial_id", "number", "state", "datetime_start", "datetime_complete"]),
        values=pd.DataFrame(columns=["trial_id", "objective", "value"]),
        params=pd.DataFrame(columns=["trial_id", "param_name", "param_value", "distribution_json"]),
        user_attrs=pd.DataFrame(columns=["trial_id", "key", "value_json"]),
        intermediate=pd.DataFrame(columns=["trial_id", "step", "value"]),
    )


def to_utc_naive(series: pd.Series) -> pd.Series:
    """Datetimes (strings, naive UTC or aware) as naive UTC ``datetime64``."""
    if len(series) == 0:
        return pd.Series(pd.to_datetime(series), dtype="datetime64[us]", index=series.index)
    converted = pd.to_datetime(series, utc=True, format="ISO8601")
    return converted.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")


def _external_params(params: pd.DataFrame, cache: dict[str, BaseDistribution]) -> tuple[pd.Series, dict[str, BaseDistribution]]:
    """External parameter values (categorical indices → choices), and each param's last distribution."""
    external = pd.Series(np.empty(len(params), dtype=object), index=params.index)
    latest: dict[str, BaseDistribution] = {}
    for dist_json, group in params.groupby("distribution_json", sort=False):
        dist = cache.get(dist_json)
        if dist is None:
            dist = cache[dist_json] = json_to_distribution(dist_json)
        raw = group["param_value"].to_numpy(dtype=float)
        if isinstance(dist, CategoricalDistribution):
            choices = np.empty(len(dist.choices), dtype=object)
            choices[:] = list(dist.choices)
            external.loc[group.index] = choices[raw.astype(int)]
        elif isinstance(dist, IntDistribution):
            external.loc[group.index] = raw.round().astype(np.int64)
        else:
            external.loc[group.index] = raw
        for name in group["param_name"].unique():
            latest[name] = dist
    return external, latest


def _column(values: pd.Series) -> pd.Series:
    """A float column where every value is a number (not bool), else an object column (None ≠ NaN)."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("floating", "integer", "mixed-integer-float", "decimal", "empty") and not any(
            v is None for v in values):
        return pd.to_numeric(values, errors="coerce").astype(float)
    return values.astype(object)


def _wide(long: pd.DataFrame, key: str, value: pd.Series, prefix: str, index: pd.Index) -> dict[str, pd.Series]:
    """Pivot (trial_id, key, value) records into one column per key, aligned on ``index`` (trial ids)."""
    columns: dict[str, pd.Series] = {}
    for name, group in long.assign(_v=value).groupby(key, sort=True):
        column = pd.Series(np.full(len(index), np.nan, dtype=object), index=index)  # NaN: not set
        positions = index.get_indexer(group["trial_id"])
        keep = positions >= 0
        column.iloc[positions[keep]] = group["_v"].to_numpy(dtype=object)[keep]
        columns[f"{prefix}{name}"] = _column(column)
    return columns


def assemble(raw: RawTrials, n_objectives: int, dist_cache: dict[str, BaseDistribution]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trials frame, intermediate-values frame) from raw records; one row per trial, sorted by number."""
    trials = raw.trials.sort_values("trial_id").reset_index(drop=True)
    ids = pd.Index(trials["trial_id"].astype(np.int64))
    frame = pd.DataFrame({
        "number": trials["number"].astype(np.int64).to_numpy(),
        "trial_id": ids.to_numpy(),
        "state": trials["state"].astype(str).to_numpy(),
    })
    for i, column in enumerate(value_columns(n_objectives)):
        vals = raw.values[raw.values["objective"] == i]
        col = np.full(len(ids), np.nan)
        positions = ids.get_indexer(vals["trial_id"])
        keep = positions >= 0
        col[positions[keep]] = vals["value"].to_numpy(dtype=float)[keep]
        frame[column] = col
    frame["datetime_start"] = to_utc_naive(trials["datetime_start"]).to_numpy()
    frame["datetime_complete"] = to_utc_naive(trials["datetime_complete"]).to_numpy()
    frame["duration"] = frame["datetime_complete"] - frame["datetime_start"]
    extra: dict[str, pd.Series] = {}
    if len(raw.params):
        external, latest = _external_params(raw.params, dist_cache)
        raw.distributions.update(latest)
        extra.update(_wide(raw.params, "param_name", external, PARAM_PREFIX, ids))
    if len(raw.user_attrs):
        decoded = raw.user_attrs["value_json"].map(decode_json)
        extra.update(_wide(raw.user_attrs, "key", decoded, USER_ATTR_PREFIX, ids))
    for name, column in extra.items():
        frame[name] = pd.Series(column.to_numpy(), dtype=column.dtype)  # keeps object (None ≠ NaN)
    frame = frame.sort_values("number", kind="stable").reset_index(drop=True)
    return frame, intermediate_frame(raw.intermediate, frame)


def intermediate_frame(intermediate: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """Long intermediate values with the trial's number and state, sorted by (number, step)."""
    if len(intermediate) == 0:
        return pd.DataFrame({
            "trial_id": pd.Series(dtype=np.int64), "number": pd.Series(dtype=np.int64),
            "step": pd.Series(dtype=np.int64), "value": pd.Series(dtype=float), "state": pd.Series(dtype=object),
        })
    lookup = trials.set_index("trial_id")
    ids = intermediate["trial_id"].astype(np.int64)
    out = pd.DataFrame({
        "trial_id": ids.to_numpy(),
        "number": lookup["number"].reindex(ids).to_numpy(),
        "step": intermediate["step"].astype(np.int64).to_numpy(),
        "value": intermediate["value"].astype(float).to_numpy(),
        "state": lookup["state"].reindex(ids).to_numpy(),
    })
    return out.sort_values(["number", "step"], kind="stable").reset_index(drop=True)


def decode_json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def combine(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate trial frames (columns unioned), sorted by number."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["number", "trial_id", "state"])
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    out = pd.concat(frames, ignore_index=True, sort=False)
    return out.sort_values("number", kind="stable").reset_index(drop=True)


def empty_trials(n_objectives: int) -> pd.DataFrame:
    """The trials frame of a study without trials (all standard columns, no rows)."""
    columns = {"number": np.int64, "trial_id": np.int64, "state": object,
               **dict.fromkeys(value_columns(n_objectives), float),
               "datetime_start": "datetime64[us]", "datetime_complete": "datetime64[us]", "duration": "timedelta64[us]"}
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def param_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(PARAM_PREFIX)]


def param_names(frame: pd.DataFrame) -> list[str]:
    return [c[len(PARAM_PREFIX):] for c in param_columns(frame)]
