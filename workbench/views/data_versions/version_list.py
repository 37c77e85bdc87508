"""The version list: every commit that changed a dataset, newest first."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.data_versions.tables import human_size
from workbench.views.widgets import text_table

DISPLAY_COLUMNS = ["version", "date", "author", "message", "change", "rows", "columns", "size", "md5",
                   "stored", "commit"]


def version_table_frame(history: pd.DataFrame) -> pd.DataFrame:
    """The history frame shaped for display: a version label, readable date and size."""
    if history.empty:
        return pd.DataFrame(columns=DISPLAY_COLUMNS)
    labels = history["tags"].where(history["tags"].astype(bool), history["short"])
    return pd.DataFrame({
        "version": labels,
        "date": history["date"].dt.strftime("%Y-%m-%d %H:%M"),
        "author": history["author"],
        "message": history["message"],
        "change": history["change"],
        "rows": history["rows"],
        "columns": history["columns"],
        "size": [human_size(value) for value in history["size"]],
        "md5": history["md5"].fillna("").str.slice(0, 12),
        "stored": history.get("stored", ""),
        "commit": history["short"],
    }).reset_index(drop=True)


class VersionList(Viewer):
    """A table of a dataset's versions; selecting rows sets ``selected`` (commit shas)."""

    history = param.DataFrame(default=None, allow_None=True, doc="DvcSource.history() of one dataset.")
    selected = param.List(default=[], item_type=str, doc="Commit shas of the selected versions.")

    def __init__(self, **params):
        super().__init__(**params)
        self._table = text_table(version_table_frame(self._history()), selectable="checkbox",
                                 css_classes=["wb-version-list"], page_size=25)
        self._table.param.watch(self._on_selection, "selection")
        self._summary = pn.pane.Markdown(self._summary_text(), css_classes=["wb-version-summary"])

    def _history(self) -> pd.DataFrame:
        return self.history if self.history is not None else pd.DataFrame(
            columns=["tags", "short", "date", "author", "message", "change", "rows", "columns", "size", "md5"])

    def _summary_text(self) -> str:
        count = len(self._history())
        return f"{count} version{'s' if count != 1 else ''}"

    @param.depends("history", watch=True)
    def _refresh(self) -> None:
        self._table.value = version_table_frame(self._history())
        self._table.selection = []
        self._summary.object = self._summary_text()

    def _on_selection(self, event: param.parameterized.Event) -> None:
        commits = self._history()["commit"].tolist()
        self.selected = [commits[i] for i in event.new if i < len(commits)]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._summary, self._table, sizing_mode="stretch_width")
