"""The Experiments page: MLflow runs of ``config.experiments`` (all when empty), eagerly (issue 4)."""

from __future__ import annotations

import html
import threading
from functools import partial

import pandas as pd
import panel as pn
import param
from panel.io.state import set_curdoc

from workbench.apps.base import PanelPage
from workbench.apps.navigation import link_destination
from workbench.errors import NotFound
from workbench.sources.lineage import LineageSource
from workbench.sources.mlflow import MlflowSource
from workbench.views.experiments.dashboard import ExperimentsDashboard
from workbench.views.experiments.report import comparison_report
from workbench.views.lineage.panels import RunLineagePanel


class ExperimentsPage(PanelPage):
    """Runs table of the configured experiments; store problems become alerts.

    The run selected last has its lineage (data version, trial, model, explanation) shown under the
    table; following a link sets ``navigate`` (the app opens that page).
    """

    title = "Experiments"

    run = param.String(default="", doc="The run whose lineage is shown (the run selected last; ?exp_lineage=).")
    report_filename = "experiments.html"

    def rebuild(self) -> None:
        """Served with a tracking server (http): its runs are read off the event loop under a loading
        indicator, so a slow or hung server holds up neither other sessions nor ``/health``."""
        if getattr(self, "_reading", False):
            return  # a read is under way: the page is built when it ends
        document = pn.state.curdoc
        if (document is None or document.session_context is None
                or not (self.config.tracking_uri or "").startswith(("http://", "https://"))):
            super().rebuild()
            return
        self._reading = True
        self._layout[:] = [loading_notice(self.config.tracking_uri)]
        self._toolbar[:] = []
        threading.Thread(target=self._read_store, args=(document,), daemon=True,
                         name="workbench-experiments-read").start()

    def _read_store(self, document) -> None:
        """In a thread: open the store and read the runs (into the shared cache), then build in the session."""
        try:
            source = MlflowSource.from_config(self.config)  # asks the server first (bounded by its timeout)
            source.runs(source.experiment_ids(self.config.experiments))
            self._ready: MlflowSource | Exception = source
        except Exception as error:  # noqa: BLE001 - shown by the build, as a synchronous build would
            self._ready = error
        if document.session_context is not None and not document.session_context.destroyed:
            document.add_next_tick_callback(partial(self._build_in, document))  # thread-safe in Bokeh

    def _build_in(self, document) -> None:
        from workbench.apps.url_guard import recheck_refused

        with set_curdoc(document):
            try:
                super().rebuild()
            finally:
                self._reading = False
            recheck_refused()  # the link's exp_* values were applied only now

    def _build(self) -> pn.viewable.Viewable:
        ready = self.__dict__.pop("_ready", None)  # what _read_store read (served, tracking server)
        if isinstance(ready, Exception):
            raise ready
        self.source = ready if ready is not None else MlflowSource.from_config(self.config)
        self.source.experiment_ids(self.config.experiments)  # unknown names → NotFound with a hint
        names = self.config.experiments or self.source.experiments()["name"].tolist()
        self.lineage = LineageSource(self.config, mlflow=self.source)
        self.lineage_panel = RunLineagePanel(source=self.lineage, run_id=self.run, blocked=self.link_reason)
        self.lineage_panel.param.watch(self._follow, "followed")
        card = pn.Card(self.lineage_panel, title="Lineage of the selected run", collapsible=True,
                       sizing_mode="stretch_width", css_classes=["wb-experiments-lineage"])
        self.dashboard = ExperimentsDashboard(source=self.source, experiments=list(names), extra=card,
                                              refresh_interval=self.config.refresh_interval)
        if self.dashboard.runs is None or self.dashboard.runs.empty:
            shown = ", ".join(self.config.experiments) or "any experiment"
            raise NotFound(f"No runs in {shown} of {self.config.tracking_uri}.",
                           "log runs with mlflow (mlflow.start_run()), or choose other experiments")
        self.table = self.dashboard.table
        self.table.param.watch(self._on_selection, "selection")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self.source.close())
        summary = pn.pane.HTML(pn.bind(run_summary, self.dashboard.param.runs), css_classes=["wb-runs-summary"],
                               sizing_mode="stretch_width")
        self._show_run()
        return pn.Column(summary, self.dashboard, sizing_mode="stretch_width")

    # -- lineage ----------------------------------------------------------------------------------
    def _on_selection(self, event: param.parameterized.Event) -> None:
        added = [run_id for run_id in event.new if run_id not in event.old]
        if added:
            self.run = added[-1]
        elif self.run not in event.new:
            self.run = event.new[0] if event.new else ""

    @param.depends("run", watch=True)
    def _show_run(self) -> None:
        if not hasattr(self, "lineage_panel"):
            return
        self.lineage_panel.run_id = self.run
        if self.run and self.run not in self.table.selection:
            self.table.selection = [self.run]

    @param.depends("link_reason", watch=True)
    def _block_links(self) -> None:
        if hasattr(self, "lineage_panel"):
            self.lineage_panel.blocked = self.link_reason

    def compared_run(self) -> str:
        """The other selected run (the one the shown run is compared with), or ''."""
        others = [run_id for run_id in self.table.selection if run_id != self.run]
        return others[0] if others else ""

    def _follow(self, event: param.parameterized.Event) -> None:
        compared = self.compared_run()
        try:
            other = self.lineage.run_lineage(compared).data if compared else None
        except NotFound:
            other = None
        self.navigate = link_destination(event.new, other)

    def report_html(self) -> str:
        """The comparison shown (filter, diff of the selected runs, curves, parallel coordinates) as static HTML."""
        return comparison_report(self.dashboard)

    def url_state(self) -> list:
        """Beyond filter, experiments, selection and sub-view (synced by the dashboard): the plotted metric and axes."""
        return [(self, {"run": "exp_lineage"}),  # the run whose lineage is shown
                (self.dashboard.curves, {"metric": "exp_metric", "x_axis": "exp_x_axis", "log_y": "exp_log_y",
                                          "smoothing": "exp_smoothing", "group_by": "exp_group_by"}),
                (self.dashboard.scatter, {"x": "exp_scatter_x", "y": "exp_scatter_y", "kind": "exp_scatter_kind"})]


def loading_notice(tracking_uri: str) -> pn.viewable.Viewable:
    """What the page shows while a tracking server is being read."""
    return pn.Row(pn.indicators.LoadingSpinner(value=True, size=28, name=""),
                  pn.pane.HTML(f"Reading the runs from <code>{html.escape(tracking_uri)}</code>…"),
                  css_classes=["wb-loading"], sizing_mode="stretch_width")


def run_summary(runs: pd.DataFrame | None) -> str:
    """"<b>N runs</b> in k experiment(s): names" for the runs shown."""
    runs = runs if runs is not None else pd.DataFrame({"experiment": []})
    experiments = sorted(runs["experiment"].dropna().unique())
    return (f"<b>{len(runs):,} runs</b> in {len(experiments)} experiment(s): "
            f"{html.escape(', '.join(experiments))}")
