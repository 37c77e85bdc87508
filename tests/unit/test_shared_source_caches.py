"""Process-wide source caches (issue 9): served sessions share read-only runs and trials, per access scope.

Every session of ``workbench serve`` opens its own sources; the runs frame of an MLflow store and the
trials of an Optuna study are read once per process and access scope, checked for news with one cheap
query by each new source, and never handed to a user with other access rules.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from helpers import snapshot
from mlflow import MlflowClient

from workbench.config import WorkbenchConfig
from workbench.errors import NotFound
from workbench.sources import mlflow as mlflow_source
from workbench.sources import optuna as optuna_source
from workbench.sources.mlflow import MlflowSource
from workbench.sources.optuna import open_optuna_source


def log_runs(client: MlflowClient, experiment: str, names: list[str]) -> str:
    experiment_id = (client.get_experiment_by_name(experiment) or client.get_experiment(
        client.create_experiment(experiment))).experiment_id
    for name in names:
        run = client.create_run(experiment_id, run_name=name)
        client.log_metric(run.info.run_id, "acc", 0.5)
        client.set_terminated(run.info.run_id)
    return experiment_id


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "mlflow.db"
    client = MlflowClient(f"sqlite:///{path}")
    log_runs(client, "alpha", ["a-1", "a-2"])
    log_runs(client, "beta", ["b-1"])
    return path


class CountingReader:
    """Wraps a source's reader, counting the run reads (the expensive queries)."""

    def __init__(self, reader):
        self.reader, self.run_data_calls = reader, 0

    def run_data(self, infos):
        self.run_data_calls += 1
        return self.reader.run_data(infos)

    def __getattr__(self, name):
        return getattr(self.reader, name)


def test_two_sessions_share_one_runs_frame_and_see_new_runs(store: Path) -> None:
    before = snapshot(store.parent)
    uri = f"sqlite:///{store}"
    first = MlflowSource(uri)
    frame = first.runs()
    second = MlflowSource(uri)
    second._reader = counting = CountingReader(second._reader)
    assert second.runs() is frame and counting.run_data_calls == 0  # checked with one query, not re-read
    assert sorted(frame["run_name"]) == ["a-1", "a-2", "b-1"]
    first.close(), second.close()
    assert snapshot(store.parent) == before  # read-only

    log_runs(MlflowClient(uri), "alpha", ["a-3"])
    third = MlflowSource(uri)  # a session opened later sees the run logged meanwhile
    assert sorted(third.runs()["run_name"]) == ["a-1", "a-2", "a-3", "b-1"] and third.last_reread == 1
    third.close()


def test_access_scopes_never_share_entries(store: Path) -> None:
    uri = f"sqlite:///{store}"
    everyone = MlflowSource(uri).runs()
    alice = MlflowSource(uri, allowed_experiments=["alpha"])
    bob = MlflowSource(uri, allowed_experiments=["beta"])
    assert sorted(alice.runs()["run_name"]) == ["a-1", "a-2"]
    assert sorted(bob.runs()["run_name"]) == ["b-1"]
    assert alice.runs() is not everyone and bob.runs() is not everyone
    # each scope has its own entry: bob's cache holds none of alice's runs, even by id
    assert mlflow_source.shared_runs(uri, frozenset({"alpha"})) is not mlflow_source.shared_runs(uri, frozenset({"beta"}))
    for cached in mlflow_source.shared_runs(uri, frozenset({"beta"})).runs.values():
        assert set(cached.frame["run_name"]) == {"b-1"}
    with pytest.raises(NotFound):
        bob.artifact_uri(alice.runs()["run_id"].iloc[0])  # another user's run stays unknown to bob
    assert MlflowSource(uri, allowed_experiments=["alpha"]).runs() is alice.runs()  # same scope: shared


def make_study(storage: str, name: str, trials: int) -> None:
    study = optuna.create_study(storage=storage, study_name=name, load_if_exists=True)
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1) ** 2, n_trials=trials)


def test_tuning_sources_share_a_study_and_fetch_only_news(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    make_study(storage, "mine", 6)
    make_study(storage, "theirs", 3)
    before = snapshot(tmp_path)
    first = open_optuna_source(storage, shared=True).study("mine")
    second = open_optuna_source(storage, shared=True)
    assert second.study("mine") is first and second.trial_rows_read == 0
    assert snapshot(tmp_path) == before

    make_study(storage, "mine", 2)
    later = open_optuna_source(storage, shared=True)
    assert len(later.study("mine").trials) == 8 and later.trial_rows_read == 2  # only the new trials
    unshared = open_optuna_source(storage)
    assert unshared.study("mine") is not later.study("mine") and unshared.trial_rows_read == 8


def test_tuning_access_scopes_keep_separate_trials(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    make_study(storage, "mine", 4)
    make_study(storage, "theirs", 3)
    everyone = open_optuna_source(storage, shared=True)
    everyone.study("theirs")
    restricted = open_optuna_source(storage, shared=True, allowed_studies=["mine"])
    with pytest.raises(NotFound):
        restricted.study("theirs")  # read by another scope, still hidden from this one
    assert "theirs" not in restricted._caches and restricted._caches is not everyone._caches
    optuna_source.clear_shared_studies()


def test_served_pages_of_the_demo_share_their_frames(demo_config: WorkbenchConfig) -> None:
    from workbench.apps.experiments import ExperimentsPage
    from workbench.apps.tuning import TuningPage

    one, two = ExperimentsPage(config=demo_config), ExperimentsPage(config=demo_config)
    assert one.dashboard.runs is two.dashboard.runs and len(one.dashboard.runs) > 0
    first, second = TuningPage(config=demo_config), TuningPage(config=demo_config)
    assert first.dashboard.data is second.dashboard.data and len(first.dashboard.data.trials) >= 100


def test_registry_keeps_the_most_recently_used_stores_only() -> None:
    from workbench.sources.shared_cache import SharedRegistry

    registry = SharedRegistry(dict, limit=2)
    first = registry.get(("sqlite:///a.db", None))
    assert registry.get(("sqlite:///a.db", None)) is first
    registry.get(("sqlite:///b.db", None))
    registry.get(("sqlite:///a.db", None))  # a used again: b is now the oldest
    registry.get(("sqlite:///c.db", None))
    assert registry.get(("sqlite:///a.db", None)) is first  # kept
    assert registry.get(("sqlite:///b.db", frozenset({"alice"}))) is not registry.get(("sqlite:///b.db", None))
