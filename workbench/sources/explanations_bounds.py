"""Bounds on explaining: the estimate of a Dask job, worker memory limits, worker failures as one message.

A Dask job is estimated before anything is submitted (a timed probe on the first partition, scaled to
the partitions and workers); over the time budget or a worker's memory a sample is explained instead.
Worker processes on this machine (joblib/loky) run each chunk under an address-space limit
(``RLIMIT_AS``, ``worker_limits.bounded_call``), and a worker that dies — killed, or out of memory —
becomes one ``WorkbenchError`` saying how many rows were done, never a traceback or a hang.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    import pandas as pd

WORKER_START_SECONDS = 3.0  # a new worker process importing shap + scikit-learn + pandas (2.2-2.9 CPU s here)
DEFAULT_WORKER_MEMORY_MB = 2048.0  # per worker (a "local" Dask worker, or what one loky chunk may add)
WORKER_HINT = ("explain a sample (fewer rows), use smaller partitions/chunks, or give workers more memory "
               "(the explain_worker_memory setting, in MB); the server itself is unaffected")


class ExplainCancelled(WorkbenchError):
    """The explanation was cancelled (page closed, model changed): nothing to report to the user."""


def worker_memory_bytes(megabytes: float | None) -> int:
    """The memory one worker may use, in bytes (``None``: the default, 2 GB)."""
    return int((DEFAULT_WORKER_MEMORY_MB if megabytes is None else megabytes) * 2**20)


def time_limit_for(budget_seconds: float) -> float:
    """The hard stop of one explanation: 3× its budget, at least a minute (a day when unbounded)."""
    return max(3 * budget_seconds, 60.0) if budget_seconds != float("inf") else 24 * 3600.0


@dataclass(frozen=True)
class PartitionEstimate:
    """What explaining a Dask DataFrame will take, scaled from a probe on its first partition."""

    rows: int  # estimated: the first partition's rows × partitions
    partitions: int
    workers: int
    seconds: float  # wall time on the cluster (partitions run in waves of ``workers``)
    memory_bytes: int  # what comes back to this process (sums + the sample)
    task_bytes: int  # what one task holds on a worker (its partition, SHAP values, explainer batch)

    def describe(self) -> str:
        return (f"≈{self.seconds:,.1f} s on {self.workers} Dask worker{'s' * (self.workers != 1)} for "
                f"≈{self.rows:,} rows in {self.partitions:,} partitions (≈{self.task_bytes / 2**20:,.1f} MB per task, "
                f"{self.memory_bytes / 2**20:,.1f} MB back here)")

    def fraction_within(self, seconds: float, worker_bytes: int) -> float:
        """The share of rows that fits the time budget and a worker's memory (1.0: everything)."""
        fraction = 1.0
        if self.seconds > seconds:
            fraction = min(fraction, seconds / self.seconds)
        if self.task_bytes > worker_bytes:
            fraction = min(fraction, 0.8 * worker_bytes / self.task_bytes)
        return max(fraction, 0.0)


def estimate_partitions(spec, partition: pd.DataFrame, partitions: int, workers: int,
                        sample_rows: int, startup_seconds: float = 0.0) -> PartitionEstimate:
    """The estimate of explaining ``partitions`` partitions like ``partition`` on ``workers`` workers.

    The probe (``estimate_cost``: CPU time of a few rows) gives the seconds per partition; the
    partitions run in ``ceil(partitions / workers)`` waves of one task per worker, after
    ``startup_seconds`` (new worker processes importing shap).
    """
    from workbench.sources.explanations_live import estimate_cost, n_workers

    probe = estimate_cost(spec, partition)  # seconds spread over this machine's workers
    per_partition = probe.seconds * n_workers()
    features = len(spec.feature_names)
    rows = len(partition) * partitions
    back = min(rows, 3 * sample_rows) * features * 8 * 2 + partitions * features * 8
    task = probe.memory_bytes + int(partition.memory_usage(deep=True).sum())
    return PartitionEstimate(rows=rows, partitions=partitions, workers=max(workers, 1),
                             seconds=startup_seconds + per_partition * math.ceil(partitions / max(workers, 1)),
                             memory_bytes=int(back), task_bytes=int(task))


def worker_failure(error: BaseException, done: int, total: int | None,
                   limit_bytes: int | None = None) -> WorkbenchError | None:
    """One clear message for a worker that died or ran out of memory (None: not such a failure)."""
    failure = _failure(error, done, total, limit_bytes)
    if failure is not None:
        failure.__cause__ = error
    return failure


def _failure(error: BaseException, done: int, total: int | None, limit_bytes: int | None) -> WorkbenchError | None:
    name = type(error).__name__
    progress = f"{done:,} rows were done" if total is None else f"{done:,} of {total:,} rows were done"
    text = str(error).lower()
    if isinstance(error, MemoryError) or (isinstance(error, (ImportError, OSError)) and (
            "cannot allocate memory" in text or "failed to map segment" in text)):  # an import over the limit
        limit = "" if limit_bytes is None else f" ({limit_bytes / 2**20:,.4g} MB)"
        return WorkbenchError(f"Explaining a chunk of rows needed more memory than a worker may use{limit}; "
                              f"{progress}.", WORKER_HINT)
    if name in ("TerminatedWorkerError", "BrokenProcessPool"):
        return WorkbenchError(f"A worker process explaining rows stopped unexpectedly (it was killed, or ran out "
                              f"of memory); {progress}.", WORKER_HINT)
    if name in ("KilledWorker", "FutureCancelledError", "CancelledError"):  # cancelled: its data died with a worker
        return WorkbenchError(f"A Dask worker died while explaining a partition (it was killed, or ran out of "
                              f"memory); {progress}.", WORKER_HINT)
    return None
