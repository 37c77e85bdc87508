"""Ready-to-place lineage views fed by a LineageSource: one run's links, and metrics per data version.

Pages put these in a card: ``RunLineagePanel(source=lineage_source, run_id=...)`` (watch its
``followed``) and ``VersionsPanel(source=lineage_source)``. Errors become alerts, never tracebacks.
"""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.lineage.versions import lower_is_better, run_points, shared_metrics
from workbench.errors import ConfigError
from workbench.sources.lineage import LineageSource, Link
from workbench.views.alert import error_alert, info_alert
from workbench.views.lineage.graph import LineageGraph
from workbench.views.lineage.versions_chart import VersionsChart

ALL = "all experiments"


class RunLineagePanel(Viewer):
    """The lineage graph of ``run_id``; ``followed`` mirrors the graph's (the link the user followed)."""

    source = param.ClassSelector(class_=LineageSource, doc="Where links are resolved.")
    run_id = param.String(default="", doc="The run shown (empty: none).")
    followed = param.ClassSelector(class_=Link, allow_None=True, doc="The last link followed (watch it).")
    blocked = param.String(default="", doc="Why no link can be followed here (shown on the disabled buttons).")

    def __init__(self, **params):
        super().__init__(**params)
        self.graph = LineageGraph(blocked=self.blocked)
        self.param.watch(lambda event: setattr(self.graph, "blocked", event.new), "blocked")
        self.graph.param.watch(lambda event: setattr(self, "followed", event.new), "followed")
        self._layout = pn.Column(self.graph, sizing_mode="stretch_width", css_classes=["wb-run-lineage"])
        self._load()

    @param.depends("run_id", "source", watch=True)
    def _load(self) -> None:
        if not self.run_id or self.source is None:
            self.graph.lineage = None
            self._layout[:] = [self.graph]
            return
        try:
            self.graph.lineage = self.source.run_lineage(self.run_id)
            self._layout[:] = [self.graph]
        except Exception as error:  # noqa: BLE001 - an unreadable store is shown, not raised
            self._layout[:] = [error_alert(error, context="lineage")]

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


class VersionsPanel(Viewer):
    """A metric chooser and the metric-per-data-version chart of the configured dataset."""

    source = param.ClassSelector(class_=LineageSource, doc="Where runs and versions are read.")
    path = param.String(default="", doc="The DVC-tracked dataset (empty: the configured one).")
    metric = param.Selector(default=None, objects=[], doc="The metric compared across versions.")
    experiment = param.Selector(default=ALL, objects=[ALL], doc="Only runs of this experiment (like for like).")

    def __init__(self, **params):
        super().__init__(**params)
        self.chart = VersionsChart()
        self._select = pn.widgets.Select.from_param(self.param.metric, name="Metric", width=220)
        self._experiment_select = pn.widgets.Select.from_param(self.param.experiment, name="Runs of", width=260)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-lineage-versions-panel"])
        self._frames: tuple | None = None
        self._load()

    @param.depends("source", "path", watch=True)
    def _load(self) -> None:
        try:
            runs = self.source.runs()
            history = self.source.versions(self.path or None)
            md5s = self.source.run_data_md5(self.path or None)
        except ConfigError as error:  # a store is not configured: a notice, the page works without it
            self._layout[:] = [info_alert(f"{error.message} ({error.hint})")]
            return
        except Exception as error:  # noqa: BLE001 - shown as an alert
            self._layout[:] = [error_alert(error, context="data versions")]
            return
        self._frames = (runs, md5s, history)
        self.param.experiment.objects = [ALL, *sorted(runs["experiment"].dropna().astype(str).unique())]
        metrics = shared_metrics(runs, md5s)
        self.param.metric.objects = metrics
        if not metrics:
            self._layout[:] = [info_alert("No metric was logged by runs on two or more data versions "
                                          "(runs record their data with workbench.lineage.log_run_context).")]
            return
        self._layout[:] = [pn.Row(self._select, self._experiment_select), self.chart]
        preferred = [name for name in ("roc_auc", "accuracy", "f1") if name in metrics]
        if self.metric in metrics:
            self._plot()
        else:
            self.metric = (preferred or metrics)[0]

    @param.depends("metric", "experiment", watch=True)
    def _plot(self) -> None:
        if self._frames is None or not self.metric:
            return
        runs, md5s, history = self._frames
        if self.experiment != ALL:
            runs = runs[runs["experiment"] == self.experiment]
        self.chart.param.update(points=run_points(runs, md5s, history, self.metric), history=history,
                                metric=self.metric, minimize=lower_is_better(self.metric))

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
