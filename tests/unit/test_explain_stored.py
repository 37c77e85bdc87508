"""Stored explanations read from a real SQLite MLflow store, read-only, never unpickling."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
from helpers import snapshot
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

from workbench.analysis.explain.importance import mean_abs_importance
from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources.explanations import read_stored_explanation
from workbench.sources.explanations_runs import parse_model_uri


class Bomb:
    """Unpickling this writes ``path``: proof that something loaded the model."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (self.path, "unpickled!"))


def make_store(root: Path) -> dict:
    """A SQLite MLflow store: run 'explained' (stored explanation + a model whose pickle is a bomb),
    run 'bare' (a real model only), run 'no-model' (no artifacts). Returns ids, paths, the fitted model and data."""
    import mlflow
    import mlflow.sklearn
    from mlflow.tracking import MlflowClient

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[:, :8], y
    model = RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0).fit(X, y)
    rows = X.iloc[:60]
    explainer = shap.TreeExplainer(model)
    values = np.asarray(explainer.shap_values(rows))[:, :, 1]
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("explain-tests", artifact_location=str(root / "mlartifacts"))
    mlflow.set_tracking_uri(uri)
    ids = {}
    try:
        for name in ("explained", "bare"):
            with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
                mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle",
                                         pip_requirements=["scikit-learn"])
                ids[name] = run.info.run_id
                if name == "explained":
                    staging = root / "staging"
                    staging.mkdir()
                    pd.DataFrame(values, columns=rows.columns).to_parquet(staging / "shap_values.parquet")
                    rows.reset_index(drop=True).to_parquet(staging / "features.parquet")
                    meta = {"base_value": float(explainer.expected_value[1]), "target": "<b>malignant</b>",
                            "positive_class": "1", "model_type": "RandomForestClassifier",
                            "feature_names": list(rows.columns)}
                    (staging / "meta.json").write_text(json.dumps(meta))
                    mlflow.log_artifacts(str(staging), artifact_path="explain")
        with mlflow.start_run(experiment_id=experiment, run_name="no-model") as run:
            mlflow.log_param("note", "no artifacts at all")
            ids["no-model"] = run.info.run_id
    finally:
        mlflow.set_tracking_uri(None)
    marker = root / "UNPICKLED"
    for mlmodel in (root / "mlartifacts").rglob("MLmodel"):  # plant the bomb in the explained run's model
        if ids["explained"] in mlmodel.read_text():
            (mlmodel.parent / "model.pkl").write_bytes(pickle.dumps(Bomb(marker)))
    return {"uri": uri, "ids": ids, "db": root / "mlflow.db", "marker": marker, "model": model,
            "X": X, "y": y, "rows": rows, "values": values, "root": root}


_SHARED: dict[str, dict] = {}


def shared_store(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One store per test session for every Explain test that only reads it (building costs seconds)."""
    if "store" not in _SHARED:
        _SHARED["store"] = make_store(tmp_path_factory.mktemp("explain-store"))
    return _SHARED["store"]


@pytest.fixture
def store(tmp_path_factory) -> dict:
    return shared_store(tmp_path_factory)


def test_stored_explanation_matches_what_was_logged_and_store_is_untouched(store):
    before = snapshot(store["root"])
    explanation = read_stored_explanation(store["uri"], f"runs:/{store['ids']['explained']}/model")
    assert explanation.feature_names == list(store["rows"].columns)
    np.testing.assert_allclose(explanation.values.to_numpy(), store["values"])
    expected = store["model"].predict_proba(store["rows"])[:, 1]
    np.testing.assert_allclose(explanation.output.to_numpy(), expected, atol=1e-9)  # additivity
    assert explanation.target == "<b>malignant</b>" and explanation.model_type == "RandomForestClassifier"
    assert not store["marker"].exists()
    assert snapshot(store["root"]) == before


def test_importance_is_mean_absolute_shap_sorted(store):
    explanation = read_stored_explanation(store["uri"], f"runs:/{store['ids']['explained']}/model")
    frame = mean_abs_importance(explanation.values)
    expected = np.abs(store["values"]).mean(axis=0)
    np.testing.assert_allclose(frame["importance"], np.sort(expected)[::-1])
    top = frame.iloc[0]
    assert top["importance"] == pytest.approx(expected[list(store["rows"].columns).index(top["feature"])])
    assert frame["share"].sum() == pytest.approx(1.0)
    assert len(mean_abs_importance(explanation.values, top=3)) == 3


def test_run_without_stored_explanation_says_explain_live(store):
    with pytest.raises(NotFound) as info:
        read_stored_explanation(store["uri"], f"runs:/{store['ids']['bare']}/model")
    assert "no stored explanation" in info.value.message
    assert "--trusted" in info.value.hint


def test_unknown_run_and_bad_uris(store, tmp_path):
    with pytest.raises(NotFound, match="does not exist"):
        read_stored_explanation(store["uri"], "runs:/0123456789abcdef/model")
    for bad in ("s3://bucket/model", "runs:/", "model.pkl", ""):
        with pytest.raises(ConfigError):
            parse_model_uri(bad)
    with pytest.raises(SourceUnavailable):
        read_stored_explanation(f"sqlite:///{tmp_path / 'missing.db'}", f"runs:/{store['ids']['explained']}/model")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(ConfigError):
        read_stored_explanation(None, f"runs:/{store['ids']['explained']}/model")


def test_models_uri_parses():
    ref = parse_model_uri("models:/cancer/3")
    assert (ref.model_name, ref.model_version, ref.run_id) == ("cancer", "3", None)
    assert parse_model_uri("runs:/abc123/sub/model").artifact_path == "sub/model"
