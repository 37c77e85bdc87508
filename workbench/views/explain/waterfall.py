"""Single prediction: pick a row (by position, by searching its index, or by a click elsewhere) and
see how its features move the output from the base value (a waterfall)."""

from __future__ import annotations

import html

import holoviews as hv
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.explain.prediction import waterfall_frame
from workbench.sources.explanations import Explanation
from workbench.views.explain.labels import output_label
from workbench.views.explain.plotting import unlinked

UP, DOWN, REST = "#e5534b", "#1f6feb", "#8b949e"


def waterfall_plot(frame, base_value: float, label: str, title: str) -> hv.Segments:
    """Horizontal bars from each cumulative start to end; first feature on top."""
    frame = frame.iloc[::-1].reset_index(drop=True).assign(
        y=lambda f: range(len(f)),
        colour=lambda f: [REST if k == "rest" else (UP if v >= 0 else DOWN) for k, v in zip(f["kind"], f["shap"],
                                                                                          strict=True)])
    ticks = [(int(i), str(text)) for i, text in zip(frame["y"], frame["label"], strict=True)]
    bars = hv.Segments(frame, kdims=["start", "y", "end", "y"], vdims=["shap", "label", "colour"]).opts(
        color="colour", line_width=14, tools=["hover"], yticks=ticks, ylabel="", xlabel=label, title=title,
        height=max(280, 30 * len(frame) + 90), responsive=True, min_width=400)
    return bars * hv.VLine(base_value).opts(color="#555", line_dash="dashed", line_width=1)


class WaterfallChart(Viewer):
    """The waterfall of one row of the explanation."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    row = param.Integer(default=0, bounds=(0, None), allow_refs=True, doc="Position of the row explained.")
    max_display = param.Integer(default=10, bounds=(1, 40))

    def __init__(self, **params):
        super().__init__(**params)
        self._position = pn.widgets.IntInput(name="Row (position)", value=self.row, start=0, width=150)
        self._search = pn.widgets.AutocompleteInput(name="Find row by index", placeholder="type an index label",
                                                    case_sensitive=False, min_characters=1, width=220)
        self._position.link(self, value="row", bidirectional=True)
        self._search.param.watch(self._on_search, "value")
        self._sync_options()

    @param.depends("explanation", watch=True)
    def _sync_options(self) -> None:
        if self.explanation is None:
            return
        n = len(self.explanation.values)
        self._position.end = max(n - 1, 0)
        if self.explanation.complete or not self._search.options:  # not on every partial update
            self._search.options = [str(label) for label in self.explanation.values.index[:50_000]]
        if self.row >= n:
            self.row = 0

    def _on_search(self, event) -> None:
        labels = [str(label) for label in self.explanation.values.index] if self.explanation is not None else []
        if event.new in labels:
            self.row = labels.index(event.new)

    def frame(self):
        if self.explanation is None or not len(self.explanation.values):
            return None
        position = min(self.row, len(self.explanation.values) - 1)
        return waterfall_frame(self.explanation.values.iloc[position], self.explanation.features.iloc[position],
                               self.explanation.base_value, self.max_display)

    @param.depends("explanation", "row", "max_display")
    def _plot(self):
        frame = self.frame()
        if frame is None:
            return pn.pane.Markdown("No explanation yet.")
        label = self.explanation.values.index[min(self.row, len(self.explanation.values) - 1)]
        output = self.explanation.base_value + frame["shap"].sum()
        return unlinked(waterfall_plot(frame, self.explanation.base_value, output_label(self.explanation),
                                       f"Row {label}: {output:.4g} (base {self.explanation.base_value:.4g})"))

    @param.depends("explanation", "row")
    def _facts(self):
        if self.explanation is None or not len(self.explanation.values):
            return ""
        position = min(self.row, len(self.explanation.values) - 1)
        facts = []
        if self.explanation.predictions is not None:
            facts.append(f"prediction: {float(self.explanation.predictions.iloc[position]):.4g}")
        if self.explanation.y is not None:
            facts.append(f"actual: {html.escape(str(self.explanation.y.iloc[position]))}")
        return " · ".join(facts)

    def __panel__(self):
        return pn.Column(pn.Row(self._position, self._search, pn.pane.Markdown(self._facts)), pn.panel(self._plot, lazy=True),
                         sizing_mode="stretch_width", css_classes=["wb-explain-waterfall"])
