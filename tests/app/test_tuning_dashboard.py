"""The Tuning dashboard headless: every tab builds, Pareto/table/compare show Optuna's numbers, live refresh."""

from __future__ import annotations

import io

import numpy as np
import optuna
import pandas as pd
import panel as pn
import pytest
from helpers import snapshot

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig
from workbench.views.tuning import plots

optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    lr = trial.suggest_float("lr", 1e-4, 1, log=True)
    kind = trial.suggest_categorical("kind", ["<b>gbm</b>", "rf"])
    trial.set_user_attr("layers", [64, 32])
    for step in range(4):
        trial.report(x * x + step / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return (x - 1) ** 2 + lr + (kind == "rf")


def tuned(n: int, seed: int) -> list[optuna.trial.FrozenTrial]:
    """Trials of a real (in-memory, so fast) optimisation with pruning."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5))
    study.optimize(objective, n_trials=n)
    return study.trials


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'optuna.db'}"
    optuna.create_study(study_name="single", storage=url).add_trials(tuned(60, seed=1))
    multi = optuna.create_study(directions=["minimize", "maximize"], sampler=optuna.samplers.RandomSampler(seed=2))
    multi.optimize(lambda t: (t.suggest_float("a", 0, 1), t.suggest_float("b", 0, 1) * t.params["a"]), n_trials=80)
    optuna.create_study(study_name="multi", storage=url, directions=["minimize", "maximize"]).add_trials(multi.trials)
    return url


def test_every_tab_builds_for_both_kinds_of_study(store):
    path = store.removeprefix("sqlite:///")
    before = snapshot(path)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=store))
    dashboard = page.dashboard
    for study in ("single", "multi"):
        dashboard.study = study
        names = list(dashboard._tabs._names)
        assert ("Pareto front" in names) == (study == "multi")
        for index in range(len(names)):
            dashboard._tabs.active = index
            pn.Column(dashboard._tabs[index]).get_root()
        assert not [a for a in page.__panel__().select(pn.pane.Alert) if a.alert_type == "danger"]
    assert snapshot(path) == before


def test_pareto_plot_marks_optunas_best_trials(store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=store, study_name="multi"))
    overlay = plots.pareto_plot(page.dashboard.data)
    marked = overlay.Scatter.Pareto_front.dimension_values("Trial")
    expected = optuna.load_study(study_name="multi", storage=store).best_trials
    assert sorted(marked) == sorted(t.number for t in expected)


def test_trials_table_filters_exports_and_shows_detail(store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=store, study_name="single"))
    table = page.dashboard.table
    study = optuna.load_study(study_name="single", storage=store)
    assert len(table._table.value) == len(study.trials)
    table.states = ["PRUNED"]
    pruned = [t.number for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert list(table._table.value["number"]) == pruned and pruned
    exported = pd.read_csv(io.StringIO(table._csv().read()))
    assert list(exported["number"]) == pruned
    assert table._download.filename == "single-trials.csv"
    formatters = table._table.formatters
    assert formatters["params_kind"] == {"type": "plaintext"} and formatters["state"] == {"type": "plaintext"}
    best = study.best_trial
    table.detail_of = best.number
    detail = table._detail[0]
    fields = detail.select(pn.widgets.Tabulator)[0].value.set_index("field")["value"]
    assert float(fields["value"]) == pytest.approx(best.value)
    assert fields["params_kind"] == best.params["kind"]
    assert fields["user_attrs_layers"] == "[64, 32]"
    assert detail.select(pn.pane.HoloViews)  # its learning curve


def test_compare_studies_tabulates_best_params(store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=store))
    compare = page.dashboard.compare
    compare.names = ["single", "multi"]
    table = compare._body.select(pn.widgets.Tabulator)[0].value.set_index("study")
    best = optuna.load_study(study_name="single", storage=store).best_trial
    assert float(table.loc["single", "best value"]) == pytest.approx(best.value, rel=1e-5)
    assert table.loc["single", "best trial"] == str(best.number)
    assert table.loc["single", "kind"] == best.params["kind"]
    assert table.loc["multi", "best value"] == "(multi-objective)"


def test_live_refresh_shows_new_trials_without_rereading_finished_ones(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    trials = tuned(25, seed=3)
    writer = optuna.create_study(study_name="live", storage=url)
    writer.add_trials(trials[:20])
    running = writer.ask()
    running.suggest_float("x", -3, 3)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=url))
    dashboard = page.dashboard
    source = page.source
    assert source.trial_rows_read == 21
    history_before = dashboard.history._pane.object
    dashboard.refresh()  # nothing changed: the plot object (zoom, selection) is kept
    assert dashboard.history._pane.object is history_before
    assert source.trial_rows_read == 22
    writer.tell(running, 0.001)
    writer.add_trials(trials[20:])
    dashboard.refresh()
    assert source.trial_rows_read == 22 + 1 + 5
    assert len(dashboard.data.trials) == 26
    assert "best value <b class='wb-best-value'>0.001</b>" in dashboard._summary.object
    assert dashboard.history._pane.object is history_before  # updated in place: zoom and selection kept
    best_line = dashboard.history.live.element.Curve.Best_value
    assert np.min(best_line.dimension_values(1)) == pytest.approx(0.001)
    assert len(dashboard.table._table.value) == 26


def test_live_toggle_starts_and_stops_the_periodic_refresh(store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=store))
    dashboard = page.dashboard
    assert dashboard._callback is None and not dashboard.live
    dashboard._live_toggle.value = True
    assert dashboard._callback is not None and dashboard._callback.period == 5000 and dashboard._callback.running
    dashboard._live_toggle.value = False
    assert dashboard._callback is None
    configured = TuningPage(config=WorkbenchConfig(optuna_storage=store, refresh_interval=2)).dashboard
    assert configured.live and configured._callback.period == 2000
    configured.live = False
    assert configured._callback is None
