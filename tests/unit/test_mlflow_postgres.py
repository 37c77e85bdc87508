"""The MLflow source on a real PostgreSQL store written by MLflow: same table as search_runs, read-only."""

from __future__ import annotations

import math
import socket

import pandas as pd
import panel as pn
import psycopg2
import pytest
from conftest_postgres import new_database, with_psycopg2
from helpers import free_port
from mlflow import MlflowClient
from test_mlflow_source import LONG_KEY, UNICODE_KEY, assert_same_table, populate, search_runs

from workbench.apps.experiments import ExperimentsPage
from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError, SourceUnavailable
from workbench.sources.mlflow import MlflowSource


@pytest.fixture(scope="module")
def pg_store(postgres_url, tmp_path_factory) -> str:
    """A PostgreSQL MLflow store created and filled by MlflowClient itself (plain postgresql:// URL)."""
    url = new_database(postgres_url, "mlflow_read")
    artifacts = tmp_path_factory.mktemp("pg-artifacts")
    client = MlflowClient(with_psycopg2(url))
    for name in ["alpha", "beta <script>"]:  # populate() creates these; give them a local artifact root
        client.create_experiment(name, artifact_location=(artifacts / name).as_uri())
    populate(_ExistingExperiments(client))
    return url


class _ExistingExperiments:
    """An MlflowClient whose create_experiment returns the experiment made beforehand (same name)."""

    def __init__(self, client: MlflowClient) -> None:
        self._client = client

    def create_experiment(self, name: str) -> str:
        return self._client.get_experiment_by_name(name).experiment_id

    def __getattr__(self, name: str):
        return getattr(self._client, name)


@pytest.fixture
def store(pg_store, pg_unchanged):
    """The store's URL; its data must be identical after the test."""
    with pg_unchanged(pg_store, "runs"):
        yield pg_store


def test_table_equals_search_runs(store):
    source = MlflowSource(store)
    frame = source.runs()
    reference = search_runs(with_psycopg2(store))
    assert len(frame) == 26  # 2 × (12 + child); deleted runs are not listed
    assert_same_table(frame, reference)
    by_name = frame.set_index("run_name")
    row = by_name.loc["run-0-3"]
    assert math.isnan(row["metrics.odd"]) and row["metrics.big"] > 1e300 and row["metrics.small"] < -1e300
    assert f"params.{LONG_KEY}" in frame.columns and f"metrics.{UNICODE_KEY}" in frame.columns
    assert pd.isna(by_name.loc["run-0-4", "params.depth"])
    assert set(frame["experiment"]) == {"alpha", "beta <script>"}
    assert frame["start_time"].is_monotonic_decreasing
    source.close()


def test_unchanged_store_is_not_reread_and_history_reads(store):
    source = MlflowSource(store)
    frame = source.runs()
    assert len(source.refresh()) == 26
    assert source.last_reread == 2  # only run-0-11 and run-1-11, which stay RUNNING
    run_ids = frame.loc[frame["run_name"] == "run-0-2", "run_id"].tolist()
    history = source.metric_history(run_ids, ["loss"])
    assert list(history["step"]) == [0, 1, 2, 3, 4]
    assert history["value"].tolist() == pytest.approx([1.0 / (step + 3) for step in range(5)])
    source.close()


def test_incremental_refresh_sees_new_runs(postgres_url):
    url = new_database(postgres_url, "mlflow_live")
    client = MlflowClient(with_psycopg2(url))
    experiment_id = client.create_experiment("live")
    running = client.create_run(experiment_id, run_name="running")
    done = client.create_run(experiment_id, run_name="done")
    client.set_terminated(done.info.run_id)
    source = MlflowSource(url)
    assert len(source.runs([experiment_id])) == 2 and source.last_reread == 2
    client.log_metric(running.info.run_id, "acc", 0.9)
    client.set_terminated(running.info.run_id)
    new = client.create_run(experiment_id, run_name="new")
    client.log_param(new.info.run_id, "lr", "0.3")
    frame = source.refresh([experiment_id])
    assert source.last_reread == 2  # the formerly running run and the new one
    by_name = frame.set_index("run_name")
    assert by_name.loc["running", "metrics.acc"] == 0.9 and by_name.loc["new", "params.lr"] == "0.3"
    assert_same_table(frame, search_runs(with_psycopg2(url)))
    source.close()


def test_connection_is_read_only(store):
    source = MlflowSource(store)
    source.runs()
    connection = source._reader._connection  # the very session the source reads through
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_transaction_read_only")
        assert cursor.fetchone()[0] == "on"
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cursor.execute("DELETE FROM tags")
    source.close()


def test_experiments_page_builds_on_postgres(store):
    page = ExperimentsPage(config=WorkbenchConfig(tracking_uri=store))
    assert not isinstance(page._layout[0], pn.pane.Alert), page._layout[0].object  # no error alert
    assert len(page.table.table.value) == 26
    page.__panel__().get_root()


def test_database_that_is_not_an_mlflow_store(postgres_url):
    url = new_database(postgres_url, "not_mlflow")
    with pytest.raises(SourceUnavailable, match="not an MLflow tracking store") as info:
        MlflowSource(url)
    assert "tracking_uri" in info.value.hint


def test_unreachable_server_and_bad_scheme():
    with pytest.raises(SourceUnavailable) as info:
        MlflowSource(f"postgresql://postgres:secret@127.0.0.1:{free_port()}/mlflow")
    assert "secret" not in info.value.message and "running and reachable" in info.value.hint
    with pytest.raises(ConfigError):
        MlflowSource("mysql+nosuchdriver://127.0.0.1/mlflow")


@pytest.mark.timeout(30)
def test_server_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts TCP (backlog) but never speaks PostgreSQL
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with pytest.raises(SourceUnavailable, match="timeout"):
            MlflowSource(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/mlflow", timeout=1)
