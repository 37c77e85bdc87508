"""Live SHAP computation on really fitted models: equal to shap's own output, additive, chunked, cached."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench.errors import ConfigError
from workbench.sources import explanations_job
from workbench.sources.explanations_cache import cache_key, read_cached, write_cached
from workbench.sources.explanations_job import LiveExplanation
from workbench.sources.explanations_live import (
    data_hash,
    estimate_cost,
    explain_chunk,
    explain_in_chunks,
    make_spec,
    to_explanation,
    validate_inputs,
)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def forest(cancer):
    X, y = cancer
    return RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)


def test_forest_values_equal_shap_and_add_up_to_probability(cancer, forest):
    X, _ = cancer
    rows = X.iloc[:40]
    spec = make_spec(forest, X)
    assert (spec.kind, spec.output_space, spec.positive_class) == ("tree", "probability", "1")
    values, base = explain_chunk(spec, rows)
    reference = shap.TreeExplainer(forest)
    np.testing.assert_allclose(values, np.asarray(reference.shap_values(rows))[:, :, 1])
    assert base == pytest.approx(reference.expected_value[1])
    np.testing.assert_allclose(values.sum(axis=1) + base, forest.predict_proba(rows)[:, 1], atol=1e-9)


def test_boosting_is_explained_in_log_odds(cancer):
    X, y = cancer
    model = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(X, y)
    spec = make_spec(model, X)
    values, base = explain_chunk(spec, X.iloc[:30])
    assert (spec.kind, spec.output_space) == ("tree", "log-odds")
    np.testing.assert_allclose(values.sum(axis=1) + base, model.decision_function(X.iloc[:30]), atol=1e-6)


def test_regression_forest_adds_up_to_prediction():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(X, y)
    spec = make_spec(model, X)
    explanation = to_explanation(spec, X.iloc[:25], *explain_chunk(spec, X.iloc[:25]), y=y)
    assert spec.output_space == "raw" and spec.positive_class is None
    np.testing.assert_allclose(explanation.output, model.predict(X.iloc[:25]), rtol=1e-9)
    np.testing.assert_allclose(explanation.predictions, model.predict(X.iloc[:25]))


@pytest.mark.slow  # the permutation explainer compiles its numba kernels on first use
def test_linear_and_model_agnostic_fallbacks_are_additive(cancer):
    X, y = cancer
    X = X.iloc[:, :6]
    linear = LogisticRegression(max_iter=2000).fit(X, y)
    spec = make_spec(linear, X)
    values, base = explain_chunk(spec, X.iloc[:10])
    assert spec.kind == "linear"
    np.testing.assert_allclose(values.sum(axis=1) + base, linear.decision_function(X.iloc[:10]), atol=1e-6)

    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    spec = make_spec(pipeline, X, background_rows=10)
    values, base = explain_chunk(spec, X.iloc[:2])
    assert (spec.kind, spec.output_space) == ("permutation", "probability")
    np.testing.assert_allclose(values.sum(axis=1) + base, pipeline.predict_proba(X.iloc[:2])[:, 1], atol=1e-6)
    estimate = estimate_cost(spec, X)
    assert estimate.seconds > 0 and estimate.memory_bytes > 0 and estimate.rows == len(X)
    assert 1 <= estimate.rows_within(estimate.seconds / 10) < len(X)


@pytest.mark.slow
def test_chunks_over_workers_equal_one_call(cancer, forest):
    X, _ = cancer
    spec = make_spec(forest, X)
    rows = X.iloc[:120]
    single, base = explain_chunk(spec, rows)
    parts = list(explain_in_chunks(spec, rows, chunk_rows=50, n_jobs=2))
    assert [len(index) for index, _, _ in parts] == [50, 50, 20]
    np.testing.assert_allclose(np.vstack([values for _, values, _ in parts]), single)
    assert [b for _, _, b in parts] == pytest.approx([base] * 3)


def test_bad_inputs_have_clear_messages(cancer, forest):
    X, _ = cancer
    with pytest.raises(ConfigError, match="missing: mean radius"):
        validate_inputs(forest, X.drop(columns=["mean radius"]))
    with pytest.raises(ConfigError, match="unexpected: extra"):
        validate_inputs(forest, X.assign(extra=1.0))
    with pytest.raises(ConfigError, match="non-numeric"):
        validate_inputs(forest, X.assign(**{"mean radius": "x"}))
    with pytest.raises(ConfigError, match="empty"):
        validate_inputs(forest, X.iloc[:0])
    with pytest.raises(ConfigError, match="no predict"):
        validate_inputs(object(), X)
    reordered = validate_inputs(forest, X[list(X.columns[::-1])])
    assert list(reordered.columns) == list(X.columns)


def test_cache_round_trip_and_invalidation(cancer, forest, tmp_path):
    X, y = cancer
    rows = X.iloc[:30]
    spec = make_spec(forest, X)
    explanation = to_explanation(spec, rows, *explain_chunk(spec, rows), y=y)
    key = cache_key(spec.token, data_hash(rows))
    assert read_cached(tmp_path, key, rows) is None
    write_cached(tmp_path, key, explanation)
    assert [p.name for p in (tmp_path / "explain").iterdir()] == [key]  # no temporary folder left behind
    cached = read_cached(tmp_path, key, rows, y.loc[rows.index])
    np.testing.assert_allclose(cached.values.to_numpy(), explanation.values.to_numpy())
    assert cached.base_value == explanation.base_value and cached.positive_class == "1"
    changed = rows.copy()
    changed.iloc[0, 0] += 1.0
    assert cache_key(spec.token, data_hash(changed)) != key
    other = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=1).fit(X, y)
    assert make_spec(other, X).token != spec.token
    assert make_spec(forest, X).token == spec.token


def test_progressive_job_sample_first_then_all_rows_in_order(cancer, forest, tmp_path, monkeypatch):
    monkeypatch.setattr(explanations_job, "UPDATE_EVERY", 0.0)  # every chunk is reported
    X, y = cancer
    updates: list[int] = []
    job = LiveExplanation(forest, X, y, cache_dir=str(tmp_path), first_rows=60, n_jobs=1,
                          on_update=lambda explanation, error: updates.append(len(explanation.values)))
    first = job.start()
    assert len(first.values) == 60 and first.n_total == len(X) and not first.complete
    final = job.wait(120)
    assert final.complete and list(final.values.index) == list(X.index)
    assert updates == sorted(updates) and updates[-1] == len(X) and len(updates) >= 2
    np.testing.assert_allclose(final.output, forest.predict_proba(X)[:, 1], atol=1e-9)
    again = LiveExplanation(forest, X, y, cache_dir=str(tmp_path)).start()
    assert again.complete and "cache" in again.source


def test_over_budget_explains_a_sample(cancer, forest):
    X, y = cancer
    job = LiveExplanation(forest, X, y, cache_dir=None, budget_seconds=1e-6, n_jobs=1)
    first = job.start()
    job.wait(60)
    assert job.sampled and len(job.rows) < len(X) and job.latest.complete
    assert len(job.latest.values) == len(job.rows) and len(first.values) <= len(job.rows)
    assert isinstance(job.rows, pd.DataFrame) and job.rows.index.isin(X.index).all()


@pytest.mark.slow
def test_explains_on_a_local_dask_cluster(cancer, forest):
    from distributed import LocalCluster

    X, y = cancer
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        job = LiveExplanation(forest, X, y, cache_dir=None, first_rows=100, dask_scheduler=cluster.scheduler_address)
        job.start()
        final = job.wait(120)
    assert job.error is None and final.complete and list(final.values.index) == list(X.index)
    np.testing.assert_allclose(final.values.to_numpy(), np.asarray(shap.TreeExplainer(forest).shap_values(X))[:, :, 1])


@pytest.mark.slow
def test_unreachable_dask_scheduler_is_reported(cancer, forest):
    from helpers import free_port

    X, y = cancer
    errors = []
    job = LiveExplanation(forest, X, y, cache_dir=None, first_rows=100, dask_scheduler=f"tcp://127.0.0.1:{free_port()}",
                          on_update=lambda explanation, error: errors.append(error))
    job.start()
    job.wait(60)
    assert job.error is not None and "did not answer" in str(job.error) and errors == [job.error]


def test_hard_time_limit_stops_a_runaway_job(cancer, forest):
    X, y = cancer
    job = LiveExplanation(forest, X, y, cache_dir=None, first_rows=50, n_jobs=1)
    job.time_limit = 0.0  # every chunk is over the limit
    job.start()
    job.wait(60)
    assert job.error is not None and "stopped after" in str(job.error) and not job.latest.complete


def test_dask_backend_without_distributed_says_how_to_install(cancer, forest, monkeypatch):
    import sys

    from workbench.errors import MissingDependency
    from workbench.sources.explanations_live import explain_on_dask

    X, _ = cancer
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(MissingDependency) as info:
        next(explain_on_dask(make_spec(forest, X), X, "tcp://127.0.0.1:1"))
    assert info.value.hint == "install it with: pip install mlops-workbench[dask]"


def test_duplicate_index_and_misaligned_y_are_handled(cancer, forest):
    X, y = cancer
    X = pd.concat([X.iloc[:150], X.iloc[:150]])  # duplicate index labels
    y = pd.concat([y.iloc[:150], y.iloc[:150]]).reset_index(drop=True)  # another index than X
    job = LiveExplanation(forest, X, y, cache_dir=None, first_rows=50, n_jobs=1)
    job.start(background=False)
    job.resume()
    job.resume()  # a second start request is harmless
    final = job.wait(60)
    assert final.complete and len(final.values) == 300 and final.values.index.is_unique
    assert final.y.tolist() == y.tolist()
    with pytest.raises(Exception, match="y has 10 values"):
        LiveExplanation(forest, X, y.iloc[:10])
