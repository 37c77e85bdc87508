"""The Experiments page: MLflow runs of ``config.experiments`` (all when empty), eagerly (issue 4)."""

from __future__ import annotations

import html

import pandas as pd
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
        self.source.experiment_ids(self.config.experiments)  # unknown names → NotFound with a hint
        names = self.config.experiments or self.source.experiments()["name"].tolist()
        self.dashboard = ExperimentsDashboard(source=self.source, experiments=list(names),
                                              refresh_interval=self.config.refresh_interval)
        if self.dashboard.runs is None or self.dashboard.runs.empty:
            shown = ", ".join(self.config.experiments) or "any experiment"
            raise NotFound(f"No runs in {shown} of {self.config.tracking_uri}.",
                           "log runs with mlflow (mlflow.start_run()), or choose other experiments")
        self.table = self.dashboard.table
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda context: self.source.close())
        summary = pn.pane.HTML(pn.bind(run_summary, self.dashboard.param.runs), css_classes=["wb-runs-summary"],
                               sizing_mode="stretch_width")
        return pn.Column(summary, self.dashboard, sizing_mode="stretch_width")


def run_summary(runs: pd.DataFrame | None) -> str:
    """"<b>N runs</b> in k experiment(s): names" for the runs shown."""
    runs = runs if runs is not None else pd.DataFrame({"experiment": []})
    experiments = sorted(runs["experiment"].dropna().unique())
    return (f"<b>{len(runs):,} runs</b> in {len(experiments)} experiment(s): "
            f"{html.escape(', '.join(experiments))}")
