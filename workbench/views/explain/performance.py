"""Model performance: ROC, PR, confusion matrix at a threshold and calibration (classification);
predicted vs actual and residuals (regression). Needs the true targets."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.explain import performance as perf
from workbench.sources.explanations import Explanation
from workbench.views.explain.plotting import unlinked

SIZE = {"height": 300, "width": 330}


class PerformanceView(Viewer):
    """Performance of the explained model on the explained rows."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    threshold = param.Number(default=0.5, bounds=(0, 1), step=0.01, doc="Decision threshold on the score.")

    def available(self) -> bool:
        e = self.explanation
        return e is not None and e.y is not None and e.predictions is not None

    def classification(self) -> bool:
        return self.available() and perf.is_classification(self.explanation.y, self.explanation.predictions)

    @param.depends("explanation", "threshold")
    def _content(self):
        if not self.available():
            return pn.pane.Markdown("Performance needs the true targets: pass `y` to `wb.explain(model, X, y)` or "
                                    "give explain_data with the target column.", css_classes=["wb-explain-noy"])
        y, scores = self.explanation.y, self.explanation.predictions
        if not self.classification():
            frame, summary = perf.regression_frame(y, scores)
            low, high = float(frame[["actual", "predicted"]].min().min()), float(frame[["actual", "predicted"]].max().max())
            scatter = hv.Scatter(frame, "actual", "predicted").opts(size=4, alpha=0.6, title="Predicted vs actual", **SIZE)
            diagonal = hv.Curve([(low, low), (high, high)]).opts(color="#888", line_dash="dashed")
            residuals = hv.Histogram(np.histogram(frame["residual"], bins=30)).opts(title="Residuals", **SIZE)
            text = " · ".join(f"{name}: {value:.4g}" for name, value in summary.items())
            return pn.Column(pn.pane.Markdown(text), pn.Row(unlinked(scatter * diagonal, stretch=False), unlinked(residuals, stretch=False)))
        roc, auc = perf.roc_frame(y, scores)
        pr, ap = perf.pr_frame(y, scores)
        matrix = perf.confusion(y, scores, self.threshold)
        calibration = perf.calibration_frame(y, scores)
        rates = perf.threshold_metrics(y, scores, self.threshold)
        text = f"ROC AUC {auc:.3f} · average precision {ap:.3f} · at threshold {self.threshold:.2f}: " + \
            " · ".join(f"{name} {value:.3f}" for name, value in rates.items())
        plots = [
            hv.Curve(roc, "fpr", "tpr").opts(title=f"ROC (AUC {auc:.3f})", xlabel="false positive rate",
                                             ylabel="true positive rate", **SIZE),
            hv.Curve(pr, "recall", "precision").opts(title=f"Precision–recall (AP {ap:.3f})", **SIZE),
            hv.HeatMap(matrix, ["predicted", "actual"], "count").opts(cmap="Blues", title="Confusion matrix",
                                                                     tools=["hover"], **SIZE)
            * hv.Labels(matrix, ["predicted", "actual"], "count"),
            (hv.Curve(calibration, "predicted", "observed").opts(title="Calibration", **SIZE)
             * hv.Curve([(0, 0), (1, 1)]).opts(color="#888", line_dash="dashed")),
        ]
        return pn.Column(pn.pane.Markdown(text, css_classes=["wb-explain-metrics"]), pn.FlexBox(*[unlinked(plot, stretch=False) for plot in plots]))

    def __panel__(self):
        slider = pn.widgets.FloatSlider.from_param(self.param.threshold, name="Threshold", width=300)
        return pn.Column(slider, pn.panel(self._content, lazy=True), sizing_mode="stretch_width",
                         css_classes=["wb-explain-performance"])
