"""Static HTML export of an explanation: header, importance, beeswarm and the importance table."""

from __future__ import annotations

import html
import io

import panel as pn
from bokeh.resources import INLINE

from workbench.analysis.explain.importance import mean_abs_importance
from workbench.sources.explanations import Explanation
from workbench.views.explain.beeswarm import BeeswarmChart
from workbench.views.explain.importance import ImportanceChart
from workbench.views.explain.labels import output_label


def report_html(explanation: Explanation, title: str = "Model explanation") -> str:
    """A self-contained HTML page (inline JS, no server needed) summarising ``explanation``."""
    facts = [explanation.model_type or "Model", explanation.source,
             f"{len(explanation.values):,} rows × {len(explanation.feature_names)} features",
             f"SHAP values in {output_label(explanation)}, base value {explanation.base_value:.4g}"]
    table = mean_abs_importance(explanation.values).round(5)
    rows = "".join(f"<tr><td>{html.escape(str(r.feature))}</td><td>{r.importance:.5g}</td><td>{r.share:.1%}</td></tr>"
                   for r in table.itertuples())
    layout = pn.Column(
        pn.pane.HTML(f"<h1>{html.escape(title)}</h1><p>{html.escape(' · '.join(f for f in facts if f))}</p>"),
        ImportanceChart(explanation=explanation).__panel__(),
        BeeswarmChart(explanation=explanation, raster_above=10**9 if len(explanation.values) <= 5000 else 0).__panel__(),
        pn.pane.HTML("<h2>Mean |SHAP| per feature</h2><table><tr><th>feature</th><th>mean |SHAP|</th><th>share</th>"
                     f"</tr>{rows}</table>"),
        sizing_mode="stretch_width",
    )
    buffer = io.StringIO()
    layout.save(buffer, resources=INLINE, title=title)
    return buffer.getvalue()
