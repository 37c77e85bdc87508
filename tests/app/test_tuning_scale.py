"""At 100,000 trials every tuning plot ships pixels or aggregates: the payload does not grow with trials."""

from __future__ import annotations

import json

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.embed import json_item
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from workbench.sources.optuna import StudyData
from workbench.views.tuning import plots
from workbench.views.tuning.history import HistoryView
from workbench.views.tuning.trials_table import TrialsTable

N = 100_000
MB = 1_000_000


def big_study(n: int, multi: bool = False) -> StudyData:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2026-11-01") + pd.to_timedelta(np.arange(n) * 2, unit="s")
    states = np.where(np.arange(n) % 10 == 9, "PRUNED", "COMPLETE")
    trials = pd.DataFrame({
        "number": np.arange(n), "trial_id": np.arange(n) + 1, "state": states,
        "datetime_start": start, "datetime_complete": start + pd.Timedelta(seconds=1),
        "params_x": rng.uniform(-5, 5, n), "params_lr": 10 ** rng.uniform(-4, 0, n),
        "params_depth": rng.integers(1, 10, n).astype(float),
        "params_kind": pd.Series(rng.choice(["a", "b", "c"], n), dtype=object),
    })
    trials["duration"] = trials["datetime_complete"] - trials["datetime_start"]
    value = (trials["params_x"] - 1) ** 2 + trials["params_depth"] * 0.1
    if multi:
        trials["values_0"], trials["values_1"] = value, rng.uniform(size=n)
    else:
        trials["value"] = value
    steps = np.tile(np.arange(3), n)
    numbers = np.repeat(np.arange(n), 3)
    intermediate = pd.DataFrame({"trial_id": numbers + 1, "number": numbers, "step": steps,
                                 "value": np.repeat(value.to_numpy(), 3) + 3 - steps, "state": np.repeat(states, 3)})
    return StudyData(name="big", directions=["minimize", "maximize"] if multi else ["minimize"], trials=trials,
                     intermediate=intermediate, distributions={
                         "x": FloatDistribution(-5, 5), "lr": FloatDistribution(1e-4, 1, log=True),
                         "depth": IntDistribution(1, 9), "kind": CategoricalDistribution(["a", "b", "c"])})


def wire_bytes(viewable) -> int:
    return len(json.dumps(json_item(pn.panel(viewable).get_root())))


@pytest.mark.slow
def test_every_plot_of_a_100k_trial_study_stays_small():
    data = big_study(N)
    builders = {
        "history": lambda: HistoryView(data=data),
        "intermediate": lambda: plots.intermediate_plot(data),
        "parallel": lambda: plots.parallel_plot(data),
        "slice": lambda: plots.slice_plot(data, "x"),
        "slice (log)": lambda: plots.slice_plot(data, "lr"),
        "slice (categorical)": lambda: plots.slice_plot(data, "kind"),
        "contour": lambda: plots.contour_plot(data, "x", "lr"),
        "edf": lambda: plots.edf_plot([data]),
        "rank": lambda: plots.rank_plot(data, "x", "lr"),
        "rank (categorical)": lambda: plots.rank_plot(data, "kind", "depth"),
        "timeline": lambda: plots.timeline_plot(data),
        "table": lambda: TrialsTable(data=data),
    }
    sizes = {name: wire_bytes(build()) for name, build in builders.items()}
    print({name: f"{size / 1e3:.0f} KB" for name, size in sizes.items()})
    assert all(size < 1.5 * MB for size in sizes.values()), sizes
    assert sum(sizes.values()) < 8 * MB, sizes  # optuna.visualization ships over 1 GB for its contour alone


@pytest.mark.slow
def test_pareto_front_of_a_100k_trial_study_is_marked_exactly():
    data = big_study(N, multi=True)
    overlay = plots.pareto_plot(data)
    assert isinstance(overlay, hv.DynamicMap)  # the cloud of 90,000 trials is rasterised
    overlay = overlay[()]
    losses = np.c_[data.trials["values_0"], -data.trials["values_1"]][data.trials["state"] == "COMPLETE"]
    marked = set(overlay.Scatter.Pareto_front.dimension_values("Trial"))
    done = data.trials[data.trials["state"] == "COMPLETE"].reset_index(drop=True)
    # Brute-force check on the marked points: none is dominated by any completed trial.
    for number in marked:
        point = losses[done.index[done["number"] == number][0]]
        dominated = np.all(losses <= point, axis=1) & np.any(losses < point, axis=1)
        assert not dominated.any()
    assert wire_bytes(overlay) < 1.5 * MB


def test_a_live_history_raster_is_redrawn_to_fit_unless_the_user_zoomed():
    view = HistoryView(data=big_study(30_000))
    view.live.pane.get_root()
    drawn = view.live.pane.object
    # the first range event reports the data's extents: not a zoom, so new trials redraw the raster to fit
    view.live._user_zoomed(x_range=view.live._extent(0), y_range=view.live._extent(1))
    view.data = big_study(31_000)
    assert view.live.pane.object is not drawn
    drawn = view.live.pane.object
    view.live._user_zoomed(x_range=(100.0, 200.0), y_range=(0.0, 1.0))  # the user zoomed in
    view.data = big_study(32_000)
    assert view.live.pane.object is drawn  # updated in place: the browser keeps the zoom
    assert len(view.live.element.Curve.Best_value) > 0
