"""Cohorts (explanations of two subsets compared), fairness (metrics by a sensitive column) and the
explanation diff of two models."""

from __future__ import annotations

import html

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.explain.groups import (
    OPERATORS,
    cohort_mask,
    compare_cohorts,
    explanation_diff,
    fairness_metrics,
    groups_of,
)
from workbench.analysis.explain.importance import mean_abs_importance
from workbench.sources.explanations import Explanation
from workbench.views.explain.plotting import unlinked
from workbench.views.explain.table import plain_table


def _features(explanation: Explanation | None) -> list[str]:
    return [] if explanation is None else list(mean_abs_importance(explanation.values)["feature"])


def scores_of(explanation: Explanation) -> pd.Series:
    """Probability-like scores: the predictions, or the SHAP output (log-odds through a sigmoid)."""
    if explanation.predictions is not None:
        return explanation.predictions
    output = explanation.output
    return 1 / (1 + np.exp(-output)) if explanation.output_space == "log-odds" else output


class CohortView(Viewer):
    """Mean |SHAP| in cohort A (``feature operator value``) vs cohort B (all other rows)."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    feature = param.Selector(objects=[])
    operator = param.Selector(objects=list(OPERATORS), default=">=")
    value = param.Number(default=0.0)

    def __init__(self, **params):
        super().__init__(**params)
        self._sync()

    @param.depends("explanation", watch=True)
    def _sync(self) -> None:
        names = _features(self.explanation)
        if names and list(self.param.feature.objects) != names:
            self.param.feature.objects = names
            if self.feature not in names:
                self.feature = names[0]
                self.value = float(pd.to_numeric(self.explanation.features[names[0]], errors="coerce").median())

    def frame(self) -> pd.DataFrame | None:
        if self.explanation is None or self.feature is None:
            return None
        mask = cohort_mask(self.explanation.features, self.feature, self.operator, self.value)
        return compare_cohorts(self.explanation.values, mask).assign(
            rows_a=int(mask.sum()), rows_b=int((~mask).sum()))

    @param.depends("explanation", "feature", "operator", "value")
    def _plot(self):
        frame = self.frame()
        if frame is None:
            return pn.pane.Markdown("No explanation yet.")
        a, b = int(frame["rows_a"].iloc[0]), int(frame["rows_b"].iloc[0])
        if not a or not b:
            return pn.pane.Markdown(f"The filter puts {a:,} rows in cohort A and {b:,} in B: both need rows.")
        top = frame.head(12).iloc[::-1]
        long = top.melt(id_vars="feature", value_vars=["cohort A", "cohort B"], var_name="cohort",
                        value_name="mean |SHAP|")
        bars = hv.Bars(long, ["feature", "cohort"], "mean |SHAP|").opts(
            invert_axes=True, responsive=True, min_width=400, height=420, tools=["hover"], multi_level=False,
            color=hv.dim("cohort").categorize({"cohort A": "#1f6feb", "cohort B": "#e5534b"}),
            title=f"Cohort A (blue): {a:,} rows · cohort B (red, all other rows): {b:,} rows")
        return unlinked(bars)

    def __panel__(self):
        controls = pn.Row(pn.widgets.Select.from_param(self.param.feature, name="Cohort A: feature", width=240),
                          pn.widgets.Select.from_param(self.param.operator, name="", width=70),
                          pn.widgets.FloatInput.from_param(self.param.value, name="value", width=140))
        return pn.Column(controls, pn.panel(self._plot, lazy=True), sizing_mode="stretch_width", css_classes=["wb-explain-cohorts"])


class FairnessView(Viewer):
    """Selection rate, TPR, FPR and error rate by group of a sensitive column, and the gaps."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    sensitive = param.Selector(objects=[], doc="Column defining the groups.")
    threshold = param.Number(default=0.5, bounds=(0, 1), step=0.01)

    def __init__(self, **params):
        super().__init__(**params)
        self._sync()

    @param.depends("explanation", watch=True)
    def _sync(self) -> None:
        names = [] if self.explanation is None else [str(c) for c in self.explanation.features.columns]
        if names and list(self.param.sensitive.objects) != names:
            self.param.sensitive.objects = names
            if self.sensitive not in names:
                self.sensitive = min(names, key=lambda n: self.explanation.features[n].nunique())

    def metrics(self) -> tuple[pd.DataFrame, dict[str, float]] | None:
        if self.explanation is None or self.sensitive is None:
            return None
        groups = groups_of(self.explanation.features[self.sensitive])
        return fairness_metrics(groups, scores_of(self.explanation), self.explanation.y, self.threshold)

    @param.depends("explanation", "sensitive", "threshold")
    def _content(self):
        result = self.metrics()
        if result is None:
            return pn.pane.Markdown("No explanation yet.")
        table, gaps = result
        gap_text = " · ".join(f"{html.escape(name)} gap {value:.3f}" for name, value in gaps.items())
        note = "" if self.explanation.y is not None else " (TPR/FPR need the true targets)"
        return pn.Column(pn.pane.Markdown(f"**Gaps between groups:** {gap_text}{note}", css_classes=["wb-fairness-gaps"]),
                         plain_table(table.round(4)))

    def __panel__(self):
        controls = pn.Row(pn.widgets.Select.from_param(self.param.sensitive, name="Sensitive column", width=260),
                          pn.widgets.FloatSlider.from_param(self.param.threshold, name="Threshold", width=260))
        return pn.Column(controls, pn.panel(self._content, lazy=True), sizing_mode="stretch_width",
                         css_classes=["wb-explain-fairness"])


class DiffView(Viewer):
    """Importance shift and SHAP distribution shift between explanation A and B of the same data."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    other = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True, doc="The model to compare with.")

    def frame(self) -> pd.DataFrame | None:
        if self.explanation is None or self.other is None:
            return None
        return explanation_diff(self.explanation.values, self.other.values)

    @param.depends("explanation", "other")
    def _content(self):
        frame = self.frame()
        if frame is None:
            return pn.pane.Markdown("Choose a second model to compare with (a run with a stored explanation, or "
                                    "`compare_model=` in the notebook API).")
        top = frame.head(15).iloc[::-1]
        notes = []
        if self.explanation.output_space != self.other.output_space:
            notes.append(f"A is in {self.explanation.output_space}, B in {self.other.output_space}: compare ranks "
                         "rather than sizes.")
        if len(self.explanation.values) != len(self.other.values):
            notes.append(f"A explains {len(self.explanation.values):,} rows, B {len(self.other.values):,}.")
        shift = hv.Bars(top, "feature", "importance shift").opts(
            invert_axes=True, responsive=True, min_width=400, height=420, tools=["hover"],
            color="#1f6feb",
            title="Importance shift (B − A, mean |SHAP|)")
        note = pn.pane.Alert(html.escape(" ".join(notes)), alert_type="warning") if notes else None
        return pn.Column(*([note] if note else []), unlinked(shift), plain_table(frame.round(5), pagination="local", page_size=15))

    def __panel__(self):
        return pn.Column(pn.panel(self._content, lazy=True), sizing_mode="stretch_width", css_classes=["wb-explain-diff"])
