"""The runs behind a trial or a data version (a RunSet), with their metrics; selecting one sets ``selected``."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.sources.lineage import RunSet
from workbench.views.alert import info_alert
from workbench.views.widgets import text_table

BASE_COLUMNS = ["run_name", "experiment", "status", "start_time"]
MAX_METRICS = 8


def run_list_frame(runs: pd.DataFrame, metrics: list[str] | None = None) -> pd.DataFrame:
    """run_name, experiment, status, start, then the metrics (the given ones, else the most logged)."""
    if metrics is None:
        counts = runs[[c for c in runs.columns if c.startswith("metrics.")]].notna().sum()
        metrics = [c[len("metrics."):] for c in counts.sort_values(ascending=False, kind="stable").index[:MAX_METRICS]]
    frame = runs.reindex(columns=[*BASE_COLUMNS, *[f"metrics.{m}" for m in metrics]]).copy()
    frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True).dt.strftime("%Y-%m-%d %H:%M")
    frame.columns = [c.removeprefix("metrics.") for c in frame.columns]
    return frame.round(4).reset_index(drop=True)


class RunList(Viewer):
    """A table of ``runset.runs`` (or its reason when empty); ``selected`` is the chosen run id."""

    runset = param.ClassSelector(class_=RunSet, allow_None=True, doc="LineageSource.trial_runs/version_runs result.")
    metrics = param.List(default=None, allow_None=True, item_type=str, doc="Metrics shown (None: the most logged).")
    selected = param.String(default="", doc="The run id of the selected row.")

    def __init__(self, **params):
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-lineage-run-list"])
        self._table: pn.widgets.Tabulator | None = None
        self._render()

    @param.depends("runset", "metrics", watch=True)
    def _render(self) -> None:
        runset = self.runset
        if runset is None or runset.runs.empty:
            reason = runset.reason if runset is not None else "No runs to show."
            self._table = None
            self._layout[:] = [info_alert(reason)]
            return
        self._table = text_table(run_list_frame(runset.runs, self.metrics), selectable=1, page_size=15)
        self._table.param.watch(self._on_select, "selection")
        count = len(runset.runs)
        self._layout[:] = [pn.pane.HTML(f"{count} run{'s' if count != 1 else ''}"), self._table]

    def _on_select(self, event: param.parameterized.Event) -> None:
        ids = self.runset.runs["run_id"].tolist() if self.runset is not None else []
        self.selected = ids[event.new[0]] if event.new and event.new[0] < len(ids) else ""

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
