"""Parallel coordinates for any DataFrame: lines when few, a datashader raster when many (100k rows).

``parallel_coordinates(frame, dimensions, color)`` returns a HoloViews overlay; each dimension is
scaled to [0, 1] on its own vertical axis (categories evenly spaced, log scale on request) and
labelled with its range. Up to ``line_budget`` rows are drawn as Bokeh lines coloured by ``color``;
above, the lines are aggregated into pixels (mean of ``color`` per pixel), so the payload is sized by
the plot, not by the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the Bokeh backend for .opts()
import numpy as np
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

LINE_BUDGET = 2_000
RASTER_SIZE = (640, 260)
NUMBA_ROWS = 250_000  # above this many lines datashader's JIT-compiled drawing pays for its warm-up


def scale_dimension(values: pd.Series, log: bool = False) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Values scaled to [0, 1] and (position, label) ticks for the axis."""
    numeric = pd.to_numeric(values, errors="coerce") if values.dtype == object else values
    is_numeric = pd.api.types.is_numeric_dtype(numeric) and not pd.api.types.is_bool_dtype(numeric) and (
        numeric.notna().sum() == values.notna().sum())
    if is_numeric:
        data = numeric.to_numpy(dtype=float)
        if log and np.nanmin(data) > 0:
            data = np.log10(data)
        low, high = np.nanmin(data) if np.isfinite(data).any() else 0.0, np.nanmax(data) if np.isfinite(data).any() else 1.0
        span = (high - low) or 1.0
        scaled = (data - low) / span
        fmt = (lambda v: f"{10 ** v:.3g}") if log and np.nanmin(numeric) > 0 else (lambda v: f"{v:.4g}")
        return scaled, [(0.0, fmt(low)), (1.0, fmt(high))]
    labels = values.map(lambda v: "None" if v is None else str(v))
    labels = labels.where(values.notna() | values.map(lambda v: v is None), other=np.nan)
    categories = sorted(labels.dropna().unique())
    codes = pd.Categorical(labels, categories=categories).codes.astype(float)
    codes[codes < 0] = np.nan
    denominator = max(len(categories) - 1, 1)
    return codes / denominator, [(i / denominator, c) for i, c in enumerate(categories)]


def raster_polylines(values: np.ndarray, colour: np.ndarray | None, size: tuple[int, int],
                     y_range: tuple[float, float] = (0.0, 1.0), chunk: int = 4_096) -> np.ndarray:
    """Rasterise polylines through x = 0..k-1 (one row of ``values`` each) into a height×width float32 grid.

    Each pixel holds the mean ``colour`` of the lines crossing it (or their count without ``colour``),
    NaN where none does. Plain numpy (no JIT warm-up): lines are sampled at every pixel column.
    """
    width, height = size
    n, k = values.shape
    cells = (height + 1) * width  # one extra row collects the samples of missing values
    sums = np.zeros(cells)
    counts = np.zeros(cells)
    if k < 2 or n == 0:
        return np.full((height, width), np.nan, dtype=np.float32)
    columns = np.arange(width)
    x = columns / (width - 1) * (k - 1)
    segment = np.minimum(x.astype(int), k - 2)
    t = (x - segment).astype(np.float32)
    low, high = y_range
    scale = (height - 1) / (high - low)
    for start in range(0, n, chunk):
        part = values[start:start + chunk].astype(np.float32)
        y = part[:, segment] * (1 - t) + part[:, segment + 1] * t  # lines × columns
        rows = np.rint((y - low) * scale)
        rows = np.where(np.isfinite(rows), np.clip(rows, 0, height - 1), height).astype(np.int64)
        flat = (rows * width + columns).ravel()
        counts += np.bincount(flat, minlength=cells)
        if colour is not None:
            weights = np.repeat(np.nan_to_num(colour[start:start + chunk]), width)
            sums += np.bincount(flat, weights=weights, minlength=cells)
    counts, sums = counts[:height * width], sums[:height * width]
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = counts if colour is None else sums / counts
    grid = np.where(counts > 0, grid, np.nan)
    return grid.reshape(height, width).astype(np.float32)


def _raster(lines: pd.DataFrame, k: int, coloured: bool) -> np.ndarray:
    """numpy below NUMBA_ROWS rows (no JIT warm-up), datashader's compiled line drawing above."""
    if len(lines) <= NUMBA_ROWS:
        return raster_polylines(lines.to_numpy()[:, :k], lines["colour"].to_numpy() if coloured else None,
                                RASTER_SIZE, y_range=(-0.02, 1.02))
    import datashader as ds

    canvas = ds.Canvas(plot_width=RASTER_SIZE[0], plot_height=RASTER_SIZE[1], x_range=(0, k - 1),
                       y_range=(-0.02, 1.02))
    agg = canvas.line(lines, x=np.arange(k, dtype=float), y=[f"d{i}" for i in range(k)], axis=1,
                      agg=ds.mean("colour") if coloured else ds.count())
    values = agg.values.astype(np.float32)
    return values if coloured else np.where(values > 0, values, np.nan)


def parallel_coordinates(frame: pd.DataFrame, dimensions: Sequence[str], color: str | None = None, *,
                         log_dimensions: Sequence[str] = (), line_budget: int = LINE_BUDGET,
                         cmap: str = "viridis", title: str = "") -> hv.Overlay:
    """A parallel-coordinates overlay of ``frame`` over ``dimensions``, coloured by ``color``."""
    dimensions = list(dimensions)
    if not dimensions or frame.empty:
        return hv.Overlay([hv.Text(0.5, 0.5, "Nothing to show")])
    scaled, ticks = {}, {}
    for i, dim in enumerate(dimensions):
        scaled[f"d{i}"], ticks[dim] = scale_dimension(frame[dim], log=dim in log_dimensions)
    lines = pd.DataFrame(scaled)
    colour = pd.to_numeric(frame[color], errors="coerce").to_numpy(dtype=float) if color else np.zeros(len(frame))
    lines["colour"] = colour
    k = len(dimensions)
    xs = np.arange(k, dtype=float)
    if len(lines) <= line_budget:
        values = lines.to_numpy()
        starts = np.repeat(xs[:-1][None, :], len(values), axis=0).ravel()
        segments = pd.DataFrame({"x0": starts, "y0": values[:, :k - 1].ravel(), "x1": starts + 1,
                                 "y1": values[:, 1:k].ravel(), "colour": np.repeat(values[:, k], k - 1)})
        body = hv.Segments(segments.dropna(subset=["y0", "y1"]), ["x0", "y0", "x1", "y1"], ["colour"]).opts(
            color="colour", cmap=cmap, line_alpha=0.5, line_width=1, colorbar=bool(color), clabel=color or "",
            tools=[])
    else:
        grid = _raster(lines, k, bool(color))
        body = hv.Image(grid[::-1], bounds=(0, -0.02, k - 1 or 1, 1.02), kdims=["x", "y"],
                        vdims=[color or "lines"]).opts(cmap=cmap, colorbar=True, clabel=color or "lines",
                                                       tools=[])
    axes = hv.Segments([(i, 0, i, 1) for i in range(k)], ["x", "y", "x2", "y2"]).opts(color="#444", line_width=1.5)
    label_rows = [(i, pos, text) for i, dim in enumerate(dimensions) for pos, text in ticks[dim]]
    labels = hv.Labels(pd.DataFrame(label_rows, columns=["x", "y", "text"]), ["x", "y"], "text").opts(
        text_font_size="8pt", text_color="#222", text_align="left", xoffset=0.04)
    return (body * axes * labels).opts(
        responsive=True, height=380, xticks=[(i, d) for i, d in enumerate(dimensions)], yaxis=None,
        xlabel="", ylim=(-0.05, 1.05), xlim=(-0.2, k - 0.6), title=title, toolbar="above", show_legend=False)


class ParallelCoordinates(Viewer):
    """A Panel component around :func:`parallel_coordinates` that redraws when its inputs change."""

    data = param.DataFrame(doc="One row per item (trial, run...).")
    dimensions = param.List(default=[], item_type=str, doc="Columns drawn as vertical axes, in order.")
    color = param.String(default=None, allow_None=True, doc="Numeric column that colours the lines.")
    log_dimensions = param.List(default=[], item_type=str, doc="Dimensions drawn on a log scale.")
    line_budget = param.Integer(default=LINE_BUDGET, bounds=(0, None), doc="Rows drawn as lines before rasterising.")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.pane.HoloViews(
            pn.bind(self._plot, self.param.data, self.param.dimensions, self.param.color,
                    self.param.log_dimensions, self.param.line_budget),
            sizing_mode="stretch_width", css_classes=["wb-parallel-coordinates"])

    @staticmethod
    def _plot(data, dimensions, color, log_dimensions, line_budget):
        frame = data if data is not None else pd.DataFrame()
        return parallel_coordinates(frame, dimensions, color, log_dimensions=log_dimensions,
                                    line_budget=line_budget)
