"""The runs behind a trial or a data version (a RunSet), with their metrics; selecting one sets ``selected``."""

from __future__ import annotations

import html

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
    action = param.String(default="", doc="Label of a button acting on the selected run (empty: no button).")
    blocked = param.String(default="", doc="Why the action cannot be done here (disables the button).")
    acted = param.String(default="", doc="The run id the action was last done on (watch it).")

    def __init__(self, **params):
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-lineage-run-list"])
        self._table: pn.widgets.Tabulator | None = None
        self.button = pn.widgets.Button(name=self.action or "Open", button_type="primary", width=260,
                                        css_classes=["wb-run-list-action"])
        self.button.on_click(lambda _event: self.act())
        self._render()

    def target(self) -> str:
        """The run the action applies to: the selected one, else the only one listed."""
        if self.selected:
            return self.selected
        runs = self.runset.runs if self.runset is not None else None
        return str(runs["run_id"].iloc[0]) if runs is not None and len(runs) == 1 else ""

    @param.depends("selected", "blocked", "action", watch=True)
    def _update_button(self) -> None:
        reason = self.blocked or ("" if self.target() else "Select a run in the table first.")
        self.button.param.update(name=self.action or "Open", disabled=bool(reason),
                                 description=html.escape(reason) or None)

    def act(self) -> None:
        """Do the action on :meth:`target` (what a click does); ignored when blocked or nothing is chosen."""
        run_id = self.target()
        if run_id and not self.blocked:
            self.acted = ""  # the same run twice still notifies
            self.acted = run_id

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
        self.selected = ""
        self._update_button()
        parts = [pn.pane.HTML(f"{count} run{'s' if count != 1 else ''}"), self._table]
        self._layout[:] = [*parts, self.button] if self.action else parts

    def _on_select(self, event: param.parameterized.Event) -> None:
        ids = self.runset.runs["run_id"].tolist() if self.runset is not None else []
        self.selected = ids[event.new[0]] if event.new and event.new[0] < len(ids) else ""

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
