"""Quality checks of one version (pass/warn/fail) and their trend over the history."""

from __future__ import annotations

import holoviews as hv
import hvplot.pandas  # noqa: F401 - registers .hvplot
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.data_versions.tables import value_styler
from workbench.views.widgets import text_table

STATUS_COLOURS = {"pass": "background-color: #dafbe1", "warn": "background-color: #fff8c5",
                  "fail": "background-color: #ffebe9"}


def trend_chart(trend: pd.DataFrame) -> hv.Element:
    """Null rate per column over the versions (columns that ever had nulls), oldest left."""
    nulls = trend[trend["metric"] == "null rate"]
    ever = nulls.groupby("column")["value"].transform("max") > 0
    nulls = nulls[ever]
    if nulls.empty:
        rows = trend[trend["metric"] == "rows"]
        return rows.hvplot.line(x="version", y="value", responsive=True, height=260,
                                title="Rows per version (no column ever had nulls)", ylabel="rows",
                                xlabel="version (oldest → newest)")
    return nulls.hvplot.line(x="version", y="value", by="column", responsive=True, height=260,
                             title="Null rate per column over history", ylabel="null rate",
                             xlabel="version (oldest → newest)")


class QualityView(Viewer):
    """Shows ``quality_checks`` of one version and ``quality_trend`` over many."""

    checks = param.DataFrame(default=None, allow_None=True)
    trend = param.DataFrame(default=None, allow_None=True)
    title = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-quality"])
        self._render()

    @param.depends("checks", "trend", "title", watch=True)
    def _render(self) -> None:
        if self.checks is None:
            self._layout[:] = [pn.pane.Str("Select a version to check it.")]
            return
        counts = self.checks["status"].value_counts()
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pass", "warn", "fail"))
        order = self.checks["status"].map({"fail": 0, "warn": 1, "pass": 2})
        checks = self.checks.iloc[order.argsort(kind="stable")].reset_index(drop=True)
        table = text_table(checks.round(4), page_size=25, css_classes=["wb-quality-checks"])
        table.style.apply(value_styler("status", STATUS_COLOURS), axis=None)
        items: list = [pn.pane.Str(f"{self.title}: {summary}", styles={"font-weight": "bold"}), table]
        if self.trend is not None and not self.trend.empty:
            items.append(pn.pane.HoloViews(trend_chart(self.trend), sizing_mode="stretch_width"))
        self._layout[:] = items

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
