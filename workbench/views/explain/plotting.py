"""Shared plotting helpers of the Explain views."""

from __future__ import annotations

import holoviews.plotting.bokeh  # noqa: F401 - registers the Bokeh backend for .opts()
import panel as pn


def unlinked(plot, stretch: bool = True) -> pn.pane.HoloViews:
    """A HoloViews pane whose axes are not linked to other plots on the page (the views share
    dimension names like ``feature`` but not their ranges); ``stretch=False`` keeps the plot's size."""
    return pn.pane.HoloViews(plot, linked_axes=False, sizing_mode="stretch_width" if stretch else "fixed")
