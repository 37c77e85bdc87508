"""The runs table: Tabulator with remote pagination, a column chooser and row selection.

Every text cell uses Tabulator's ``plaintext`` formatter, so run names, params and tags containing
HTML render as text.
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.experiments.columns import default_columns, display_frame
from workbench.views.widgets import safe_options

PLAIN = {"type": "plaintext"}


class RunsTable(Viewer):
    """Runs (one row each) with chosen columns; ``selection`` holds the selected run ids."""

    runs = param.DataFrame(default=None, allow_None=True, doc="Tidy runs frame (see sources/mlflow_frames.py).")
    columns = param.List(default=[], item_type=str, doc="Columns shown (empty: a sensible default).")
    selection = param.List(default=[], item_type=str, doc="Selected run ids.")
    page_size = param.Integer(default=25, bounds=(5, 500), doc="Rows per page.")

    def __init__(self, **params):
        super().__init__(**params)
        self._chooser = pn.widgets.MultiChoice(name="Columns", options={}, sizing_mode="stretch_width",
                                               css_classes=["wb-column-chooser"])
        self._table = pn.widgets.Tabulator(
            pagination="remote", page_size=self.page_size, selectable="checkbox", show_index=False,
            disabled=True, header_filters=True, sizing_mode="stretch_width", layout="fit_data_table",
            css_classes=["wb-runs-table"], frozen_columns=["run_name"])
        self._sync_columns()
        self._chooser.param.watch(self._choose, "value")
        self._table.param.watch(self._selected, "selection")

    def _frame(self) -> pd.DataFrame:
        return self.runs if self.runs is not None else pd.DataFrame({"run_id": pd.Series(dtype=str)})

    @param.depends("runs", watch=True)
    def _sync_columns(self) -> None:
        runs = self._frame()
        options = [c for c in runs.columns if c != "run_id"]
        kept = [c for c in self.columns if c in options]
        with param.parameterized.discard_events(self):
            self.columns = kept or default_columns(runs)
        self._chooser.options = safe_options(options)
        self._chooser.value = list(self.columns)
        self._update_table()

    @param.depends("columns", watch=True)
    def _update_table(self) -> None:
        runs = self._frame()
        shown = ["run_id"] + [c for c in self.columns if c in runs.columns and c != "run_id"]
        frame = display_frame(runs[shown])
        selected = set(self.selection)
        self._table.formatters = {c: PLAIN for c in frame.columns if frame[c].dtype.kind in "OSUT"}
        self._table.titles = {c: html.escape(c) for c in frame.columns}  # Tabulator titles are HTML
        self._table.value = frame
        self._table.hidden_columns = ["run_id"]
        self._table.selection = [i for i, run_id in enumerate(frame["run_id"]) if run_id in selected]

    def _choose(self, event) -> None:
        if list(event.new) != list(self.columns):
            self.columns = list(event.new)

    def _selected(self, event) -> None:
        frame = self._table.value
        chosen = [frame["run_id"].iloc[i] for i in event.new if i < len(frame)]
        if chosen != self.selection:
            self.selection = chosen

    @param.depends("selection", watch=True)
    def _select_rows(self) -> None:
        """Selection set from outside (e.g. a shared link): tick the matching rows."""
        frame = self._table.value
        wanted = set(self.selection)
        rows = [i for i, run_id in enumerate(frame["run_id"]) if run_id in wanted]
        if sorted(rows) != sorted(self._table.selection):
            self._table.selection = rows

    @property
    def table(self) -> pn.widgets.Tabulator:
        return self._table

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._chooser, self._table, sizing_mode="stretch_width")
