"""Metric curves of selected runs: overlay, step/time x-axis, log y, EMA smoothing, group mean ± band.

Histories are fetched for the shown runs only (the source caches them). Up to ``LINE_BUDGET``
curves are drawn as separate lines with hover and legend; more curves become one NaN-joined line
(one glyph) while they hold at most ``POINT_BUDGET`` points; beyond that they are rasterised in
numpy (``analysis/experiments/raster.py``, no numba warm-up) into one density image, re-drawn for
the visible range on zoom, so thousands of curves cost one image, not thousands of glyphs.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the Bokeh backend for .opts()
import numpy as np
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.experiments.curves import X_AXES, group_band, joined_lines, smooth, with_x
from workbench.analysis.experiments.diff import run_labels
from workbench.analysis.experiments.raster import rasterize_curves

LINE_BUDGET = 50
POINT_BUDGET = 100_000
RASTER_SIZE = (800, 380)
NO_GROUP = "(none)"
PLOT_OPTS = {"responsive": True, "height": 380, "toolbar": "above", "show_grid": True}


class MetricCurves(Viewer):
    """Curves of one metric for the runs in ``selection``."""

    source = param.Parameter(doc="An object with metric_history(run_ids, keys) (e.g. MlflowSource).")
    runs = param.DataFrame(default=None, allow_None=True, doc="Tidy runs frame (for labels and grouping).")
    selection = param.List(default=[], item_type=str, doc="Run ids whose curves are drawn.")
    metric = param.Selector(default=None, objects=[], allow_None=True, doc="Metric key to draw.")
    x_axis = param.Selector(default="step", objects=list(X_AXES), doc="x: step, seconds since start, or wall time.")
    log_y = param.Boolean(default=False, doc="Logarithmic y axis.")
    smoothing = param.Number(default=0.0, bounds=(0.0, 0.99), step=0.01, doc="EMA weight (0: raw values).")
    group_by = param.Selector(default=NO_GROUP, objects=[NO_GROUP], doc="Param to group runs by (mean ± std).")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(sizing_mode="stretch_width", css_classes=["wb-curves"])
        self._status = pn.pane.Markdown("", css_classes=["wb-curves-status"])
        self._update_choices()
        self._update_plot()

    @param.depends("runs", watch=True)
    def _update_choices(self) -> None:
        columns = list(self.runs.columns) if self.runs is not None else []
        metrics = [c[len("metrics."):] for c in columns if c.startswith("metrics.")]
        self.param.metric.objects = metrics
        if self.metric not in metrics:
            preferred = [m for m in metrics if "loss" in m.lower()]
            self.metric = (preferred or metrics or [None])[0]
        self.param.group_by.objects = [NO_GROUP] + [c for c in columns if c.startswith("params.")]

    def history(self) -> pd.DataFrame:
        """The (cached) history of the current metric for the selected runs."""
        if not self.selection or not self.metric or self.source is None:
            return pd.DataFrame(columns=["run_id", "key", "step", "timestamp", "value"])
        return self.source.metric_history(self.selection, [self.metric])

    @param.depends("selection", "metric", "x_axis", "log_y", "smoothing", "group_by", watch=True)
    def _update_plot(self) -> None:
        self._pane.object = self.plot()

    def plot(self) -> hv.Element:
        history = self.history()
        if history.empty:
            self._status.object = ("Select runs in the table to draw their curves." if not self.selection
                                   else f"No history of '{self.metric}' for the selected runs.")
            return hv.Curve([]).opts(**PLOT_OPTS)
        frame = smooth(with_x(history, self.x_axis), self.smoothing)
        count = frame["run_id"].nunique()
        self._status.object = f"{count} curve(s) of `{self.metric}`, {len(frame):,} points"
        dims = {"kdims": [hv.Dimension("x", label=self.x_axis)], "vdims": [hv.Dimension("value", label=self.metric)]}
        opts = {**PLOT_OPTS, "logy": self.log_y}
        if self.group_by != NO_GROUP and self.runs is not None:
            return self._grouped(frame, dims, opts)
        if count <= LINE_BUDGET:
            labels = dict(zip(self.runs["run_id"], run_labels(self.runs), strict=True)) if self.runs is not None else {}
            curves = {labels.get(run_id, run_id): hv.Curve(part, **dims).opts(tools=["hover"])
                      for run_id, part in frame.groupby("run_id", sort=False)}
            return hv.NdOverlay(curves, kdims="run").opts(**opts, legend_position="right")
        if len(frame) <= POINT_BUDGET:
            return hv.Curve(joined_lines(frame), **dims).opts(**opts, line_alpha=0.35, line_width=1)
        return curve_density(frame, dims, opts)

    def _grouped(self, frame: pd.DataFrame, dims: dict, opts: dict) -> hv.Overlay:
        stats = group_band(frame, self.runs, self.group_by)
        layers = []
        for group, part in stats.groupby("group", sort=True):
            label = f"{self.group_by[len('params.'):]}={group}"
            layers.append(hv.Area(part, "x", ["lower", "upper"], label=label).opts(alpha=0.2, line_alpha=0))
            layers.append(hv.Curve(part, "x", "mean", label=label).opts(tools=["hover"]))
        return hv.Overlay(layers).opts(**opts, legend_position="right")

    def __panel__(self) -> pn.viewable.Viewable:
        controls = pn.Row(
            pn.widgets.Select.from_param(self.param.metric, name="Metric"),
            pn.widgets.RadioButtonGroup.from_param(self.param.x_axis),
            pn.widgets.Checkbox.from_param(self.param.log_y, name="log y"),
            pn.widgets.FloatSlider.from_param(self.param.smoothing, name="Smoothing (EMA)"),
            pn.widgets.Select.from_param(self.param.group_by, name="Group by"),
            sizing_mode="stretch_width")
        return pn.Column(controls, self._status, self._pane, sizing_mode="stretch_width")


def curve_density(frame: pd.DataFrame, dims: dict, opts: dict) -> hv.DynamicMap:
    """A density image of many curves, re-rasterised for the visible x/y range on zoom."""
    x = frame["x"].to_numpy(dtype=float) if frame["x"].dtype.kind != "M" else frame["x"].astype("int64").to_numpy(
        dtype=float)
    y = frame["value"].to_numpy(dtype=float)
    if opts.get("logy"):  # an image cannot use a log axis: rasterise log10 values instead
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(y > 0, np.log10(y), np.nan)
        value = dims["vdims"][0]
        dims = {**dims, "vdims": [hv.Dimension(value.name, label=f"log10 {value.label}")]}
        opts = {**opts, "logy": False}
    group = frame["run_id"].to_numpy()
    finite = np.isfinite(y)
    full_x = (float(np.nanmin(x)), float(np.nanmax(x)))
    full_y = (float(np.min(y[finite])), float(np.max(y[finite]))) if finite.any() else (0.0, 1.0)

    def image(x_range=None, y_range=None):
        xr = tuple(x_range) if x_range else full_x
        yr = tuple(y_range) if y_range else full_y
        counts = rasterize_curves(x, y, group, xr, yr, *RASTER_SIZE)
        data = np.where(counts > 0, counts, np.nan)
        return hv.Image(data[::-1], bounds=(xr[0], yr[0], xr[1], yr[1]), kdims=[*dims["kdims"], *dims["vdims"]],
                        vdims=["curves"]).opts(**opts, cmap="blues", cnorm="eq_hist", colorbar=False, tools=[])

    return hv.DynamicMap(image, streams=[hv.streams.RangeXY()])
