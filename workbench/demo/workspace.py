"""Builds the demo workspace end to end: git + DVC data versions, MLflow runs, Optuna studies, SHAP.

The build is idempotent: a complete workspace carries ``.workbench-demo.json`` (written last,
atomically) and is returned at once. A build in progress holds a lock on ``.workbench-demo.partial``
(written first); a folder with that marker but no complete one is a half-built demo and is rebuilt.
A non-empty folder with neither marker is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from workbench.demo.data import DATA_PATH, N_VERSIONS, dataset_versions, held_out_split
from workbench.demo.evaluation import write_artifacts
from workbench.demo.explanation import write_explanation
from workbench.demo.repo import VersionRecord, build_repository
from workbench.demo.tracking import RunWriter, lineage_tags, quiet_libraries
from workbench.demo.training import CANDIDATES, train_baselines
from workbench.demo.tuning import (
    TRADEOFF_STARTED,
    TRADEOFF_TRIALS,
    TUNING_STARTED,
    TUNING_STUDY,
    TUNING_TRIALS,
    Splits,
    log_study,
    save_study,
    shifted_trials,
    tune_accuracy_vs_size,
    tune_gradient_boosting,
)
from workbench.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock
    fcntl = None  # type: ignore[assignment]

FORMAT_VERSION = 1
MARKER = ".workbench-demo.json"
PARTIAL_MARKER = ".workbench-demo.partial"
CONFIG_FILE = "workbench.toml"
MLFLOW_DB = "mlflow.db"
OPTUNA_DB = "optuna.db"
ARTIFACTS_DIR = "mlartifacts"
CACHE_DIR = ".workbench-cache"
BASELINES = "cancer-baselines"
TUNING = "cancer-tuning"

Progress = Callable[[str, int, int], None]


def build_demo(directory: Path | str, force: bool = False, progress: Progress | None = None) -> Path:
    """Build (or reuse) the demo workspace in ``directory``; returns the path of its workbench.toml.

    ``progress(step, completed, total)`` is called as the build goes. ``force`` rebuilds a complete demo;
    it never deletes a folder that is not a workbench demo (that raises ``ConfigError``).
    """
    root = Path(directory).expanduser().resolve()
    if not force and is_complete(root):
        return root / CONFIG_FILE
    _check_can_build(root)
    try:
        return _build_locked(root, force, progress)
    except OSError as exc:
        raise ConfigError(f"Could not write the demo workspace into '{root}': {exc.strerror or exc}.",
                          "choose a writable folder on a disk with ~50 MB free with --dir") from exc


def _build_locked(root: Path, force: bool, progress: Progress | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root) as marker:
        if not force and is_complete(root):  # another process finished it while we waited
            (root / PARTIAL_MARKER).unlink(missing_ok=True)
            return root / CONFIG_FILE
        _clear(root)
        marker.write(json.dumps({"format": FORMAT_VERSION, "state": "building", "pid": os.getpid()}))
        marker.flush()
        ticker = _Ticker(progress, total_steps())
        with warnings.catch_warnings(), quiet_libraries():
            warnings.simplefilter("ignore")
            summary = _build(root, ticker)
        summary["progress_steps"] = {"reported": ticker.done, "total": ticker.total}
        ticker("Demo workspace ready")
        _write_atomically(root / MARKER, json.dumps(summary, indent=2) + "\n")
        (root / PARTIAL_MARKER).unlink(missing_ok=True)
    return root / CONFIG_FILE


def is_complete(root: Path) -> bool:
    """Whether ``root`` holds a finished demo of the current format."""
    try:
        summary = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(summary, dict) and summary.get("format") == FORMAT_VERSION
            and (root / CONFIG_FILE).is_file())


def total_steps() -> int:
    """How many steps a build reports before the final "ready" (which reports ``completed == total``)."""
    repository, mlflow_store, optuna_and_config = 1 + N_VERSIONS, 1, 2
    baselines = N_VERSIONS * len(CANDIDATES)
    studies = 2 * (TUNING_TRIALS + TRADEOFF_TRIALS)  # each trial runs, then is logged to MLflow
    return repository + mlflow_store + baselines + studies + optuna_and_config


class _Ticker:
    """Counts steps and forwards them to the progress callback."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, step: str) -> None:
        if self.progress is not None:
            self.progress(step, min(self.done, self.total), self.total)
        self.done += 1



def _check_can_build(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise ConfigError(f"'{root}' is a file, not a folder.", "choose a new folder for the demo with --dir")
    if not root.exists():
        return
    names = {child.name for child in root.iterdir()}
    if names and not names & {MARKER, PARTIAL_MARKER}:
        raise ConfigError(
            f"'{root}' is not empty and is not a workbench demo workspace; the demo builder will not touch it.",
            "choose an empty or new folder with --dir (e.g. --dir workbench-demo)",
        )


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[IO[str]]:
    """Hold an exclusive lock on the partial-build marker (waits for a concurrent build to finish)."""
    path = root / PARTIAL_MARKER
    while True:
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed below or by the caller's exit
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()  # the other build removed the marker we waited on: lock the current one
    try:
        handle.seek(0)
        handle.truncate()
        yield handle
    finally:
        handle.close()


def _clear(root: Path) -> None:
    """Remove what a previous (complete or half-finished) demo build left, except the lock file."""
    for child in root.iterdir():
        if child.name == PARTIAL_MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _build(root: Path, tick: Callable[[str], None]) -> dict[str, Any]:
    versions = dataset_versions()
    tick("Creating the git repository with DVC")
    records = build_repository(root, versions, tick)

    tick("Creating the MLflow store")
    writer = RunWriter(_sqlite(root / MLFLOW_DB))
    with contextlib.suppress(Exception):  # the empty "Default" experiment would point at the builder's cwd
        writer.client.delete_experiment("0")
    baselines = writer.experiment(
        BASELINES, root / ARTIFACTS_DIR / BASELINES,
        "Baselines: gradient boosting, random forests, SGD logistic regression and MLPs on every version "
        "of data/cancer.csv (tags v1..v5). Metrics are on a stratified 25% held-out split.")
    tuning = writer.experiment(
        TUNING, root / ARTIFACTS_DIR / TUNING,
        "Optuna studies on data v5: one parent run per study, one nested run per trial.")
    baseline_runs = train_baselines(writer, baselines, versions, records, tick)

    latest, record = versions[-1], records[-1]
    splits = Splits.from_train_test(*held_out_split(latest.frame))
    tuned = tune_gradient_boosting(splits, tick)
    tradeoff = tune_accuracy_vs_size(splits, tick)
    lineage = lineage_tags(record, DATA_PATH)

    best = tuned.study.best_trial
    best_model = tuned.models[best.number]

    def best_artifacts(folder: Path) -> None:
        proba = best_model.predict_proba(splits.X_test)[:, 1]
        write_artifacts(folder, splits.y_test, proba, f"Tuned gradient boosting (trial {best.number}) on v5")
        write_explanation(folder, best_model, splits.X_test, record.tag)

    tuned_trials = shifted_trials(tuned.study, TUNING_STARTED)
    tradeoff_trials = shifted_trials(tradeoff.study, TRADEOFF_STARTED)
    tuning_parent = log_study(writer, tuning, tuned, tuned_trials, lineage, tick,
                              best=(best.number, best_artifacts, best_model))
    tradeoff_parent = log_study(writer, tuning, tradeoff, tradeoff_trials, lineage, tick)
    best_run = tuned_trials[best.number].user_attrs["mlflow_run_id"]

    tick("Writing the Optuna studies")
    optuna_url = _sqlite(root / OPTUNA_DB)
    study_attrs = {"data_path": DATA_PATH, "data_version": record.tag, "data_git_commit": record.commit,
                   "data_dvc_md5": record.md5}
    save_study(optuna_url, tuned.study, tuned_trials, {**study_attrs, "mlflow_parent_run_id": tuning_parent})
    save_study(optuna_url, tradeoff.study, tradeoff_trials,
               {**study_attrs, "mlflow_parent_run_id": tradeoff_parent})

    tick("Writing workbench.toml")
    (root / CACHE_DIR).mkdir(exist_ok=True)
    _write_atomically(root / CONFIG_FILE, config_text(f"runs:/{best_run}/model"))
    return {
        "format": FORMAT_VERSION,
        "builder": "workbench.demo",
        "config": CONFIG_FILE,
        "data_path": DATA_PATH,
        "data_versions": [_version_summary(r) for r in records],
        "experiments": {BASELINES: len(baseline_runs), TUNING: 2 + len(tuned_trials) + len(tradeoff_trials)},
        "studies": {TUNING_STUDY: len(tuned_trials), tradeoff.study.study_name: len(tradeoff_trials)},
        "best_run_id": best_run,
        "best_trial": best.number,
    }


def _version_summary(record: VersionRecord) -> dict[str, Any]:
    return {"tag": record.tag, "title": record.title, "commit": record.commit, "md5": record.md5,
            "rows": record.rows, "columns": record.columns}


def config_text(model_uri: str) -> str:
    """The demo's workbench.toml: every path relative to the file, so the folder can be moved."""
    return (
        "# MLOps Workbench demo workspace, built by `workbench demo`.\n"
        "# Paths are relative to this file. Reopen with: workbench serve --config workbench.toml\n"
        'title = "MLOps Workbench demo: breast-cancer screening"\n'
        f'tracking_uri = "sqlite:///{MLFLOW_DB}"\n'
        f'experiments = ["{BASELINES}", "{TUNING}"]\n'
        f'optuna_storage = "sqlite:///{OPTUNA_DB}"\n'
        f'study_name = "{TUNING_STUDY}"\n'
        'dvc_repo = "."\n'
        f'dvc_path = "{DATA_PATH}"\n'
        f'model = "{model_uri}"\n'
        f'cache_dir = "{CACHE_DIR}"\n'
    )
