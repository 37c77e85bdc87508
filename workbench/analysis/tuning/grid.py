"""Aggregations that make plots scale with pixels: a 2-D grid of the best objective (contour)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def axis_codes(values: pd.Series, bins: int, log: bool = False) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(bin index per row, bin edges in data units, category labels or None) for one parameter."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().sum() == values.notna().sum() and values.notna().any() and values.dtype != object:
        data = numeric.to_numpy(dtype=float)
        low, high = np.nanmin(data), np.nanmax(data)
        finite = data[np.isfinite(data)]
        if np.all(finite == np.round(finite)) and high - low + 1 <= bins:  # few integers: one cell each
            edges = np.arange(low - 0.5, high + 1.0, 1.0)
            index = np.where(np.isnan(data), -1, np.clip(np.round(data - low), 0, len(edges) - 2)).astype(int)
            return index, edges, None
        if log and low > 0:
            edges = np.logspace(np.log10(low), np.log10(high) if high > low else np.log10(low) + 1, bins + 1)
        else:
            edges = np.linspace(low, high if high > low else low + 1, bins + 1)
        index = np.clip(np.searchsorted(edges, data, side="right") - 1, 0, bins - 1)
        index = np.where(np.isnan(data), -1, index)
        return index, edges, None
    labels = values.map(lambda v: "None" if v is None else str(v))
    categories = sorted(labels[values.notna() | values.map(lambda v: v is None)].unique())
    index = pd.Categorical(labels, categories=categories).codes.astype(int)
    return index, np.arange(len(categories) + 1, dtype=float) - 0.5, categories


def best_grid(trials: pd.DataFrame, x: str, y: str, value: str, direction: str, bins: int = 40,
              log_x: bool = False, log_y: bool = False) -> dict:
    """The best objective per (x bin, y bin) over COMPLETE trials: a bins×bins array (NaN where empty)."""
    done = trials[(trials["state"] == "COMPLETE") & np.isfinite(trials[value].to_numpy(dtype=float))]
    ix, x_edges, x_labels = axis_codes(done[x], bins, log_x)
    iy, y_edges, y_labels = axis_codes(done[y], bins, log_y)
    nx, ny = len(x_edges) - 1, len(y_edges) - 1
    grid = np.full((ny, nx), np.nan)
    keep = (ix >= 0) & (iy >= 0)
    values = done[value].to_numpy(dtype=float)[keep]
    flat = iy[keep] * nx + ix[keep]
    if len(values):
        order = np.argsort(-values if direction == "maximize" else values, kind="stable")
        first = np.unique(flat[order], return_index=True)
        grid.flat[first[0]] = values[order][first[1]]
    return {"grid": grid, "x_edges": x_edges, "y_edges": y_edges, "x_labels": x_labels, "y_labels": y_labels,
            "n": int(keep.sum())}


def value_rank(values: np.ndarray, direction: str) -> np.ndarray:
    """Rank of each value as a fraction in [0, 1] (0 = best)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    order = pd.Series(-values if direction == "maximize" else values).rank(method="average").to_numpy()
    return (order - 1) / max(len(values) - 1, 1)
