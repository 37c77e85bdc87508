"""Shared bits of the tuning views: the point budget, colours, and points-or-raster elements."""

from __future__ import annotations

import datashader as ds
import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the Bokeh backend for .opts()
import numpy as np
import pandas as pd
from holoviews.operation.datashader import dynspread, rasterize

POINT_BUDGET = 20_000  # above this many points a plot ships pixels (a raster), not points
STATE_COLORS = {"COMPLETE": "#1f77b4", "PRUNED": "#ff7f0e", "FAIL": "#d62728", "RUNNING": "#2ca02c",
                "WAITING": "#7f7f7f"}
PLOT_OPTS = {"responsive": True, "min_height": 320, "height": 360, "toolbar": "above",
             "active_tools": ["box_zoom"], "default_tools": ["save", "pan", "box_zoom", "wheel_zoom", "reset"]}


RASTER_GROUP = "Rasterized"  # a scatter to shade later (LivePlot shades it over its pipe: zoom is kept)


def points(frame: pd.DataFrame, x: str, y: str, *, label: str = "", color: str = "#1f77b4",
           vdims: tuple[str, ...] = (), size: int = 5, budget: int = POINT_BUDGET, deferred: bool = False
           ) -> hv.Element:
    """A scatter of ``frame``; above ``budget`` rows a datashaded raster whose size follows the pixels
    (``deferred``: the scatter in group RASTER_GROUP, for ``shade`` to rasterise)."""
    columns = list(dict.fromkeys([x, y, *vdims]))
    frame = frame[columns].astype({c: np.float32 for c in columns if pd.api.types.is_float_dtype(frame[c])})
    scatter = hv.Scatter(frame, x, [y, *[v for v in vdims if v != y]], label=label)
    if len(frame) <= budget:
        tools = ["hover"] if vdims else []
        return scatter.opts(color=color, size=size, tools=tools)
    return scatter.relabel(group=RASTER_GROUP) if deferred else shade(scatter, color)


def shade(element, color: str = "#1f77b4"):
    """Points as a datashaded raster (recomputed for each zoom) — of an element or a DynamicMap of them."""
    raster = rasterize(element, aggregator=ds.count(), dynamic=True)
    return dynspread(raster, threshold=0.5, max_px=3).opts(cmap=["#c6dbef", color], cnorm="eq_hist",
                                                           colorbar=False, tools=[])


SELECTED_STYLE = {"color": "#ffffff00", "line_color": "#d62728", "line_width": 2, "size": 10, "show_legend": False}


def selected_layer(frame: pd.DataFrame, x: str, y: str, selected: list[int] | None) -> hv.Scatter:
    """The brushed trials (``frame["Trial"]`` in ``selected``) ringed in red; an empty layer when none,
    so the plot keeps its layers and updates in place."""
    rows = frame[frame["Trial"].isin(selected)] if selected else frame.iloc[:0]
    columns = list(dict.fromkeys([x, y, "Trial"]))
    return hv.Scatter(rows[columns], x, columns[1:], label="Selected").opts(**SELECTED_STYLE)


def message(text: str) -> hv.Element:
    """An empty plot carrying a short message (no data yet, not applicable...)."""
    return hv.Text(0.5, 0.5, text).opts(xaxis=None, yaxis=None, toolbar=None, xlim=(0, 1), ylim=(0, 1),
                                        text_font_size="12pt", text_color="#666", responsive=True, height=200)
