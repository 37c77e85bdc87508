"""MlflowSource against real stores: the table equals mlflow.search_runs, nothing is ever written."""

from __future__ import annotations

import math
import socket
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from helpers import free_port, snapshot
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources.mlflow import MlflowSource

LONG_KEY = "k" * 240
UNICODE_KEY = "précision_μ"
SEARCH_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def populate(client: MlflowClient) -> dict[str, str]:
    """Two experiments, 24 runs with NaN/±inf metrics, missing params, unicode, a nested run, a deleted run."""
    ids = {}
    for exp_index, name in enumerate(["alpha", "beta <script>"]):
        experiment_id = client.create_experiment(name)
        ids[name] = experiment_id
        for i in range(12):
            run = client.create_run(experiment_id, run_name=f"run-{exp_index}-{i}", start_time=1_700_000_000_000 + i)
            metrics = [Metric("loss", 1.0 / (step + 1 + i), 1_700_000_000_000 + step, step) for step in range(5)]
            metrics += [Metric("acc", 0.5 + i / 100, 1_700_000_000_100, 0), Metric(UNICODE_KEY, i, 1, 0)]
            if i == 3:
                metrics += [Metric("odd", math.nan, 1, 0), Metric("big", math.inf, 1, 0), Metric("small", -math.inf, 1, 0)]
            params = [Param("lr", str(0.1 * (i + 1))), Param(LONG_KEY, "v" * 300)]
            if i % 2:
                params.append(Param("depth", str(i)))  # missing on even runs
            tags = [RunTag("note", "<img src=x onerror=alert(1)>"), RunTag("ünï", "çødé")]
            client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
            if i == 11:
                continue  # stays RUNNING
            client.set_terminated(run.info.run_id, status="FAILED" if i == 5 else "FINISHED",
                                  end_time=1_700_000_050_000 + i)
        child = client.create_run(experiment_id, run_name="child", tags={"mlflow.parentRunId": run.info.run_id})
        client.set_terminated(child.info.run_id)
        deleted = client.create_run(experiment_id, run_name="deleted")
        client.delete_run(deleted.info.run_id)
    return ids


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    populate(MlflowClient(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="module")
def file_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("files") / "mlruns"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        populate(MlflowClient(str(root)))
    return root


def search_runs(uri: str) -> pd.DataFrame:
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        return mlflow.search_runs(search_all_experiments=True, max_results=100_000)
    finally:
        mlflow.set_tracking_uri(previous)


def assert_same_table(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    columns = SEARCH_COLUMNS + sorted(c for c in reference.columns if c.startswith(("metrics.", "params.", "tags.")))
    assert set(columns) <= set(ours.columns)
    left = ours[columns].sort_values("run_id", ignore_index=True)
    right = reference[columns].sort_values("run_id", ignore_index=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_sqlite_table_equals_search_runs_and_store_untouched(sqlite_store: Path) -> None:
    before = snapshot(sqlite_store.parent)
    frame = MlflowSource(f"sqlite:///{sqlite_store}").runs()
    assert snapshot(sqlite_store.parent) == before
    reference = search_runs(f"sqlite:///{sqlite_store}")
    assert len(frame) == 26  # 2 × (12 + child); deleted runs are not listed
    assert_same_table(frame, reference)
    row = frame.set_index("run_name").loc["run-0-3"]
    assert math.isnan(row["metrics.odd"]) and row["metrics.big"] > 1e300 and row["metrics.small"] < -1e300
    assert f"params.{LONG_KEY}" in frame.columns and f"metrics.{UNICODE_KEY}" in frame.columns
    assert pd.isna(frame.set_index("run_name").loc["run-0-4", "params.depth"])
    assert frame["start_time"].is_monotonic_decreasing  # MLflow's default order: newest first


def test_tidy_columns(sqlite_store: Path) -> None:
    frame = MlflowSource(f"sqlite:///{sqlite_store}").runs()
    by_name = frame.set_index("run_name")
    assert set(frame["experiment"]) == {"alpha", "beta <script>"}
    assert by_name.loc["run-0-5", "status"] == "FAILED"
    assert by_name.loc["run-0-11", "status"] == "RUNNING" and math.isnan(by_name.loc["run-0-11", "duration"])
    assert by_name.loc["run-0-0", "duration"] == pytest.approx(50.0)
    children = frame[frame["run_name"] == "child"]
    parents = frame.set_index("run_id").loc[children["parent_run_id"], "run_name"]
    assert sorted(parents) == ["run-0-11", "run-1-11"]


def test_file_store_table_equals_search_runs_and_store_untouched(file_store: Path, monkeypatch) -> None:
    before = snapshot(file_store)
    frame = MlflowSource(str(file_store)).runs()
    assert snapshot(file_store) == before
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    reference = search_runs(str(file_store))
    reference = reference[reference["experiment_id"] != "0"]
    assert len(frame) == 26
    assert_same_table(frame, reference)


def test_experiment_selection(sqlite_store: Path) -> None:
    source = MlflowSource(f"sqlite:///{sqlite_store}")
    ids = source.experiment_ids(["alpha"])
    frame = source.runs(ids)
    assert set(frame["experiment"]) == {"alpha"} and len(frame) == 13
    with pytest.raises(NotFound, match="nope") as info:
        source.experiment_ids(["nope"])
    assert "alpha" in info.value.hint


def new_store(folder: Path, name: str) -> tuple[str, MlflowClient, str]:
    """A fresh SQLite store with one experiment: (uri, client, experiment id)."""
    uri = f"sqlite:///{folder / f'{name}.db'}"
    client = MlflowClient(uri)
    return uri, client, client.create_experiment(name)


def test_incremental_refresh_rereads_only_new_and_running(tmp_path: Path) -> None:
    uri, client, experiment_id = new_store(tmp_path, "live")
    done = [client.create_run(experiment_id, run_name=f"done-{i}") for i in range(5)]
    for run in done:
        client.log_metric(run.info.run_id, "acc", 0.5)
        client.set_terminated(run.info.run_id)
    running = client.create_run(experiment_id, run_name="running")
    client.log_metric(running.info.run_id, "acc", 0.1)

    source = MlflowSource(uri)
    assert len(source.runs([experiment_id])) == 6 and source.last_reread == 6
    same = source.refresh([experiment_id])
    assert source.last_reread == 1 and len(same) == 6  # only the running run

    client.log_metric(running.info.run_id, "acc", 0.9, step=1)
    client.set_terminated(running.info.run_id)
    new = client.create_run(experiment_id, run_name="new")
    client.log_param(new.info.run_id, "lr", "0.3")
    frame = source.refresh([experiment_id])
    assert source.last_reread == 2
    by_name = frame.set_index("run_name")
    assert by_name.loc["running", "metrics.acc"] == 0.9 and by_name.loc["running", "status"] == "FINISHED"
    assert by_name.loc["new", "params.lr"] == "0.3" and len(frame) == 7
    assert_same_table(frame, search_runs(uri)[lambda f: f["experiment_id"] == experiment_id])

    source.refresh([experiment_id])
    assert source.last_reread == 1  # "new" is still running; finished runs are never re-read


def test_metric_history_selected_runs_cached(sqlite_store: Path) -> None:
    source = MlflowSource(f"sqlite:///{sqlite_store}")
    frame = source.runs()
    run_ids = frame[frame["run_name"].isin(["run-0-0", "run-0-1"])]["run_id"].tolist()
    history = source.metric_history(run_ids, ["loss"])
    assert len(history) == 10 and set(history["run_id"]) == set(run_ids)
    client = MlflowClient(f"sqlite:///{sqlite_store}")
    expected = [m.value for m in sorted(client.get_metric_history(run_ids[0], "loss"), key=lambda m: m.step)]
    assert history[history["run_id"] == run_ids[0]]["value"].tolist() == expected
    assert source.metric_history(run_ids, ["loss"]).equals(history)


@pytest.mark.parametrize("uri, error", [
    (None, ConfigError),
    ("sqlite:///:memory:", ConfigError),
    ("mongodb://x", ConfigError),
])
def test_bad_uris(uri, error) -> None:
    with pytest.raises(error) as info:
        MlflowSource(uri)
    assert info.value.hint


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with pytest.raises(SourceUnavailable, match="does not exist"):
        MlflowSource(f"sqlite:///{path}")
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_non_mlflow_and_corrupt_files(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SourceUnavailable) as info:
        MlflowSource(f"sqlite:///{corrupt}")
    assert info.value.hint
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(SourceUnavailable, match="not an MLflow file store"):
        MlflowSource(str(folder))
    assert list(folder.iterdir()) == []


def test_unreachable_server() -> None:
    with pytest.raises(SourceUnavailable) as info:
        MlflowSource(f"http://127.0.0.1:{free_port()}")
    assert "does not answer" in info.value.message and info.value.hint


def test_hung_server_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        with pytest.raises(SourceUnavailable, match="does not answer"):
            MlflowSource(f"http://127.0.0.1:{port}", timeout=1)


def test_wide_store_with_1200_metric_columns(tmp_path: Path) -> None:
    uri, client, experiment_id = new_store(tmp_path, "wide")
    for r in range(3):
        run_id = client.create_run(experiment_id, run_name=f"wide-{r}").info.run_id
        metrics = [Metric(f"feature_{k:04d}/importance", k * 0.001 + r, 1, 0) for k in range(1200) if (k + r) % 7]
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start:start + 1000])
    frame = MlflowSource(uri).runs([experiment_id])
    assert sum(c.startswith("metrics.") for c in frame.columns) == 1200
    assert_same_table(frame, search_runs(uri)[lambda f: f["experiment_id"] == experiment_id])


def test_unchanged_store_returns_the_cached_frame_and_sees_deletions(tmp_path: Path) -> None:
    uri, client, experiment_id = new_store(tmp_path, "still")
    runs = [client.create_run(experiment_id, run_name=f"r{i}") for i in range(3)]
    for run in runs:
        client.set_terminated(run.info.run_id)
    source = MlflowSource(uri)
    first = source.runs([experiment_id])
    assert source.refresh([experiment_id]) is first and source.last_reread == 0
    client.delete_run(runs[0].info.run_id)
    after = source.refresh([experiment_id])
    assert sorted(after["run_name"]) == ["r1", "r2"]
    client.restore_run(runs[0].info.run_id)
    assert sorted(source.refresh([experiment_id])["run_name"]) == ["r0", "r1", "r2"]
