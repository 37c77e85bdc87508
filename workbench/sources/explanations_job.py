"""Progressive explanation: a sample first (returned at once), the rest in chunks in the background.

``LiveExplanation.start()`` returns the first partial ``Explanation`` (or the cached full one) and,
when rows remain, explains them on a background thread over all cores, calling ``on_update`` with a
growing explanation and finally the complete one (then written to the cache).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.sources.explanations import Explanation
from workbench.sources.explanations_bounds import worker_failure, worker_memory_bytes
from workbench.sources.explanations_cache import cache_key, read_cached, write_cached
from workbench.sources.explanations_live import (
    CostEstimate,
    data_hash,
    estimate_cost,
    explain_chunk,
    explain_in_chunks,
    explain_on_dask,
    make_spec,
    n_workers,
    predictions,
    prewarm,
    to_explanation,
    validate_inputs,
)

log = logging.getLogger(__name__)
# CPU seconds of estimated work per worker before worker processes pay for their start-up: each worker
# spends 2.2-2.9 s of CPU importing shap + scikit-learn + pandas (measured on the 2-core machine)
PARALLEL_ABOVE = 4.0
# the same for scikit-learn trees, explained by light workers (shap's C extension + numpy: ~0.2 s of CPU each)
LIGHT_PARALLEL_ABOVE = 0.5
MEMORY_BUDGET = 2 * 2**30  # bytes one explanation may hold; beyond it a sample is explained
UPDATE_EVERY = 1.0  # seconds between partial updates sent to the page
Update = Callable[[Explanation | None, WorkbenchError | Exception | None], None]


class LiveExplanation:
    """One model + data being explained; thread-safe to read ``latest``."""

    def __init__(self, model, X: pd.DataFrame, y: pd.Series | None = None, cache_dir: str | None = None,
                 first_rows: int = 200, budget_seconds: float = 120.0, on_update: Update | None = None,
                 n_jobs: int | None = None, target: str = "", dask_scheduler: str | None = None,
                 worker_memory: int | None = None) -> None:
        self.worker_memory = worker_memory or worker_memory_bytes(None)  # what one chunk may add to a worker
        self.X = validate_inputs(model, X)
        if not self.X.index.is_unique:  # rows are tracked by index label
            self.X = self.X.reset_index(drop=True)
        if y is not None:
            if len(y) != len(self.X):
                raise WorkbenchError(f"y has {len(y)} values but X has {len(self.X)} rows.",
                                     "pass y with one value per row of X")
            name = y.name if isinstance(y, pd.Series) else None
            y = pd.Series(np.asarray(y), index=self.X.index, name=name)  # row i of y belongs to row i of X
        self.y, self.cache_dir, self.first_rows, self.budget_seconds = y, cache_dir, first_rows, budget_seconds
        self.on_update, self.n_jobs, self.target = on_update, n_jobs, target
        self.dask_scheduler = dask_scheduler or None
        # a hard stop so one request cannot hold the workers forever (estimates can be wrong)
        self.time_limit = max(3 * budget_seconds, 60.0) if budget_seconds != float("inf") else 24 * 3600.0
        self.spec = make_spec(model, self.X)
        if not self.spec.picklable:
            self.cache_dir = None
        self.estimate: CostEstimate | None = None
        self.rows = self.X  # what will be explained (a sample when over budget)
        self.latest: Explanation | None = None
        self.error: Exception | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._starting = threading.Lock()

    @property
    def sampled(self) -> bool:
        """Whether only a budget-sized sample of X is explained."""
        return len(self.rows) < len(self.X)

    def start(self, background: bool = True) -> Explanation:
        """The first explanation to show; starts the background work when rows remain (or leaves it
        to ``resume()`` when ``background`` is false, e.g. until the first screen is on display)."""
        cached = read_cached(self.cache_dir, cache_key(self.spec.token, data_hash(self.X)), self.X, self.y)
        if cached is not None:
            self.latest = cached
            return cached
        self.estimate = self._guarded(estimate_cost, self.spec, self.X)
        fits_memory = int(len(self.X) * MEMORY_BUDGET / max(self.estimate.memory_bytes, 1))
        if self.estimate.seconds > self.budget_seconds or fits_memory < len(self.X):
            keep = min(self.estimate.rows_within(self.budget_seconds), max(fits_memory, 1))
            self.rows = self.X.sample(min(keep, len(self.X)), random_state=0).sort_index()
            cached = read_cached(self.cache_dir, self._key(), self.rows, self._y(self.rows))
            if cached is not None:
                self.latest = cached
                return cached
        first = self.rows if len(self.rows) <= self.first_rows else \
            self.rows.sample(self.first_rows, random_state=0).sort_index()
        if len(first) < len(self.rows) and self._jobs_for(self.rows) != 1 and not self.dask_scheduler:
            # worker processes start while the sample is explained here
            threading.Thread(target=prewarm, kwargs={"spec": self.spec}, daemon=True,
                             name="workbench-explain-prewarm").start()
        values, base = self._guarded(explain_chunk, self.spec, first)
        shown = self.latest = to_explanation(self.spec, first, values, base, self._y(first), n_total=len(self.rows),
                                             target=self.target)
        if len(first) == len(self.rows):
            self._finish(shown)
            return self.latest
        self._thread = threading.Thread(target=self._complete, args=(self.rows.drop(index=first.index),),
                                        daemon=True, name="workbench-explain")
        if background:
            self.resume()
        return shown

    def _guarded(self, function, *args):
        """Run an explaining step; any model or shap failure becomes one WorkbenchError."""
        try:
            return function(*args)
        except WorkbenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - any model/shap failure becomes one clear message
            missing = [str(c) for c in self.X.columns[self.X.isna().any()]]
            hint = (f"X has missing values in {', '.join(missing[:5])}: fill them the way the model was trained, or "
                    "use a model that accepts NaN (e.g. HistGradientBoosting)") if missing else \
                "check the model can predict on X (model.predict(X)) and that shap supports it"
            raise WorkbenchError(f"SHAP could not explain the {self.spec.model_type} on these rows: "
                                 f"{type(exc).__name__}: {exc}", hint) from exc

    def resume(self) -> None:
        """Start the background work ``start(background=False)`` left pending (once)."""
        with self._starting:
            if self._thread is not None and self._thread.ident is None:
                self._thread.start()

    def _key(self) -> str:
        return cache_key(self.spec.token, data_hash(self.rows))

    def _y(self, rows: pd.DataFrame) -> pd.Series | None:
        return None if self.y is None else self.y.loc[rows.index]

    def _complete(self, rest: pd.DataFrame) -> None:
        try:
            first = self.latest
            every = None  # one prediction call for all rows, sliced per update
            indexes, blocks, last = [first.values.index], [first.values.to_numpy()], time.monotonic()
            deadline = time.monotonic() + self.time_limit
            for index, values, _ in self._chunks(rest):
                if self._cancel.is_set():
                    return
                if time.monotonic() > deadline:
                    raise WorkbenchError(
                        f"Explaining stopped after {self.time_limit:,.0f} s, the limit for one explanation "
                        f"({sum(len(i) for i in indexes):,} of {len(self.rows):,} rows done).",
                        "explain fewer rows (a sample), or raise budget_seconds")
                indexes.append(index)
                blocks.append(values)
                if every is None:  # made once the first chunk is back, while the workers explain the others
                    every = predictions(self.spec, self.rows)
                if time.monotonic() - last >= UPDATE_EVERY:
                    last = time.monotonic()
                    self.latest = self._partial(first, indexes, blocks, every)
                    self._notify(self.latest, None)
            self._finish(self._partial(first, indexes, blocks, every))
        except Exception as error:  # noqa: BLE001 - reported to the page, never lost in a thread
            log.exception("Explaining the remaining rows failed")
            done = 0 if self.latest is None else len(self.latest.values)  # a worker killed / out of memory:
            error = worker_failure(error, done, len(self.rows), self.worker_memory) or error  # one message
            self.error = error
            self._notify(None, error)

    def _chunks(self, rest: pd.DataFrame):
        if self.dask_scheduler and self.spec.picklable:
            return explain_on_dask(self.spec, rest, self.dask_scheduler, check=False, time_limit=self.time_limit)
        # the first sample passed shap's additivity check; the same explainer need not re-check every chunk
        return explain_in_chunks(self.spec, rest, n_jobs=self._jobs_for(rest), chunk_rows=self._chunk_rows(rest),
                                 check=False, worker_memory=self.worker_memory)

    def _partial(self, first: Explanation, indexes: list[pd.Index], blocks: list, every: pd.Series) -> Explanation:
        index = indexes[0].append(indexes[1:]) if len(indexes) > 1 else indexes[0]
        values = pd.DataFrame(np.vstack(blocks), index=index, columns=first.values.columns)
        return replace(first, values=values, features=self.rows.loc[index], y=self._y(self.rows.loc[index]),
                       predictions=every.loc[index])

    def _chunk_rows(self, rest: pd.DataFrame) -> int | None:
        """In-process chunks of about two seconds and at least 2,000 rows: each shap call has a fixed
        cost per tree, so fewer, larger calls finish sooner; progress still moves every few seconds."""
        if self._jobs_for(rest) != 1 or self.estimate is None:
            return None
        per_row = self.estimate.seconds * n_workers() / max(self.estimate.rows, 1)
        return int(min(max(2000, 2.0 / per_row if per_row > 0 else len(rest)), max(len(rest), 1)))

    def _jobs_for(self, rest: pd.DataFrame) -> int | None:
        """Worker processes pay off only for long jobs (starting them costs seconds)."""
        if not self.spec.picklable:
            return 1
        if self.n_jobs is not None:
            return self.n_jobs
        if self.spec.native_threads:  # XGBoost/LightGBM use every core from this process already
            return 1
        above = LIGHT_PARALLEL_ABOVE if self.spec.arrays is not None else PARALLEL_ABOVE
        if self.estimate is not None and self.estimate.seconds * len(rest) / max(self.estimate.rows, 1) < above:
            return 1
        return None

    def _finish(self, explanation: Explanation) -> None:
        order = self.rows.index
        explanation = Explanation(
            values=explanation.values.loc[order], features=self.rows, base_value=explanation.base_value,
            model_type=explanation.model_type, target=explanation.target, positive_class=explanation.positive_class,
            output_space=explanation.output_space, source=explanation.source, n_total=None, y=self._y(self.rows),
            predictions=None if explanation.predictions is None else explanation.predictions.loc[order],
        )
        try:
            write_cached(self.cache_dir, self._key(), explanation)
        except OSError as exc:  # a read-only cache dir must not break explaining
            log.warning("Could not write the explanation cache: %s", exc)
        self.latest = explanation
        self._notify(explanation, None)

    def _notify(self, explanation: Explanation | None, error: Exception | None) -> None:
        if self.on_update is not None:
            self.on_update(explanation, error)

    def wait(self, timeout: float | None = None) -> Explanation | None:
        """Block until the background work is done (or ``timeout``); the latest explanation."""
        if self._thread is not None:
            self.resume()
            self._thread.join(timeout)
        return self.latest

    def cancel(self) -> None:
        self._cancel.set()
