"""The Compare view: schema changes, row counts, changed cells, statistics and ranked drift."""

from __future__ import annotations

import holoviews as hv
import hvplot.pandas  # noqa: F401 - registers .hvplot
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.data_versions.compare import VersionComparison, changed_cells_frame
from workbench.views.data_versions.tables import value_styler
from workbench.views.widgets import text_table

HIGHLIGHT = "background-color: #fff3b0; font-weight: 600"
CHANGE_COLOURS = {"added": "color: #1a7f37", "removed": "color: #cf222e", "retyped": "color: #9a6700"}


def _mask_styler(mask: pd.DataFrame):
    def style(frame: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for column in mask.columns:
            if column in css.columns:
                css.loc[mask.index[mask[column]], column] = HIGHLIGHT
        return css
    return style


def drift_chart(drift: pd.DataFrame) -> hv.Element:
    """Horizontal bars of PSI per column, most drifted on top."""
    data = drift.dropna(subset=["psi"]).head(30).iloc[::-1]
    if data.empty:
        return hv.Text(0, 0, "no comparable columns")
    return data.hvplot.barh(x="column", y="psi", color="severity", cmap={"stable": "#8fbc8f", "moderate": "#f0ad4e",
                            "major": "#d9534f", "n/a": "#cccccc"}, height=max(200, 24 * len(data)),
                            responsive=True, title="Drift (PSI) per column", legend="bottom_right")


class CompareView(Viewer):
    """Shows a ``VersionComparison``."""

    comparison = param.Parameter(default=None, doc="A VersionComparison of two versions.")
    title = param.String(default="", doc="Which two versions are compared.")

    def __init__(self, **params):
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-compare"])
        self._render()

    @param.depends("comparison", "title", watch=True)
    def _render(self) -> None:
        comparison: VersionComparison | None = self.comparison
        if comparison is None:
            self._layout[:] = [pn.pane.Str("Choose two versions to compare.")]
            return
        rows = comparison.rows
        counts = pd.DataFrame([rows.counts()])
        matched = f"rows matched by key '{rows.key}'" if rows.method == "key" else "rows matched by whole-row hash"
        items: list = [pn.pane.Str(self.title, styles={"font-weight": "bold"}, css_classes=["wb-compare-title"]),
                       pn.pane.Str(matched + (f" — {rows.note}" if rows.note else "")),
                       text_table(counts, pagination=None, css_classes=["wb-diff-counts"])]
        schema = comparison.schema
        changed_schema = schema[schema["change"] != "same"]
        schema_table = text_table(changed_schema if not changed_schema.empty else schema, pagination=None)
        schema_table.style.apply(value_styler("change", CHANGE_COLOURS), axis=None)
        items += [pn.pane.Markdown("### Schema"),
                  pn.pane.Str("no column changes" if changed_schema.empty else f"{len(changed_schema)} column change(s)"),
                  schema_table]
        text, mask = changed_cells_frame(rows)
        if not text.empty:
            changed = text_table(text, page_size=10, css_classes=["wb-changed-rows"])
            changed.style.apply(_mask_styler(mask), axis=None)
            items += [pn.pane.Markdown(f"### Changed rows (sample of {len(text)} of {rows.changed})"), changed]
        tabs = pn.Tabs(sizing_mode="stretch_width")
        if not rows.added_rows.empty:
            tabs.append((f"Added ({rows.added})", text_table(rows.added_rows, page_size=10)))
        if not rows.removed_rows.empty:
            tabs.append((f"Removed ({rows.removed})", text_table(rows.removed_rows, page_size=10)))
        if len(tabs):
            items.append(tabs)
        items += [pn.pane.Markdown("### Drift"),
                  pn.Row(text_table(comparison.drift.round(4), pagination=None, css_classes=["wb-drift"]),
                         pn.pane.HoloViews(drift_chart(comparison.drift), sizing_mode="stretch_width"),
                         sizing_mode="stretch_width"),
                  pn.pane.Markdown("### Statistics before / after"),
                  text_table(comparison.stats.round(4), pagination=None, css_classes=["wb-stats"])]
        self._layout[:] = items

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
