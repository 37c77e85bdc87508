"""Computing SHAP values live (trusted mode / notebook): the explainer choice, cost estimate and chunks.

Tree models use ``shap.TreeExplainer``; linear models ``shap.LinearExplainer``; anything else the
model-agnostic permutation explainer on a sampled background. Rows are explained in chunks over
all cores (joblib/loky): scikit-learn trees as flat arrays in light workers (``explanations_fast``:
shap's C extension + numpy, no shap/scikit-learn/pandas import), other models by workers that build
their explainer once per model.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd

from workbench.errors import ConfigError, WorkbenchError
from workbench.sources.explanations import Explanation
from workbench.sources.explanations_fast import TreeArrays, tree_arrays, tree_shap, warm
from workbench.sources.worker_limits import bounded_call

BACKGROUND_ROWS = 100
PERMUTATION_EVALS = 500
TREE_OUTPUT_SPACE = {"probability": "probability", "log_odds": "log-odds", "raw_value": "raw"}


@dataclass(frozen=True)
class ExplainerSpec:
    """Everything a worker needs to explain rows of one model (picklable)."""

    model: object
    kind: str  # "tree", "linear" or "permutation"
    feature_names: tuple[str, ...]
    class_index: int | None
    positive_class: str | None
    output_space: str
    model_type: str
    background: pd.DataFrame | None
    token: str  # identifies model + settings, for worker-side explainer reuse
    picklable: bool = True  # False: explained in this process only, never cached
    # XGBoost/LightGBM: shap calls the library's own TreeSHAP (pred_contribs), already multi-threaded
    # (OpenMP) — worker processes would only oversubscribe the cores
    native_threads: bool = False
    # scikit-learn trees as shap's C extension reads them: explained in light worker processes
    arrays: TreeArrays | None = field(default=None, repr=False, compare=False)

    @property
    def max_evals(self) -> int:
        return max(PERMUTATION_EVALS, 2 * len(self.feature_names) + 1)


@dataclass(frozen=True)
class CostEstimate:
    """What explaining ``rows`` rows will take (measured on a probe, then scaled)."""

    rows: int
    seconds: float
    memory_bytes: int

    def describe(self) -> str:
        return f"≈{self.seconds:,.1f} s and {self.memory_bytes / 2**20:,.0f} MB for {self.rows:,} rows"

    def rows_within(self, seconds: float) -> int:
        """How many rows fit in a time budget."""
        per_row = self.seconds / max(self.rows, 1)
        return max(1, int(seconds / per_row)) if per_row > 0 else self.rows


# -- inputs ---------------------------------------------------------------------------------------
def validate_inputs(model, X) -> pd.DataFrame:
    """X as a numeric frame whose columns match what ``model`` was fitted on (ConfigError otherwise)."""
    if not hasattr(model, "predict"):
        raise ConfigError(f"The object given as model ({type(model).__name__}) has no predict method.",
                          "pass a fitted estimator (e.g. a scikit-learn model)")
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(np.asarray(X))
        X.columns = [str(c) for c in X.columns]
    if X.empty:
        raise ConfigError("There are no rows to explain (X is empty).", "pass a frame with at least one row")
    expected = getattr(model, "feature_names_in_", None)
    if expected is not None:
        expected = [str(name) for name in expected]
        columns = [str(name) for name in X.columns]
        if columns != expected:
            lookup = {name: position for position, name in enumerate(columns)}
            for position, name in enumerate(columns):  # LightGBM stores "mean radius" as "mean_radius"
                lookup.setdefault(re.sub(r"\s", "_", name), position)
            missing = [name for name in expected if name not in lookup]
            used = {lookup[name] for name in expected if name in lookup}
            extra = [name for position, name in enumerate(columns) if position not in used]
            if missing or extra:
                raise ConfigError(
                    "The columns of X do not match the model's features"
                    f" (missing: {', '.join(missing[:8]) or 'none'}; unexpected: {', '.join(extra[:8]) or 'none'}).",
                    "pass X with exactly the columns the model was trained on")
            X = X.iloc[:, [lookup[name] for name in expected]]
    elif getattr(model, "n_features_in_", X.shape[1]) != X.shape[1]:
        raise ConfigError(f"X has {X.shape[1]} columns but the model was fitted on {model.n_features_in_}.",
                          "pass X with the columns the model was trained on")
    non_numeric = [str(name) for name in X.columns if not pd.api.types.is_numeric_dtype(X[name])
                   and not pd.api.types.is_bool_dtype(X[name])]
    if non_numeric:
        raise ConfigError(f"X has non-numeric columns: {', '.join(non_numeric[:8])}.",
                          "encode them as numbers the way the model was trained (or pass a Pipeline that does)")
    _check_missing(model, X)
    return X


def _check_missing(model, X: pd.DataFrame) -> None:
    """NaNs are fine for models that accept them (e.g. HistGradientBoosting); others get one message."""
    holes = X.isna().any(axis=1)
    if not holes.any():
        return
    columns = [str(c) for c in X.columns[X.isna().any()]]
    try:
        predicted = np.asarray(model.predict(X[holes].head(5)), dtype=float)
    except Exception:  # noqa: BLE001 - any failure here is "this model cannot take NaN"
        predicted = np.array([np.nan])
    if np.isnan(predicted).any():
        raise ConfigError(f"X has missing values (in {', '.join(columns[:5])}) and the model cannot predict on them.",
                          "fill them the way the model was trained, or use a model that accepts NaN "
                          "(e.g. HistGradientBoosting)")


def model_type(model) -> str:
    return type(model).__name__


def make_spec(model, X: pd.DataFrame, background_rows: int = BACKGROUND_ROWS, seed: int = 0) -> ExplainerSpec:
    """Choose the explainer for ``model`` (X already validated)."""
    import shap

    classes = list(getattr(model, "classes_", []))
    class_index = len(classes) - 1 if classes else None
    positive = str(classes[class_index]) if classes else None
    background = X.sample(min(background_rows, len(X)), random_state=seed) if len(X) else X
    kind, space, explainer, native = "permutation", "probability" if classes else "raw", None, False
    if hasattr(model, "coef_") and hasattr(model, "intercept_") and (not classes or len(classes) == 2):
        kind, space = "linear", "log-odds" if classes else "raw"
    elif not _is_pipeline(model):
        try:
            explainer = shap.TreeExplainer(model)
            kind, space = "tree", TREE_OUTPUT_SPACE.get(getattr(explainer.model, "tree_output", ""), "raw")
            native = getattr(explainer.model, "model_type", "") in ("xgboost", "lightgbm")
            background = None
        except Exception:  # noqa: BLE001, S110 - shap raises many types for "not a tree model"
            pass
    try:
        model_hash, picklable = joblib.hash(model), True
    except Exception:  # noqa: BLE001 - an unpicklable model: no disk cache, no worker processes
        model_hash, picklable = f"unpicklable-{type(model).__qualname__}-{id(model)}", False
    token = hashlib.sha256(f"{model_hash}|{kind}|{class_index}|{_frame_hash(background)}".encode()).hexdigest()
    if explainer is not None:  # built once already: reuse it in this process
        _remember(token, explainer)
    return ExplainerSpec(model=model, kind=kind, feature_names=tuple(str(c) for c in X.columns),
                         class_index=class_index, positive_class=positive, output_space=space,
                         model_type=model_type(model), background=background, token=token, picklable=picklable,
                         native_threads=native, arrays=None if explainer is None else tree_arrays(explainer))


def _is_pipeline(model) -> bool:
    return hasattr(model, "steps") or hasattr(model, "transformers")


def _frame_hash(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "-"
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    return digest.hexdigest()


def data_hash(X: pd.DataFrame) -> str:
    """A content hash of a frame (values, index, column names and dtypes)."""
    return _frame_hash(X)


# -- explaining -----------------------------------------------------------------------------------
_EXPLAINERS: dict[str, object] = {}  # per process (worker): token -> explainer, a few at most


def _remember(token: str, explainer) -> None:
    if len(_EXPLAINERS) >= 4:
        _EXPLAINERS.clear()
    _EXPLAINERS[token] = explainer


def _explainer(spec: ExplainerSpec):
    import shap

    if spec.token not in _EXPLAINERS:
        if spec.kind == "tree":
            explainer = shap.TreeExplainer(spec.model)
        elif spec.kind == "linear":
            explainer = shap.LinearExplainer(spec.model, spec.background)
        else:
            masker = shap.maskers.Independent(spec.background, max_samples=len(spec.background))
            explainer = shap.PermutationExplainer(_output_function(spec), masker, seed=0)
        _remember(spec.token, explainer)
    return _EXPLAINERS[spec.token]


def _output_function(spec: ExplainerSpec):
    model, index, names = spec.model, spec.class_index, list(spec.feature_names)

    def output(data):
        frame = pd.DataFrame(np.asarray(data), columns=names)
        if index is None:
            return np.asarray(model.predict(frame), dtype=float)
        return np.asarray(model.predict_proba(frame), dtype=float)[:, index]

    return output


def explain_chunk(spec: ExplainerSpec, X: pd.DataFrame, check: bool = True) -> tuple[np.ndarray, float]:
    """(SHAP values n × features, base value) of ``X``'s rows for the spec's output.

    ``check=False`` skips shap's additivity check (a model prediction per call) — for the chunks after
    a first sample whose check passed.
    """
    explainer = _explainer(spec)
    if spec.kind == "permutation":
        result = explainer(X, max_evals=spec.max_evals, silent=True)
        return np.asarray(result.values, dtype=float), float(np.asarray(result.base_values).ravel()[0])
    return _for_class(spec, explainer.shap_values(X, check_additivity=check) if spec.kind == "tree"
                      else explainer.shap_values(X), explainer.expected_value)


def _for_class(spec: ExplainerSpec, values, expected) -> tuple[np.ndarray, float]:
    """shap's output (rows × features, or rows × features × classes) and base value for the spec's class."""
    values, base = np.asarray(values, dtype=float), np.asarray(expected, dtype=float).ravel()
    if values.ndim == 3:  # (rows, features, classes)
        return values[:, :, spec.class_index], float(base[spec.class_index])
    return values, float(base[0])


def predictions(spec: ExplainerSpec, X: pd.DataFrame) -> pd.Series:
    """The model's prediction per row: positive-class probability, or the regression value."""
    return pd.Series(_output_function(spec)(X.to_numpy()), index=X.index, name="prediction")


def to_explanation(spec: ExplainerSpec, X: pd.DataFrame, values: np.ndarray, base: float,
                   y: pd.Series | None = None, n_total: int | None = None, source: str = "computed live",
                   target: str = "") -> Explanation:
    return Explanation(
        values=pd.DataFrame(values, index=X.index, columns=list(spec.feature_names)), features=X,
        base_value=base, model_type=spec.model_type, target=target or (str(y.name) if y is not None and y.name else ""),
        positive_class=spec.positive_class, output_space=spec.output_space, source=source, n_total=n_total,
        y=None if y is None else y.loc[X.index], predictions=predictions(spec, X),
    )


def estimate_cost(spec: ExplainerSpec, X: pd.DataFrame, probe_rows: int = 20) -> CostEstimate:
    """Time and memory for explaining all of ``X``, scaled from a timed probe on a few rows.

    Tree and linear explainers run in the calling thread, so their probe is timed in that thread's CPU
    time: the estimate is what the work costs, not how busy the machine happens to be (on 2 shared cores
    a wall-clock probe swung 3× with the load and flipped the choice of worker processes).
    """
    probe = X.iloc[:probe_rows]
    if spec.kind == "permutation":  # one row costs max_evals model calls over the background
        started = time.perf_counter()
        _output_function(spec)(spec.background.to_numpy())
        per_row = (time.perf_counter() - started) * spec.max_evals
        batch = spec.max_evals * len(spec.background) * len(spec.feature_names) * 8
    else:
        explain_chunk(spec, probe.iloc[:1], check=False)  # build the explainer outside the timing
        clock = time.process_time if spec.native_threads else time.thread_time  # the library's threads count too
        started = clock()
        explain_chunk(spec, probe, check=False)
        per_row = max(clock() - started, 1e-6) / len(probe)
        batch = 0
    memory = len(X) * len(spec.feature_names) * 8 * 3 + batch
    return CostEstimate(rows=len(X), seconds=per_row * len(X) / max(1, n_workers()), memory_bytes=memory)


def prewarm(n_jobs: int | None = None, spec: ExplainerSpec | None = None) -> None:
    """Start the worker processes, e.g. while a sample is explained: light ones load shap's C extension
    (a tenth of a second) for ``spec``'s trees; otherwise they import shap (seconds)."""
    n_jobs = n_jobs or n_workers()
    task = joblib.delayed(warm)(spec.arrays.cext_path) if spec is not None and spec.arrays is not None else \
        joblib.delayed(_import_shap)()
    joblib.Parallel(n_jobs=n_jobs, backend="loky")(task for _ in range(n_jobs))


def _import_shap() -> bool:
    import shap  # noqa: F401

    return True


def n_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def explain_in_chunks(spec: ExplainerSpec, X: pd.DataFrame, chunk_rows: int | None = None,
                      n_jobs: int | None = None, check: bool = True,
                      worker_memory: int | None = None) -> Iterator[tuple[pd.Index, np.ndarray, float]]:
    """Yield (row index, SHAP values, base value) per chunk as the workers finish them; a worker
    process may grow by ``worker_memory`` bytes per chunk (``worker_limits.bounded_call``)."""
    n_jobs = n_jobs or n_workers()
    if chunk_rows is None:  # in-process: small chunks, so the UI thread gets the GIL back often
        chunk_rows = 100 if n_jobs == 1 else max(100, int(np.ceil(len(X) / (n_jobs * 3))))
    chunks = [X.iloc[start:start + chunk_rows] for start in range(0, len(X), chunk_rows)]
    if n_jobs == 1 or len(chunks) == 1:
        for chunk in chunks:
            yield (chunk.index, *explain_chunk(spec, chunk, check))
        return
    if spec.arrays is not None:
        yield from _explain_light(spec, chunks, n_jobs, check, worker_memory)
        return
    results = joblib.Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        joblib.delayed(bounded_call)(explain_chunk, worker_memory, os.getpid(), spec, chunk, check) for chunk in chunks)
    for chunk, (values, base) in zip(chunks, results, strict=True):
        yield chunk.index, values, base


def _explain_light(spec: ExplainerSpec, chunks: list[pd.DataFrame], n_jobs: int,
                   check: bool, worker_memory: int | None = None) -> Iterator[tuple[pd.Index, np.ndarray, float]]:
    """Chunks of a scikit-learn tree model in light workers; the base value and shap's additivity check
    come from the explainer in this process, as ``explain_chunk`` gives them."""
    explainer = _explainer(spec)
    rows = [chunk.to_numpy().astype(spec.arrays.input_dtype, copy=False) for chunk in chunks]  # as shap converts X
    results = joblib.Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        joblib.delayed(bounded_call)(tree_shap, worker_memory, os.getpid(), spec.arrays, block) for block in rows)
    for chunk, block, values in zip(chunks, rows, results, strict=True):
        if check and explainer.model.model_output == "raw":
            outputs = values if values.ndim == 2 else [values[:, :, i] for i in range(values.shape[2])]
            explainer.assert_additivity(outputs, explainer.model.predict(block))
        yield (chunk.index, *_for_class(spec, values, explainer.expected_value))


def explain_on_dask(spec: ExplainerSpec, X: pd.DataFrame, address: str, chunk_rows: int | None = None,
                    timeout: float = 5.0, check: bool = True,
                    time_limit: float | None = None) -> Iterator[tuple[pd.Index, np.ndarray, float]]:
    """Like ``explain_in_chunks`` but on the Dask cluster at ``address`` ("local": a LocalCluster on
    this machine); chunks arrive as they finish. Past ``time_limit`` seconds without every chunk (a
    busy cluster, or one without workers) it stops; its tasks are released with the client."""
    from workbench.sources.explanations_dask import dask_client, identity

    with dask_client(address, timeout=timeout) as client:
        from distributed import as_completed

        workers = max(1, len(client.scheduler_info().get("workers", {})))
        chunk_rows = chunk_rows or max(100, int(np.ceil(len(X) / (workers * 3))))
        chunks = {start: X.iloc[start:start + chunk_rows] for start in range(0, len(X), chunk_rows)}
        shared = client.submit(identity, spec, pure=False)  # the model travels once, not per chunk
        futures = {client.submit(explain_chunk, shared, chunk, check, pure=False): start for start, chunk in chunks.items()}
        try:
            for future in as_completed(list(futures), timeout=time_limit):
                values, base = future.result()
                yield chunks[futures[future]].index, values, base
        except TimeoutError as exc:
            raise WorkbenchError(f"Explaining on the cluster stopped after {time_limit:,.0f} s, the limit for one "
                                 "explanation.", "explain a sample (fewer rows), or raise budget_seconds") from exc
