"""The targets.md Experiments workload: an MLflow SQLite store with N runs × 20 params × 10 metrics,
200 of them with a 500-step 'loss' history.

The schema is created by MLflow itself (``MlflowClient`` on a fresh ``sqlite:///`` URI); the rows are
bulk-inserted into MLflow's tables with ``executemany`` (``log_batch`` costs ~30 ms a run, 150 s for
5,000 runs), exactly as MLflow stores them: params/tags as text, ``latest_metrics`` kept in sync
with ``metrics``. ``mlflow.search_runs`` reads the result like any store.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import numpy as np

N_PARAMS = 20
N_METRICS = 10
HISTORY_RUNS = 200
HISTORY_STEPS = 500
START = 1_790_000_000_000


def build_store(path: Path, runs: int = 5_000, seed: int = 0) -> str:
    """Create (or reuse) the store at ``path``; returns its tracking URI."""
    uri = f"sqlite:///{path}"
    marker = path.with_suffix(f".{runs}.done")
    if path.exists() and marker.exists():
        return uri
    path.unlink(missing_ok=True)
    from mlflow import MlflowClient

    experiment_id = int(MlflowClient(uri).create_experiment("bench", artifact_location=str(path.parent / "artifacts")))
    rng = np.random.default_rng(seed)
    run_rows, param_rows, metric_rows, latest_rows, tag_rows = [], [], [], [], []
    for i in range(runs):
        run_id = uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i).hex
        start = START + i * 60_000
        run_rows.append((run_id, f"run-{i}", "LOCAL", "bench.py", "", "bench", "FINISHED", start, start + 55_000,
                         "", "active", f"{path.parent}/artifacts/{run_id}/artifacts", experiment_id))
        param_rows += [(f"p{j:02d}", f"{rng.random():.6f}" if j % 4 else f"choice-{i % 7}", run_id)
                       for j in range(N_PARAMS)]
        values = rng.random(N_METRICS)
        for j, value in enumerate(values):
            metric_rows.append((f"m{j:02d}", float(value), start + 50_000, run_id, 0, 0))
            latest_rows.append((f"m{j:02d}", float(value), start + 50_000, 0, 0, run_id))
        tag_rows += [("mlflow.runName", f"run-{i}", run_id), ("mlflow.user", "bench", run_id),
                     ("team", ["vision", "nlp", "tabular"][i % 3], run_id)]
        if i < HISTORY_RUNS:
            loss = np.exp(-np.arange(HISTORY_STEPS) / 100.0) + rng.random(HISTORY_STEPS) * 0.05
            metric_rows += [("loss", float(v), start + s * 100, run_id, s, 0) for s, v in enumerate(loss)]
            latest_rows.append(("loss", float(loss[-1]), start + (HISTORY_STEPS - 1) * 100, HISTORY_STEPS - 1, 0, run_id))
    connection = sqlite3.connect(path)
    with connection:
        connection.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
            " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
        connection.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", param_rows)
        connection.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                               " VALUES (?,?,?,?,?,?)", metric_rows)
        connection.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                               " VALUES (?,?,?,?,?,?)", latest_rows)
        connection.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tag_rows)
    connection.close()
    marker.touch()
    return uri
