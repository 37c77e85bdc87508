"""The generic parallel-coordinates plot: lines when few, a raster sized by pixels when many."""

from __future__ import annotations

import json

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
from bokeh.embed import json_item

from workbench.views.parallel_coordinates import (
    ParallelCoordinates,
    parallel_coordinates,
    scale_dimension,
)


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.uniform(2, 4, n), "lr": 10 ** rng.uniform(-4, 0, n),
                         "kind": rng.choice(["<b>x</b>", "y"], n), "score": rng.uniform(size=n)})


def payload(element) -> int:
    return len(json.dumps(json_item(pn.pane.HoloViews(element).get_root())))


def test_dimensions_are_scaled_and_labelled():
    scaled, ticks = scale_dimension(pd.Series([2.0, 3.0, 4.0]))
    assert list(scaled) == [0.0, 0.5, 1.0] and ticks == [(0.0, "2"), (1.0, "4")]
    scaled, ticks = scale_dimension(pd.Series([1e-4, 1e-2, 1.0]), log=True)
    assert np.allclose(scaled, [0, 0.5, 1]) and ticks[1][1] == "1"
    scaled, ticks = scale_dimension(pd.Series(["b", "a", None, "b"], dtype=object))
    assert list(scaled) == [1.0, 0.5, 0.0, 1.0] and [t for _, t in ticks] == ["None", "a", "b"]


def test_few_rows_are_drawn_as_coloured_lines():
    overlay = parallel_coordinates(frame(50), ["a", "lr", "kind", "score"], "score", log_dimensions=["lr"])
    lines = overlay.get(0)
    assert isinstance(lines, hv.Segments) and len(lines) == 50 * 3
    assert set(lines.dimension_values("colour")) == set(frame(50)["score"])
    labels = overlay.get(2)
    assert "<b>x</b>" in list(labels.dimension_values("text"))  # category names as text glyphs, not HTML


def test_many_rows_become_a_raster_whose_size_does_not_grow_with_rows():
    dims = ["a", "lr", "kind", "score"]
    small = parallel_coordinates(frame(3_000), dims, "score", line_budget=1_000)
    large = parallel_coordinates(frame(60_000, seed=1), dims, "score", line_budget=1_000)
    assert isinstance(large.get(0), hv.Image)
    image = large.get(0).dimension_values(2, flat=False)
    assert np.nanmin(image) >= 0 and np.nanmax(image) <= 1  # mean of the colour column per pixel
    # Bokeh gzips the raster, so its size varies with content, but it is bounded by the pixels.
    assert payload(large) < 2 * payload(small) and payload(large) < 1_000_000  # 60k lines as glyphs: ~7 MB


def test_component_redraws_when_its_inputs_change():
    component = ParallelCoordinates(data=frame(20), dimensions=["a", "score"], color="score")
    pane = component.__panel__()
    pane.get_root()
    component.dimensions = ["a", "lr", "score"]
    assert len(pane.object.get(0)) == 20 * 2


def test_raster_holds_the_mean_colour_of_the_lines_crossing_each_pixel():
    from workbench.views.parallel_coordinates import raster_polylines

    grid = raster_polylines(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([1.0, 3.0]), (5, 5))
    assert grid[0, 0] == 2.0 and list(grid[0, 1:]) == [3.0] * 4  # both lines start at y=0; one stays
    assert [grid[i, i] for i in range(1, 5)] == [1.0] * 4  # the other climbs the diagonal
    assert np.isnan(grid[4, 0])
    counts = raster_polylines(np.array([[0.0, 1.0], [0.0, 0.0]]), None, (5, 5))
    assert counts[0, 0] == 2.0 and counts[0, 4] == 1.0
