"""Mean of a metric over a grid of two numeric columns (the data behind a contour plot)."""

from __future__ import annotations

import numpy as np


def binned_mean(x: np.ndarray, y: np.ndarray, z: np.ndarray, bins: int = 24) -> tuple[np.ndarray, tuple]:
    """(bins × bins array of mean z, (x0, y0, x1, y1) bounds); empty cells are NaN, row 0 at the bottom."""
    x, y, z = (np.asarray(a, dtype=float) for a in (x, y, z))
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
    x, y, z = x[keep], y[keep], z[keep]
    if len(x) == 0:
        return np.full((bins, bins), np.nan), (0.0, 0.0, 1.0, 1.0)
    x_edges = np.linspace(x.min(), x.max() if x.max() > x.min() else x.min() + 1, bins + 1)
    y_edges = np.linspace(y.min(), y.max() if y.max() > y.min() else y.min() + 1, bins + 1)
    sums, _, _ = np.histogram2d(y, x, bins=[y_edges, x_edges], weights=z)
    counts, _, _ = np.histogram2d(y, x, bins=[y_edges, x_edges])
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = np.where(counts > 0, sums / counts, np.nan)
    return grid, (x_edges[0], y_edges[0], x_edges[-1], y_edges[-1])
