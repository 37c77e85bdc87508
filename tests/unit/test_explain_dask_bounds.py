"""Bounds of the Dask path on real LocalClusters: the estimate before submitting and a sample over
budget, the time limit and cancel() cancelling the job's tasks on the cluster, the "local" cluster's
worker memory limit, and a worker process killed mid-job giving one message while the page stays up."""

from __future__ import annotations

import os
import signal

import dask.dataframe as dd
import numpy as np
import pandas as pd
import panel as pn
import pytest
import test_explain_dask
from explain_slow import slow_partitions
from helpers import wait_until

from workbench.apps.explain import ExplainPage
from workbench.config import WorkbenchConfig
from workbench.errors import WorkbenchError
from workbench.sources import explanations_dask
from workbench.sources.explanations_bounds import WORKER_START_SECONDS, estimate_partitions
from workbench.sources.explanations_dask import (
    LOCAL,
    PartitionedJob,
    close_local_cluster,
    explain_partitions,
)
from workbench.sources.explanations_job import LiveExplanation
from workbench.sources.explanations_live import make_spec

pytestmark = pytest.mark.slow  # clusters start in a second or two; the slow partitions sleep
cancer, forest = test_explain_dask.cancer, test_explain_dask.forest  # the same data and model fixtures


@pytest.fixture(scope="module")
def threads():
    """One worker with one thread, in this process: tasks run one at a time, the scheduler is inspectable."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        yield cluster


def _idle(cluster) -> bool:
    """Nothing of any job is left on the cluster: the scheduler and every worker hold no task."""
    return not cluster.scheduler.tasks and all(not worker.state.tasks for worker in cluster.workers.values())


def test_the_job_is_estimated_before_submitting_and_over_budget_a_sample_is_explained(cancer, forest, threads,
                                                                                         tmp_path):
    X, y = cancer
    data = dd.from_pandas(X, npartitions=8)
    job = PartitionedJob(forest, data, threads.scheduler_address, y=y, first_rows=40, budget_seconds=float("inf"))
    estimate = job.estimate_job()  # before anything is submitted: nothing on the cluster yet
    assert not threads.scheduler.tasks
    first = len(data.get_partition(0).compute())
    assert (estimate.partitions, estimate.workers, estimate.rows) == (8, 1, first * 8)
    assert explanations_dask.cluster_workers(threads.scheduler_address) == (1, False)  # warm: shap imported
    assert estimate.seconds > 0 and estimate.task_bytes > 0 and not job.sampled and job.budget_notice() == ""
    # what comes back here is bounded by the sample, not by the rows: a tenth of the sample, a tenth of the bytes
    small = estimate_partitions(job.spec, job._partition, 80, 4, sample_rows=50)
    large = estimate_partitions(job.spec, job._partition, 80, 4, sample_rows=500)
    assert small.rows == large.rows == first * 80 and small.memory_bytes < large.memory_bytes / 5
    assert large.memory_bytes < large.rows * X.shape[1] * 8  # below the SHAP values of all rows (float64)

    budget = estimate.seconds / 4  # a quarter of the estimate fits: about a quarter of the rows
    job = PartitionedJob(forest, data, threads.scheduler_address, y=y, first_rows=40, budget_seconds=budget)
    job.start(background=False)
    assert job.sampled and 0 < job.fraction < 1
    notice = job.budget_notice()
    assert "sample" in notice and "8 partitions" in notice and "1 Dask worker" in notice
    done = job.wait(120)
    assert job.error is None and 0 < job.result.rows < len(X) and "sample" in done.source

    config = WorkbenchConfig(cache_dir=str(tmp_path), dask_scheduler=threads.scheduler_address)
    page = ExplainPage(model=forest, X=data, y=y, config=config, first_rows=40, budget_seconds=budget)
    layout = page.__panel__()
    warning = [pane for pane in layout.select(pn.pane.Alert) if pane.alert_type == "warning"]
    assert len(warning) == 1 and "sample" in warning[0].object and "Dask" in page._explainer_note()
    page.wait(120)
    page.explain_all()  # the user accepts the estimate: every row
    page.wait(120)
    assert not page.job.sampled and page.job.error is None and page.explanation.rows_total == len(X)
    assert not [pane for pane in page._layout.select(pn.pane.Alert) if pane.alert_type == "warning"]


def test_the_time_limit_stops_the_job_and_cancels_its_tasks(cancer, forest, threads):
    X, _ = cancer
    data = slow_partitions(X, 12, seconds=0.5)  # 6 s of work on one thread
    with pytest.raises(WorkbenchError, match=r"stopped after 1 s.*of 12 partitions were done") as caught:
        explain_partitions(forest, data, threads.scheduler_address, time_limit=1.0)
    done = int(caught.value.message.split(" rows in ")[1].split(" of ")[0])
    assert done < 12
    wait_until(lambda: _idle(threads), what="the job's tasks released on the cluster")


def test_a_cluster_without_workers_stops_at_the_time_limit_instead_of_hanging(cancer, forest):
    from distributed import LocalCluster

    X, y = cancer
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as empty:
        job = PartitionedJob(forest, dd.from_pandas(X, npartitions=3), empty.scheduler_address, y=y, first_rows=20)
        job.time_limit = 1.0
        job.start()
        job.wait(60)
        assert not job._thread.is_alive() and "stopped after 1 s" in job.error.message
        assert "0 rows in 0 of 3 partitions" in job.error.message
        wait_until(lambda: not empty.scheduler.tasks, what="the job's tasks released")
        live = LiveExplanation(forest, X, y, first_rows=50, budget_seconds=float("inf"),
                               dask_scheduler=empty.scheduler_address)  # a pandas frame, chunks on the cluster
        live.time_limit = 1.0
        live.start()
        live.wait(60)
        assert not live._thread.is_alive() and "stopped after 1 s" in live.error.message
        wait_until(lambda: not empty.scheduler.tasks, what="the chunks' tasks released")


def test_cancel_cancels_the_tasks_on_the_cluster(cancer, forest, threads, tmp_path):
    X, _ = cancer
    updates = []
    job = PartitionedJob(forest, slow_partitions(X, 12, seconds=0.5), threads.scheduler_address,
                         output_dir=tmp_path / "values", on_update=lambda *update: updates.append(update))
    job.start()
    files = lambda: sorted((tmp_path / "values").glob("part.*.parquet"))  # noqa: E731 - one per partition done
    wait_until(lambda: len(files()) >= 1, what="a first partition explained")
    job.cancel()
    wait_until(lambda: _idle(threads), what="the job's tasks released on the cluster")
    job.wait(60)
    assert not job._thread.is_alive() and job.error is None and job.result is None and updates == []
    assert len(files()) < 12  # the partitions not started never ran
    # the cluster is free for the next job at once
    result = explain_partitions(forest, dd.from_pandas(X.iloc[:60], npartitions=2), threads.scheduler_address)
    assert result.rows == 60


def test_a_killed_worker_gives_one_message_and_the_page_stays_up(cancer, forest, tmp_path, monkeypatch):
    X, y = cancer
    monkeypatch.setattr(explanations_dask, "local_workers", lambda: 1)
    config = WorkbenchConfig(cache_dir=str(tmp_path), dask_scheduler=LOCAL, explain_worker_memory=1500)
    assert WorkbenchConfig.load(env={"WORKBENCH_EXPLAIN_WORKER_MEMORY": "1500"}).explain_worker_memory == 1500
    # not started for the estimate: its worker will be new (the estimate adds its start-up)
    assert explanations_dask.cluster_workers(LOCAL) == (1, True) and explanations_dask._LOCAL_CLUSTER is None
    try:
        page = ExplainPage(model=forest, X=slow_partitions(X, 12, seconds=0.5), y=y, config=config, first_rows=30)
        assert page.job.estimate.seconds >= WORKER_START_SECONDS
        page.__panel__()
        cluster = wait_until(lambda: explanations_dask._LOCAL_CLUSTER, timeout=120, what='the "local" cluster')
        assert cluster.processes
        (worker,) = wait_until(lambda: list(cluster.scheduler.workers.values()), timeout=120, what="its worker")
        assert worker.memory_limit == 1500 * 2**20  # the "local" cluster's workers get the configured limit
        wait_until(lambda: any(task.state == "processing" for task in cluster.scheduler.tasks.values()),
                   what="a task running on the worker")
        os.kill(worker.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        page.wait(120)
        assert not page.job._thread.is_alive()  # no hang
        error = page.job.error
        assert isinstance(error, WorkbenchError) and "Dask worker died" in error.message
        assert "rows were done" in error.message and "memory" in error.hint
        assert type(error.__cause__).__name__ == "KilledWorker"  # not retried on the "local" cluster
        alert = page._layout[0]
        assert isinstance(alert, pn.pane.Alert) and "Dask worker died" in alert.object and "Traceback" not in alert.object
        wait_until(lambda: cluster.scheduler.workers and not cluster.scheduler.tasks, what="the worker restarted")
        again = explain_partitions(forest, dd.from_pandas(X.iloc[:80], npartitions=2), LOCAL,
                                   worker_memory=1500 * 2**20)  # the same cluster works on
        assert again.rows == 80 and explanations_dask._LOCAL_CLUSTER is cluster
        np.testing.assert_allclose(again.importance.to_numpy(), again.sample.values.abs().mean().to_numpy())
    finally:
        close_local_cluster()


def test_partition_results_are_bounded(cancer, forest, threads):
    """Only per-feature sums and at most sample_rows rows per partition come back from a task."""
    X, _ = cancer
    spec = make_spec(forest, X)
    summary = explanations_dask._explain_partition(X, spec, sample_rows=25, seed=0, output=None, number=0)
    assert len(summary["values"]) == len(summary["features"]) == 25 and summary["abs_sum"].shape == (X.shape[1],)
    assert summary["rows"] == len(X)
    result = explain_partitions(forest, dd.from_pandas(X, npartitions=6), threads.scheduler_address, sample_rows=30)
    assert len(result.sample.values) == 30 and result.rows == len(X)
    assert isinstance(result.importance, pd.Series)
