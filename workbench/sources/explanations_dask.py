"""Explaining on a Dask cluster: connecting (an address, or "local"), and data larger than memory.

``explain_partitions`` explains a Dask DataFrame partition by partition on the cluster. Only small
results come back to this process: per-feature sums of |SHAP| (global importance over every row),
the row count, and a sample of rows with their SHAP values for the views; with ``output_dir`` the
workers also write every row's SHAP values to Parquet (one file per partition, same index).

Bounds (``explanations_bounds``): ``PartitionedJob`` estimates the job before submitting it and
explains a sample when it is over the time budget or a worker's memory; the job stops at its time
limit or on ``cancel()`` with its tasks cancelled on the cluster; a worker that dies gives one message.
The "local" cluster's workers get a ``memory_limit`` and a task whose worker dies is not retried.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, MissingDependency, SourceUnavailable, WorkbenchError
from workbench.sources.explanations import Explanation
from workbench.sources.explanations_bounds import (
    WORKER_START_SECONDS,
    ExplainCancelled,
    PartitionEstimate,
    estimate_partitions,
    time_limit_for,
    worker_failure,
    worker_memory_bytes,
)

LOCAL = "local"
POLL_SECONDS = 0.2  # how often a running job looks at its time limit and at cancel()
_LOCAL_CLUSTER = None  # one LocalCluster per process for dask_scheduler = "local", started on first use
_LOCAL_LOCK = threading.RLock()


def is_dask_frame(data) -> bool:
    """Whether ``data`` is a Dask DataFrame (without importing dask when it is not loaded)."""
    return type(data).__module__.startswith("dask") and hasattr(data, "npartitions")


def local_workers() -> int:
    """Worker processes of the "local" cluster: one per core (up to 8)."""
    from workbench.sources.explanations_live import n_workers

    return n_workers()


def _local_address(memory_limit: int | None = None) -> str:
    """The scheduler of this process's LocalCluster (worker processes, one thread each: shap's tree
    explainer holds the GIL, so threads would not run in parallel). Each worker may use ``memory_limit``
    bytes (None: what the running cluster has, else 2 GB; its nanny restarts it beyond that), and a task
    whose worker died is not retried: on one machine that is nearly always memory, and would kill the
    next worker too."""
    global _LOCAL_CLUSTER
    with _LOCAL_LOCK:  # sessions starting at once share one cluster
        if _LOCAL_CLUSTER is not None and memory_limit is not None and \
                getattr(_LOCAL_CLUSTER, "workbench_memory_limit", None) != memory_limit:
            close_local_cluster()  # another limit was configured: start again with this one
        memory_limit = memory_limit or worker_memory_bytes(None)
        if _LOCAL_CLUSTER is None:
            import dask
            from distributed import LocalCluster

            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                _LOCAL_CLUSTER = LocalCluster(n_workers=local_workers(), threads_per_worker=1, processes=True,
                                              dashboard_address=None, memory_limit=memory_limit)
            _LOCAL_CLUSTER.workbench_memory_limit = memory_limit
        return _LOCAL_CLUSTER.scheduler_address


def close_local_cluster() -> None:
    """Stop the LocalCluster "local" started (if any)."""
    global _LOCAL_CLUSTER
    with _LOCAL_LOCK:
        if _LOCAL_CLUSTER is not None:
            cluster, _LOCAL_CLUSTER = _LOCAL_CLUSTER, None
            cluster.close()


@contextlib.contextmanager
def dask_client(address: str, timeout: float = 5.0, worker_memory: int | None = None) -> Iterator:
    """A ``distributed.Client`` of the cluster at ``address`` ("local": a LocalCluster on this machine
    whose workers may use ``worker_memory`` bytes each)."""
    try:
        from distributed import Client
    except ImportError:
        raise MissingDependency.for_package("distributed", "Explaining on a Dask cluster", extra="dask") from None
    try:
        client = Client(_local_address(worker_memory) if address == LOCAL else address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise SourceUnavailable(f"The Dask scheduler at '{address}' did not answer: {exc}.",
                                "start the cluster, or unset dask_scheduler to explain on this machine") from exc
    try:
        yield client
    finally:
        client.close()


def cluster_workers(address: str, timeout: float = 2.0, memory_limit: int | None = None) -> tuple[int | None, bool]:
    """(How many workers the cluster at ``address`` has, whether any of them has still to import shap).
    None workers: it did not answer within ``timeout`` (asked on a helper thread, so a cluster that is
    down delays the caller by ``timeout`` at most). "local" is not started for asking: when it is not
    running (or runs with another ``memory_limit``) its workers will all be new."""
    if address == LOCAL:
        running = _LOCAL_CLUSTER
        if running is None or (memory_limit is not None and running.workbench_memory_limit != memory_limit):
            return local_workers(), True
        address = running.scheduler_address
    found: list[tuple[int, bool]] = []

    def ask() -> None:
        with contextlib.suppress(Exception), dask_client(address, timeout=timeout) as client:
            warm = client.run(_has_shap)
            found.append((len(warm), not all(warm.values())))

    thread = threading.Thread(target=ask, daemon=True, name="workbench-dask-workers")
    thread.start()
    thread.join(timeout + 1.0)
    return found[0] if found else (None, False)


def _has_shap() -> bool:
    """On a worker: whether it has imported shap already (explained before)."""
    import sys

    return "shap" in sys.modules


@dataclass(frozen=True, eq=False)
class PartitionedExplanation:
    """The result of explaining a Dask DataFrame: importance over every row, a sample in memory."""

    sample: Explanation  # rows drawn from every partition, with their SHAP values
    importance: pd.Series  # mean |SHAP| per feature over all rows
    rows: int
    partitions: int
    spec: object  # the ExplainerSpec used (what-if explains edited rows with it)
    values_dir: Path | None = None  # every row's SHAP values (Parquet), when written

    def read_values(self) -> pd.DataFrame:
        """All SHAP values from ``values_dir`` (for data that fits in memory, e.g. tests)."""
        if self.values_dir is None:
            raise ConfigError("The SHAP values of every row were not written.", "pass output_dir to explain_partitions")
        return pd.read_parquet(self.values_dir)


def _explain_partition(part: pd.DataFrame, spec, sample_rows: int, seed: int, output: str | None,
                       number: int) -> dict:
    """On a worker: explain one partition; return the small summary (and write its values).

    Every row gets a random key; the partition keeps its ``sample_rows`` smallest, and the caller keeps
    the smallest over all partitions: a uniform sample in one pass, without knowing the row count first.
    """
    from workbench.sources.explanations_live import explain_chunk, validate_inputs

    if part.empty:
        return {"number": number, "abs_sum": np.zeros(len(spec.feature_names)), "rows": 0}
    part = validate_inputs(spec.model, part)  # each partition: the head check saw only the first rows
    values, base = explain_chunk(spec, part, check=False)
    frame = pd.DataFrame(values, index=part.index, columns=list(spec.feature_names))
    if output is not None:
        frame.to_parquet(Path(output) / f"part.{number:05d}.parquet")
    keys = np.random.default_rng([seed, number]).random(len(part))
    kept = np.sort(np.argsort(keys, kind="stable")[:sample_rows])
    return {"number": number, "abs_sum": np.abs(values).sum(axis=0), "rows": len(part), "base": base,
            "keys": keys[kept], "values": frame.iloc[kept], "features": part.iloc[kept]}


def identity(value):
    """A task returning its argument: data sent once and kept on the cluster, like ``scatter``, but
    computed again when the worker holding it dies, and waiting (not failing) while there is no worker."""
    return value


def _first_partition(data) -> pd.DataFrame:
    """The first non-empty partition (computes partitions until one has rows)."""
    head = None
    for number in range(data.npartitions):
        head = data.get_partition(number).compute()
        if len(head):
            break
    if head is None or head.empty:
        raise ConfigError("There are no rows to explain (the Dask DataFrame is empty).", "pass data with rows")
    return head


def _first_rows(data, rows: int = 200) -> pd.DataFrame:
    """The first rows of the first non-empty partition (computes that partition only)."""
    return _first_partition(data).head(rows)


def _trim(summaries: list[dict], sample_rows: int) -> list[dict]:
    """Keep, over all partition summaries, the ``sample_rows`` rows with the smallest keys (the
    per-feature sums and row counts stay whole)."""
    keys = np.concatenate([summary.get("keys", np.empty(0)) for summary in summaries] or [np.empty(0)])
    if len(keys) <= sample_rows:
        return summaries
    cut = np.sort(keys)[sample_rows - 1]
    trimmed = []
    for summary in summaries:
        if "keys" in summary:
            keep = summary["keys"] <= cut
            summary = {**summary, "keys": summary["keys"][keep], "values": summary["values"][keep],
                       "features": summary["features"][keep]}
        trimmed.append(summary)
    return trimmed


def explain_partitions(model, data, address: str, sample_rows: int = 5_000, output_dir: str | Path | None = None,
                       y: pd.Series | None = None, target: str = "", timeout: float = 5.0,
                       seed: int = 0, fraction: float = 1.0, time_limit: float | None = None,
                       cancel: threading.Event | None = None, worker_memory: int | None = None,
                       rows_expected: int | None = None) -> PartitionedExplanation:
    """Explain every row of the Dask DataFrame ``data`` on the cluster at ``address``, one partition
    per task and one pass over the data; this process holds only the summary and a uniform sample of
    ``sample_rows`` rows.

    ``fraction`` < 1 explains a random sample of that share of the rows (over budget). The job stops
    after ``time_limit`` seconds or when ``cancel`` is set, and then cancels its tasks on the cluster;
    ``worker_memory`` is the memory limit of a "local" cluster's workers.
    """
    from workbench.sources.explanations_live import make_spec, to_explanation, validate_inputs

    head = _first_rows(data)
    validated = validate_inputs(model, head)  # columns, dtypes and NaNs checked on the first rows
    if list(validated.columns) != list(head.columns):
        data = data[list(validated.columns)]  # the model's column order
    if fraction < 1.0:
        data = data.sample(frac=max(fraction, 1e-6), random_state=seed)
    spec = make_spec(model, validated, seed=seed)
    if not spec.picklable:
        raise ConfigError(f"The {spec.model_type} cannot be sent to Dask workers (it cannot be pickled).",
                          "explain a pandas DataFrame on this machine instead")
    output = None if output_dir is None else Path(output_dir)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    with dask_client(address, timeout=timeout, worker_memory=worker_memory) as client:
        # the model travels once (then worker to worker); unlike scattered data, a task's result is
        # computed again when the worker holding it dies
        shared = client.submit(identity, spec, pure=False)
        parts = data.to_delayed()
        loads = [client.compute(part) for part in parts]
        futures = [client.submit(_explain_partition, load, shared, sample_rows, seed,
                                 None if output is None else str(output), number, pure=False)
                   for number, load in enumerate(loads)]
        try:
            summaries = _gather(futures, sample_rows, spec, time_limit, cancel, rows_expected)
        finally:  # stopped, failed or done: nothing of this job stays on the cluster
            client.cancel(futures + loads, force=True)
    total = sum(summary["rows"] for summary in summaries)
    if total == 0:
        raise ConfigError("There are no rows to explain (the Dask DataFrame is empty).", "pass data with rows")
    importance = pd.Series(np.sum([summary["abs_sum"] for summary in summaries], axis=0) / total,
                           index=list(spec.feature_names), name="importance")
    summaries = sorted(_trim([summary for summary in summaries if summary["rows"]], sample_rows),
                       key=lambda summary: summary["number"])
    values = pd.concat([summary["values"] for summary in summaries])
    features = pd.concat([summary["features"] for summary in summaries])
    if not values.index.is_unique:  # partitions read from files often restart their index at 0
        values, features = values.reset_index(drop=True), features.reset_index(drop=True)
        y = None
    sampled = f", a {fraction:.0%} sample" if fraction < 1.0 else ""
    sample = to_explanation(spec, features, values.to_numpy(), summaries[0]["base"],
                            y=None if y is None else y.loc[values.index], target=target,
                            source=f"computed on Dask ({len(parts)} partitions, {total:,} rows{sampled})")
    sample = replace(sample, importance=importance, rows_total=total)
    return PartitionedExplanation(sample=sample, importance=importance, rows=total, partitions=len(parts),
                                  spec=spec, values_dir=output)


def _gather(futures: list, sample_rows: int, spec, time_limit: float | None, cancel: threading.Event | None,
            rows_expected: int | None) -> list[dict]:
    """The partition summaries as tasks finish, bounded: this process keeps at most about
    ``2 × sample_rows`` sample rows; past ``time_limit`` or on ``cancel`` it stops (the caller
    cancels what is left on the cluster); a failed task becomes one clear message."""
    from distributed import as_completed

    deadline = None if time_limit is None else time.monotonic() + time_limit
    pending = as_completed(futures)
    summaries, kept, done = [], 0, 0
    while not pending.is_empty():
        if cancel is not None and cancel.is_set():
            raise ExplainCancelled("The explanation was cancelled.", "")
        if deadline is not None and time.monotonic() > deadline:
            raise WorkbenchError(
                f"Explaining on the cluster stopped after {time_limit:,.0f} s, the limit for one explanation "
                f"({done:,} rows in {len(summaries):,} of {len(futures):,} partitions were done).",
                "explain a sample (fewer rows), or raise budget_seconds")
        if not pending.has_ready():
            (cancel or threading.Event()).wait(POLL_SECONDS)
            continue
        for future in pending.next_batch(block=False):
            try:
                summary = future.result()
            except WorkbenchError:
                raise
            except Exception as exc:  # noqa: BLE001 - any worker failure becomes one clear message
                failure = worker_failure(exc, done, rows_expected)
                if failure is not None:
                    raise failure from exc
                raise WorkbenchError(f"SHAP could not explain the {spec.model_type} on the cluster: "
                                     f"{type(exc).__name__}: {exc}",
                                     "check every partition has the model's columns, numeric and without NaN") from exc
            summaries.append(summary)
            done += summary["rows"]
            kept += len(summary.get("keys", ()))
            if kept > 2 * sample_rows:  # bound what this process holds
                summaries, kept = _trim(summaries, sample_rows), sample_rows
    return summaries


class PartitionedJob:
    """A Dask DataFrame explained progressively: its first rows here at once (the first screen), then
    ``explain_partitions`` on the cluster in the background; ``on_update`` gets the final sample (with
    the importance over every row) or the error. Offers what the Explain page uses of ``LiveExplanation``.

    Before anything is submitted the job is estimated (``estimate``); over ``budget_seconds`` or a
    worker's memory only a random sample of the rows is explained (``sampled``, ``budget_notice()``).
    """

    def __init__(self, model, data, address: str, y: pd.Series | None = None, target: str = "",
                 sample_rows: int = 5_000, first_rows: int = 200, on_update=None,
                 output_dir: str | Path | None = None, budget_seconds: float = float("inf"),
                 worker_memory: int | None = None, timeout: float = 5.0) -> None:
        from workbench.sources.explanations_live import make_spec, validate_inputs

        self.model, self.data, self.address, self.target = model, data, address, target
        self.sample_rows, self.on_update, self.output_dir = sample_rows, on_update, output_dir
        self.budget_seconds, self.timeout = budget_seconds, timeout
        self.worker_memory = worker_memory or worker_memory_bytes(None)
        self.time_limit = time_limit_for(budget_seconds)
        self.y = y if isinstance(y, pd.Series) else None
        self._partition = validate_inputs(model, _first_partition(data))
        self.rows = self._partition.head(first_rows)
        if not self.rows.index.is_unique:
            self.rows = self.rows.reset_index(drop=True)
        self.spec = make_spec(model, self.rows)
        self.estimate: PartitionEstimate | None = None
        self.fraction, self.X = 1.0, self.rows
        self.latest: Explanation | None = None
        self.result: PartitionedExplanation | None = None
        self.error: Exception | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="workbench-explain-dask")
        self._starting = threading.Lock()

    @property
    def sampled(self) -> bool:
        """Whether only a sample of the rows is explained (the estimate was over budget)."""
        return self.fraction < 1.0

    def estimate_job(self) -> PartitionEstimate:
        """The estimate of explaining every partition (a probe here, scaled to partitions / workers),
        and the share of rows that fits the budget (``fraction``)."""
        workers, cold = cluster_workers(self.address, timeout=min(self.timeout, 2.0),  # None: down (reported later)
                                        memory_limit=self.worker_memory)
        self.estimate = estimate_partitions(self.spec, self._partition, self.data.npartitions, workers or 1,
                                            self.sample_rows, startup_seconds=WORKER_START_SECONDS * cold)
        self.fraction = self.estimate.fraction_within(self.budget_seconds, self.worker_memory)
        return self.estimate

    def budget_notice(self) -> str:
        """What the user is told when only a sample is explained (empty when everything is)."""
        if not self.sampled or self.estimate is None:
            return ""
        return (f"Explaining all rows on Dask would take {self.estimate.describe()}, over the budget of "
                f"{self.budget_seconds:g} s or {self.worker_memory / 2**20:,.0f} MB per worker: a random sample of "
                f"{self.fraction:.0%} of the rows (≈{int(self.estimate.rows * self.fraction):,}) is explained instead.")

    def start(self, background: bool = True) -> Explanation:
        """The first screen: the first rows, explained in this process (after the estimate)."""
        from workbench.sources.explanations_live import explain_chunk, to_explanation

        self.estimate_job()
        values, base = explain_chunk(self.spec, self.rows)
        y = None if self.y is None or not self.rows.index.isin(self.y.index).all() else self.y.loc[self.rows.index]
        self.latest = to_explanation(self.spec, self.rows, values, base, y=y, n_total=self.sample_rows,
                                     target=self.target, source="first rows; every partition is being explained on Dask")
        if background:
            self.resume()
        return self.latest

    def resume(self) -> None:
        with self._starting:
            if self._thread.ident is None:
                self._thread.start()

    def _run(self) -> None:
        expected = None if self.estimate is None else max(1, math.ceil(self.estimate.rows * self.fraction))
        try:
            self.result = explain_partitions(self.model, self.data, self.address, sample_rows=self.sample_rows,
                                             output_dir=self.output_dir, y=self.y, target=self.target,
                                             timeout=self.timeout, fraction=self.fraction, time_limit=self.time_limit,
                                             cancel=self._cancel, worker_memory=self.worker_memory,
                                             rows_expected=expected)
            self.latest = self.result.sample
        except ExplainCancelled:
            return
        except Exception as error:  # noqa: BLE001 - reported to the page, never lost in a thread
            self.error = error
            if self.on_update is not None:
                self.on_update(None, error)
            return
        if self.on_update is not None:
            self.on_update(self.latest, None)

    def wait(self, timeout: float | None = None) -> Explanation | None:
        self.resume()
        self._thread.join(timeout)
        return self.latest

    def cancel(self) -> None:
        """Stop: the job's tasks are cancelled on the cluster within a fraction of a second (a task
        already running there finishes its partition, and its result is dropped)."""
        self._cancel.set()
