"""Pure tuning analyses against what Optuna itself reports on real studies."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState, create_trial

from workbench.analysis.tuning.edf import edf
from workbench.analysis.tuning.grid import best_grid, value_rank
from workbench.analysis.tuning.history import best_so_far, best_steps, best_trial_number
from workbench.analysis.tuning.importance import param_importances
from workbench.analysis.tuning.pareto import pareto_front
from workbench.analysis.tuning.timeline import timeline
from workbench.sources.optuna import open_optuna_source

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """A journal file (fast to write; the SQLite path is covered by test_optuna_source)."""
    url = str(tmp_path_factory.mktemp("analysis") / "optuna.log")
    journal = JournalStorage(JournalFileBackend(url))
    rng = np.random.default_rng(7)
    dists = {"x": FloatDistribution(-4, 4), "lr": FloatDistribution(1e-3, 1, log=True),
             "depth": IntDistribution(1, 8), "kind": CategoricalDistribution(["a", "b", "c"])}
    trials = []
    for i in range(400):
        p = {"x": float(rng.uniform(-4, 4)), "lr": float(10 ** rng.uniform(-3, 0)), "depth": int(rng.integers(1, 9)),
             "kind": "abc"[i % 3]}
        value = (p["x"] - 1) ** 2 + 0.3 * p["depth"] + (0.5 if p["kind"] == "c" else 0) + float(rng.normal(0, 0.1))
        state = TrialState.PRUNED if i % 10 == 9 else TrialState.COMPLETE
        trials.append(create_trial(state=state, params=p, distributions=dists,
                                   value=value if state == TrialState.COMPLETE else None))
    optuna.create_study(study_name="single", storage=journal).add_trials(trials)
    multi = []
    for _ in range(600):
        a, b = float(rng.uniform()), float(rng.uniform())
        # A coarse grid makes ties and duplicate points (which must all stay on the front).
        values = [round(a, 1), round(a + b, 1), round(b, 1)]
        multi.append(create_trial(state=TrialState.COMPLETE, params={"a": a, "b": b},
                                  distributions={"a": FloatDistribution(0, 1), "b": FloatDistribution(0, 1)},
                                  values=values))
    optuna.create_study(study_name="three", storage=journal,
                        directions=["minimize", "maximize", "minimize"]).add_trials(multi)
    two = [create_trial(state=TrialState.COMPLETE, params={}, distributions={}, values=t.values[:2]) for t in multi]
    two += [create_trial(state=TrialState.FAIL, params={}, distributions={})]
    optuna.create_study(study_name="two", storage=journal, directions=["minimize", "maximize"]).add_trials(two)
    return url


def load(name: str, url: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(url)))


@pytest.mark.parametrize("name", ["two", "three"])
def test_pareto_front_is_identical_to_best_trials(storage, name):
    data = open_optuna_source(storage).study(name)
    front = pareto_front(data.trials, data.value_columns, data.directions)
    expected = load(name, storage).best_trials
    assert sorted(front["number"]) == sorted(t.number for t in expected)
    assert len(front) > 1


def test_history_best_so_far_and_best_trial(storage):
    data = open_optuna_source(storage).study("single")
    study = load("single", storage)
    history = best_so_far(data.trials, "value", "minimize")
    assert len(history) == len(study.get_trials(states=[TrialState.COMPLETE]))
    assert history["best"].iloc[-1] == pytest.approx(study.best_value)
    assert np.all(np.diff(history["best"]) <= 0)
    steps = best_steps(history)
    assert steps["best"].is_monotonic_decreasing and len(steps) < len(history)
    assert best_trial_number(data.trials, "value", "minimize") == study.best_trial.number
    maximised = best_so_far(data.trials, "value", "maximize")
    assert maximised["best"].iloc[-1] == pytest.approx(data.trials["value"].max())


def test_importances_match_optuna(storage):
    data = open_optuna_source(storage).study("single")
    study = load("single", storage)
    ours = param_importances(data.trials, data.distributions, data.directions, data.value_columns)
    theirs = optuna.importance.get_param_importances(study)
    assert list(ours.index) == list(theirs)
    assert ours.to_dict() == pytest.approx(theirs, abs=1e-6)
    ours = param_importances(data.trials, data.distributions, data.directions, data.value_columns, evaluator="fanova")
    theirs = optuna.importance.get_param_importances(study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    assert ours.to_dict() == pytest.approx(theirs, abs=1e-6)
    assert ours.index[0] == "x"


def test_edf_is_bounded_and_monotonic(storage):
    data = open_optuna_source(storage).study("single")
    full = edf(data.trials, "value", max_points=10_000)
    assert len(full) == 360 and full["probability"].iloc[-1] == 1.0
    small = edf(data.trials, "value", max_points=50)
    assert len(small) <= 50 and small["value"].is_monotonic_increasing
    assert small["value"].iloc[0] == full["value"].iloc[0] and small["value"].iloc[-1] == full["value"].iloc[-1]


def test_best_grid_holds_the_best_value_per_cell(storage):
    data = open_optuna_source(storage).study("single")
    grid = best_grid(data.trials, "params_x", "params_kind", "value", "minimize", bins=8)
    assert grid["grid"].shape == (3, 8) and grid["y_labels"] == ["a", "b", "c"]
    assert np.nanmin(grid["grid"]) == pytest.approx(load("single", storage).best_value)
    done = data.trials[data.trials["state"] == "COMPLETE"]
    in_cell = done[(done["params_kind"] == "c") & (done["params_x"] < grid["x_edges"][1])]
    assert grid["grid"][2, 0] == pytest.approx(in_cell["value"].min())
    ints = best_grid(data.trials, "params_depth", "params_kind", "value", "minimize", bins=40)
    assert list(ints["x_edges"]) == [d - 0.5 for d in range(1, 10)]  # one cell per integer value
    per_depth = done.groupby("params_depth")["value"].min()
    assert np.nanmin(ints["grid"], axis=0) == pytest.approx(per_depth.to_numpy())
    log = best_grid(data.trials, "params_lr", "params_depth", "value", "minimize", bins=5, log_x=True)
    assert np.allclose(np.diff(np.log10(log["x_edges"])), np.diff(np.log10(log["x_edges"]))[0])


def test_value_rank_and_timeline():
    assert list(value_rank(np.array([3.0, 1.0, 2.0]), "minimize")) == [1.0, 0.0, 0.5]
    assert list(value_rank(np.array([3.0, 1.0, 2.0]), "maximize")) == [0.0, 1.0, 0.5]
    trials = pd.DataFrame({"number": [0, 1], "state": ["COMPLETE", "RUNNING"],
                           "datetime_start": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:01"]),
                           "datetime_complete": pd.to_datetime(["2026-01-01 00:02", None])})
    table = timeline(trials, now=pd.Timestamp("2026-01-01 00:05"))
    assert list(table["end"]) == [pd.Timestamp("2026-01-01 00:02"), pd.Timestamp("2026-01-01 00:05")]
