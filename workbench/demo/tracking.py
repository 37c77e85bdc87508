"""Writing the demo's MLflow store quickly: runs created with explicit times, logged in batches.

``MlflowClient`` calls with ``log_batch`` cost ~30 ms a run; models go through ``mlflow.sklearn.log_model``
against a ``LoggedModel`` created for the run (so ``runs:/<run id>/model`` resolves).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.demo.repo import VersionRecord

MODEL_NAME = "model"
BATCH = 900  # MLflow accepts at most 1000 entities per log_batch
QUIET_LOGGERS = ("mlflow", "alembic", "optuna", "shap", "numba", "matplotlib")


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Keep MLflow/Alembic/Optuna chatter out of the user's terminal while the demo builds."""
    import mlflow  # noqa: F401  (mlflow configures its loggers on import: import first, then quieten)
    import optuna  # noqa: F401
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's global tracking URI (used by ``log_model``) at ``uri``; restore it afterwards."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    previous, previous_env = utils._tracking_uri, os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if previous_env is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous_env


def unsynced_sqlite(engine: Any) -> None:
    """Skip fsync on every commit of a SQLite store being built (~3x faster writes).

    Safe here: a build that dies half-way is detected by its partial marker and rebuilt from scratch.
    """
    from sqlalchemy import event

    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA synchronous=OFF"))
    engine.dispose()  # pooled connections were opened before the listener


def lineage_tags(version: VersionRecord, data_path: str) -> dict[str, str]:
    """Tags that tie a run to the exact data it trained on."""
    return {
        "workbench.data.path": data_path,
        "workbench.data.version": version.tag,
        "workbench.data.git_commit": version.commit,
        "workbench.data.dvc_md5": version.md5,
        "mlflow.source.git.commit": version.commit,
    }


@dataclass
class RunRecord:
    """Everything one run logs; histories are ``{metric: [(step, value), ...]}``."""

    name: str
    start: datetime
    end: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    histories: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    status: str = "FINISHED"
    parent_id: str | None = None


class RunWriter:
    """Creates experiments and runs in one MLflow store."""

    def __init__(self, uri: str) -> None:
        from mlflow import MlflowClient

        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        unsynced_sqlite(self.client._tracking_client.store.engine)

    def experiment(self, name: str, artifact_location: Path, description: str) -> str:
        artifact_location.mkdir(parents=True, exist_ok=True)
        return self.client.create_experiment(
            name, artifact_location=os.fspath(artifact_location),
            tags={"mlflow.note.content": description, "workbench.demo": "true"},
        )

    def log(self, experiment_id: str, record: RunRecord,
            artifacts: Callable[[Path], None] | None = None, model: Any = None) -> str:
        """Create, fill and terminate a run; ``artifacts(folder)`` writes files to upload."""
        from mlflow.entities import Metric, Param

        tags = {"mlflow.user": "demo", "mlflow.source.type": "LOCAL",
                "mlflow.source.name": "workbench demo", **record.tags}
        if record.parent_id:
            tags["mlflow.parentRunId"] = record.parent_id
        run = self.client.create_run(experiment_id, start_time=ms(record.start), tags=tags, run_name=record.name)
        run_id = run.info.run_id
        start, end = ms(record.start), ms(record.end)
        metrics = [Metric(key, float(value), end, 0) for key, value in record.metrics.items()]
        for key, points in record.histories.items():
            span = max(len(points), 1)
            metrics += [Metric(key, float(value), start + (end - start) * (index + 1) // span, int(step))
                        for index, (step, value) in enumerate(points)]
        params = [Param(key, _param_text(value)) for key, value in record.params.items()]
        for offset in range(0, max(len(metrics), 1), BATCH):
            self.client.log_batch(run_id, metrics=metrics[offset:offset + BATCH],
                                  params=params if offset == 0 else [], synchronous=True)
        if artifacts is not None:
            with tempfile.TemporaryDirectory(prefix="workbench-demo-") as folder:
                artifacts(Path(folder))
                self.client.log_artifacts(run_id, folder)
        if model is not None:
            self.log_model(experiment_id, run_id, model)
        self.client.set_terminated(run_id, status=record.status, end_time=end)
        return run_id

    def log_artifacts(self, run_id: str, write: Callable[[Path], None], artifact_path: str | None = None) -> None:
        with tempfile.TemporaryDirectory(prefix="workbench-demo-") as folder:
            write(Path(folder))
            self.client.log_artifacts(run_id, folder, artifact_path=artifact_path)

    def log_model(self, experiment_id: str, run_id: str, model: Any) -> str:
        """Log a fitted scikit-learn model as ``runs:/<run_id>/model``.

        cloudpickle, not skops: skops takes ~0.3 s a tree ensemble and must trust ``Tree`` anyway; loading
        any of these models is a trusted-mode operation in the workbench.
        """
        import mlflow
        import sklearn

        logged = self.client.create_logged_model(experiment_id, name=MODEL_NAME, source_run_id=run_id,
                                                 tags={"workbench.demo": "true"})
        with tracking_uri(self.uri):
            mlflow.sklearn.log_model(
                model, name=MODEL_NAME, model_id=logged.model_id, run_id=run_id,
                serialization_format="cloudpickle",
                pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            )
        return f"runs:/{run_id}/{MODEL_NAME}"


def _param_text(value: Any) -> str:
    text = "None" if value is None else str(value)
    return text[:6000]
