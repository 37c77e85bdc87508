"""The Tuning page: Optuna studies of ``config.optuna_storage`` (issue 5)."""

from __future__ import annotations

import panel as pn

from workbench.apps.base import PanelPage
from workbench.errors import NotFound
from workbench.sources.optuna import open_optuna_source
from workbench.views.alert import error_alert
from workbench.views.tuning.dashboard import TuningDashboard


class TuningPage(PanelPage):
    """Study chooser, summary and plots; opens ``config.study_name`` (or the first study) eagerly."""

    title = "Tuning"

    def _build(self) -> pn.viewable.Viewable:
        self.source = open_optuna_source(self.config.optuna_storage)
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
        return pn.Column(*notice, self.dashboard, sizing_mode="stretch_width")
