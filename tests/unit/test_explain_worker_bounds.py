"""Bounds of the worker processes on this machine (joblib/loky): a worker killed mid-job and a chunk over
the per-worker memory limit each give one clear message — no hang, no traceback — and the next
explanation in the same process works."""

from __future__ import annotations

import os
import resource
import signal
import threading

import numpy as np
import pandas as pd
import psutil
import pytest
from helpers import wait_until
from joblib.externals.loky import get_reusable_executor
from sklearn.ensemble import RandomForestClassifier

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig
from workbench.errors import WorkbenchError
from workbench.sources.explanations_bounds import worker_failure
from workbench.sources.explanations_job import LiveExplanation
from workbench.sources.worker_limits import bounded_call
from workbench.views.alert import error_alert

pytestmark = pytest.mark.slow  # worker processes start; a few CPU seconds of tree SHAP


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(10_000, 20)), columns=[f"f{i}" for i in range(20)])
    y = pd.Series((X.f0 + X.f1 * X.f2 > 0).astype(int), name="label")
    model = RandomForestClassifier(n_estimators=40, max_depth=8, random_state=0, n_jobs=1).fit(X, y)
    return model, X, y


def _loky_workers() -> list[psutil.Process]:
    return [child for child in psutil.Process().children(recursive=True)
            if "popen_loky_posix" in " ".join(child.cmdline())]


def _after_prewarm() -> None:
    """Worker processes are started (and warmed) while the first sample is explained: wait for that,
    so the kill below hits the chunks of the job, not the warm-up."""
    for thread in threading.enumerate():
        if thread.name == "workbench-explain-prewarm":
            thread.join(120)


def _check_next_job_works(model, X) -> None:
    job = LiveExplanation(model, X.iloc[:3_000], n_jobs=2, budget_seconds=float("inf"), first_rows=50)
    job.start()
    done = job.wait(120)
    assert job.error is None and len(done.values) == 3_000 and done.complete


def test_a_worker_process_killed_mid_job_gives_one_message(data):
    model, X, y = data
    updates = []
    job = LiveExplanation(model, X, y, n_jobs=2, budget_seconds=float("inf"), first_rows=50,
                          on_update=lambda explanation, error: updates.append(error))
    job.start()
    _after_prewarm()
    workers = wait_until(_loky_workers, what="loky worker processes")
    assert job._thread.is_alive()  # the job is still running when its worker dies
    os.kill(workers[0].pid, signal.SIGKILL)  # as the kernel's OOM killer would
    job.wait(120)
    assert not job._thread.is_alive()  # no hang
    error = job.error
    assert isinstance(error, WorkbenchError) and "worker process explaining rows stopped unexpectedly" in error.message
    assert f"of {len(X):,} rows were done" in error.message and "memory" in error.hint
    assert type(error.__cause__).__name__ == "TerminatedWorkerError"
    assert updates[-1] is error  # the page is told once, with that message
    alert = error_alert(error).object
    assert "stopped unexpectedly" in alert and "Traceback" not in alert
    _check_next_job_works(model, X)  # this process and its worker pool carry on


@pytest.fixture
def fresh_workers(monkeypatch):
    """New worker processes whose glibc maps every allocation over 64 KB afresh: by default it serves a
    request from heap memory an earlier, larger array left behind (without growing the process), so a
    worker's history could hide the limit. Ended afterwards, so later tests get ordinary workers."""
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", str(64 * 2**10))
    get_reusable_executor().shutdown(wait=True, kill_workers=True)
    yield
    get_reusable_executor().shutdown(wait=True, kill_workers=True)


def test_a_chunk_over_the_worker_memory_limit_gives_a_message(data, tmp_path, fresh_workers):
    model, X, y = data
    limit = resource.getrlimit(resource.RLIMIT_AS)
    warm = LiveExplanation(model, X.iloc[:600], n_jobs=2, budget_seconds=float("inf"), first_rows=50)
    warm.start()
    assert warm.wait(120) is not None and warm.error is None
    job = LiveExplanation(model, X, y, n_jobs=2, budget_seconds=float("inf"), first_rows=50,
                          worker_memory=64 * 2**10)  # each chunk's SHAP values alone are ~0.5 MB
    job.start()
    job.wait(120)
    error = job.error
    assert isinstance(error, WorkbenchError) and "needed more memory than a worker may use (0.0625 MB)" in error.message
    assert isinstance(error.__cause__, MemoryError) and "rows were done" in error.message
    assert resource.getrlimit(resource.RLIMIT_AS) == limit  # this (the server) process is never limited
    _check_next_job_works(model, X)  # the workers' limit was lifted after the chunk
    page = ExplainPage(model=model, X=X.iloc[:500], y=y.iloc[:500], first_rows=50,
                       config=WorkbenchConfig(cache_dir=str(tmp_path), explain_worker_memory=0.0625))
    assert page.job.worker_memory == 64 * 2**10  # the setting (MB) reaches the job
    page.wait(120)


def test_bounded_call_limits_only_worker_processes():
    big = lambda: np.ones(2**20)  # noqa: E731 - 8 MB
    assert bounded_call(big, 1024, os.getpid()).size == 2**20  # the calling process itself: no limit
    assert bounded_call(big, None, -1).size == 2**20  # no limit asked


def test_worker_failures_become_one_message_each():
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    killed = worker_failure(TerminatedWorkerError("exit code -9"), 200, 1_000)
    assert "stopped unexpectedly" in killed.message and "200 of 1,000 rows were done" in killed.message
    memory = worker_failure(MemoryError(), 0, None, limit_bytes=512 * 2**20)
    assert "(512 MB)" in memory.message and "0 rows were done" in memory.message
    load = worker_failure(ImportError("libx.so: failed to map segment from shared object"), 5, 10)
    assert "needed more memory" in load.message and load.__cause__ is not None
    assert worker_failure(ValueError("bad input"), 5, 10) is None  # anything else keeps its own message
