"""Brushing across the tuning views, and selections that survive live refreshes (headless)."""

from __future__ import annotations

import optuna
import pytest
from test_tuning_dashboard import tuned

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture
def live_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'brush.db'}"
    writer = optuna.create_study(study_name="brush", storage=url)
    trials = tuned(50, seed=4)
    writer.add_trials(trials[:40])
    return url, writer, trials[40:]


def _layer(live, label: str):
    return next(layer for layer in live.element.values() if layer.label == label)


def _brushed_numbers(live, index: list[int]) -> list[int]:
    first = next(iter(live.element.values()))
    return sorted(int(first.dimension_values("Trial")[i]) for i in index)


def _browser_selection(live) -> list[int]:
    """Trial numbers of the points the plot asks Bokeh to show as selected (the ``selected`` option)."""
    first = next(iter(live.element.values()))
    trials = first.dimension_values("Trial")
    return sorted(int(trials[i]) for i in first.opts.get("plot").kwargs.get("selected") or [])


def test_box_select_in_history_filters_every_other_view(live_store):
    url, _, _ = live_store
    dashboard = TuningPage(config=WorkbenchConfig(optuna_storage=url)).dashboard
    history, slice_ = dashboard.history.live, dashboard.plots._live["Slice"]
    parallel = dashboard.plots._live["Parallel coordinates"]
    chosen = _brushed_numbers(history, [0, 3, 5, 8])
    history._stream.event(index=[0, 3, 5, 8])  # what a box-select in the browser sends

    assert dashboard.selected_trials == chosen
    assert sorted(_layer(history, "Selected").dimension_values("Trial").astype(int)) == chosen
    assert sorted(_layer(slice_, "Selected").dimension_values("Trial").astype(int)) == chosen
    assert _browser_selection(slice_) == chosen  # the slice's own Bokeh selection follows the brush
    assert "(4 selected trials)" in parallel.element.opts.get("plot").kwargs.get("title", "") or \
        any("(4 selected trials)" in str(layer.opts.get("plot").kwargs.get("title", ""))
            for layer in parallel.element.values())
    assert sorted(dashboard.table._table.value["number"]) == chosen
    assert dashboard.table._clear.visible

    slice_pick = _brushed_numbers(slice_, [1, 2])
    slice_._stream.event(index=[1, 2])  # brushing the slice plot drives the others the same way
    assert dashboard.selected_trials == slice_pick
    assert sorted(_layer(history, "Selected").dimension_values("Trial").astype(int)) == slice_pick
    assert sorted(dashboard.table._table.value["number"]) == slice_pick

    dashboard.table._clear.clicks += 1  # "Show all trials"
    assert dashboard.selected_trials == [] and len(dashboard.table._table.value) == 40
    assert len(_layer(history, "Selected")) == 0 and len(_layer(slice_, "Selected")) == 0
    assert _browser_selection(history) == [] and _browser_selection(slice_) == []


def test_selections_survive_a_refresh_with_new_trials(live_store):
    url, writer, more = live_store
    dashboard = TuningPage(config=WorkbenchConfig(optuna_storage=url)).dashboard
    history_pane = dashboard.history._pane.object
    dashboard.history.live._stream.event(index=[0, 1, 2])
    brushed = list(dashboard.selected_trials)
    table = dashboard.table
    table.selected_trials = []  # the table lists every trial again; the plots keep no brush
    table.detail_of = 7  # a trial chosen in the table
    row = list(table._table.value["number"]).index(7)
    assert table._table.selection == [row]

    writer.add_trials(more)
    dashboard.refresh()
    assert len(dashboard.data.trials) == 50
    assert dashboard.history._pane.object is history_pane  # updated in place (zoom kept in the browser)
    assert table.detail_of == 7 and table._table.selection == [row]
    assert table._table.value.iloc[row]["number"] == 7
    assert "Trial 7" in table._detail.objects[0].objects[0].object

    dashboard.selected_trials = brushed
    writer.add_trials(more[:2])
    dashboard.refresh()
    assert dashboard.selected_trials == brushed  # the brush outlives the refresh
    assert sorted(dashboard.table._table.value["number"]) == brushed
    assert sorted(_layer(dashboard.history.live, "Selected").dimension_values("Trial").astype(int)) == brushed


def test_another_study_clears_the_brush(tmp_path):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    for name in ("first", "second"):
        optuna.create_study(study_name=name, storage=url).add_trials(tuned(12, seed=1))
    dashboard = TuningPage(config=WorkbenchConfig(optuna_storage=url, study_name="first")).dashboard
    pane = dashboard.history._pane.object
    dashboard.history.live._stream.event(index=[0, 1])
    assert dashboard.selected_trials
    dashboard.study = "second"
    assert dashboard.selected_trials == [] and len(dashboard.table._table.value) == 12
    assert dashboard.history._pane.object is not pane  # another study: drawn afresh, axes fit its data
