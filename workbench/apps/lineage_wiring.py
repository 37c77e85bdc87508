"""Lineage sections the pages add (issue 10): a trial's runs (Tuning), a data version's runs and the
metric-per-version chart (Data versions), the run an explanation explains (Explain).

Each function takes the page, builds its section from a ``LineageSource`` sharing the page's own
source, and turns clicks into ``page.navigate`` (a ``Destination`` the workbench app opens).
"""

from __future__ import annotations

import html

import panel as pn
import param

from workbench.apps.navigation import link_destination, run_destination
from workbench.errors import ConfigError
from workbench.sources.lineage import LineageSource
from workbench.views.alert import error_alert, info_alert
from workbench.views.lineage.header import ExplainedRunHeader
from workbench.views.lineage.panels import VersionsPanel
from workbench.views.lineage.run_list import RunList

OPEN_RUN = "Open the run in Experiments"


def _run_list(page, source: LineageSource) -> RunList:
    """A RunList whose action opens the chosen run in Experiments (disabled with the page's reason)."""
    runs = RunList(action=OPEN_RUN, blocked=page.link_reason)
    runs.param.watch(lambda event: event.new and setattr(page, "navigate", run_destination(event.new)), "acted")
    page.param.watch(lambda event: setattr(runs, "blocked", event.new), "link_reason")
    return runs


def _unavailable(error: Exception, context: str) -> pn.pane.Alert:
    """No MLflow store configured is a notice (the page works without it); anything else an error alert."""
    if isinstance(error, ConfigError):
        return info_alert(f"{error.message} ({error.hint})" if error.hint else error.message)
    return error_alert(error, context=context)


def _sync_url(page, names: dict[str, str]) -> None:
    document = pn.state.curdoc
    if pn.state.location is not None and document is not None and document.session_context is not None:
        pn.state.location.sync(page, names)


def trial_runs_section(page) -> pn.viewable.Viewable:
    """Tuning: the MLflow runs the selected trial produced; keeps ``page.study``/``page.trial`` and the
    dashboard's study and selected trial in step (``?study=&trial=`` when served)."""
    dashboard = page.dashboard
    source = LineageSource(page.config, optuna=page.source)
    runs = page.lineage_runs = _run_list(page, source)
    title = pn.pane.HTML("", css_classes=["wb-trial-runs-title"])
    holder = pn.Column(title, runs, sizing_mode="stretch_width")

    def show(*_events) -> None:
        number = dashboard.table.detail_of
        if number is None or not dashboard.study:
            title.object = ""
            holder[:] = [info_alert("Select a trial in the Trials tab to see the MLflow runs it produced.")]
            return
        title.object = f"<b>MLflow runs of trial {int(number)}</b>"
        try:
            runs.runset = source.trial_runs(dashboard.study, int(number))
        except Exception as error:  # noqa: BLE001 - e.g. no MLflow store configured: the page stays usable
            holder[:] = [title, _unavailable(error, "runs of the trial")]
            return
        holder[:] = [title, runs]

    def from_page(event: param.parameterized.Event) -> None:
        if event.name == "study" and event.new and event.new in dashboard.param.study.objects:
            dashboard.study = event.new
        if event.name == "trial" and dashboard.table.detail_of != event.new:
            dashboard.table.detail_of = event.new
            if event.new is not None:
                dashboard.plot = "Trials"

    def from_dashboard(event: param.parameterized.Event) -> None:
        setattr(page, "study" if event.name == "study" else "trial", event.new)

    if page.study and page.study in dashboard.param.study.objects:
        dashboard.study = page.study
    if page.trial is not None:
        dashboard.table.detail_of = page.trial
        dashboard.plot = "Trials"
    page.param.update(study=dashboard.study, trial=dashboard.table.detail_of)
    page.param.watch(from_page, ["study", "trial"])
    dashboard.param.watch(from_dashboard, "study")
    dashboard.table.param.watch(from_dashboard, "detail_of")
    dashboard.table.param.watch(show, ["detail_of", "data"])
    show()
    _sync_url(page, {"study": "study", "trial": "trial"})
    return pn.Card(holder, title="Runs of the selected trial", sizing_mode="stretch_width",
                   css_classes=["wb-trial-runs"])


def version_runs_section(page) -> pn.viewable.Viewable:
    """Data versions: every run trained on the selected version, and the metric-per-version chart."""
    source = LineageSource(page.config, dvc=page.source)
    runs = page.lineage_runs = _run_list(page, source)
    title = pn.pane.HTML("", css_classes=["wb-version-runs-title"])
    holder = pn.Column(title, runs, sizing_mode="stretch_width")

    def show(*_events) -> None:
        if page.version is None:
            title.object = ""
            runs.runset = None
            return
        title.object = f"<b>Runs trained on this version ({html.escape(page._label(page.version))})</b>"
        try:
            runs.runset = source.version_runs(page.version, page.dataset)
        except Exception as error:  # noqa: BLE001 - e.g. no MLflow store configured: the page stays usable
            holder[:] = [title, _unavailable(error, "runs of the version")]
            return
        holder[:] = [title, runs]

    page.param.watch(show, ["version", "dataset"])
    show()
    chart = page.versions_panel = VersionsPanel(source=source, path=page.dataset or "")
    page.param.watch(lambda event: setattr(chart, "path", event.new or ""), "dataset")
    return pn.Card(holder, pn.pane.HTML("<b>Which runs used this data, and did the change help?</b>"), chart,
                   title="Runs on this data", sizing_mode="stretch_width", css_classes=["wb-version-runs"])


def explain_header(page) -> pn.viewable.Viewable | None:
    """Explain: the run and data version the configured model comes from, as links (None for the notebook API)."""
    if page.model is not None or not page.config.model:
        return None
    header = page.lineage_header = ExplainedRunHeader(source=LineageSource(page.config), model_uri=page.config.model,
                                blocked=page.link_reason)
    header.param.watch(lambda event: setattr(page, "navigate", link_destination(event.new)), "followed")
    page.param.watch(lambda event: setattr(header, "blocked", event.new), "link_reason")
    return header
