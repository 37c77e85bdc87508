"""The Tuning page: Optuna studies of ``config.optuna_storage`` (issue 5)."""

from __future__ import annotations

import panel as pn
import param

from workbench.access import allowed
from workbench.apps.base import PanelPage
from workbench.apps.lineage_wiring import trial_runs_section
from workbench.errors import NotFound
from workbench.sources.optuna import open_optuna_source
from workbench.views.alert import error_alert
from workbench.views.tuning.dashboard import TuningDashboard
from workbench.views.tuning.report import tuning_report


class TuningPage(PanelPage):
    """Study chooser, summary and plots; opens ``config.study_name`` (or the first study) eagerly."""

    title = "Tuning"
    report_filename = "study.html"

    study = param.String(default=None, allow_None=True, doc="The study shown (?study= when served; links set it).")
    trial = param.Integer(default=None, allow_None=True, doc="The trial selected (?trial=): detail and its MLflow runs.")

    def _build(self) -> pn.viewable.Viewable:
        self.source = open_optuna_source(self.config.optuna_storage, cache_dir=self.config.cache_dir,
                                         allowed_studies=allowed(self.config, "studies"), shared=True)
        studies = self.source.studies()
        if studies.empty:
            raise NotFound(f"The Optuna storage {self.config.optuna_storage} holds no studies.",
                           "run optuna.create_study(storage=...) and optimize it, or point optuna_storage "
                           "at the storage your studies live in")
        wanted = self.config.study_name
        notice = []
        if wanted and wanted not in set(studies["study_name"]):
            known = ", ".join(studies["study_name"].head(10))
            notice = [error_alert(NotFound(f"Study '{wanted}' is not in the Optuna storage.",
                                           f"set study_name to one of: {known}"), context=self.title)]
            wanted = None
        self.dashboard = TuningDashboard(source=self.source, study=wanted,
                                         refresh_interval=self.config.refresh_interval)
        self.dashboard.table.extra = trial_runs_section(self)  # under the trial detail: the runs it produced
        return pn.Column(*notice, self.dashboard, sizing_mode="stretch_width")

    def report_html(self) -> str:
        """The shown study (summary, history, the plot tab shown, selected and best trials) as static HTML."""
        return tuning_report(self.dashboard)

    def url_state(self) -> list:
        """Beyond study, plot tab and selected trial (synced by the dashboard): each plot's choices."""
        return [(self.dashboard.plots, {"objective": "tuning_objective", "slice_param": "tuning_slice",
                                        "x": "tuning_x", "y": "tuning_y", "evaluator": "tuning_evaluator",
                                        "pareto_x": "tuning_pareto_x", "pareto_y": "tuning_pareto_y"}),
                (self.dashboard.history, {"log_y": "tuning_log_y"})]
