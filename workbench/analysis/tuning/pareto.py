"""Pareto fronts of multi-objective studies: the same set as ``optuna.Study.best_trials``, vectorised."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def loss_matrix(trials: pd.DataFrame, value_columns: Sequence[str], directions: Sequence[str]) -> np.ndarray:
    """Objective values as losses (maximised objectives negated)."""
    values = trials[list(value_columns)].to_numpy(dtype=float)
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return values * signs


def is_pareto_front(losses: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows (duplicates of a front point are on the front too)."""
    n = len(losses)
    if n == 0:
        return np.zeros(0, dtype=bool)
    unique, inverse = np.unique(losses, axis=0, return_inverse=True)  # lexsorted
    inverse = inverse.reshape(-1)
    if unique.shape[1] == 2:
        # Lexsorted by (f0, f1): a point is on the front iff its f1 beats every point before it.
        f1 = unique[:, 1]
        running_min = np.minimum.accumulate(f1)
        on_front = np.ones(len(unique), dtype=bool)
        on_front[1:] = f1[1:] < running_min[:-1]
    else:
        on_front = np.ones(len(unique), dtype=bool)
        for i in range(len(unique)):
            if not on_front[i]:
                continue
            dominated = np.all(unique[i] <= unique, axis=1) & np.any(unique[i] < unique, axis=1)
            on_front &= ~dominated
    return on_front[inverse]


def pareto_front(trials: pd.DataFrame, value_columns: Sequence[str], directions: Sequence[str]) -> pd.DataFrame:
    """COMPLETE trials on the Pareto front, sorted by number."""
    done = trials[trials["state"] == "COMPLETE"]
    if done.empty:
        return done
    mask = is_pareto_front(loss_matrix(done, value_columns, directions))
    return done[mask].sort_values("number")
