"""Parallel coordinates of runs (the shared ``views/parallel_coordinates.py``) with box brushing.

Drawing a box (box-select tool) over one or more axes keeps the runs whose values on those axes lie
inside the box; ``brushed`` holds their ids (None: no brush). Up to the shared component's line
budget runs are coloured lines; above it they are rasterised here in numpy (the shared component's
datashader path needs a ~6 s numba warm-up in a cold process), so 50,000 runs cost one image.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.experiments.columns import plottable
from workbench.analysis.experiments.raster import rasterize_parallel
from workbench.views.parallel_coordinates import LINE_BUDGET, parallel_coordinates, scale_dimension
from workbench.views.widgets import safe_options

MAX_DEFAULT_PARAMS = 6
MAX_DEFAULT_METRICS = 3
RASTER_SIZE = (640, 260)


def default_dimensions(runs: pd.DataFrame) -> list[str]:
    """The params that vary (up to 6), then metrics (up to 3), those set on most runs first."""
    def most_set(prefix: str, varying: bool) -> list[str]:
        columns = [c for c in runs.columns if c.startswith(prefix) and runs[c].notna().any()
                   and (not varying or runs[c].nunique(dropna=True) > 1)]
        return sorted(columns, key=lambda c: -int(runs[c].notna().sum()))  # stable: ties keep name order

    return most_set("params.", True)[:MAX_DEFAULT_PARAMS] + most_set("metrics.", False)[:MAX_DEFAULT_METRICS]


def brushed_rows(runs: pd.DataFrame, dimensions: list[str], bounds: tuple[float, float, float, float],
                 log_dimensions: list[str] | None = None) -> np.ndarray:
    """Boolean mask of runs inside the box (x0, y0, x1, y1) on every axis the box covers."""
    x0, y0, x1, y1 = bounds
    mask = np.ones(len(runs), dtype=bool)
    covered = [i for i in range(len(dimensions)) if x0 <= i <= x1]
    for i in covered:
        scaled, _ = scale_dimension(runs[dimensions[i]], log=dimensions[i] in (log_dimensions or []))
        with np.errstate(invalid="ignore"):
            mask &= (scaled >= y0) & (scaled <= y1)
    return mask


class RunsParallel(Viewer):
    """Parallel coordinates over chosen params/metrics, coloured by a metric, with brushing."""

    runs = param.DataFrame(default=None, allow_None=True, doc="Tidy runs frame.")
    dimensions = param.ListSelector(default=[], objects=[], doc="Axes, in order.")
    color = param.Selector(default=None, objects=[None], allow_None=True, doc="Metric colouring the lines.")
    brushed = param.List(default=None, allow_None=True, item_type=str, doc="Run ids inside the brush (None: all).")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(sizing_mode="stretch_width", css_classes=["wb-runs-parallel"])
        self._stream = hv.streams.BoundsXY()
        self._stream.add_subscriber(self._on_brush)
        self._update_choices()

    @param.depends("runs", watch=True)
    def _update_choices(self) -> None:
        runs = self.runs if self.runs is not None else pd.DataFrame()
        options = [c for c in runs.columns if c.startswith(("params.", "metrics."))]
        self.param.dimensions.objects = safe_options(options)
        self.param.color.objects = [None] + [c for c in options if c.startswith("metrics.")]
        kept = [d for d in self.dimensions if d in options]
        with param.parameterized.discard_events(self):
            self.dimensions = kept or default_dimensions(runs)
            if self.color not in self.param.color.objects or self.color is None:
                metrics = [d for d in self.dimensions if d.startswith("metrics.")]
                self.color = metrics[-1] if metrics else None
            self.brushed = None
        self._draw()

    @param.depends("dimensions", "color", watch=True)
    def _draw(self) -> None:
        runs = plottable(self.runs) if self.runs is not None else pd.DataFrame()
        if len(runs) > LINE_BUDGET and self.dimensions:
            plot = parallel_density(runs, list(self.dimensions), self.color)
        else:
            plot = parallel_coordinates(runs, list(self.dimensions), self.color)
        plot = plot.map(lambda element: element.opts(tools=["box_select"]), [hv.Path, hv.Image])
        self._stream.source = plot
        self._pane.object = plot

    def _on_brush(self, bounds=None, **_) -> None:
        if bounds is None or self.runs is None:
            return
        mask = brushed_rows(plottable(self.runs), list(self.dimensions), bounds)
        self.brushed = self.runs.loc[mask, "run_id"].tolist()

    def brush(self, bounds: tuple[float, float, float, float]) -> None:
        """Apply a brush programmatically (what the box-select tool does)."""
        self._stream.event(bounds=bounds)

    def clear(self) -> None:
        self.brushed = None

    def __panel__(self) -> pn.viewable.Viewable:
        clear = pn.widgets.Button(name="Clear brush", css_classes=["wb-clear-brush"])
        clear.on_click(lambda event: self.clear())
        status = pn.bind(lambda b: "Drag a box over axes to filter runs." if b is None
                         else f"{len(b):,} run(s) inside the brush.", self.param.brushed)
        return pn.Column(
            pn.Row(pn.widgets.MultiChoice.from_param(self.param.dimensions, name="Axes", sizing_mode="stretch_width"),
                   pn.widgets.Select.from_param(self.param.color, name="Colour by", width=220), clear,
                   sizing_mode="stretch_width"),
            pn.pane.Markdown(status), self._pane, sizing_mode="stretch_width")


def parallel_density(runs: pd.DataFrame, dimensions: list[str], color: str | None) -> hv.Overlay:
    """Parallel coordinates of many runs as one image (mean of ``color`` per pixel, else line count)."""
    scaled, ticks = zip(*(scale_dimension(runs[d]) for d in dimensions), strict=True)
    values = np.column_stack(scaled)
    weights = pd.to_numeric(runs[color], errors="coerce").to_numpy(dtype=float) if color else None
    width, height = RASTER_SIZE
    image = rasterize_parallel(values, width, height, weights=weights, y_range=(-0.02, 1.02))
    if weights is None:
        image = np.where(image > 0, image, np.nan)
    k = len(dimensions)
    right = max(k - 1, 1)
    body = hv.Image(image[::-1].astype(np.float32), bounds=(0, -0.02, right, 1.02), kdims=["x", "y"], vdims=[color or "runs"]).opts(
        cmap="viridis", colorbar=True, clabel=color or "runs", tools=["box_select"])
    axes = hv.Segments([(i, 0, i, 1) for i in range(k)], ["x", "y", "x2", "y2"]).opts(color="#444", line_width=1.5)
    rows = [(i, position, text) for i, axis_ticks in enumerate(ticks) for position, text in axis_ticks]
    labels = hv.Labels(pd.DataFrame(rows, columns=["x", "y", "text"]), ["x", "y"], "text").opts(
        text_font_size="8pt", text_color="#222", text_align="left", xoffset=0.04)
    return (body * axes * labels).opts(
        responsive=True, height=380, xticks=list(enumerate(dimensions)), yaxis=None, xlabel="",
        ylim=(-0.05, 1.05), xlim=(-0.2, k - 0.6), toolbar="above", show_legend=False)
