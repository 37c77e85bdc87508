"""A metric against a param (or any column): scatter coloured by a third column, box per category,
or a contour of the metric over two numeric columns.

Numeric x gives a scatter (rasterised above ``POINT_BUDGET`` runs); a categorical x (a param with
non-numeric values) gives one box per category; ``kind="contour"`` bins x and ``x2`` into a grid of
the metric's mean and draws it with contour lines.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the Bokeh backend for .opts()
import numpy as np
import pandas as pd
import panel as pn
import param
from holoviews.operation import contours
from panel.viewable import Viewer

from workbench.analysis.experiments.columns import plottable
from workbench.analysis.experiments.grid import binned_mean

POINT_BUDGET = 20_000
NONE = "(none)"
PLOT_OPTS = {"responsive": True, "height": 380, "toolbar": "above", "show_grid": True}


def numeric_or_none(values: pd.Series) -> pd.Series | None:
    """``values`` as floats when every present value parses as a number, else None."""
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.astype(float) if numbers.notna().sum() == values.notna().sum() and numbers.notna().any() else None


class RunsScatter(Viewer):
    """y (a metric) against x (a param or metric), coloured by a third column."""

    runs = param.DataFrame(default=None, allow_None=True, doc="Tidy runs frame.")
    x = param.Selector(default=None, objects=[], allow_None=True, doc="Column on the x axis.")
    y = param.Selector(default=None, objects=[], allow_None=True, doc="Metric on the y axis.")
    color = param.Selector(default=NONE, objects=[NONE], doc="Column colouring the points.")
    kind = param.Selector(default="scatter / box", objects=["scatter / box", "contour"], doc="Plot type.")
    x2 = param.Selector(default=None, objects=[], allow_None=True, doc="Second column (contour y axis).")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(sizing_mode="stretch_width", css_classes=["wb-runs-scatter"])
        self._update_choices()

    @param.depends("runs", watch=True)
    def _update_choices(self) -> None:
        runs = self.runs if self.runs is not None else pd.DataFrame()
        params = [c for c in runs.columns if c.startswith("params.")]
        metrics = [c for c in runs.columns if c.startswith("metrics.")]
        with param.parameterized.discard_events(self):
            self.param.x.objects = params + metrics + [c for c in ("duration", "start_time") if c in runs.columns]
            self.param.y.objects = metrics
            self.param.color.objects = [NONE, "status", "experiment"] + params + metrics
            if self.x not in self.param.x.objects:
                self.x = (params or metrics or [None])[0]
            if self.y not in metrics:
                self.y = metrics[0] if metrics else None
            if self.color not in self.param.color.objects:
                self.color = NONE
            self.param.x2.objects = self.param.x.objects
            if self.x2 not in self.param.x2.objects:
                others = [c for c in self.param.x.objects if c != self.x and c != "start_time"]
                self.x2 = others[0] if others else None
        self._draw()

    @param.depends("x", "y", "color", "kind", "x2", watch=True)
    def _draw(self) -> None:
        self._pane.object = self.plot()

    def plot(self) -> hv.Element:
        runs = plottable(self.runs) if self.runs is not None else None
        if runs is None or runs.empty or self.x is None or self.y is None:
            return hv.Scatter([]).opts(**PLOT_OPTS)
        if self.kind == "contour":
            return self._contour(runs)
        frame = pd.DataFrame({"y": pd.to_numeric(runs[self.y], errors="coerce"), "run": runs["run_name"].astype(str)})
        x_numeric = numeric_or_none(runs[self.x]) if self.x != "start_time" else None
        xlabel, ylabel = self.x, self.y
        if x_numeric is None and self.x != "start_time":
            frame["x"] = runs[self.x].astype(str).fillna("(missing)")
            return hv.BoxWhisker(frame.dropna(subset=["y"]), "x", "y").opts(
                **PLOT_OPTS, xlabel=xlabel, ylabel=ylabel, box_fill_color="#9ecae1", xrotation=30)
        frame["x"] = runs["start_time"].dt.tz_localize(None) if self.x == "start_time" else x_numeric
        vdims = ["y", "run"]
        color_opts: dict = {"color": "#1f77b4"}
        if self.color != NONE:
            colour = numeric_or_none(runs[self.color])
            frame["c"] = colour if colour is not None else runs[self.color].astype(str)
            vdims.append("c")
            color_opts = {"color": "c", "cmap": "viridis" if colour is not None else "Category10",
                          "colorbar": colour is not None}
        frame = frame.dropna(subset=["x", "y"])
        scatter = hv.Scatter(frame, "x", vdims)
        if len(frame) > POINT_BUDGET:
            # imported here: datashader (and dask behind it) costs ~0.8 s of start-up the first screen does not need
            import datashader as ds
            from holoviews.operation.datashader import dynspread, rasterize

            return dynspread(rasterize(scatter, aggregator=ds.count(), dynamic=True)).opts(
                **PLOT_OPTS, cmap="blues", cnorm="eq_hist", xlabel=xlabel, ylabel=ylabel)
        return scatter.opts(**PLOT_OPTS, **color_opts, size=6, tools=["hover"], xlabel=xlabel, ylabel=ylabel)

    def _contour(self, runs: pd.DataFrame) -> hv.Element:
        x, x2 = (numeric_or_none(runs[c]) if c and c != "start_time" else None for c in (self.x, self.x2))
        if x is None or x2 is None:
            return hv.Text(0, 0, "A contour needs two numeric columns (x and the second column).").opts(
                xaxis=None, yaxis=None, toolbar=None, responsive=True, height=120)
        grid, bounds = binned_mean(x, x2, pd.to_numeric(runs[self.y], errors="coerce"))
        image = hv.Image(grid[::-1], bounds=bounds, kdims=[self.x, self.x2], vdims=[self.y]).opts(
            **PLOT_OPTS, cmap="viridis", colorbar=True, tools=["hover"])
        lines = contours(hv.Image(np.nan_to_num(grid[::-1], nan=float(np.nanmean(grid)) if np.isfinite(grid).any()
                                                else 0.0), bounds=bounds, kdims=[self.x, self.x2], vdims=[self.y]),
                         levels=6, filled=False).opts(color="white", line_width=1, cmap=["#ffffff"], colorbar=False)
        return image * lines

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.kind),
                   pn.widgets.Select.from_param(self.param.x2, name="second column (contour)"),
                   sizing_mode="stretch_width"),
            pn.Row(pn.widgets.Select.from_param(self.param.x, name="x"),
                   pn.widgets.Select.from_param(self.param.y, name="y (metric)"),
                   pn.widgets.Select.from_param(self.param.color, name="Colour by"), sizing_mode="stretch_width"),
            self._pane, sizing_mode="stretch_width")
