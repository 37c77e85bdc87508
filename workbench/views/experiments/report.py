"""A self-contained static HTML report of the current comparison (no server, no CDN)."""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING

import panel as pn
from bokeh.resources import INLINE

if TYPE_CHECKING:
    from workbench.views.experiments.dashboard import ExperimentsDashboard


def comparison_report(dashboard: ExperimentsDashboard) -> str:
    """HTML of the filter, the diff of the selected runs (plain escaped table), curves and parallel plot."""
    dashboard.flush()  # tabs not shown since the last filter/selection are filled first
    diff = dashboard.diff._table.value
    query = dashboard.query or "(none)"
    parts = [
        pn.pane.HTML(f"<h1>Run comparison</h1><p>Experiments: {html.escape(', '.join(dashboard.experiments))}"
                     f"<br>Filter: <code>{html.escape(query)}</code><br>{len(dashboard.filtered):,} runs match;"
                     f" {len(dashboard.table.selection)} selected.</p>", sizing_mode="stretch_width"),
        pn.pane.HTML(diff.to_html(escape=True, na_rep="") if len(diff) else "<p>No runs selected.</p>",
                     sizing_mode="stretch_width"),
        pn.pane.HoloViews(dashboard.curves.plot(), sizing_mode="stretch_width"),
        pn.pane.HoloViews(dashboard.parallel._pane.object, sizing_mode="stretch_width"),
    ]
    buffer = io.StringIO()
    pn.Column(*parts, sizing_mode="stretch_width").save(buffer, resources=INLINE, embed=False,
                                                         title="Run comparison")
    return buffer.getvalue()
