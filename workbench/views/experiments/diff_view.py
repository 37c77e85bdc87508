"""Diff of the selected runs: params and metrics side by side, best value per metric highlighted.

Columns are titled ``run 1``, ``run 2``...; the run names are the first row (plain text), because
Tabulator renders column titles as HTML and run names are user input.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from pandas.io.formats.style import Styler
from panel.viewable import Viewer

from workbench.analysis.experiments.diff import best_per_metric, diff_runs, metric_direction
from workbench.views.widgets import safe_options

BEST_STYLE = "background-color: #d4edda; font-weight: bold"


class DiffView(Viewer):
    """Rows are fields, columns are the selected runs; the 'only differences' switch hides equal rows."""

    runs = param.DataFrame(default=None, allow_None=True, doc="Tidy runs frame.")
    selection = param.List(default=[], item_type=str, doc="Run ids to compare, in order.")
    only_differences = param.Boolean(default=True, doc="Hide fields on which all selected runs agree.")
    include_tags = param.Boolean(default=False, doc="Also compare tags.")
    directions = param.Dict(default={}, doc="{metric: 'min'|'max'}; unset metrics guess from their name.")

    def __init__(self, **params):
        super().__init__(**params)
        self._table = self._new_table(pd.DataFrame())
        self._holder = pn.Column(self._table, sizing_mode="stretch_width")
        self._empty = True  # the table shows no comparison
        self._direction = pn.widgets.MultiChoice(name="Metrics where lower is better", options={},
                                                 sizing_mode="stretch_width")
        self._direction.param.watch(self._set_directions, "value")
        self._notice = pn.pane.Markdown("", css_classes=["wb-diff-notice"])
        self._update()

    def _set_directions(self, event) -> None:
        lower = set(event.new)
        metrics = list(self._direction.options.values())
        self.directions = {m: ("min" if m in lower else "max") for m in metrics}

    @param.depends("runs", "selection", "only_differences", "include_tags", "directions", watch=True)
    def _update(self) -> None:
        if self.runs is None or len(self.selection) < 1:
            self._notice.object = "Select runs in the table (tick the boxes) to compare them here."
            if not self._empty:  # an empty table stays as it is (no new browser model per filter)
                self._table = self._new_table(pd.DataFrame())
                self._holder[:] = [self._table]
                self._empty = True
            return
        self._empty = False
        full = diff_runs(self.runs, self.selection, include_tags=self.include_tags)
        table = diff_runs(self.runs, self.selection, only_differences=self.only_differences,
                          include_tags=self.include_tags)
        metrics = [f[len("metrics."):] for f in full.index if f.startswith("metrics.")]
        if list(self._direction.options.values()) != metrics:
            self._direction.options = safe_options(metrics)
            self._direction.value = [m for m in metrics if self.directions.get(m, metric_direction(m)) == "min"]
        # run names go in a first row, never in headers (Tabulator renders header titles as HTML)
        positions = {label: f"run {i + 1}" for i, label in enumerate(table.columns)}
        best = {field: positions[label] for field, label in best_per_metric(table, self.directions).items()}
        names = pd.DataFrame([list(table.columns)], columns=table.columns, index=pd.Index(["run"], name="field"))
        shown = pd.concat([names, table.astype(object).where(table.notna(), "")]).rename(columns=positions)
        self._notice.object = (f"{len(table.columns)} run(s), {len(table)} of {len(full)} field(s) shown"
                               + (" (only differences)" if self.only_differences else ""))
        # a fresh widget per comparison: the browser-side table does not reliably rebuild changed
        # columns, and a Styler given at construction carries the best-value highlight
        self._table = self._new_table(shown.style.apply(lambda frame: _best_styles(frame, best), axis=None))
        self._holder[:] = [self._table]

    @staticmethod
    def _new_table(frame: pd.DataFrame | Styler) -> pn.widgets.Tabulator:
        columns = frame.data.columns if isinstance(frame, Styler) else frame.columns
        return pn.widgets.Tabulator(frame, disabled=True, show_index=True, sizing_mode="stretch_width",
                                    layout="fit_data_table", css_classes=["wb-diff-table"], pagination=None,
                                    max_height=600, formatters={c: {"type": "plaintext"} for c in ["field", *columns]})

    @property
    def best(self) -> dict[str, str]:
        table = diff_runs(self.runs, self.selection, only_differences=self.only_differences,
                          include_tags=self.include_tags)
        return best_per_metric(table, self.directions)

    def __panel__(self) -> pn.viewable.Viewable:
        switch = pn.widgets.Switch.from_param(self.param.only_differences, name="Only differences")
        tags = pn.widgets.Checkbox.from_param(self.param.include_tags, name="Include tags")
        return pn.Column(pn.Row(switch, tags, self._notice),
                         self._direction, self._holder, sizing_mode="stretch_width")


def _best_styles(frame: pd.DataFrame, best: dict[str, str]) -> pd.DataFrame:
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for field, column in best.items():
        if field in styles.index and column in styles.columns:
            styles.loc[field, column] = BEST_STYLE
    return styles
