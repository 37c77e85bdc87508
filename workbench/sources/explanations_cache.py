"""On-disk cache of computed explanations, keyed by model and data hashes, written atomically.

``<cache_dir>/explain/<key>/`` holds ``values.parquet``, ``predictions.parquet`` and ``meta.json``
(Parquet and JSON only: reading the cache never unpickles). A folder appears complete or not at all
(written to a temporary sibling, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from workbench.sources.explanations import Explanation

FORMAT = 1


def cache_key(spec_token: str, data_hash: str) -> str:
    """The cache key of a model/explainer (its token) applied to some data (its hash)."""
    import shap

    return hashlib.sha256(f"{FORMAT}|{shap.__version__}|{spec_token}|{data_hash}".encode()).hexdigest()[:40]


def _folder(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / "explain" / key


def read_cached(cache_dir: str | Path | None, key: str, X: pd.DataFrame,
                y: pd.Series | None = None) -> Explanation | None:
    """The cached explanation of ``X`` under ``key`` (None when absent or unreadable)."""
    if not cache_dir:
        return None
    folder = _folder(cache_dir, key)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        values = pd.read_parquet(folder / "values.parquet")
        predictions = pd.read_parquet(folder / "predictions.parquet")["prediction"]
    except (OSError, ValueError, KeyError):
        return None
    if len(values) != len(X) or list(values.columns) != [str(c) for c in X.columns]:
        return None
    values.index = predictions.index = X.index
    return Explanation(values=values, features=X, base_value=float(meta["base_value"]),
                       model_type=meta.get("model_type", ""), target=meta.get("target", ""),
                       positive_class=meta.get("positive_class"), output_space=meta.get("output_space", "raw"),
                       source="computed live (from the cache)", y=y, predictions=predictions)


def write_cached(cache_dir: str | Path | None, key: str, explanation: Explanation) -> Path | None:
    """Store ``explanation`` under ``key`` atomically; returns the folder (None when caching is off)."""
    if not cache_dir:
        return None
    folder = _folder(cache_dir, key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        explanation.values.reset_index(drop=True).to_parquet(temporary / "values.parquet")
        predictions = explanation.predictions if explanation.predictions is not None else explanation.output
        pd.DataFrame({"prediction": predictions.to_numpy()}).to_parquet(temporary / "predictions.parquet")
        meta = {"base_value": explanation.base_value, "model_type": explanation.model_type,
                "target": explanation.target, "positive_class": explanation.positive_class,
                "output_space": explanation.output_space, "format": FORMAT}
        (temporary / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        try:
            os.replace(temporary, folder)
        except OSError:  # another process wrote the same key first: theirs is as good as ours
            shutil.rmtree(temporary, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return folder
