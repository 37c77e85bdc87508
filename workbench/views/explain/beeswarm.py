"""Beeswarm summary: every row's SHAP value per feature, coloured by the feature's value.

Up to ``raster_above`` points are drawn as glyphs; beyond that the points are rasterised with
datashader (mean feature value per pixel), so 100,000 rows stay responsive. Clicking a point selects
its row (``selected_row``, a position in the explanation) for the single-prediction view: glyphs
report the clicked point (Selection1D); on the rasterised image the point nearest the click is taken.
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
    selected_row = param.Integer(default=None, allow_None=True, doc="Position of the row of the last clicked point.")

    def __init__(self, **params):
        super().__init__(**params)
        self._shown = None  # the frame on display, to map a click back to its row

    def frame(self):
        if self.explanation is None:
            return None
        order = list(mean_abs_importance(self.explanation.values, top=self.top)["feature"])
        return beeswarm_frame(self.explanation.values[order], self.explanation.features[order], order)

    def select_point(self, index: list[int] | None) -> None:
        """A click on glyph ``index[0]`` (a position in the frame on display) selects its row."""
        if not index or self._shown is None or self.explanation is None:
            return
        row = int(index[0]) % len(self.explanation.values)
        if row == self.selected_row:
            self.param.trigger("selected_row")  # a second click on the same row selects it again
        else:
            self.selected_row = row

    def select_nearest(self, x: float | None, y: float | None) -> None:
        """A click at data coordinates (x = SHAP value, y = swarm position) selects the nearest point's row."""
        frame = self._shown
        if x is None or y is None or frame is None or frame.empty:
            return
        lane = frame[frame["row"] == int(round(y))]
        if lane.empty:
            return
        self.select_point([int((lane["shap"] - x).abs().idxmin())])

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
        self._shown = frame
        points = hv.Points(frame, kdims=["shap", "y"], vdims=["value", "feature", "raw"])
        if len(frame) > self.raster_above:
            import datashader as ds

            image = rasterize(points, aggregator=ds.mean("value"), dynamic=False)
            hv.streams.Tap(source=image).add_subscriber(self.select_nearest)
            return unlinked(image.opts(cmap=CMAP, colorbar=True, clabel="feature value (low → high)",
                                       tools=["hover", "tap"], **common))
        hv.streams.Selection1D(source=points).add_subscriber(self.select_point)
        return unlinked(points.opts(color="value", cmap=CMAP, colorbar=True, clabel="feature value (low → high)",
                                    size=4, alpha=0.6, tools=["hover", "tap"], nonselection_alpha=0.25, **common))

    def __panel__(self):
        return pn.Column(pn.panel(self._plot, lazy=True), sizing_mode="stretch_width", css_classes=["wb-explain-beeswarm"])
