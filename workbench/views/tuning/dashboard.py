"""The Tuning dashboard: study chooser, summary, history first, every other plot in tabs, live refresh."""

from __future__ import annotations

from numbers import Integral

import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.alert import error_alert
from workbench.views.tuning.compare import CompareStudies
from workbench.views.tuning.history import HistoryView
from workbench.views.tuning.study_plots import StudyPlots
from workbench.views.tuning.summary import study_summary_html
from workbench.views.tuning.trials_table import TrialsTable
from workbench.views.widgets import text_table

DEFAULT_LIVE_SECONDS = 5.0
PARETO_TAB = "Pareto front"  # only multi-objective studies have it


def studies_table(studies) -> pn.widgets.Tabulator:
    """Every study of the storage: directions, trials by state, best value, first start, last update."""
    shown = studies.drop(columns=["study_id"]).assign(
        directions=studies["directions"].map(" / ".join),
        datetime_start=studies["datetime_start"].dt.strftime("%Y-%m-%d %H:%M:%S").fillna(""),
        last_update=studies["last_update"].dt.strftime("%Y-%m-%d %H:%M:%S").fillna(""))
    return text_table(shown, pagination="local", page_size=20, css_classes=["wb-studies-table"])


def _fingerprint(data) -> tuple:
    """Changes when trials are added or change state (so idle refreshes keep zoom and selection)."""
    if data is None:
        return ()
    trials = data.trials
    return (data.name, len(trials), tuple(trials["state"].value_counts().sort_index().items()) if len(trials) else (),
            len(data.intermediate))


def _trial_numbers(values) -> list[int]:
    """Sorted distinct trial numbers; anything that is not a whole number is dropped."""
    numbers = set()
    for value in values if isinstance(values, (list, tuple)) else []:
        if isinstance(value, bool):
            continue
        if isinstance(value, Integral) or (isinstance(value, str) and value.isdigit()):
            numbers.add(int(value))
    return sorted(numbers)


class TuningDashboard(Viewer):
    """Browse the studies of an Optuna source (a ``workbench.sources.optuna.OptunaSource``)."""

    source = param.Parameter(doc="The OptunaSource to read studies from.")
    study = param.Selector(default=None, objects=[], doc="The study shown.")
    data = param.Parameter(doc="The shown study's StudyData.")
    refresh_interval = param.Number(default=0, bounds=(0, None), doc="Seconds between live refreshes (0: off).")
    live = param.Boolean(default=False, doc="Refresh periodically (every refresh_interval, or 5 s when unset).")
    plot = param.String(default="History", doc="Title of the plot tab shown (?tuning_plot= when served).")
    selected_trials = param.List(default=[], doc="Trial numbers brushed (box-selected) in the history or "
                                                 "slice plot: ringed there, kept in parallel coordinates and the table.")

    def __init__(self, **params):
        studies = params["source"].studies()
        super().__init__(**params)
        self.studies = studies
        names = list(studies["study_name"])
        self.param.study.objects = names
        if self.study not in names:
            self.study = names[0] if names else None
        self._status = pn.Column(sizing_mode="stretch_width")
        try:
            self.data = self.source.study(self.study) if self.study else None
        except Exception as error:  # noqa: BLE001 - a damaged study leaves the chooser usable
            self.data = None
            self._status[:] = [error_alert(error, context=f"study {self.study}")]
        self._chooser = pn.widgets.Select.from_param(self.param.study, name="Study", width=360,
                                                     css_classes=["wb-study-chooser"])
        self._summary = pn.pane.HTML(self._summary_html(), sizing_mode="stretch_width",
                                     css_classes=["wb-study-summary"])
        self.history = HistoryView(data=self.data)
        self.plots = StudyPlots(data=self.data)
        self.table = TrialsTable(data=self.data,
                                 system_attrs=lambda name, number: self.source.trial_detail(name, number)["system_attrs"])
        self.compare = CompareStudies(load=self.source.study, options=names,
                                      names=[self.study] if self.data is not None else [])
        self._studies_table = studies_table(studies)
        for view in (self.history, self.plots):
            view.param.watch(self._brushed, "brushed")
        self.table.param.watch(lambda event: setattr(self, "selected_trials", event.new), "selected_trials")
        self._tabs = pn.Tabs(*self._tab_list(), dynamic=True, sizing_mode="stretch_width",
                             css_classes=["wb-tuning-tabs"])
        self._apply_plot(strict=True)
        self._tabs.param.watch(self._tab_changed, "active")
        self._callback = None
        self._live_toggle = pn.widgets.Toggle.from_param(self.param.live, name="Live", width=90,
                                                         css_classes=["wb-tuning-live"])
        self._refresh_button = pn.widgets.Button(name="Refresh", width=90, css_classes=["wb-tuning-refresh"])
        self._refresh_button.on_click(lambda event: self.refresh())
        self.live = bool(self.refresh_interval)
        self._sync_url()

    def _sync_url(self) -> None:
        """Keep study, plot tab, selected trial and brushed trials in the URL of a served session."""
        document = pn.state.curdoc
        if document is None or document.session_context is None or pn.state.location is None:
            return
        pn.state.location.sync(self, {"study": "tuning_study", "plot": "tuning_plot",
                                      "selected_trials": "tuning_brush"})
        pn.state.location.sync(self.table, {"detail_of": "tuning_trial"})

    def _brushed(self, event) -> None:
        self.selected_trials = list(event.new)

    @param.depends("selected_trials", watch=True)
    def _share_selection(self) -> None:
        """Every view shows the same brushed trials (in place: zoom is kept)."""
        selected = _trial_numbers(self.selected_trials)
        if selected != self.selected_trials:  # e.g. junk from a hand-edited ?tuning_brush=
            self.selected_trials = selected
            return
        self.history.selected = selected
        self.plots.selected = selected
        self.table.selected_trials = selected

    def _tab_changed(self, event) -> None:
        self.plot = self._tabs._names[event.new]

    @param.depends("plot", watch=True)
    def _show_tab(self) -> None:
        shown = self.data is not None and self.data.name == self.study  # else a new study is on its way
        self._apply_plot(strict=shown)

    def _apply_plot(self, strict: bool) -> None:
        """Show the tab named by ``plot``; a name no tab has falls back to the tab shown, so a link's
        refused ``?tuning_plot=`` gets its notice. "Pareto front" may arrive in the same link as the
        multi-objective study that has it: judged once that study is shown (``strict``)."""
        names = self._tabs._names
        if self.plot in names:
            self._tabs.active = names.index(self.plot)
        elif strict or self.plot != PARETO_TAB:
            self.plot = names[self._tabs.active]

    def start_live(self, seconds: float) -> None:
        """Refresh every ``seconds`` (only new or unfinished trials are read)."""
        self.stop_live()
        self._callback = pn.state.add_periodic_callback(self.refresh, period=int(seconds * 1000), start=True)
        document = pn.state.curdoc
        if document is not None and document.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self.stop_live())

    @param.depends("live", watch=True)
    def _toggle_live(self) -> None:
        if self.live:
            self.start_live(self.refresh_interval or DEFAULT_LIVE_SECONDS)
        else:
            self.stop_live()

    def stop_live(self) -> None:
        """Stop the periodic refresh (also done when the browser session ends)."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def _summary_html(self) -> str:
        return study_summary_html(self.data) if self.data is not None else "No study selected."

    @param.depends("study", watch=True)
    def _load_study(self) -> None:
        if not hasattr(self, "history"):  # still constructing
            return
        try:
            data = self.source.study(self.study)
        except Exception as error:  # noqa: BLE001 - one study failing leaves the others usable
            self._status[:] = [error_alert(error, context=f"study {self.study}")]
            return
        self._status[:] = []
        self._show(data)

    def refresh(self) -> None:
        """Fetch new/unfinished trials of the shown study; views update only if something changed."""
        if not self.study:
            return
        try:
            data = self.source.refresh(self.study)
        except Exception as error:  # noqa: BLE001 - a flaky store shows a banner, the page stays
            self._status[:] = [error_alert(error, context="Tuning refresh")]
            return
        self._status[:] = []
        if _fingerprint(data) != _fingerprint(self.data):
            self._show(data)

    def _show(self, data) -> None:
        multi_changed = self.data is None or data.is_multi_objective != self.data.is_multi_objective
        if self.data is not None and data.name != self.data.name:
            self.selected_trials = []  # another study: its trial numbers mean other trials
        self.data = data
        self._summary.object = self._summary_html()
        self.history.data = data
        self.plots.data = data
        self.table.data = data
        if multi_changed:  # the Pareto tab comes and goes
            self._tabs[:] = self._tab_list()
        self._apply_plot(strict=True)

    def _tab_list(self) -> list[tuple[str, pn.viewable.Viewable]]:
        return [("History", self.history), *self.plots.tabs(), ("Trials", self.table),
                ("Compare studies", self.compare), ("All studies", self._studies_table)]

    def __panel__(self) -> pn.viewable.Viewable:
        controls = pn.Row(self._chooser, pn.Column(pn.Spacer(height=18), pn.Row(self._refresh_button, self._live_toggle)))
        return pn.Column(controls, self._status, self._summary, self._tabs,
                         sizing_mode="stretch_width", css_classes=["wb-tuning"])
