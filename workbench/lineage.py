"""Record where a run came from, from inside a training script: data version, git commit, Optuna trial.

Call :func:`log_run_context` while an MLflow run is active::

    with mlflow.start_run():
        workbench.lineage.log_run_context("data/train.csv", trial=trial)  # trial: optional optuna.Trial

It reads the DVC metadata of the data (the ``.dvc`` file or ``dvc.lock`` entry, through git; no ``dvc``
command is run and nothing is written to the repository) and sets the tags the workbench resolves
(``workbench.data.*``, ``optuna.*``), logs the data as an MLflow dataset input, and sets the trial's
``mlflow_run_id`` user attribute. See docs/lineage.md.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, NotFound
from workbench.sources.lineage_tags import (  # noqa: F401 - re-exported for training scripts
    DATA_TAGS,
    TAG_COMMIT,
    TAG_GIT_COMMIT,
    TAG_MD5,
    TAG_PATH,
    TAG_STUDY,
    TAG_TRIAL,
    TAG_UNCOMMITTED,
    TAG_VERSION,
    TRIAL_RUN_ATTR,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataContext:
    """The version of one DVC-tracked file as the repository records it right now."""

    path: str  # relative to the DVC root
    root: Path
    commit: str
    version: str  # the git tag at ``commit``, else its short sha
    md5: str
    uncommitted: bool  # the workspace .dvc record differs from the one in ``commit``

    def tags(self) -> dict[str, str]:
        tags = {TAG_PATH: self.path, TAG_VERSION: self.version, TAG_COMMIT: self.commit, TAG_MD5: self.md5,
                TAG_GIT_COMMIT: self.commit}
        if self.uncommitted:
            tags[TAG_UNCOMMITTED] = "true"
        return tags


def data_context(data_path: str | os.PathLike[str], repo: str | os.PathLike[str] | None = None) -> DataContext:
    """Where ``data_path`` stands in its git+DVC repository (``repo``: the DVC root; found from the path)."""
    from workbench.sources.dvc import DvcSource

    path = Path(data_path)
    if repo is None:
        repo = _dvc_root(path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve())
    source = DvcSource(repo)
    relative = _relative(path, source.root)
    record = source.version(source.default_dataset(relative), None)
    commit = source.commit("HEAD")
    try:
        committed = source.version(record.path, commit).md5
    except NotFound:
        committed = None
    tags = source.git.run(["tag", "--points-at", commit]).decode("utf-8", "replace").split()
    return DataContext(path=record.path, root=source.root, commit=commit, version=tags[0] if tags else commit[:7],
                       md5=str(record.md5), uncommitted=committed != record.md5)


def log_run_context(data_path: str | os.PathLike[str], repo: str | os.PathLike[str] | None = None,
                    trial: Any = None, data: Any = None, context: str = "training",
                    run_id: str | None = None) -> dict[str, str]:
    """Tag the active MLflow run (or ``run_id``) with the lineage the workbench links; returns the tags.

    - ``data_path``: the DVC-tracked file (or directory) the model trains on; ``repo``: its DVC root.
    - ``trial``: an ``optuna.Trial``; tags the run with its study and number and sets the trial's
      ``mlflow_run_id`` user attribute.
    - ``data``: the training DataFrame, to log a dataset input with a schema (else a schema-less one).
    """
    import mlflow

    if run_id is None:
        active = mlflow.active_run()
        if active is None:
            raise ConfigError("log_run_context() needs an active MLflow run.",
                              "call it inside `with mlflow.start_run():`, or pass run_id=")
        run_id = active.info.run_id
    found = data_context(data_path, repo)
    tags = found.tags()
    if trial is not None:
        tags.update(trial_tags(trial))
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_tag(run_id, key, value)
    try:
        _log_dataset(client, run_id, found, data, context)
    except Exception as error:  # noqa: BLE001 - the tags are recorded; the dataset input is a courtesy
        log.warning("The dataset input of %s was not logged: %s", found.path, error)
    if trial is not None:
        trial.set_user_attr(TRIAL_RUN_ATTR, run_id)
    return tags


def trial_tags(trial: Any) -> dict[str, str]:
    """``optuna.study_name`` and ``optuna.trial_number`` of an ``optuna.Trial``."""
    study = getattr(trial, "study", None)
    if study is None or not hasattr(trial, "number"):
        raise ConfigError("trial= must be a live optuna.Trial (the objective's argument).",
                          "pass the trial your objective function receives")
    return {TAG_STUDY: str(study.study_name), TAG_TRIAL: str(int(trial.number))}


def _log_dataset(client: Any, run_id: str, found: DataContext, data: Any, context: str) -> None:
    """An MLflow dataset input named after the path, whose digest is the DVC md5."""
    import mlflow.data
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag

    source = resolve_dataset_source(str(found.root / found.path))
    if data is not None:
        dataset = mlflow.data.from_pandas(data, source=source, name=found.path, digest=found.md5[:36])
    else:
        dataset = MetaDataset(source=source, name=found.path, digest=found.md5[:36])
    input_tags = [InputTag(key="mlflow.data.context", value=context),
                  *(InputTag(key=key, value=value) for key, value in found.tags().items() if key != TAG_GIT_COMMIT)]
    client.log_inputs(run_id, datasets=[DatasetInput(dataset._to_mlflow_entity(), tags=input_tags)])


def _dvc_root(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if (candidate / ".dvc").is_dir():
            return candidate
    raise ConfigError(f"'{path}' is not inside a DVC repository.",
                      "pass repo= (the folder holding .dvc/), or track the data with `dvc add` first")


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to the DVC root: as given when it names something there, else from the cwd."""
    if not path.is_absolute() and ((root / path).exists() or (root / f"{path}.dvc").exists()):
        return path.as_posix()
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.resolve().relative_to(root).as_posix()
    except ValueError:
        raise ConfigError(f"'{path}' is not inside the DVC repository '{root}'.",
                          "give the data path relative to the repository (or an absolute path inside it)") from None
