"""XGBoost and LightGBM models: the fast tree explainer path (equal to shap's, additive), the
explanation diff against a scikit-learn model, models logged with their own MLflow flavors, and a
clear message when a model's library is not installed."""

from __future__ import annotations

import sys

import lightgbm
import numpy as np
import pandas as pd
import pytest
import shap
import xgboost
from helpers import snapshot
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestClassifier

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig
from workbench.errors import MissingDependency
from workbench.sources.explanations_job import LiveExplanation
from workbench.sources.explanations_live import make_spec, validate_inputs
from workbench.sources.models import load_model


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True, as_frame=True)  # feature names with spaces


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


def margin(model, X: pd.DataFrame) -> np.ndarray:
    """The model's raw output (log-odds for classifiers): what tree SHAP values add up to."""
    if isinstance(model, xgboost.XGBModel):
        return np.asarray(model.predict(X, output_margin=True), dtype=float)
    return np.asarray(model.predict(X, raw_score=True), dtype=float)


def shap_reference(model, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """shap's own TreeExplainer output for the positive class (or the regression value)."""
    explainer = shap.TreeExplainer(model)
    values = np.asarray(explainer.shap_values(X), dtype=float)
    base = np.asarray(explainer.expected_value, dtype=float).ravel()
    if values.ndim == 3:
        return values[:, :, -1], float(base[-1])
    return values, float(base[0])


BOOSTERS = {
    "xgboost-classifier": lambda: xgboost.XGBClassifier(n_estimators=25, max_depth=3, random_state=0),
    "lightgbm-classifier": lambda: lightgbm.LGBMClassifier(n_estimators=25, num_leaves=8, verbose=-1, random_state=0),
    "xgboost-regressor": lambda: xgboost.XGBRegressor(n_estimators=25, max_depth=3, random_state=0),
    "lightgbm-regressor": lambda: lightgbm.LGBMRegressor(n_estimators=25, num_leaves=8, verbose=-1, random_state=0),
}


@pytest.mark.parametrize("name", list(BOOSTERS))
def test_boosters_use_the_tree_explainer_equal_to_shap_and_additive(name, cancer, diabetes):
    X, y = cancer if "classifier" in name else diabetes
    model = BOOSTERS[name]().fit(X, y)
    rows = validate_inputs(model, X)  # LightGBM renames "mean radius" to "mean_radius": X still fits
    assert list(rows.columns) == list(X.columns)
    spec = make_spec(model, rows)
    classifier = "classifier" in name
    assert spec.kind == "tree" and spec.background is None  # no sampled background: the exact tree path
    assert spec.native_threads  # shap calls the library's own multi-threaded TreeSHAP
    assert spec.output_space == ("log-odds" if classifier else "raw")
    assert spec.positive_class == ("1" if classifier else None)

    job = LiveExplanation(model, X, y, cache_dir=None, first_rows=100)
    assert job._jobs_for(X) == 1  # no worker processes: they would only oversubscribe the library's threads
    job.start()
    final = job.wait(120)
    assert job.error is None and final.complete and len(final.values) == len(X)
    values, base = shap_reference(model, X)
    np.testing.assert_allclose(final.values.to_numpy(), values, rtol=1e-6, atol=1e-6)
    assert final.base_value == pytest.approx(base)
    # additivity: base + sum of SHAP values = the model's margin (float32 trees: a small tolerance)
    np.testing.assert_allclose(final.output.to_numpy(), margin(model, X), atol=1e-4)
    expected = model.predict_proba(X)[:, 1] if classifier else model.predict(X)
    np.testing.assert_allclose(final.predictions.to_numpy(), expected, rtol=1e-6)


def test_booster_chunks_in_worker_processes_equal_one_call(cancer):
    X, y = cancer
    model = BOOSTERS["xgboost-classifier"]().fit(X, y)
    job = LiveExplanation(model, X, y, cache_dir=None, first_rows=100, n_jobs=2)  # pickled to two loky workers
    job.start()
    final = job.wait(120)
    assert job.error is None and final.complete
    np.testing.assert_allclose(final.values.to_numpy(), shap_reference(model, X)[0], rtol=1e-6, atol=1e-6)


def test_diff_between_a_forest_and_xgboost_on_the_same_rows(cancer, tmp_path):
    X, y = cancer
    rows, target = X.iloc[:200], y.iloc[:200]
    forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    booster = BOOSTERS["xgboost-classifier"]().fit(X, y)
    assert not make_spec(forest, rows).native_threads  # shap's own single-threaded C++ for scikit-learn trees
    page = ExplainPage(model=forest, X=rows, y=target, compare_model=booster,
                       config=WorkbenchConfig(cache_dir=str(tmp_path)))
    page.wait(120)
    assert page.other is not None and page.other.model_type == "XGBClassifier"
    assert page.explanation.output_space == "probability" and page.other.output_space == "log-odds"
    frame = page.diff.frame().set_index("feature")
    ours = np.abs(shap_reference(forest, rows)[0]).mean(axis=0)
    theirs = np.abs(shap_reference(booster, rows)[0]).mean(axis=0)
    expected = pd.Series(theirs - ours, index=[str(c) for c in rows.columns])
    np.testing.assert_allclose(frame.loc[expected.index, "importance shift"], expected, rtol=1e-6, atol=1e-9)
    content = page.diff._content()  # different output spaces are pointed out
    assert "compare ranks" in content[0].object
    content.get_root()


@pytest.fixture(scope="module")
def booster_store(tmp_path_factory, cancer):
    """A SQLite MLflow store with an XGBoost and a LightGBM model in their own flavors, and an
    XGBoost model pickled inside the scikit-learn flavor."""
    import mlflow
    import mlflow.lightgbm
    import mlflow.sklearn
    import mlflow.xgboost
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("booster-store")
    X, y = cancer
    X = X.iloc[:, :6]
    models = {"xgboost": BOOSTERS["xgboost-classifier"]().fit(X, y),
              "lightgbm": BOOSTERS["lightgbm-classifier"]().fit(X, y)}
    uri = f"sqlite:///{root / 'mlflow.db'}"
    experiment = MlflowClient(tracking_uri=uri).create_experiment("boosters", artifact_location=str(root / "art"))
    mlflow.set_tracking_uri(uri)
    ids = {}
    try:
        for flavor, module in (("xgboost", mlflow.xgboost), ("lightgbm", mlflow.lightgbm)):
            with mlflow.start_run(experiment_id=experiment, run_name=flavor) as run:
                module.log_model(models[flavor], name="model", pip_requirements=[flavor])
                ids[flavor] = run.info.run_id
        with mlflow.start_run(experiment_id=experiment, run_name="pickled") as run:
            mlflow.sklearn.log_model(models["xgboost"], name="model", serialization_format="cloudpickle",
                                     pip_requirements=["xgboost"])
            ids["pickled"] = run.info.run_id
    finally:
        mlflow.set_tracking_uri(None)
    data = root / "rows.csv"
    X.iloc[:80].assign(target=y.iloc[:80]).to_csv(data, index=False)
    return {"uri": uri, "ids": ids, "models": models, "X": X, "data": data, "root": root}


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["xgboost", "lightgbm", "pickled"])
def test_logged_boosters_load_in_trusted_mode_and_are_explained(booster_store, flavor, tmp_path):
    before = snapshot(booster_store["root"])
    config = WorkbenchConfig(tracking_uri=booster_store["uri"], model=f"runs:/{booster_store['ids'][flavor]}/model",
                             trusted=True, explain_data=str(booster_store["data"]), cache_dir=str(tmp_path))
    original = booster_store["models"]["lightgbm" if flavor == "lightgbm" else "xgboost"]
    X = booster_store["X"].iloc[:80]
    loaded = load_model(config)
    np.testing.assert_allclose(loaded.predict_proba(X), original.predict_proba(X), rtol=1e-6)
    page = ExplainPage(config=config)
    final = page.wait(120)
    assert page.job is not None, page._layout[0].object  # an alert otherwise
    assert page.job.spec.kind == "tree" and final.complete and len(final.values) == 80
    np.testing.assert_allclose(final.values.to_numpy(), shap_reference(original, X)[0], rtol=1e-5, atol=1e-6)
    assert snapshot(booster_store["root"]) == before


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["xgboost", "pickled"])
def test_model_whose_library_is_not_installed_says_what_to_install(booster_store, flavor, monkeypatch, tmp_path):
    for name in [name for name in sys.modules if name == "xgboost" or name.startswith("xgboost.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if xgboost were not installed
    config = WorkbenchConfig(tracking_uri=booster_store["uri"], model=f"runs:/{booster_store['ids'][flavor]}/model",
                             trusted=True, explain_data=str(booster_store["data"]), cache_dir=str(tmp_path))
    with pytest.raises(MissingDependency) as info:
        load_model(config)
    assert "needs the package 'xgboost', which is not installed" in info.value.message
    assert info.value.hint.startswith("install it with: pip install xgboost")
    page = ExplainPage(config=config)  # the page shows the same message as an alert
    assert "needs the package &#x27;xgboost&#x27;" in page._layout[0].object  # escaped as text
