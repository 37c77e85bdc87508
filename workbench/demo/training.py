"""Baseline experiment: several scikit-learn model families × hyper-parameters × the five data versions.

Every run is real training with a per-iteration history (boosting stages, warm-started trees,
``partial_fit`` epochs), held-out metrics, a PNG and a JSON artifact and the fitted model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from workbench.demo.data import DATA_PATH, DataVersion, held_out_split
from workbench.demo.evaluation import binary_log_loss, scores, write_artifacts
from workbench.demo.repo import VersionRecord
from workbench.demo.tracking import RunRecord, RunWriter, lineage_tags

SEED = 0
History = dict[str, list[tuple[int, float]]]


@dataclass(frozen=True)
class Candidate:
    """One model family with one set of hyper-parameters."""

    family: str
    short: str
    params: dict[str, Any]


CANDIDATES = (
    *(Candidate("gradient_boosting", f"gb-lr{lr}-d{depth}",
                {"n_estimators": 100, "learning_rate": lr, "max_depth": depth, "subsample": 0.8})
      for lr in (0.05, 0.2) for depth in (2, 3)),
    *(Candidate("random_forest", f"rf-d{depth or 'full'}", {"n_estimators": 100, "max_depth": depth,
                                                            "max_features": "sqrt"})
      for depth in (4, 8, None)),
    *(Candidate("sgd_logistic", f"sgd-a{alpha:g}", {"alpha": alpha, "epochs": 30}) for alpha in (1e-4, 1e-3, 1e-2)),
    Candidate("mlp", "mlp-16", {"hidden_layer_sizes": (16,), "alpha": 1e-4, "epochs": 40}),
    Candidate("mlp", "mlp-32x16", {"hidden_layer_sizes": (32, 16), "alpha": 1e-4, "epochs": 40}),
    Candidate("mlp", "mlp-32x16-reg", {"hidden_layer_sizes": (32, 16), "alpha": 1e-2, "epochs": 40}),
)


def _curve(y: pd.Series, proba: np.ndarray) -> tuple[float, float]:
    """(log loss, accuracy) of positive-class probabilities; plain numpy, it runs once per iteration."""
    return binary_log_loss(y, proba), float(np.mean((proba >= 0.5) == y.to_numpy()))


def _append(history: History, step: int, **values: float) -> None:
    for key, value in values.items():
        history.setdefault(key, []).append((step, value))


def _gradient_boosting(params: dict[str, Any], X: pd.DataFrame, y: pd.Series, X_test: pd.DataFrame,
                       y_test: pd.Series) -> tuple[Any, History]:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    model = Pipeline([("impute", SimpleImputer(strategy="median")),
                      ("model", GradientBoostingClassifier(random_state=SEED, **params))]).fit(X, y)
    history: History = {}
    X_t = model[:-1].transform(X_test)
    for stage, proba in enumerate(model[-1].staged_predict_proba(X_t), start=1):
        loss, accuracy = _curve(y_test, proba[:, 1])
        _append(history, stage, train_loss=float(model[-1].train_score_[stage - 1]),
                val_log_loss=loss, val_accuracy=accuracy)
    return model, history


def _random_forest(params: dict[str, Any], X: pd.DataFrame, y: pd.Series, X_test: pd.DataFrame,
                   y_test: pd.Series) -> tuple[Any, History]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    imputer = SimpleImputer(strategy="median").fit(X)
    X_fit, X_t = imputer.transform(X), imputer.transform(X_test)
    forest = RandomForestClassifier(n_estimators=0, warm_start=True, random_state=SEED, n_jobs=1,
                                    **{k: v for k, v in params.items() if k != "n_estimators"})
    history: History = {}
    for trees in range(10, params["n_estimators"] + 1, 10):
        forest.set_params(n_estimators=trees).fit(X_fit, y)
        loss, accuracy = _curve(y_test, forest.predict_proba(X_t)[:, 1])
        _append(history, trees, val_log_loss=loss, val_accuracy=accuracy)
    return Pipeline([("impute", imputer), ("model", forest)]), history


def _epochs(estimator: Any, params: dict[str, Any], X: pd.DataFrame, y: pd.Series, X_test: pd.DataFrame,
            y_test: pd.Series) -> tuple[Any, History]:
    """``partial_fit`` one shuffled epoch at a time behind a median imputer and a scaler."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    prep = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]).fit(X)
    X_fit, X_t, y_fit = prep.transform(X), prep.transform(X_test), y.to_numpy()
    rng = np.random.default_rng(SEED)
    history: History = {}
    for epoch in range(1, params["epochs"] + 1):
        order = rng.permutation(len(X_fit))
        estimator.partial_fit(X_fit[order], y_fit[order], classes=[0, 1])
        train_loss, _ = _curve(y, estimator.predict_proba(X_fit)[:, 1])
        loss, accuracy = _curve(y_test, estimator.predict_proba(X_t)[:, 1])
        _append(history, epoch, train_loss=train_loss, val_log_loss=loss, val_accuracy=accuracy)
    model = Pipeline([*prep.steps, ("model", estimator)])
    return model, history


def fit_candidate(candidate: Candidate, X: pd.DataFrame, y: pd.Series, X_test: pd.DataFrame,
                  y_test: pd.Series) -> tuple[Any, History]:
    """Train one candidate; returns the fitted pipeline and its per-iteration history."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.neural_network import MLPClassifier

    params = candidate.params
    if candidate.family == "gradient_boosting":
        return _gradient_boosting(params, X, y, X_test, y_test)
    if candidate.family == "random_forest":
        return _random_forest(params, X, y, X_test, y_test)
    if candidate.family == "sgd_logistic":
        estimator = SGDClassifier(loss="log_loss", alpha=params["alpha"], random_state=SEED)
    else:
        estimator = MLPClassifier(hidden_layer_sizes=params["hidden_layer_sizes"], alpha=params["alpha"],
                                  learning_rate_init=0.003, random_state=SEED)
    return _epochs(estimator, params, X, y, X_test, y_test)


def train_baselines(writer: RunWriter, experiment_id: str, versions: list[DataVersion],
                    records: list[VersionRecord], tick: Callable[[str], None]) -> list[str]:
    """Log one run per candidate and data version; returns the run ids."""
    run_ids = []
    for version, record in zip(versions, records, strict=True):
        X, X_test, y, y_test = held_out_split(version.frame)
        for index, candidate in enumerate(CANDIDATES):
            tick(f"Training {candidate.short} on {version.tag}")
            began = time.perf_counter()
            model, history = fit_candidate(candidate, X, y, X_test, y_test)
            seconds = time.perf_counter() - began
            proba = model.predict_proba(X_test)[:, 1]
            start = record.date + timedelta(hours=2, minutes=9 * index)
            title = f"{candidate.short} on {version.tag} ({record.title})"
            run = RunRecord(
                name=f"{candidate.short}-{version.tag}", start=start,
                end=start + timedelta(seconds=max(seconds, 1.0)),
                params={"model_family": candidate.family, **candidate.params, "data_version": version.tag,
                        "n_train": len(X), "n_test": len(X_test), "n_features": X.shape[1],
                        "test_size": 0.25, "random_state": SEED},
                metrics={**scores(y_test, proba), "train_accuracy": float(model.score(X, y))},
                histories=history,
                tags={**lineage_tags(record, DATA_PATH), "workbench.model_family": candidate.family},
            )
            run_ids.append(writer.log(experiment_id, run,
                                      artifacts=lambda folder, y=y_test, p=proba, t=title: write_artifacts(folder, y, p, t),
                                      model=model))
    return run_ids
