"""The Optuna source on a real PostgreSQL server: same answers as Optuna, read-only, clear errors."""

from __future__ import annotations

import math
import socket

import numpy as np
import optuna
import panel as pn
import pytest
import sqlalchemy as sa
from conftest_postgres import new_database, with_psycopg2
from helpers import free_port
from optuna.trial import TrialState
from test_optuna_source import DISTS, make_trials

from workbench.analysis.tuning.pareto import pareto_front
from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig
from workbench.errors import SourceUnavailable
from workbench.sources.optuna import open_optuna_source

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(scope="module")
def pg_store(postgres_url) -> str:
    """A PostgreSQL database written by Optuna itself: 300 single-objective trials (some pruned,
    failed and one running), a multi-objective study and an empty one."""
    url = new_database(postgres_url, "optuna_read")
    storage = optuna.storages.RDBStorage(with_psycopg2(url))
    single = optuna.create_study(study_name="single", storage=storage)
    single.add_trials(make_trials(300))
    single.ask({"x": DISTS["x"]})  # stays RUNNING
    multi = optuna.create_study(study_name="multi", storage=storage, directions=["minimize", "maximize"])
    multi.add_trials(make_trials(120, seed=1, multi=True))
    optuna.create_study(study_name="empty", storage=storage, direction="maximize")
    storage.remove_session()
    storage.engine.dispose()
    return url


@pytest.fixture
def store(pg_store, pg_unchanged):
    """The store's URL; its data must be identical after the test."""
    with pg_unchanged(pg_store, "trials"):
        yield pg_store


def test_studies_listing_matches_optuna(store):
    studies = open_optuna_source(store).studies().set_index("study_name")
    assert sorted(studies.index) == ["empty", "multi", "single"]
    single = optuna.load_study(study_name="single", storage=with_psycopg2(store))
    row = studies.loc["single"]
    assert row["directions"] == ("minimize",)
    assert row["n_trials"] == len(single.trials) == 301
    for column, state in [("n_complete", TrialState.COMPLETE), ("n_pruned", TrialState.PRUNED),
                          ("n_fail", TrialState.FAIL), ("n_running", TrialState.RUNNING)]:
        assert row[column] == len(single.get_trials(states=[state])), column
    assert row["n_running"] == 1 and row["n_pruned"] > 0 and row["n_fail"] > 0
    assert row["best_value"] == pytest.approx(single.best_value)
    assert studies.loc["multi", "directions"] == ("minimize", "maximize")
    assert studies.loc["empty", "n_trials"] == 0 and math.isnan(studies.loc["empty", "best_value"])


def test_trials_equal_what_optuna_reports(store):
    data = open_optuna_source(store).study("single")
    study = optuna.load_study(study_name="single", storage=with_psycopg2(store))
    frame = data.trials.set_index("number")
    assert list(frame.index) == [t.number for t in study.trials]
    for trial in study.trials:
        row = frame.loc[trial.number]
        assert row["state"] == trial.state.name
        assert math.isnan(row["value"]) if trial.value is None else row["value"] == pytest.approx(trial.value)
        for name, value in trial.params.items():
            got = row[f"params_{name}"]
            assert (got is None or (isinstance(got, float) and math.isnan(got))) if value is None else got == value
        if trial.user_attrs:
            assert row["user_attrs_note"] == trial.user_attrs["note"] and row["user_attrs_i"] == trial.user_attrs["i"]
    done = data.trials[data.trials["state"] == "COMPLETE"]
    assert int(done.loc[done["value"].idxmin(), "number"]) == study.best_trial.number
    assert data.distributions == DISTS
    for trial in study.trials[:20]:
        steps = data.intermediate[data.intermediate["number"] == trial.number]
        assert dict(zip(steps["step"], steps["value"], strict=True)) == pytest.approx(trial.intermediate_values)
    pruned = data.intermediate[data.intermediate["state"] == "PRUNED"]
    assert set(pruned["number"]) == {t.number for t in study.trials if t.state == TrialState.PRUNED}


def test_pareto_set_is_optunas_best_trials(store):
    data = open_optuna_source(store).study("multi")
    assert data.value_columns == ["values_0", "values_1"]
    study = optuna.load_study(study_name="multi", storage=with_psycopg2(store))
    front = pareto_front(data.trials, data.value_columns, data.directions)
    assert sorted(front["number"]) == sorted(t.number for t in study.best_trials)
    done = data.trials[data.trials["state"] == "COMPLETE"]
    expected = [t.values for t in study.trials if t.state == TrialState.COMPLETE]
    np.testing.assert_allclose(done[["values_0", "values_1"]].to_numpy(), np.array(expected))


def test_trial_detail_reads_system_attrs(store):
    source = open_optuna_source(store)
    detail = source.trial_detail("single", 0)
    assert detail["user_attrs"] == {"note": "<i>0</i>", "i": 0}
    assert list(detail["intermediate"]["step"]) == [0, 1, 2, 3]
    assert isinstance(detail["system_attrs"], dict)


def test_refresh_fetches_only_new_and_unfinished_trials(postgres_url):
    url = new_database(postgres_url, "optuna_live")
    writer = optuna.create_study(study_name="live", storage=with_psycopg2(url))
    writer.add_trials(make_trials(40))
    running = [writer.ask({"x": DISTS["x"]}) for _ in range(2)]
    source = open_optuna_source(url)
    first = source.study("live")
    assert len(first.trials) == 42 and source.trial_rows_read == 42
    assert source.refresh("live").trials.shape[0] == 42
    assert source.trial_rows_read == 44  # only the two running trials were fetched again
    writer.tell(running[0], 0.25)
    writer.add_trials(make_trials(6, seed=3))
    grown = source.refresh("live")
    assert source.trial_rows_read == 44 + 2 + 6
    trials = grown.trials.set_index("number")
    assert len(trials) == 48
    assert trials.loc[running[0].number, "state"] == "COMPLETE" and trials.loc[running[0].number, "value"] == 0.25
    assert trials.loc[running[1].number, "state"] == "RUNNING"
    source.close()


def test_connection_is_read_only(store):
    source = open_optuna_source(store)
    source.studies()
    with source._engine.connect() as connection:  # the very engine the source reads through
        assert connection.execute(sa.text("SHOW default_transaction_read_only")).scalar() == "on"
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            connection.execute(sa.text("DELETE FROM trials"))
    source.close()


def test_tuning_page_builds_on_postgres(store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=store, study_name="single"))
    assert not [a.object for a in page.__panel__().select(pn.pane.Alert) if a.alert_type == "danger"]
    assert page.dashboard.study == "single"
    assert len(page.dashboard.data.trials) == 301
    page.__panel__().get_root()


def test_unreachable_server_is_source_unavailable():
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/optuna"
    with pytest.raises(SourceUnavailable) as info:
        open_optuna_source(url, timeout=2).studies()
    assert "127.0.0.1" in info.value.message and "running and reachable" in info.value.hint


@pytest.mark.timeout(30)
def test_server_that_never_answers_times_out():
    """A port that accepts TCP but never speaks PostgreSQL: connect_timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/optuna"
        with pytest.raises(SourceUnavailable) as info:
            open_optuna_source(url, timeout=1).studies()
    assert "timeout" in info.value.message.lower()
