"""Global importance: mean |SHAP| per feature as a horizontal bar chart."""

from __future__ import annotations

import hvplot.pandas  # noqa: F401 - registers .hvplot
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.explain.importance import mean_abs_importance, ranked_importance
from workbench.sources.explanations import Explanation
from workbench.views.explain.labels import output_label
from workbench.views.explain.plotting import unlinked


class ImportanceChart(Viewer):
    """Mean |SHAP| of the top features, largest on top."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True,
                                      doc="The explanation to summarise.")
    top = param.Integer(default=20, bounds=(1, None), doc="How many features to show.")

    def frame(self):
        """The plotted data: feature, importance, share."""
        if self.explanation is None:
            return None
        if self.explanation.importance is not None:  # over every row, not only the sample in memory
            return ranked_importance(self.explanation.importance, top=self.top)
        return mean_abs_importance(self.explanation.values, top=self.top)

    @param.depends("explanation", "top")
    def _plot(self):
        frame = self.frame()
        if frame is None:
            return pn.pane.Markdown("No explanation yet.")
        frame = frame.iloc[::-1]  # barh draws the first row at the bottom
        rows = self.explanation.rows_total or len(self.explanation.values)
        return unlinked(frame.hvplot.barh(
            x="feature", y="importance", hover_cols=["share"], color="#1f6feb",
            xlabel="", ylabel=f"mean |SHAP value|  ({output_label(self.explanation)})",
            title=f"Global importance — {rows:,} rows", height=max(260, 24 * len(frame) + 80),
            responsive=True, min_width=400,
        ).opts(tools=["hover"], toolbar="above", default_tools=["save"]))

    def __panel__(self):
        return pn.Column(pn.panel(self._plot, lazy=True), sizing_mode="stretch_width",
                         css_classes=["wb-explain-importance"])
