"""Optuna studies of the demo: real tuning on the latest data version, run in memory, then written out.

``cancer-gb-tuning`` tunes gradient boosting, reporting validation log-loss every 10 trees so the
MedianPruner stops hopeless trials; ``cancer-accuracy-vs-size`` trades accuracy against model size.
Trials run in memory (fast) and are copied with ``add_trials`` to ``optuna.db`` once their MLflow runs exist.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.demo.evaluation import binary_log_loss, scores
from workbench.demo.tracking import RunRecord, RunWriter, unsynced_sqlite

TUNING_STUDY = "cancer-gb-tuning"
TRADEOFF_STUDY = "cancer-accuracy-vs-size"
TUNING_TRIALS = 110
TRADEOFF_TRIALS = 40
STAGE = 10  # trees added between two reports
SEED = 7
TUNING_STARTED = datetime(2026, 10, 22, 9, 30)  # naive local time, like Optuna's own datetimes
TRADEOFF_STARTED = datetime(2026, 10, 27, 14, 10)
MAX_FEATURES: dict[str, Any] = {"sqrt": "sqrt", "half": 0.5, "all": None}


@dataclass
class Splits:
    """Fit / validation (for the objective) / test (held out, for the reported metrics)."""

    X_fit: pd.DataFrame
    y_fit: pd.Series
    X_val: pd.DataFrame
    y_val: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series

    @classmethod
    def from_train_test(cls, X_train: pd.DataFrame, X_test: pd.DataFrame, y_train: pd.Series,
                        y_test: pd.Series) -> Splits:
        from sklearn.model_selection import train_test_split

        X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.2, stratify=y_train,
                                                      random_state=1)
        return cls(X_fit, y_fit, X_val, y_val, X_test, y_test)


@dataclass
class StudyResult:
    """A finished in-memory study with what its trials produced beyond Optuna's own records."""

    study: Any
    test_metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    extra_metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    models: dict[int, Any] = field(default_factory=dict)


def tune_gradient_boosting(splits: Splits, tick: Callable[[str], None]) -> StudyResult:
    """≥100 trials of gradient boosting, pruned on validation log-loss reported every ``STAGE`` trees."""
    import optuna
    from sklearn.ensemble import GradientBoostingClassifier

    result = StudyResult(optuna.create_study(
        study_name=TUNING_STUDY, direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=SEED, n_startup_trials=15),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=10, n_warmup_steps=3 * STAGE),
    ))

    def objective(trial: optuna.Trial) -> float:
        n_estimators = trial.suggest_int("n_estimators", 30, 200, step=STAGE)
        max_features = trial.suggest_categorical("max_features", list(MAX_FEATURES))
        model = GradientBoostingClassifier(
            learning_rate=trial.suggest_float("learning_rate", 0.005, 0.5, log=True),
            max_depth=trial.suggest_int("max_depth", 1, 5),
            subsample=trial.suggest_float("subsample", 0.4, 1.0),
            min_samples_leaf=trial.suggest_int("min_samples_leaf", 1, 30),
            max_features=MAX_FEATURES[max_features], n_estimators=STAGE, warm_start=True, random_state=0,
        )
        loss = float("nan")
        for trees in range(STAGE, n_estimators + 1, STAGE):
            model.set_params(n_estimators=trees).fit(splits.X_fit, splits.y_fit)
            loss = binary_log_loss(splits.y_val, model.predict_proba(splits.X_val)[:, 1])
            trial.report(loss, trees)
            if trial.should_prune():
                raise optuna.TrialPruned()
        result.test_metrics[trial.number] = scores(splits.y_test, model.predict_proba(splits.X_test)[:, 1])
        result.models[trial.number] = model
        return loss

    result.study.optimize(objective, n_trials=TUNING_TRIALS, gc_after_trial=False,
                          callbacks=[_ticker(tick, TUNING_STUDY)])
    return result


def tune_accuracy_vs_size(splits: Splits, tick: Callable[[str], None]) -> StudyResult:
    """A multi-objective study: maximise validation accuracy, minimise the pickled model size."""
    import optuna
    from sklearn.ensemble import RandomForestClassifier

    study = optuna.create_study(study_name=TRADEOFF_STUDY, directions=["maximize", "minimize"],
                                sampler=optuna.samplers.TPESampler(seed=SEED))
    study.set_metric_names(["accuracy", "size_kb"])
    result = StudyResult(study)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        model = RandomForestClassifier(
            n_estimators=trial.suggest_int("n_estimators", 2, 120, log=True),
            max_depth=trial.suggest_int("max_depth", 1, 12),
            min_samples_leaf=trial.suggest_int("min_samples_leaf", 1, 20),
            max_features=MAX_FEATURES[trial.suggest_categorical("max_features", ["sqrt", "half"])],
            random_state=0, n_jobs=1,
        ).fit(splits.X_fit, splits.y_fit)
        accuracy = float(np.mean(model.predict(splits.X_val) == splits.y_val.to_numpy()))
        size_kb = len(pickle.dumps(model, protocol=5)) / 1024
        n_nodes = sum(tree.tree_.node_count for tree in model.estimators_)
        result.test_metrics[trial.number] = scores(splits.y_test, model.predict_proba(splits.X_test)[:, 1])
        result.extra_metrics[trial.number] = {"val_accuracy": accuracy, "size_kb": round(size_kb, 2),
                                              "n_nodes": float(n_nodes)}
        return accuracy, round(size_kb, 2)

    study.optimize(objective, n_trials=TRADEOFF_TRIALS, gc_after_trial=False,
                   callbacks=[_ticker(tick, TRADEOFF_STUDY)])
    return result


def _ticker(tick: Callable[[str], None], name: str) -> Callable[[Any, Any], None]:
    def callback(study: Any, trial: Any) -> None:
        tick(f"{name}: trial {trial.number} {trial.state.name.lower()}")

    return callback


def shifted_trials(study: Any, started: datetime) -> list[Any]:
    """The study's trials moved in time so the first starts at ``started`` (durations kept)."""
    trials = study.get_trials(deepcopy=True)
    offset = started - min(t.datetime_start for t in trials)
    for trial in trials:
        trial.datetime_start = trial.datetime_start + offset
        if trial.datetime_complete is not None:
            trial.datetime_complete = trial.datetime_complete + offset
    return trials


def save_study(storage_url: str, source: Any, trials: list[Any], user_attrs: dict[str, Any]) -> None:
    """Write a study with the given (frozen) trials into an RDB storage."""
    import optuna

    storage = optuna.storages.RDBStorage(storage_url, engine_kwargs={"connect_args": {"timeout": 30}})
    unsynced_sqlite(storage.engine)
    study = optuna.create_study(storage=storage, study_name=source.study_name, directions=source.directions)
    if source.metric_names:
        study.set_metric_names(source.metric_names)
    for key, value in user_attrs.items():
        study.set_user_attr(key, value)
    study.add_trials(trials)
    storage.remove_session()
    storage.engine.dispose()


def trial_window(trial: Any) -> tuple[datetime, datetime]:
    """(start, end) of a frozen trial as aware datetimes (naive Optuna times are local)."""
    start = trial.datetime_start.astimezone()
    end = (trial.datetime_complete or trial.datetime_start + timedelta(seconds=1)).astimezone()
    return start, end


def log_study(writer: RunWriter, experiment_id: str, result: StudyResult, trials: list[Any],
              lineage: dict[str, str], tick: Callable[[str], None],
              best: tuple[int, Callable[[Path], None], Any] | None = None) -> str:
    """A parent MLflow run for the study and one nested child run per trial, linked both ways.

    Sets the ``mlflow_run_id`` user attribute on each frozen trial; ``best`` is
    ``(trial number, artifact writer, model)`` for the trial whose run keeps the model.
    Returns the parent run id.
    """
    import optuna

    study = result.study
    name = study.study_name
    windows = [trial_window(trial) for trial in trials]
    states = [trial.state for trial in trials]
    multi = len(study.directions) > 1
    parent_metrics: dict[str, float] = {
        "n_trials": float(len(trials)),
        "n_complete": float(sum(s == optuna.trial.TrialState.COMPLETE for s in states)),
        "n_pruned": float(sum(s == optuna.trial.TrialState.PRUNED for s in states)),
    }
    histories: dict[str, list[tuple[int, float]]] = {}
    if not multi:
        best_so_far, running = [], float("inf")
        for trial in trials:
            if trial.state == optuna.trial.TrialState.COMPLETE:
                running = min(running, trial.value)
                best_so_far.append((trial.number, running))
        histories["best_value"] = best_so_far
        parent_metrics["best_value"] = running
    else:
        parent_metrics["n_pareto_optimal"] = float(len(study.best_trials))
    parent_id = writer.log(experiment_id, RunRecord(
        name=f"optuna: {name}", start=min(w[0] for w in windows), end=max(w[1] for w in windows),
        params={
            "study_name": name, "n_trials": len(trials), "sampler": type(study.sampler).__name__,
            "sampler_seed": SEED, "pruner": type(study.pruner).__name__,
            "directions": ",".join(d.name.lower() for d in study.directions),
            "objectives": ",".join(study.metric_names or ["val_log_loss"]),
            "search_space": ", ".join(sorted(trials[0].distributions)),
        },
        metrics=parent_metrics, histories=histories,
        tags={**lineage, "optuna.study_name": name, "workbench.sweep": "optuna"},
    ))
    for trial, (start, end) in zip(trials, windows, strict=True):
        tick(f"Logging {name} trial {trial.number} to MLflow")
        complete = trial.state == optuna.trial.TrialState.COMPLETE
        metrics = dict(result.test_metrics.get(trial.number, {}))
        metrics.update(result.extra_metrics.get(trial.number, {}))
        if complete and not multi:
            metrics["val_log_loss"] = float(trial.value)
        record = RunRecord(
            name=f"{name}-trial-{trial.number:03d}", start=start, end=end,
            params={**trial.params, "trial_number": trial.number},
            metrics=metrics,
            histories={"val_log_loss": sorted(trial.intermediate_values.items())} if trial.intermediate_values else {},
            tags={**lineage, "optuna.study_name": name, "optuna.trial_number": str(trial.number),
                  "optuna.trial_state": trial.state.name},
            status="FINISHED" if complete else "KILLED", parent_id=parent_id,
        )
        is_best = best is not None and best[0] == trial.number
        run_id = writer.log(experiment_id, record, artifacts=best[1] if is_best else None,
                            model=best[2] if is_best else None)
        if is_best:
            writer.client.set_tag(run_id, "workbench.best_model", "true")
            writer.client.set_tag(parent_id, "workbench.best_run_id", run_id)
        trial.set_user_attr("mlflow_run_id", run_id)
    return parent_id
