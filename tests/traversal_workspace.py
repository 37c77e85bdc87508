"""A small real workspace planted with path-traversal bait, for tests/*/test_path_traversal*.py.

Layout under ``base``::

    canary.csv                 outside every served root (the text must never reach a client)
    ws/mlflow.db, ws/artifacts/           MLflow store; one run has an artifact symlink pointing at the canary
    ws/artifacts-evil/canary.csv          sibling-prefix folder of the artifact root
    ws/optuna.db                          one small study
    ws/repo/                              git+DVC repo, data/table.csv v1..v2, data/link.csv -> ../../../canary.csv
    ws/repo-evil/data/table.csv           sibling-prefix folder of the repo (canary content)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port, snapshot, wait_for_port

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve


@dataclass
class TraversalWorkspace:
    base: Path
    canary: Path
    canary_text: str
    config: WorkbenchConfig
    run_id: str

    @property
    def stores(self) -> Path:
        return self.base / "ws"


def build_traversal_workspace(base: Path) -> TraversalWorkspace:
    import mlflow
    import optuna
    import pandas as pd
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    from workbench.sources.dvc_build import RepoBuilder

    text = f"CANARY-{secrets.token_hex(8)}"
    canary = base / "canary.csv"
    canary.write_text(f"secret\n{text}\n")
    ws = base / "ws"
    ws.mkdir()
    for sibling in (ws / "artifacts-evil", ws / "repo-evil" / "data"):
        sibling.mkdir(parents=True)
        (sibling / "canary.csv").write_text(f"secret\n{text}\n")
        (sibling / "table.csv").write_text(f"secret\n{text}\n")

    client = MlflowClient(f"sqlite:///{ws / 'mlflow.db'}")
    experiment = client.create_experiment("traversal", artifact_location=str(ws / "artifacts"))
    run = client.create_run(experiment, run_name="bait")
    client.log_batch(run.info.run_id, metrics=[Metric("accuracy", 0.9, 0, 0)], params=[Param("p", "1")])
    staging = base / "staging"
    staging.mkdir()
    (staging / "notes.txt").write_text("plain artifact")
    client.log_artifact(run.info.run_id, str(staging / "notes.txt"))
    artifact_dir = Path(client.get_run(run.info.run_id).info.artifact_uri)
    os.symlink(canary, artifact_dir / "link.csv")
    client.set_terminated(run.info.run_id)
    mlflow.set_tracking_uri("")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="traversal-study", storage=f"sqlite:///{ws / 'optuna.db'}")
    study.optimize(lambda trial: trial.suggest_float("x", -1, 1) ** 2, n_trials=5)

    repo = RepoBuilder(ws / "repo")
    for rows in (3, 4):
        repo.version("data/table.csv", pd.DataFrame({"a": range(rows), "b": ["x"] * rows}), message=f"v{rows}",
                     tag=f"v{rows}")
    os.symlink(canary, ws / "repo" / "data" / "link.csv")
    repo.close()
    config = WorkbenchConfig(tracking_uri=f"sqlite:///{ws / 'mlflow.db'}", optuna_storage=f"sqlite:///{ws / 'optuna.db'}",
                             dvc_repo=str(ws / "repo"), dvc_path="data/table.csv", cache_dir=str(base / "cache"),
                             model=f"runs:/{run.info.run_id}/model")
    return TraversalWorkspace(base=base, canary=canary, canary_text=text, config=config, run_id=run.info.run_id)


@pytest.fixture(scope="module", name="traversal")
def traversal_fixture(tmp_path_factory: pytest.TempPathFactory):
    """(workspace, port) of the app served on the traversal workspace; stores proven unchanged after."""
    ws = build_traversal_workspace(tmp_path_factory.mktemp("traversal"))
    before = snapshot(ws.stores)
    port = free_port()
    server = serve(ws.config, ServeOptions(port=port), threaded=True)
    wait_for_port(port)
    yield ws, port
    server.stop()
    assert snapshot(ws.stores) == before, "the stores changed while being attacked"


