"""Runs per data version: each run's metric on the version it trained on, the best per version
joined by a line, and a table saying whether each data change helped."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the Bokeh backend for .opts()
import numpy as np
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.lineage.versions import POINT_COLUMNS, VERSION_COLUMNS, metric_by_version
from workbench.views.widgets import text_table

TABLE_COLUMNS = ["version", "n_runs", "best", "median", "delta", "helped", "best_run_name", "message"]


class VersionsChart(Viewer):
    """``points`` (analysis.lineage.versions.run_points) over ``history`` (versions, oldest first)."""

    points = param.DataFrame(default=None, allow_None=True, doc="One row per run: version, order, value.")
    history = param.DataFrame(default=None, allow_None=True, doc="The dataset's versions, oldest first.")
    metric = param.String(default="", doc="The metric plotted (its name, without 'metrics.').")
    minimize = param.Boolean(default=None, allow_None=True, doc="Lower is better (None: guessed from the name).")

    def __init__(self, **params):
        super().__init__(**params)
        self._plot = pn.pane.HoloViews(sizing_mode="stretch_width", height=320)
        self._table = text_table(pd.DataFrame(columns=TABLE_COLUMNS), css_classes=["wb-lineage-versions"])
        self._note = pn.pane.HTML("", css_classes=["wb-lineage-chart-note"])
        self._update()

    def summary(self) -> pd.DataFrame:
        """The per-version table shown under the chart."""
        if self.history is None or self.history.empty:
            return pd.DataFrame(columns=VERSION_COLUMNS)
        points = self.points if self.points is not None else pd.DataFrame(columns=POINT_COLUMNS)
        return metric_by_version(points, self.history, self.metric or "value", self.minimize)

    @param.depends("points", "history", "metric", "minimize", watch=True)
    def _update(self) -> None:
        summary = self.summary()
        points = self.points if self.points is not None else pd.DataFrame(columns=POINT_COLUMNS)
        shown = summary.reindex(columns=TABLE_COLUMNS).astype({"helped": object})
        self._table.value = shown.round({"best": 4, "median": 4, "delta": 4})
        self._note.object = "" if len(points) else "No run recorded which data version it trained on."
        self._plot.object = self._figure(points, summary)

    def _figure(self, points: pd.DataFrame, summary: pd.DataFrame) -> hv.Overlay:
        label = self.metric or "value"
        ticks = list(zip(summary["order"], summary["version"], strict=True)) if len(summary) else []
        rng = np.random.default_rng(0)
        jittered = points.assign(x=points["order"].astype(float) + rng.uniform(-0.15, 0.15, len(points)))
        scatter = hv.Scatter(jittered, "x", ["value", "run_name", "version"], label="runs").opts(
            size=6, alpha=0.6, tools=["hover"], color="#4c78a8")
        best = summary.dropna(subset=["best"])
        curve = hv.Curve(best, "order", "best", label="best per version").opts(color="#f58518", line_width=2)
        dots = hv.Scatter(best, "order", ["best", "best_run_name"]).opts(size=9, color="#f58518", tools=["hover"])
        return (scatter * curve * dots).opts(
            xticks=ticks, xlabel="data version", ylabel=label, responsive=True, height=320,
            title=f"{label} per data version", legend_position="top_left", show_grid=True)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._note, self._plot, self._table, sizing_mode="stretch_width")
