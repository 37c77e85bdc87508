"""The Optuna source against real SQLite and JournalStorage files: values as Optuna reports, read-only."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import optuna
import pytest
from helpers import snapshot
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState, create_trial

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources.optuna import open_optuna_source

optuna.logging.set_verbosity(optuna.logging.ERROR)

DISTS = {
    "x": FloatDistribution(-5, 5),
    "lr": FloatDistribution(1e-4, 1, log=True),
    "depth": IntDistribution(1, 12),
    "kind": CategoricalDistribution(["gbm", "<b>rf</b>", None]),
}


def make_trials(n: int, seed: int = 0, multi: bool = False) -> list[optuna.trial.FrozenTrial]:
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        params = {"x": float(rng.uniform(-5, 5)), "lr": float(10 ** rng.uniform(-4, 0)),
                  "depth": int(rng.integers(1, 13)), "kind": ["gbm", "<b>rf</b>", None][i % 3]}
        state = [TrialState.COMPLETE] * 6 + [TrialState.PRUNED, TrialState.FAIL]
        state = state[i % len(state)]
        value = params["x"] ** 2 + params["depth"]
        values = None
        if state == TrialState.COMPLETE:
            values = [value, float(rng.uniform())] if multi else [value]
        intermediate = {step: value + 5 - step for step in range(4)} if not multi else {}
        if state == TrialState.PRUNED:
            intermediate = {0: value + 5}
        trials.append(create_trial(state=state, params=params, distributions=DISTS, values=values,
                                   intermediate_values=intermediate, user_attrs={"note": f"<i>{i}</i>", "i": i}))
    return trials


def fill(storage) -> None:
    single = optuna.create_study(study_name="single", storage=storage)
    single.add_trials(make_trials(120))
    multi = optuna.create_study(study_name="multi", storage=storage, directions=["minimize", "maximize"])
    multi.add_trials(make_trials(80, seed=1, multi=True))
    failed = optuna.create_study(study_name="only-failed", storage=storage)
    failed.add_trials([create_trial(state=TrialState.FAIL, params={"x": 1.0}, distributions={"x": DISTS["x"]})])
    optuna.create_study(study_name="empty", storage=storage, direction="maximize")


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, str]:
    """A SQLite file and a journal file holding the same four studies."""
    folder = tmp_path_factory.mktemp("optuna")
    fill(f"sqlite:///{folder / 'studies.db'}")
    fill(JournalStorage(JournalFileBackend(str(folder / "studies.log"))))
    return {"sqlite": f"sqlite:///{folder / 'studies.db'}", "journal": str(folder / "studies.log")}


@pytest.fixture(params=["sqlite", "journal"])
def store(request, stores):
    url = stores[request.param]
    path = url.removeprefix("sqlite:///")
    before = snapshot(path)
    yield url, path
    assert snapshot(path) == before, "the storage file changed while the workbench read it"


def optuna_storage(url: str):
    return url if url.startswith("sqlite") else JournalStorage(JournalFileBackend(url))


def test_studies_listing_matches_optuna(store):
    url, _ = store
    studies = open_optuna_source(url).studies().set_index("study_name")
    assert sorted(studies.index) == ["empty", "multi", "only-failed", "single"]
    single = optuna.load_study(study_name="single", storage=optuna_storage(url))
    row = studies.loc["single"]
    assert row["directions"] == ("minimize",)
    assert row["n_trials"] == len(single.trials) == 120
    assert row["n_complete"] == len(single.get_trials(states=[TrialState.COMPLETE]))
    assert row["n_pruned"] == 15 and row["n_fail"] == 15
    assert row["best_value"] == pytest.approx(single.best_value)
    assert studies.loc["multi", "directions"] == ("minimize", "maximize")
    assert math.isnan(studies.loc["multi", "best_value"])
    assert studies.loc["empty", "n_trials"] == 0 and math.isnan(studies.loc["empty", "best_value"])
    assert studies.loc["only-failed", "n_fail"] == 1


def test_trials_equal_what_optuna_reports(store):
    url, _ = store
    data = open_optuna_source(url).study("single")
    reference = optuna.load_study(study_name="single", storage=optuna_storage(url)).trials
    frame = data.trials.set_index("number")
    assert list(frame.index) == [t.number for t in reference]
    for trial in reference:
        row = frame.loc[trial.number]
        assert row["state"] == trial.state.name
        if trial.value is None:
            assert math.isnan(row["value"])
        else:
            assert row["value"] == pytest.approx(trial.value)
        for name, value in trial.params.items():
            got = row[f"params_{name}"]
            assert (got is None or (isinstance(got, float) and math.isnan(got))) if value is None else got == value
        assert row["user_attrs_note"] == trial.user_attrs["note"]
        assert row["duration"] == (trial.datetime_complete - trial.datetime_start)
    assert set(data.param_names) == {"x", "lr", "depth", "kind"}
    assert data.distributions["kind"] == DISTS["kind"]
    steps = data.intermediate[data.intermediate["number"] == 0]
    assert dict(zip(steps["step"], steps["value"], strict=False)) == pytest.approx(reference[0].intermediate_values)
    pruned = data.intermediate[data.intermediate["state"] == "PRUNED"]
    assert set(pruned["number"]) == {t.number for t in reference if t.state == TrialState.PRUNED}


def test_multi_objective_values_and_empty_studies(store):
    url, _ = store
    source = open_optuna_source(url)
    multi = source.study("multi")
    assert multi.value_columns == ["values_0", "values_1"] and multi.is_multi_objective
    reference = optuna.load_study(study_name="multi", storage=optuna_storage(url))
    done = multi.trials[multi.trials["state"] == "COMPLETE"]
    expected = [t.values for t in reference.trials if t.state == TrialState.COMPLETE]
    np.testing.assert_allclose(done[["values_0", "values_1"]].to_numpy(), np.array(expected))
    assert source.study("empty").trials.empty
    only_failed = source.study("only-failed").trials
    assert list(only_failed["state"]) == ["FAIL"]


def test_trial_detail(store):
    url, _ = store
    detail = open_optuna_source(url).trial_detail("single", 0)
    assert detail["state"] == "COMPLETE"
    assert detail["user_attrs"] == {"note": "<i>0</i>", "i": 0}
    assert list(detail["intermediate"]["step"]) == [0, 1, 2, 3]
    with pytest.raises(NotFound):
        open_optuna_source(url).trial_detail("single", 10_000)


def test_unknown_study_is_not_found(store):
    url, _ = store
    with pytest.raises(NotFound) as info:
        open_optuna_source(url).study("nope")
    assert "single" in info.value.hint


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_refresh_reads_only_new_and_unfinished_trials(tmp_path, kind):
    url = f"sqlite:///{tmp_path / 'live.db'}" if kind == "sqlite" else str(tmp_path / "live.log")
    writer = optuna.create_study(study_name="live", storage=optuna_storage(url))
    writer.add_trials(make_trials(50))
    running = writer.ask({"x": DISTS["x"]})
    source = open_optuna_source(url)
    first = source.study("live")
    assert len(first.trials) == 51 and source.trial_rows_read == 51
    assert first.trials["state"].iloc[-1] == "RUNNING"
    assert source.refresh("live").trials.shape[0] == 51
    assert source.trial_rows_read == 52  # only the running trial was fetched again
    writer.tell(running, 0.5)
    writer.add_trials(make_trials(5, seed=3))
    grown = source.refresh("live")
    assert source.trial_rows_read == 52 + 1 + 5
    assert len(grown.trials) == 56
    assert grown.trials.set_index("number").loc[running.number, "state"] == "COMPLETE"
    assert grown.trials.set_index("number").loc[running.number, "value"] == 0.5
    assert source.refresh("live").trials.equals(grown.trials)
    assert source.trial_rows_read == 58


def test_param_changing_type_across_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'mixed.db'}"
    study = optuna.create_study(study_name="mixed", storage=url)
    mixed = {"p": CategoricalDistribution([0.5, "big", True])}
    study.add_trial(create_trial(value=1.0, params={"p": 0.5}, distributions=mixed))
    study.add_trial(create_trial(value=2.0, params={"p": "big"}, distributions=mixed))
    trials = open_optuna_source(url).study("mixed").trials
    assert list(trials["params_p"]) == [0.5, "big"]


def test_missing_and_unconfigured_storage(tmp_path):
    with pytest.raises(SourceUnavailable, match="does not exist"):
        open_optuna_source(f"sqlite:///{tmp_path / 'missing.db'}")
    with pytest.raises(ConfigError, match="does not exist"):
        open_optuna_source(str(tmp_path / "missing.log"))
    with pytest.raises(ConfigError, match="No Optuna storage"):
        open_optuna_source(None)
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "missing.log").exists()


def test_corrupt_and_foreign_sqlite_files(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    before = snapshot(corrupt)
    with pytest.raises(SourceUnavailable) as info:
        open_optuna_source(f"sqlite:///{corrupt}").studies()
    assert info.value.hint and snapshot(corrupt) == before
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE things (id INTEGER)")
    before = snapshot(foreign)
    with pytest.raises(SourceUnavailable, match="not an Optuna storage"):
        open_optuna_source(f"sqlite:///{foreign}").studies()
    assert snapshot(foreign) == before


def test_corrupt_journal(tmp_path):
    journal = tmp_path / "bad.log"
    journal.write_text('{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}\nnot json\n{"x"')
    with pytest.raises(SourceUnavailable, match="cannot be read"):
        open_optuna_source(str(journal)).studies()


def test_storage_with_no_studies_lists_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.storages.RDBStorage(url)  # creates the tables only
    assert open_optuna_source(url).studies().empty


def test_locked_database_gives_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    optuna.create_study(study_name="s", storage=url).add_trials(make_trials(3))
    writer = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SourceUnavailable, match="busy") as info:
            open_optuna_source(url, timeout=0.2).studies()
        assert "database is locked" not in str(info.value)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert open_optuna_source(url).study("s").trials.shape[0] == 3


def test_schema_from_a_newer_optuna_is_refused_clearly(tmp_path):
    path = tmp_path / "future.db"
    optuna.create_study(study_name="s", storage=f"sqlite:///{path}").add_trials(make_trials(2))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE version_info SET schema_version = 99, library_version = '9.0.0'")
    before = snapshot(path)
    with pytest.raises(SourceUnavailable, match="Optuna 9.0.0") as info:
        open_optuna_source(f"sqlite:///{path}").studies()
    assert "upgrade" in info.value.hint and snapshot(path) == before
