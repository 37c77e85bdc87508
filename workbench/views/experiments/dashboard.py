"""The Experiments dashboard: experiment choice, query box, runs table and comparison sub-views."""

from __future__ import annotations

import asyncio
import html
import io

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.experiments.nesting import nest_runs
from workbench.analysis.experiments.query import QueryError, filter_runs
from workbench.errors import WorkbenchError
from workbench.views.alert import error_alert
from workbench.views.experiments.artifacts import ArtifactBrowser
from workbench.views.experiments.diff_view import DiffView
from workbench.views.experiments.metric_curves import MetricCurves
from workbench.views.experiments.parallel import RunsParallel
from workbench.views.experiments.report import comparison_report
from workbench.views.experiments.runs_table import RunsTable
from workbench.views.experiments.scatter import RunsScatter
from workbench.views.widgets import safe_options

DEFAULT_CURVES = 10  # curves drawn before the user selects runs
SUBVIEWS = ("diff", "curves", "parallel", "scatter", "artifacts")  # the comparison tabs, in order


class ExperimentsDashboard(Viewer):
    """Everything below the page title; reads runs through ``source`` (an ``MlflowSource``)."""

    source = param.Parameter(doc="An MlflowSource.")
    experiments = param.ListSelector(default=[], objects=[], doc="Experiment names shown (compare across them).")
    query = param.String(default="", doc="Filter in MLflow syntax plus OR / NOT / parentheses.")
    refresh_interval = param.Number(default=0, bounds=(0, None), doc="Seconds between live refreshes (0: off).")
    runs = param.DataFrame(default=None, allow_None=True, doc="All runs of the chosen experiments.")
    filtered = param.DataFrame(default=None, allow_None=True, doc="Runs matching the query.")
    extra = param.Parameter(default=None, doc="A viewable shown between the runs table and the comparison "
                            "tabs (the page puts the selected run's lineage there).")

    def __init__(self, **params):
        super().__init__(**params)
        names = self.source.experiments()["name"].tolist()
        self.param.experiments.objects = safe_options(names)
        if not self.experiments:
            with param.parameterized.discard_events(self):
                self.experiments = names
        self._query_error = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["wb-query-error"],
                                          sizing_mode="stretch_width")
        self._banner = pn.Column(sizing_mode="stretch_width")
        self.table = RunsTable()
        self.diff = DiffView()
        self.curves = MetricCurves(source=self.source)
        self.parallel = RunsParallel()
        self.scatter = RunsScatter()
        self.artifacts = ArtifactBrowser(source=self.source)
        self.parallel.param.watch(self._on_brush, "brushed")
        self._stale: set[str] = set()  # comparison tabs whose runs/selection changed while hidden
        self.runs = self._read()  # filters and fills the sub-views through the watchers below
        self._choose_curve_metric()
        self.table.param.watch(self._on_selection, "selection")
        self.tabs = pn.Tabs(("Compare", self.diff), ("Curves", self.curves), ("Parallel coordinates", self.parallel),
                            ("Scatter / box", self.scatter), ("Artifacts", self.artifacts), dynamic=True,
                            sizing_mode="stretch_width", css_classes=["wb-experiment-tabs"])
        self.tabs.param.watch(lambda event: self._fill(SUBVIEWS[event.new]), "active")
        self._sync_url()
        self._callback = None
        if self.refresh_interval:
            self._callback = pn.state.add_periodic_callback(self.refresh_in_thread,
                                                            period=int(self.refresh_interval * 1000))

    # -- data -------------------------------------------------------------------------------------
    def _ids(self) -> list[str]:
        return self.source.experiment_ids(list(self.experiments))

    def _read(self, refresh: bool = False) -> pd.DataFrame:
        if not self.experiments:  # nothing chosen: no runs (not "all", which the source defaults to)
            return self.runs.iloc[0:0] if self.runs is not None else self.source.runs().iloc[0:0]
        return self.source.runs(self._ids(), refresh=refresh)

    def _apply_query(self) -> pd.DataFrame:
        try:
            filtered = filter_runs(self.runs, self.query)
        except QueryError as error:
            self._query_error.object = f"**{html.escape(error.message)}** — {html.escape(error.hint)}"
            self._query_error.visible = True
            return self.filtered if self.filtered is not None else self.runs
        self._query_error.visible = False
        return filtered

    def refresh(self) -> None:
        """Re-read new/running runs; keeps the last good data (and shows a banner) when the store fails."""
        try:
            runs = self._read(refresh=True)
        except WorkbenchError as error:
            self._refresh_failed(error)
            return
        self._refreshed(runs)

    async def refresh_in_thread(self, _event=None) -> None:
        """``refresh`` with the store read on a worker thread (the live refresh and Retry): a slow or hung
        tracking server then holds no other session of the server; the page is updated back on the loop."""
        try:
            runs = await asyncio.to_thread(self._read, True)
        except WorkbenchError as error:
            self._refresh_failed(error)
            return
        self._refreshed(runs)

    def _refresh_failed(self, error: WorkbenchError) -> None:
        retry = pn.widgets.Button(name="Retry", button_type="warning", css_classes=["wb-retry"])
        retry.on_click(self.refresh_in_thread)
        self._banner[:] = [error_alert(error, context="Experiments refresh"), retry]

    def _refreshed(self, runs: pd.DataFrame) -> None:
        if self._banner.objects:
            self._banner[:] = []
        if runs is not self.runs:  # the source returns the cached frame itself when nothing changed
            self.runs = runs

    @param.depends("experiments", watch=True)
    def _experiments_changed(self) -> None:
        try:
            self.runs = self._read()
        except WorkbenchError as error:
            self._banner[:] = [error_alert(error, context="Experiments")]

    @param.depends("runs", "query", watch=True)
    def _filter(self) -> None:
        self.filtered = self._apply_query()

    @param.depends("filtered", watch=True)
    def _propagate(self) -> None:
        if self._deferring():  # served: only the comparison tab shown now is redrawn, the others when shown
            with param.parameterized.discard_events(self.parallel):
                self.parallel.brushed = None  # what new runs do to the brush (below, when parallel is shown)
            self.table.runs = nest_runs(self._brushed())
            self._stale.update(SUBVIEWS)
            self._fill(self._shown())
            return
        self.parallel.runs = self.filtered  # resets the brush
        self.table.runs = nest_runs(self._brushed())
        self.diff.runs = self.filtered
        self.curves.runs = self.filtered
        self.scatter.runs = self.filtered
        self.curves.selection = self._curve_runs()
        self._update_artifact_runs()

    def _deferring(self) -> bool:
        """In a served session hidden comparison tabs are filled when shown (a filter redraws one plot, not four)."""
        document = pn.state.curdoc
        return document is not None and document.session_context is not None

    def _shown(self) -> str:
        return SUBVIEWS[self.tabs.active] if hasattr(self, "tabs") else SUBVIEWS[0]

    def _fill(self, view: str) -> None:
        """Bring a comparison tab up to date with the filtered runs and the selection (if it missed changes)."""
        if view not in self._stale:
            return
        self._stale.discard(view)
        if view == "diff":
            with param.parameterized.batch_call_watchers(self.diff):
                self.diff.runs, self.diff.selection = self.filtered, list(self.table.selection)
        elif view == "curves":
            self.curves.runs = self.filtered
            self.curves.selection = self._curve_runs()
        elif view == "parallel":
            self.parallel.runs = self.filtered
        elif view == "scatter":
            self.scatter.runs = self.filtered
        else:
            self._update_artifact_runs()

    def flush(self) -> None:
        """Fill every comparison tab (reports and exports show them all)."""
        for view in SUBVIEWS:
            self._fill(view)

    def _brushed(self) -> pd.DataFrame:
        if self.parallel.brushed is None:
            return self.filtered
        return self.filtered[self.filtered["run_id"].isin(set(self.parallel.brushed))]

    def _on_brush(self, event) -> None:
        self.table.runs = nest_runs(self._brushed())

    def _update_artifact_runs(self) -> None:
        chosen = set(self.table.selection)
        frame = self.filtered
        self.artifacts.runs = frame[frame["run_id"].isin(chosen)] if chosen else frame.head(50)

    def _choose_curve_metric(self) -> None:
        """Open the curves on the metric with the longest histories among the runs shown first."""
        sizes = self.source.history_sizes(self._curve_runs())
        if len(sizes) and sizes.iloc[0] > len(self._curve_runs()):
            self.curves.metric = str(sizes.index[0])

    def _curve_runs(self) -> list[str]:
        if self.table.selection:
            return list(self.table.selection)
        return self.filtered["run_id"].head(DEFAULT_CURVES).tolist() if self.filtered is not None else []

    def _on_selection(self, event) -> None:
        if self._deferring():
            self._stale.update(("diff", "curves", "artifacts"))
            self._fill(self._shown())
            return
        self.diff.selection = list(event.new)
        self.curves.selection = self._curve_runs()
        self._update_artifact_runs()

    def _sync_url(self) -> None:
        """Served: query, experiments, selected runs and sub-view live in the URL (shareable links)."""
        document = pn.state.curdoc
        if document is None or document.session_context is None or pn.state.location is None:
            return
        pn.state.location.sync(self, {"query": "exp_query", "experiments": "exp_names"})
        pn.state.location.sync(self.table, {"selection": "exp_runs"})
        pn.state.location.sync(self.tabs, {"active": "exp_view"})

    # -- export -----------------------------------------------------------------------------------
    def csv(self) -> io.StringIO:
        """The filtered runs (all columns) as CSV."""
        buffer = io.StringIO()
        self.filtered.to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer

    def report(self) -> io.StringIO:
        """The current comparison (diff table, curves, parallel coordinates) as one static HTML file."""
        return io.StringIO(comparison_report(self))

    # -- layout -----------------------------------------------------------------------------------
    def __panel__(self) -> pn.viewable.Viewable:
        chooser = pn.widgets.MultiChoice.from_param(self.param.experiments, name="Experiments",
                                                    sizing_mode="stretch_width")
        query = pn.widgets.TextInput.from_param(
            self.param.query, name="Filter", sizing_mode="stretch_width", css_classes=["wb-query"],
            placeholder="metrics.accuracy > 0.9 AND (params.model = 'rf' OR tags.team LIKE '%vision%')")
        refresh = pn.widgets.Button(name="Refresh", button_type="default", css_classes=["wb-refresh"])
        refresh.on_click(lambda event: self.refresh())
        export = pn.widgets.FileDownload(callback=self.csv, filename="runs.csv", label="Export CSV",
                                         css_classes=["wb-export-csv"])
        count = pn.bind(lambda frame, runs, brushed: f"{len(frame):,} of {len(runs):,} runs"
                        + ("" if brushed is None else f" ({len(brushed):,} inside the parallel-coordinates brush)"),
                        self.param.filtered, self.param.runs, self.parallel.param.brushed)
        report = pn.widgets.FileDownload(callback=self.report, filename="comparison.html", label="HTML report",
                                         css_classes=["wb-export-html"])
        return pn.Column(
            self._banner,
            pn.Row(chooser, sizing_mode="stretch_width"),
            pn.Row(query, refresh, export, report, sizing_mode="stretch_width"),
            self._query_error,
            pn.pane.Markdown(count, css_classes=["wb-run-count"]),
            self.table, *([self.extra] if self.extra is not None else []), self.tabs, sizing_mode="stretch_width")
