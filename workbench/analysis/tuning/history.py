"""Optimisation history: completed trials' values and the best-so-far curve."""

from __future__ import annotations

import numpy as np
import pandas as pd


def completed(trials: pd.DataFrame, value_column: str) -> pd.DataFrame:
    """COMPLETE trials with a finite value in ``value_column``, sorted by number."""
    if trials.empty or value_column not in trials:
        return trials.iloc[0:0]
    mask = (trials["state"] == "COMPLETE").to_numpy() & np.isfinite(trials[value_column].to_numpy(dtype=float))
    return trials[mask].sort_values("number", kind="stable")


def best_so_far(trials: pd.DataFrame, value_column: str, direction: str) -> pd.DataFrame:
    """Columns number, value, best: the running best after each COMPLETE trial (by trial number)."""
    done = completed(trials, value_column)
    if done.empty:
        return pd.DataFrame({"number": pd.Series(dtype=np.int64), "value": pd.Series(dtype=float),
                             "best": pd.Series(dtype=float)})
    values = done[value_column].to_numpy(dtype=float)
    best = np.maximum.accumulate(values) if direction == "maximize" else np.minimum.accumulate(values)
    return pd.DataFrame({"number": done["number"].to_numpy(), "value": values, "best": best})


def best_steps(history: pd.DataFrame) -> pd.DataFrame:
    """Only the points where the best changes, plus the last trial: a step line sized by improvements."""
    if history.empty:
        return history[["number", "best"]]
    best = history["best"].to_numpy()
    changed = np.ones(len(best), dtype=bool)
    changed[1:] = best[1:] != best[:-1]
    changed[-1] = True
    return history.loc[changed, ["number", "best"]].reset_index(drop=True)


def best_trial_number(trials: pd.DataFrame, value_column: str, direction: str) -> int | None:
    """The number of the best COMPLETE trial (first one on ties, as Optuna does)."""
    done = completed(trials, value_column)
    if done.empty:
        return None
    values = done[value_column].to_numpy(dtype=float)
    index = int(np.argmax(values) if direction == "maximize" else np.argmin(values))
    return int(done["number"].iloc[index])
