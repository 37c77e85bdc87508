"""Beeswarm summary: every row's SHAP value per feature, coloured by the feature's value.

Up to ``raster_above`` points are drawn as glyphs; beyond that the points are rasterised with
datashader (mean feature value per pixel), so 100,000 rows stay responsive.
"""

from __future__ import annotations

import holoviews as hv
import hvplot.pandas  # noqa: F401 - registers .hvplot and the bokeh backend
import panel as pn
import param
from holoviews.operation.datashader import rasterize
from panel.viewable import Viewer

from workbench.analysis.explain.distribution import beeswarm_frame
from workbench.analysis.explain.importance import mean_abs_importance
from workbench.sources.explanations import Explanation
from workbench.views.explain.labels import output_label
from workbench.views.explain.plotting import unlinked

CMAP = "coolwarm"  # blue: low feature value, red: high


class BeeswarmChart(Viewer):
    """SHAP value (x) per feature (rows), colour = feature value (blue low, red high)."""

    explanation = param.ClassSelector(class_=Explanation, allow_None=True, allow_refs=True)
    top = param.Integer(default=12, bounds=(1, 40), doc="Features shown, most important first.")
    raster_above = param.Integer(default=20_000, doc="Rasterise with datashader above this many points.")

    def frame(self):
        if self.explanation is None:
            return None
        order = list(mean_abs_importance(self.explanation.values, top=self.top)["feature"])
        return beeswarm_frame(self.explanation.values[order], self.explanation.features[order], order)

    def rasterised(self) -> bool:
        frame = self.frame()
        return frame is not None and len(frame) > self.raster_above

    @param.depends("explanation", "top", "raster_above")
    def _plot(self):
        frame = self.frame()
        if frame is None or frame.empty:
            return pn.pane.Markdown("No explanation yet.")
        names = frame.drop_duplicates("row")[["row", "feature"]]
        ticks = [(int(r), str(f)) for r, f in zip(names["row"], names["feature"], strict=True)]
        common = {"xlabel": f"SHAP value ({output_label(self.explanation)})", "ylabel": "", "yticks": ticks,
                  "height": max(300, 34 * len(ticks) + 90), "responsive": True, "min_width": 400,
                  "title": f"Beeswarm — {len(self.explanation.values):,} rows"}
        points = hv.Points(frame, kdims=["shap", "y"], vdims=["value", "feature", "raw"])
        if len(frame) > self.raster_above:
            import datashader as ds

            image = rasterize(points, aggregator=ds.mean("value"), dynamic=False)
            return unlinked(image.opts(cmap=CMAP, colorbar=True, clabel="feature value (low → high)",
                                       tools=["hover"], **common))
        return unlinked(points.opts(color="value", cmap=CMAP, colorbar=True, clabel="feature value (low → high)",
                                    size=3, alpha=0.6, tools=["hover"], **common))

    def __panel__(self):
        return pn.Column(pn.panel(self._plot, lazy=True), sizing_mode="stretch_width", css_classes=["wb-explain-beeswarm"])
