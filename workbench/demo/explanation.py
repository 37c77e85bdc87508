"""A ready SHAP explanation stored with the best model's run, readable without unpickling anything.

``explain/shap_values.parquet`` (one column per feature, positive-class SHAP values),
``explain/features.parquet`` (the same rows' feature values) and ``explain/meta.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.demo.data import TARGET

EXPLAIN_DIR = "explain"
CLASS_LABELS = {"0": "benign", "1": "malignant"}


def shap_frame(model: Any, X: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Positive-class SHAP values of a fitted tree model on ``X`` and the explainer's base value."""
    import shap

    explainer = shap.TreeExplainer(model)
    values = explainer.shap_values(X)
    base = np.asarray(explainer.expected_value, dtype=float).ravel()
    if isinstance(values, list):  # older shap: one array per class
        values, base = values[-1], base[-1:]
    values = np.asarray(values, dtype=float)
    if values.ndim == 3:  # (rows, features, classes)
        values, base = values[:, :, -1], base[-1:]
    return pd.DataFrame(values, columns=list(X.columns), index=range(len(X))), float(base[-1])


def write_explanation(folder: Path, model: Any, X: pd.DataFrame, data_version: str) -> dict[str, Any]:
    """Write the three explanation files into ``folder/explain``; returns the meta dictionary."""
    values, base_value = shap_frame(model, X)
    target = folder / EXPLAIN_DIR
    target.mkdir(parents=True, exist_ok=True)
    values.to_parquet(target / "shap_values.parquet", index=False)
    X.reset_index(drop=True).to_parquet(target / "features.parquet", index=False)
    meta = {
        "base_value": base_value,
        "target": TARGET,
        "positive_class": "1",
        "class_labels": CLASS_LABELS,
        "model_type": type(model).__name__,
        "model_output": "log-odds",
        "feature_names": list(X.columns),
        "n_rows": len(X),
        "rows": "held-out test split",
        "data_version": data_version,
        "explainer": "shap.TreeExplainer",
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta
