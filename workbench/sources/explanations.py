"""SHAP explanations as tidy frames, and reading the ones a run stored (safe in stakeholder mode).

A stored explanation is three artifacts of an MLflow run (no pickles, nothing executed):
``explain/shap_values.parquet`` (one column per feature), ``explain/features.parquet`` (same shape:
the feature values) and ``explain/meta.json`` (base_value, target, positive_class, model_type,
feature_names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import NotFound, SourceUnavailable
from workbench.sources.explanations_runs import RunRef, locate_run_artifact, parse_model_uri

EXPLAIN_DIR = "explain"
STORED_FILES = ("shap_values.parquet", "features.parquet", "meta.json")
LIVE_HINT = ("explain the model live in trusted mode: `workbench serve --trusted` on your own stores, "
             "or `wb.explain(model, X, y)` in a notebook")


@dataclass(frozen=True, eq=False)  # compared by identity: frames have no single truth value
class Explanation:
    """SHAP values of some rows, the feature values they explain, and what they are in.

    ``values`` and ``features`` share index and columns; ``base_value + values.sum(axis=1)`` is the
    model output in ``output_space`` ("probability", "log-odds" or "raw").
    """

    values: pd.DataFrame
    features: pd.DataFrame
    base_value: float
    model_type: str = ""
    target: str = ""
    positive_class: str | None = None
    output_space: str = "raw"
    source: str = ""
    n_total: int | None = None  # rows the full explanation will have (None: this is all)
    y: pd.Series | None = None
    predictions: pd.Series | None = None
    importance: pd.Series | None = None  # mean |SHAP| over more rows than ``values`` (all rows of a Dask frame)
    rows_total: int | None = None  # how many rows ``importance`` covers

    def __post_init__(self) -> None:
        if list(self.values.columns) != list(self.features.columns) or len(self.values) != len(self.features):
            raise ValueError("SHAP values and feature values must have the same rows and columns")

    @property
    def feature_names(self) -> list[str]:
        return [str(name) for name in self.values.columns]

    @property
    def complete(self) -> bool:
        return self.n_total is None or len(self.values) >= self.n_total

    @property
    def output(self) -> pd.Series:
        """The model output each row's SHAP values add up to."""
        return self.values.sum(axis=1) + self.base_value


def read_stored_explanation(tracking_uri: str | None, model_uri: str, timeout: float = 10.0) -> Explanation:
    """The explanation stored with the run behind ``model_uri`` (``runs:/`` or ``models:/``)."""
    ref = parse_model_uri(model_uri)
    files = {name: _artifact(tracking_uri, ref, name, timeout) for name in STORED_FILES}
    return explanation_from_files(files, source=f"stored with run {ref.run_id or ref.describe()}")


def _artifact(tracking_uri: str | None, ref: RunRef, name: str, timeout: float) -> Path:
    try:
        return locate_run_artifact(tracking_uri, ref, f"{EXPLAIN_DIR}/{name}", timeout=timeout)
    except NotFound as error:
        if "artifact" not in error.message:
            raise
        raise NotFound(f"The run behind '{ref.describe()}' has no stored explanation ({EXPLAIN_DIR}/{name} is missing).",
                       LIVE_HINT) from None


def explanation_from_files(files: dict[str, Path], source: str = "") -> Explanation:
    """Parse the three stored artifacts (parquet + JSON only: nothing is unpickled)."""
    try:
        meta = json.loads(Path(files["meta.json"]).read_text(encoding="utf-8"))
        values = pd.read_parquet(files["shap_values.parquet"])
        features = pd.read_parquet(files["features.parquet"])
    except (OSError, ValueError) as exc:
        raise SourceUnavailable(f"The stored explanation cannot be read: {exc}.",
                                f"re-log the explain/ artifacts, or {LIVE_HINT}") from exc
    names = [str(name) for name in meta.get("feature_names") or values.columns]
    missing = [name for name in names if name not in values.columns or name not in features.columns]
    if missing or len(values) != len(features) or "base_value" not in meta:
        raise SourceUnavailable("The stored explanation is inconsistent (columns, rows or base_value differ "
                                "from meta.json).", f"re-log the explain/ artifacts, or {LIVE_HINT}")
    values = values[names].astype(float).reset_index(drop=True)
    features = features[names].reset_index(drop=True)
    return Explanation(
        values=values, features=features, base_value=float(np.asarray(meta["base_value"]).ravel()[0]),
        model_type=str(meta.get("model_type", "")), target=str(meta.get("target", "")),
        positive_class=None if meta.get("positive_class") is None else str(meta["positive_class"]),
        output_space=str(meta.get("output_space") or guess_output_space(meta)), source=source,
    )


MARGIN_CLASSIFIERS = ("GradientBoostingClassifier", "HistGradientBoostingClassifier", "XGBClassifier",
                      "LGBMClassifier", "LogisticRegression")
PROBABILITY_CLASSIFIERS = ("RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier")


def guess_output_space(meta: dict) -> str:
    """What SHAP values of a model type add up to, for metadata that does not say."""
    model_type = str(meta.get("model_type", ""))
    if model_type in MARGIN_CLASSIFIERS:
        return "log-odds"
    if model_type in PROBABILITY_CLASSIFIERS:
        return "probability"
    return "raw"
