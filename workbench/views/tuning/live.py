"""Plots that update in place: new trials change the data of the Bokeh glyphs, not the plot.

``LivePlot(build)`` shows ``build()`` through a ``DynamicMap`` fed by a ``Pipe``. ``update()``
(new data) sends the new element down the pipe when it has the same layers as the shown one: the
browser keeps the plot, its zoom and its selection, and only the columns change. The axes are
Bokeh ``DataRange1d``: they follow the data (new trials come into view) until the user zooms or
pans, and again after a reset. ``rebuild()`` (another parameter or objective chosen) draws afresh.
Points beyond the point budget come as a scatter in group ``RASTER_GROUP``: LivePlot shades it over
its pipe (datashader), so a zoomed raster also keeps its view while new trials arrive (an unzoomed one
is redrawn to fit them). A plot whose ``identity`` (e.g. the study shown) changed is redrawn.

With ``select_column``, the first layer has a box-select tool: the trials selected there (values of
that column) are ``selection``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import partial, reduce

import holoviews as hv
import numpy as np
import panel as pn
import param
from bokeh.models import DataRange1d, Range1d
from panel.viewable import Viewer

from workbench.views.tuning.common import RASTER_GROUP, shade


def follow_data_ranges(plot, element) -> None:
    """HoloViews hook: numeric axes become ``DataRange1d`` (auto-fit until the user zooms)."""
    figure = plot.state
    for name in ("x_range", "y_range"):
        current = getattr(figure, name, None)
        if isinstance(current, Range1d):  # not a FactorRange, not already a DataRange1d
            setattr(figure, name, DataRange1d(range_padding=0.05))


def structure(element) -> tuple | None:
    """What must stay equal for an in-place update (None: the element cannot be updated in place)."""
    if isinstance(element, (hv.DynamicMap, hv.HoloMap)):
        return None
    layers = list(element.values()) if isinstance(element, hv.Overlay) else [element]
    if any(isinstance(layer, (hv.DynamicMap, hv.HoloMap, hv.Overlay)) for layer in layers):
        return None
    return type(element).__name__, tuple(
        (type(layer).__name__, layer.group, layer.label, tuple(d.name for d in layer.dimensions()))
        for layer in layers)


def _raster_layers(element) -> set[int]:
    """Positions of the layers to shade (scatters beyond the point budget, group RASTER_GROUP)."""
    layers = list(element.values()) if isinstance(element, hv.Overlay) else [element]
    return {i for i, layer in enumerate(layers) if getattr(layer, "group", None) == RASTER_GROUP}


def _fixed_axes(element) -> bool:
    """Messages and plots with explicit xlim/ylim (e.g. parallel coordinates) keep their own ranges."""
    layers = [element, *(element.values() if isinstance(element, hv.Overlay) else [])]
    for layer in layers:
        if isinstance(layer, hv.Text):
            return True
        options = hv.Store.lookup_options("bokeh", layer, "plot").kwargs
        if any(options.get(name) not in (None, (None, None)) and not _all_nan(options.get(name))
               for name in ("xlim", "ylim")):
            return True
    return False


def _all_nan(limits) -> bool:
    try:
        return all(value != value for value in limits)
    except TypeError:
        return False


def _same_span(view, extent) -> bool:
    if view is None or extent is None:
        return view is None
    tolerance = 1e-6 * max(abs(extent[1] - extent[0]), 1e-12)
    return abs(float(view[0]) - extent[0]) <= tolerance and abs(float(view[1]) - extent[1]) <= tolerance


def _identity(data, **ranges):
    return data


def _layer(data, index: int, **ranges):
    return list(data.values())[index]


class LivePlot(Viewer):
    """One plot, redrawn by ``rebuild()``, updated in place by ``update()``."""

    selection = param.List(default=[], doc="Values of select_column of the box-selected points.")

    def __init__(self, build: Callable[[], hv.Element], css: str, select_column: str | None = None,
                 min_height: int = 340, identity: Callable[[], object] | None = None,
                 selected: Callable[[], list] | None = None, **params):
        super().__init__(**params)
        self._build, self._select_column = build, select_column
        self._identity = identity or (lambda: None)
        self._selected_values = selected or (lambda: [])
        self._pipe: hv.streams.Pipe | None = None
        self._key: tuple | None = None
        self._shown = None
        self._stream: hv.streams.Selection1D | None = None
        self._rasters: set[int] = set()
        self._zoomed = False
        self.pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=min_height,
                                      css_classes=[css], linked_axes=False)
        self.rebuild()

    @property
    def element(self):
        """The element shown (as built)."""
        return self._shown

    def _prepare(self, element):
        key = structure(element)
        key = None if key is None else (self._identity(), key)
        rasters = _raster_layers(element) if key is not None else set()
        if key is not None and not _fixed_axes(element):
            if not rasters:  # a raster follows the view's ranges: auto-fitting them would loop
                element = element.opts(hooks=[follow_data_ranges])
            first = next(iter(element.values())) if isinstance(element, hv.Overlay) else element
            if self._select_column and isinstance(first, (hv.Scatter, hv.Points)) and 0 not in rasters:
                # the browser's selection shows the trials brushed anywhere (and none after a clear)
                wanted = set(self._selected_values())
                values = first.dimension_values(self._select_column) if wanted else []
                first.opts(tools=[*first.opts.get("plot").kwargs.get("tools", []), "box_select"],
                           selected=[i for i, v in enumerate(values) if int(v) in wanted])
        return element, key

    def rebuild(self) -> None:
        """Draw afresh (the axes fit the data again)."""
        self._draw(*self._prepare(self._build()))

    def _draw(self, element, key) -> None:
        self._shown, self._key = element, key
        if key is None:
            self._pipe, self._stream = None, None
            self.pane.object = element
            return
        self._pipe = hv.streams.Pipe(data=element)
        self._stream, self._zoomed = None, False
        rasters = self._rasters = _raster_layers(element)
        if isinstance(element, hv.Overlay) and (self._select_column or rasters):
            # One DynamicMap per layer (all fed by the one pipe): the selection stream needs the first
            # layer as its own source, a raster layer is shaded on its own; the overlay's options
            # (title, size, tools...) go on the whole.
            layers = [hv.DynamicMap(partial(_layer, index=i), streams=self._streams(i in rasters))
                      for i in range(len(element))]
            layers = [shade(layer) if i in rasters else layer for i, layer in enumerate(layers)]
            dmap = reduce(operator.mul, layers).opts(**hv.Store.lookup_options("bokeh", element, "plot").kwargs)
            source = layers[0]
        else:
            dmap = source = hv.DynamicMap(_identity, streams=self._streams(bool(rasters)))
            if rasters:
                dmap = shade(dmap)
        if self._select_column and 0 not in rasters:
            self._stream = hv.streams.Selection1D(source=source)
            self._stream.add_subscriber(self._selected)
        self.pane.object = dmap

    def _streams(self, raster: bool) -> list:
        """The pipe; for a raster layer also the view's ranges: once the user zooms or pans, later
        updates keep the view (until then the plot is redrawn to fit the new trials)."""
        if not raster:
            return [self._pipe]
        ranges = hv.streams.RangeXY()
        ranges.add_subscriber(self._user_zoomed)
        return [self._pipe, ranges]

    def _user_zoomed(self, x_range=None, y_range=None, **ignored) -> None:
        """A view other than the whole data (the first event reports the data's extents)."""
        self._zoomed = not (_same_span(x_range, self._extent(0)) and _same_span(y_range, self._extent(1)))

    def _extent(self, axis: int) -> tuple[float, float] | None:
        layers = list(self._shown.values()) if isinstance(self._shown, hv.Overlay) else [self._shown]
        raster = next((layer for i, layer in enumerate(layers) if i in self._rasters), None)
        if raster is None or not len(raster):
            return None
        values = raster.dimension_values(axis)
        return float(np.nanmin(values)), float(np.nanmax(values))

    def update(self) -> None:
        """New data: in place when the plot keeps its layers, else redrawn."""
        element, key = self._prepare(self._build())
        if key is None or key != self._key or self._pipe is None or (self._rasters and not self._zoomed):
            self._draw(element, key)
            return
        self._shown = element
        self._pipe.send(element)

    def _selected(self, index: list[int]) -> None:
        element = self._shown
        first = next(iter(element.values())) if isinstance(element, hv.Overlay) else element
        if not index or self._select_column not in first.dimensions(label="name"):
            self.selection = []
            return
        values = first.dimension_values(self._select_column)
        self.selection = sorted({int(values[i]) for i in index if 0 <= i < len(values)})

    def __panel__(self) -> pn.viewable.Viewable:
        return self.pane
