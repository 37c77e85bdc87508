"""Against a real `mlflow server` on 127.0.0.1: same table as search_runs; killed mid-session and restarted."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from helpers import free_port, wait_until
from mlflow import MlflowClient
from mlflow.entities import Metric

from workbench.sources.mlflow import MlflowSource
from workbench.views.experiments.dashboard import ExperimentsDashboard

pytestmark = pytest.mark.slow
MLFLOW = str(Path(sys.executable).with_name("mlflow"))


def start_server(db: Path, port: int, folder: Path) -> subprocess.Popen:
    log = (folder / f"server-{port}.log").open("ab")
    process = subprocess.Popen(
        [MLFLOW, "server", "--backend-store-uri", f"sqlite:///{db}", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--artifacts-destination", str(folder / "served-artifacts")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder)

    def healthy() -> bool:
        assert process.poll() is None, (folder / f"server-{port}.log").read_text()[-2000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(healthy, timeout=180, interval=0.5, what="mlflow server to answer /health")
    return process


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # the group started above: the server and its worker
        process.wait(timeout=30)


def log_run(client: MlflowClient, experiment_id: str, name: str, acc: float) -> None:
    run_id = client.create_run(experiment_id, run_name=name).info.run_id
    client.log_batch(run_id, metrics=[Metric("acc", acc, 1000, 0), Metric("loss", 1 - acc, 1000, 0),
                                      Metric("loss", 0.5 - acc / 2, 1001, 1)])
    client.log_param(run_id, "name", f"<b>{name}</b>")
    client.set_terminated(run_id)


def assert_same_table(frame: pd.DataFrame, uri: str, experiment_id: str) -> None:
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        reference = mlflow.search_runs([experiment_id])
    finally:
        mlflow.set_tracking_uri(previous)
    pd.testing.assert_frame_equal(frame[reference.columns].sort_values("run_id", ignore_index=True),
                                  reference.sort_values("run_id", ignore_index=True), check_dtype=False)


def test_tracking_server_killed_and_restarted(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    writer = MlflowClient(f"sqlite:///{db}")
    experiment_id = writer.create_experiment("served")
    for i, acc in enumerate([0.7, math.nan, 0.9]):
        log_run(writer, experiment_id, f"run-{i}", acc)
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    server = start_server(db, port, tmp_path)
    try:
        source = MlflowSource(uri)
        frame = source.runs([experiment_id])
        assert_same_table(frame, uri, experiment_id)
        history = source.metric_history(frame["run_id"].tolist(), ["loss"])
        assert len(history) == 6

        dashboard = ExperimentsDashboard(source=source, experiments=["served"])
        assert len(dashboard.table.table.value) == 3
        stop_server(server)
        dashboard.refresh()
        assert len(dashboard._banner) == 2 and uri in dashboard._banner[0].object  # alert + retry
        assert "How to fix" in dashboard._banner[0].object
        assert len(dashboard.table.table.value) == 3  # the last good data stays

        log_run(writer, experiment_id, "late", 0.95)
        server = start_server(db, port, tmp_path)
        dashboard.refresh()
        assert len(dashboard._banner) == 0
        assert "late" in dashboard.table.table.value["run_name"].tolist()
        assert source._reader.last_fetched < 4  # the new run (and same-millisecond ones), not all four
        assert_same_table(source.runs([experiment_id]), uri, experiment_id)

        gone = frame["run_id"].iloc[0]
        writer.delete_run(gone)  # deleted on the server: leaves the table on the next refresh
        dashboard.refresh()
        assert gone not in dashboard.table.table.value["run_id"].tolist()
        assert len(dashboard.table.table.value) == 3
        assert_same_table(source.runs([experiment_id]), uri, experiment_id)
        writer.restore_run(gone)  # restored: comes back
        dashboard.refresh()
        assert gone in dashboard.table.table.value["run_id"].tolist()
        assert_same_table(source.runs([experiment_id]), uri, experiment_id)
    finally:
        stop_server(server)
