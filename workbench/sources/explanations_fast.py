"""Tree SHAP in light worker processes: shap's C extension and numpy only.

``shap.TreeExplainer`` on a scikit-learn tree model converts the trees to flat arrays once, then runs
``shap._cext.dense_tree_shap`` (C++, holding the GIL, so threads do not help). A worker that imports
shap, scikit-learn and pandas to do the same spends ~2.5 s of CPU before its first row; this module's
workers receive the arrays (numpy, no model to unpickle) and load only the ``_cext`` extension file by
path (~0.1 s), so even a 3-second job gains from a second core.

``tree_arrays(explainer)`` takes the arrays from a built explainer (``None`` when the explainer is
outside what this path reproduces exactly: XGBoost/LightGBM/CatBoost's own TreeSHAP, a background
dataset, a loss output); ``tree_shap(arrays, X)`` returns what ``explainer.shap_values(X)`` returns.
This module imports nothing heavy at the top: worker processes import it to run ``tree_shap``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import threading
from dataclasses import dataclass

import numpy as np

# shap's codes (shap/explainers/_tree.py: feature_perturbation_codes, output_transform_codes)
TREE_PATH_DEPENDENT = 1
TRANSFORMS = {"identity": 0, "logistic": 1}


@dataclass(frozen=True, eq=False)
class TreeArrays:
    """A tree ensemble as shap's C extension reads it, plus how shap shapes the output."""

    children_left: np.ndarray
    children_right: np.ndarray
    children_default: np.ndarray
    features: np.ndarray
    thresholds: np.ndarray
    threshold_types: np.ndarray
    values: np.ndarray
    node_sample_weight: np.ndarray
    max_depth: int
    tree_limit: int
    base_offset: np.ndarray
    input_dtype: str
    transform: int
    doubled: bool  # shap's "probability_doubled": one output returned as two classes (-phi, phi)
    cext_path: str  # the shap._cext extension file the main process uses

    @property
    def num_outputs(self) -> int:
        return int(self.values.shape[2])


def tree_arrays(explainer) -> TreeArrays | None:
    """The arrays of a built ``shap.TreeExplainer`` when ``tree_shap`` reproduces its ``shap_values``."""
    model = explainer.model
    if (getattr(model, "model_type", None) != "internal" or getattr(explainer, "data", None) is not None
            or getattr(explainer, "feature_perturbation", None) != "tree_path_dependent"
            or model.model_output not in ("raw", "probability", "probability_doubled")):
        return None
    try:
        transform = TRANSFORMS[model.get_transform()]
        from shap import _cext
    except (KeyError, NotImplementedError, ValueError, ImportError):
        return None
    limit = -1 if model.tree_limit is None else model.tree_limit
    if limit < 0 or limit > model.values.shape[0]:
        limit = model.values.shape[0]
    return TreeArrays(
        children_left=model.children_left, children_right=model.children_right,
        children_default=model.children_default, features=model.features, thresholds=model.thresholds,
        threshold_types=model.threshold_types, values=model.values, node_sample_weight=model.node_sample_weight,
        max_depth=int(model.max_depth), tree_limit=int(limit), base_offset=np.asarray(model.base_offset),
        input_dtype=np.dtype(model.input_dtype).str, transform=transform,
        doubled=model.model_output == "probability_doubled", cext_path=str(_cext.__file__))


_CEXT: dict[str, object] = {}
_CEXT_LOCK = threading.Lock()


def _cext(path: str):
    """shap's C extension, loaded from its file without importing the shap package (its __init__ is heavy)."""
    with _CEXT_LOCK:
        if path not in _CEXT:
            loader = importlib.machinery.ExtensionFileLoader("shap._cext", path)
            spec = importlib.util.spec_from_file_location("shap._cext", path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            _CEXT[path] = module
        return _CEXT[path]


def tree_shap(arrays: TreeArrays, X: np.ndarray) -> np.ndarray:
    """SHAP values of ``X``'s rows as ``TreeExplainer.shap_values(X, check_additivity=False)`` returns them:
    (rows, features) for one output, (rows, features, outputs) for several."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-d array of rows, got shape {X.shape}")
    if X.dtype != np.dtype(arrays.input_dtype):
        X = X.astype(arrays.input_dtype)
    phi = np.zeros((X.shape[0], X.shape[1] + 1, arrays.num_outputs))
    _cext(arrays.cext_path).dense_tree_shap(
        arrays.children_left, arrays.children_right, arrays.children_default, arrays.features, arrays.thresholds,
        arrays.threshold_types, arrays.values, arrays.node_sample_weight, arrays.max_depth, X,
        np.isnan(X, dtype=bool), None, None, None, arrays.tree_limit, arrays.base_offset, phi,
        TREE_PATH_DEPENDENT, arrays.transform, False)
    out = phi[:, :-1, :]
    if arrays.num_outputs == 1:
        out = out[:, :, 0]
        return np.stack([-out, out], axis=-1) if arrays.doubled else out
    return out


def warm(cext_path: str) -> bool:
    """Run in a worker ahead of its first chunk: imports this module and numpy, loads the C extension."""
    return _cext(cext_path) is not None
