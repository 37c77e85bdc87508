"""The Experiments page: MLflow runs of ``config.experiments`` (all when empty), eagerly (issue 4)."""

from __future__ import annotations

import html

import panel as pn

from workbench.apps.base import PanelPage
from workbench.errors import NotFound
from workbench.sources.mlflow import MlflowSource
from workbench.views.experiments.dashboard import ExperimentsDashboard


class ExperimentsPage(PanelPage):
    """Runs table of the configured experiments; store problems become alerts."""

    title = "Experiments"

    def _build(self) -> pn.viewable.Viewable:
        self.source = MlflowSource.from_config(self.config)
        self.experiment_ids = self.source.experiment_ids(self.config.experiments)
        runs = self.source.runs(self.experiment_ids)
        if runs.empty:
            names = ", ".join(self.config.experiments) or "any experiment"
            raise NotFound(f"No runs in {names} of {self.config.tracking_uri}.",
                           "log runs with mlflow (mlflow.start_run()), or choose other experiments")
        names = self.config.experiments or self.source.experiments()["name"].tolist()
        self.dashboard = ExperimentsDashboard(source=self.source, experiments=list(names),
                                              refresh_interval=self.config.refresh_interval)
        self.table = self.dashboard.table
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self.source.close())
        experiments = sorted(runs["experiment"].dropna().unique())
        summary = pn.pane.HTML(
            f"<b>{len(runs):,} runs</b> in {len(experiments)} experiment(s): "
            f"{html.escape(', '.join(experiments))}", css_classes=["wb-runs-summary"], sizing_mode="stretch_width")
        return pn.Column(summary, self.dashboard, sizing_mode="stretch_width")
