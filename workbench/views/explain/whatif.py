"""What-if: edit a row's feature values and see the prediction and its explanation update live."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.explain.prediction import waterfall_frame
from workbench.sources.explanations import Explanation
from workbench.views.explain.labels import output_label
from workbench.views.explain.plotting import unlinked
from workbench.views.explain.waterfall import waterfall_plot

RowExplainer = Callable[[pd.DataFrame], tuple[pd.Series, float]]


class WhatIf(Viewer):
    """Inputs for the row's most influential features; every edit re-explains the edited row."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    row = param.Integer(default=0, bounds=(0, None), allow_refs=True)
    editable = param.Integer(default=8, bounds=(1, 40), doc="How many features get an input.")
    edited = param.DataFrame(default=None, allow_None=True, doc="The edited row (one-row frame).")

    def __init__(self, explain_row: RowExplainer | None = None, **params):
        super().__init__(**params)
        self.explain_row = explain_row
        self._inputs = pn.Column(sizing_mode="stretch_width")
        self._reset()

    @param.depends("explanation", "row", watch=True)
    def _reset(self) -> None:
        if self.explanation is None or self.explain_row is None or not len(self.explanation.values):
            return
        position = min(self.row, len(self.explanation.values) - 1)
        original = self.explanation.features.iloc[[position]]
        if self.edited is not None and self.edited.index.equals(original.index):
            return  # the same row: keep the user's edits while the explanation grows
        order = self.explanation.values.iloc[position].abs().sort_values(ascending=False).index[:self.editable]
        widgets = []
        for name in order:
            widget = pn.widgets.FloatInput(name=str(name), value=float(original[name].iloc[0]), width=180)
            widget.param.watch(lambda event, n=name: self._edit(n, event.new), "value")
            widgets.append(widget)
        self._inputs[:] = [pn.FlexBox(*widgets)]
        self.edited = original.copy()

    def _edit(self, name, value) -> None:
        if value is None or self.edited is None:
            return
        edited = self.edited.copy()
        edited[name] = edited[name].astype(float)
        edited.loc[edited.index[0], name] = value
        self.edited = edited

    def result(self) -> tuple[pd.Series, float] | None:
        """SHAP values and base value of the edited row."""
        if self.edited is None or self.explain_row is None:
            return None
        return self.explain_row(self.edited)

    @param.depends("edited")
    def _plot(self):
        result = self.result()
        if result is None:
            return pn.pane.Markdown("What-if needs the model itself: it is available for models explained live "
                                    "(notebook or `workbench serve --trusted`).")
        values, base = result
        frame = waterfall_frame(values, self.edited.iloc[0], base)
        output = base + float(values.sum())
        return unlinked(waterfall_plot(frame, base, output_label(self.explanation), f"Edited row: {output:.4g}"))

    def __panel__(self):
        return pn.Column(self._inputs, pn.panel(self._plot, lazy=True), sizing_mode="stretch_width",
                         css_classes=["wb-explain-whatif"])
