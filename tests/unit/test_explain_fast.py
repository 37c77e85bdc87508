"""Tree SHAP in light worker processes (explanations_fast): equal to shap's own output, additive, parallel
without importing shap/scikit-learn/pandas in the workers, and the fallback for other models."""

from __future__ import annotations

import os
import sys
import time

import joblib
import numpy as np
import pandas as pd
import pytest
import shap
from joblib.externals.loky import get_reusable_executor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from xgboost import XGBRegressor

from workbench.sources.explanations_fast import tree_arrays, tree_shap
from workbench.sources.explanations_job import LIGHT_PARALLEL_ABOVE, PARALLEL_ABOVE, LiveExplanation
from workbench.sources.explanations_live import (
    CostEstimate,
    explain_chunk,
    explain_in_chunks,
    make_spec,
)

HEAVY = ("shap", "sklearn", "pandas", "scipy")
FAST = "workbench.sources.explanations_fast"


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    holes = X.copy()
    holes.loc[holes.index[::7], "bmi"] = np.nan  # HistGradientBoosting takes NaN: the missing branch
    return X, holes, y


def _output(model, X):
    """What shap's tree explainer explains for each model: probability, log-odds or the regression value."""
    if isinstance(model, HistGradientBoostingClassifier):
        return model.decision_function(X)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


@pytest.mark.parametrize("name", ["rf-classifier", "rf-regressor", "hgb-classifier", "hgb-regressor",
                                  "hgb-regressor-nan", "extra-trees-3-classes"])
def test_values_equal_shap_and_add_up(name, cancer, diabetes):
    X_cancer, y_cancer = cancer
    X_diabetes, holes, y_diabetes = diabetes
    model, X = {
        "rf-classifier": (RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0), X_cancer),
        "rf-regressor": (RandomForestRegressor(n_estimators=15, max_depth=5, random_state=0), X_diabetes),
        "hgb-classifier": (HistGradientBoostingClassifier(max_iter=20, random_state=0), X_cancer),
        "hgb-regressor": (HistGradientBoostingRegressor(max_iter=20, random_state=0), X_diabetes),
        "hgb-regressor-nan": (HistGradientBoostingRegressor(max_iter=20, random_state=0), holes),
        "extra-trees-3-classes": (ExtraTreesClassifier(n_estimators=10, max_depth=4, random_state=0), X_diabetes),
    }[name]
    y = pd.qcut(y_diabetes, 3, labels=False) if name == "extra-trees-3-classes" else \
        y_cancer if len(X) == len(y_cancer) else y_diabetes
    model.fit(X, y)
    explainer = shap.TreeExplainer(model)
    arrays = tree_arrays(explainer)
    assert arrays is not None
    rows = X.iloc[:60]
    values = tree_shap(arrays, rows.to_numpy())
    reference = np.asarray(explainer.shap_values(rows))
    assert values.shape == reference.shape
    np.testing.assert_array_equal(values, reference)  # the same C code on the same arrays: bit-identical
    expected = np.asarray(explainer.expected_value)
    np.testing.assert_allclose(values.sum(axis=1) + expected, _output(model, rows), atol=1e-6)


def test_what_the_light_path_does_not_cover(cancer, diabetes):
    X, y = cancer
    booster = XGBRegressor(n_estimators=5, max_depth=3).fit(X, y)  # shap calls XGBoost's own TreeSHAP
    assert tree_arrays(shap.TreeExplainer(booster)) is None
    assert make_spec(booster, X).arrays is None
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    with_background = shap.TreeExplainer(forest, data=X.iloc[:50], feature_perturbation="interventional")
    assert tree_arrays(with_background) is None  # interventional SHAP: a different algorithm
    assert make_spec(forest, X).arrays is not None
    linear = LogisticRegression(max_iter=5000).fit(X, y)
    assert make_spec(linear, X).arrays is None


def _worker_modules() -> list[tuple[int, list[str]]]:
    """(pid, heavy modules imported) of the reusable loky workers (lambdas travel by value: the probe
    itself imports nothing in the worker)."""
    probe = lambda names: (time.sleep(0.3), os.getpid(), [m for m in names if m in sys.modules])[1:]  # noqa: E731
    return joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(probe)((*HEAVY, FAST)) for _ in range(4))


@pytest.mark.slow
def test_light_workers_equal_shap_without_importing_it(cancer, diabetes):
    get_reusable_executor(kill_workers=True).shutdown(wait=True)  # fresh workers: nothing imported yet
    X, y = cancer
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    spec = make_spec(model, X)
    parts = list(explain_in_chunks(spec, X, chunk_rows=150, n_jobs=2, check=True))  # shap's additivity check too
    assert [len(index) for index, _, _ in parts] == [150, 150, 150, 119]
    assert [list(index) for index, _, _ in parts] == [list(X.index[i:i + 150]) for i in range(0, len(X), 150)]
    reference = shap.TreeExplainer(model)
    np.testing.assert_array_equal(np.vstack([values for _, values, _ in parts]), reference.shap_values(X))
    assert [base for _, _, base in parts] == pytest.approx([np.asarray(reference.expected_value).item()] * 4)
    X_reg, _, y_reg = diabetes
    forest = RandomForestRegressor(n_estimators=15, max_depth=5, random_state=0).fit(X_reg, y_reg)
    parts = list(explain_in_chunks(make_spec(forest, X_reg), X_reg, chunk_rows=200, n_jobs=2))
    np.testing.assert_array_equal(np.vstack([values for _, values, _ in parts]),
                                  shap.TreeExplainer(forest).shap_values(X_reg))
    seen = _worker_modules()
    assert {pid for pid, _ in seen} and all(pid != os.getpid() for pid, _ in seen)
    assert any(FAST in modules for _, modules in seen), seen  # the workers that explained the chunks
    assert all(set(modules) <= {FAST} for _, modules in seen), seen  # ... and imported nothing heavy


@pytest.mark.slow
def test_job_goes_parallel_on_the_light_path(cancer):
    X, y = cancer
    model = RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0).fit(X, y)
    job = LiveExplanation(model, X, y=y, first_rows=100, n_jobs=None, budget_seconds=float("inf"))
    # a second of estimated work per worker: worth light workers, not workers that import shap
    job.estimate = CostEstimate(rows=len(X), seconds=2 * LIGHT_PARALLEL_ABOVE, memory_bytes=0)
    assert 2 * LIGHT_PARALLEL_ABOVE < PARALLEL_ABOVE
    assert job._jobs_for(X) is None  # None: every core
    linear = LiveExplanation(LogisticRegression(max_iter=5000).fit(X, y), X)
    linear.estimate = job.estimate
    assert linear._jobs_for(X) == 1  # the same work for workers that import shap: stays in this process
    job = LiveExplanation(model, X, y=y, first_rows=100, n_jobs=2)
    first = job.start()
    assert len(first.values) == 100 and not first.complete
    final = job.wait(timeout=300)
    assert job.error is None and final.complete and list(final.values.index) == list(X.index)
    reference = shap.TreeExplainer(model)
    np.testing.assert_array_equal(final.values.to_numpy(), np.asarray(reference.shap_values(X))[:, :, 1])
    np.testing.assert_allclose(final.values.sum(axis=1) + final.base_value, model.predict_proba(X)[:, 1], atol=1e-9)


@pytest.mark.slow
def test_other_models_fall_back_to_workers_with_shap(cancer):
    X, y = cancer
    rows = X.iloc[:60]
    linear = LogisticRegression(max_iter=5000).fit(X, y)
    spec = make_spec(linear, X)
    assert spec.kind == "linear" and spec.arrays is None
    single, base = explain_chunk(spec, rows)
    parts = list(explain_in_chunks(spec, rows, chunk_rows=25, n_jobs=2))
    np.testing.assert_allclose(np.vstack([values for _, values, _ in parts]), single)
    assert [b for _, _, b in parts] == pytest.approx([base] * 3)
    neighbours = KNeighborsClassifier(n_neighbors=5).fit(X, y)  # the model-agnostic permutation explainer
    assert make_spec(neighbours, X, background_rows=10).arrays is None
