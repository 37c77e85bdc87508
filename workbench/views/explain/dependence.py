"""Dependence plot: a feature's value vs its SHAP value, coloured by its strongest interaction.

Clicking a point selects that row (``selected_row``) for the single-prediction view.
"""

from __future__ import annotations

import holoviews as hv
import panel as pn
import param
from holoviews.operation.datashader import rasterize
from panel.viewable import Viewer

from workbench.analysis.explain.distribution import dependence_frame, strongest_interaction
from workbench.analysis.explain.importance import mean_abs_importance
from workbench.sources.explanations import Explanation
from workbench.views.explain.labels import output_label
from workbench.views.explain.plotting import unlinked

AUTO = "(strongest interaction)"
NONE = "(none)"


class DependencePlot(Viewer):
    """SHAP value of ``feature`` against its value; a tap selects a row."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    feature = param.Selector(objects=[], doc="Feature on the x axis (the most important by default).")
    colour_by = param.Selector(objects=[AUTO, NONE], default=AUTO, doc="Feature that colours the points.")
    selected_row = param.Integer(default=None, allow_None=True, doc="Position of the last clicked row.")
    raster_above = param.Integer(default=20_000, doc="Rasterise with datashader above this many points.")

    def __init__(self, **params):
        super().__init__(**params)
        self._sync_features()

    @param.depends("explanation", watch=True)
    def _sync_features(self) -> None:
        if self.explanation is None:
            return
        order = list(mean_abs_importance(self.explanation.values)["feature"])
        if list(self.param.feature.objects) != order:
            self.param.feature.objects = order
            self.param.colour_by.objects = [AUTO, NONE, *order]
            if self.feature not in order:
                self.feature = order[0]

    def interaction(self) -> str | None:
        """The feature colouring the points."""
        if self.colour_by == NONE or self.explanation is None or self.feature is None:
            return None
        if self.colour_by == AUTO:
            return strongest_interaction(self.explanation.values, self.explanation.features, self.feature)
        return self.colour_by

    def frame(self):
        if self.explanation is None or self.feature is None:
            return None
        return dependence_frame(self.explanation.values, self.explanation.features, self.feature, self.interaction())

    def _on_tap(self, index=None) -> None:
        if index:
            self.selected_row = int(index[0])

    @param.depends("explanation", "feature", "colour_by", "raster_above")
    def _plot(self):
        frame = self.frame()
        if frame is None:
            return pn.pane.Markdown("No explanation yet.")
        colour = self.interaction()
        common = {"xlabel": str(self.feature), "ylabel": f"SHAP value ({output_label(self.explanation)})",
                  "height": 380, "responsive": True, "min_width": 400,
                  "title": f"Dependence of {self.feature}" + (f", coloured by {colour}" if colour else "")}
        points = hv.Points(frame, kdims=["value", "shap"], vdims=["colour"])
        if len(frame) > self.raster_above:
            import datashader as ds

            return unlinked(rasterize(points, aggregator=ds.mean("colour"), dynamic=False).opts(
                cmap="coolwarm", colorbar=bool(colour), **common))
        hv.streams.Selection1D(source=points).add_subscriber(self._on_tap)
        return unlinked(points.opts(color="colour" if colour else "#1f6feb", cmap="coolwarm", colorbar=bool(colour),
                                    clabel=str(colour or ""), size=5, alpha=0.7, tools=["hover", "tap"],
                                    nonselection_alpha=0.3, **common))

    def __panel__(self):
        controls = pn.Row(pn.widgets.Select.from_param(self.param.feature, name="Feature", width=260),
                          pn.widgets.Select.from_param(self.param.colour_by, name="Colour by", width=260))
        return pn.Column(controls, pn.panel(self._plot, lazy=True), sizing_mode="stretch_width",
                         css_classes=["wb-explain-dependence"])
