"""Line rasterisation in plain numpy: thousands of curves into one small image, with no JIT warm-up.

Datashader's line kernels are compiled by numba on first use (~6 s per kernel on 2 cores), which a
cold process cannot afford for its first screen. These samplers evaluate every line once per pixel
column (linear interpolation) and count hits per pixel: a density image, cheap in numpy.
"""

from __future__ import annotations

import numpy as np


def _accumulate(rows: np.ndarray, cols: np.ndarray, width: int, height: int,
                weights: np.ndarray | None) -> np.ndarray:
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    cells = rows[inside] * width + cols[inside]
    counts = np.bincount(cells, minlength=width * height).astype(float)
    if weights is None:
        return counts.reshape(height, width)
    sums = np.bincount(cells, weights=weights[inside], minlength=width * height)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan).reshape(height, width)


def rasterize_parallel(values: np.ndarray, width: int, height: int, weights: np.ndarray | None = None,
                       y_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """(height, width) image of parallel-coordinate lines; ``values`` is (rows, axes) in ``y_range``.

    Axis i sits at x = i (image spans x in [0, axes - 1]); row 0 of the image is the bottom. With
    ``weights`` (one per row) each pixel holds the mean weight of the lines crossing it. Each segment
    between two axes is sampled once per pixel column and counted straight into the image.
    """
    values = np.asarray(values, dtype=float)
    n_rows, n_axes = values.shape
    scale = (height - 1) / ((y_range[1] - y_range[0]) or 1.0)
    pixel_rows = (values - y_range[0]) * scale
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        keep = np.isfinite(weights)
        pixel_rows, weights = pixel_rows[keep], weights[keep]
    columns = np.arange(width)
    x_of_column = columns * (max(n_axes - 1, 1) / max(width - 1, 1))
    counts = np.zeros(width * height)
    sums = np.zeros(width * height) if weights is not None else None
    for axis in range(max(n_axes - 1, 1)):
        chosen = columns[(x_of_column >= axis) & ((x_of_column < axis + 1) | (axis == n_axes - 2))]
        if n_axes == 1:
            chosen = columns
        t = x_of_column[chosen] - axis
        start = pixel_rows[:, axis]
        end = pixel_rows[:, min(axis + 1, n_axes - 1)]
        rows = np.rint(start[:, None] + (end - start)[:, None] * t[None, :])  # (lines, columns)
        inside = (rows >= 0) & (rows < height)  # False for NaN
        cells = np.where(inside, rows, 0).astype(np.int64) * width + chosen[None, :]
        hit = cells[inside]
        counts += np.bincount(hit, minlength=width * height)
        if sums is not None:
            sums += np.bincount(hit, weights=np.broadcast_to(weights[:, None], rows.shape)[inside],
                                minlength=width * height)
    if sums is None:
        return counts.reshape(height, width)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan).reshape(height, width)


def rasterize_curves(x: np.ndarray, y: np.ndarray, group: np.ndarray, x_range: tuple[float, float],
                     y_range: tuple[float, float], width: int, height: int) -> np.ndarray:
    """(height, width) count image of curves given as points sorted by (group, x)."""
    x, y, group = np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(group)
    if len(x) == 0:
        return np.zeros((height, width))
    grid = np.linspace(x_range[0], x_range[1], width)
    scale = (height - 1) / ((y_range[1] - y_range[0]) or 1.0)
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    all_rows, all_cols = [], []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        cx, cy = x[start:stop], y[start:stop]
        keep = np.isfinite(cx) & np.isfinite(cy)
        cx, cy = cx[keep], cy[keep]
        if len(cx) == 0:
            continue
        columns = np.flatnonzero((grid >= cx[0]) & (grid <= cx[-1]))
        if len(columns) == 0:
            columns = np.array([int(np.argmin(np.abs(grid - cx[0])))])
        rows = np.rint((np.interp(grid[columns], cx, cy) - y_range[0]) * scale).astype(np.int64)
        all_rows.append(rows)
        all_cols.append(columns)
    if not all_rows:
        return np.zeros((height, width))
    return _accumulate(np.concatenate(all_rows), np.concatenate(all_cols), width, height, None)
