"""How close the Dask job's estimate (made before submitting) comes to the job itself, and how soon a
cancel or the time limit leaves the cluster idle.

Workload: synthetic regression (default 4,000 × 30 in 8 partitions), RandomForest (100 trees, depth 8),
explained on a "local" cluster (one worker process per core). Printed: the estimate, the wall and CPU
seconds of the job (this process + the workers), the load average; then a second run cancelled after
its first partition, with the time from cancel() until the scheduler holds no task.

Run: ``.venv/bin/python benchmarks/explain_dask/bench_estimate.py`` (``--rows 20000`` for a longer job).
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd


def _cpu(cluster) -> float:
    """CPU seconds of this process and of the cluster's worker processes so far."""
    import psutil

    workers = [psutil.Process(worker.pid) for worker in cluster.scheduler.workers.values()]
    return time.process_time() + sum(sum(process.cpu_times()[:2]) for process in workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    import dask.dataframe as dd
    from sklearn.datasets import make_regression
    from sklearn.ensemble import RandomForestRegressor

    from workbench.sources import explanations_dask
    from workbench.sources.explanations_dask import (
        LOCAL,
        PartitionedJob,
        close_local_cluster,
        dask_client,
    )

    X, y = make_regression(n_samples=args.rows, n_features=30, n_informative=10, noise=10.0, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(30)])
    model = RandomForestRegressor(n_estimators=100, max_depth=8, random_state=0, n_jobs=1).fit(X, y)
    data = dd.from_pandas(X, npartitions=args.partitions)
    try:
        with dask_client(LOCAL):  # start the cluster outside the timings
            pass
        cluster = explanations_dask._LOCAL_CLUSTER
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        job = PartitionedJob(model, data, LOCAL, budget_seconds=float("inf"))
        started, cpu = time.perf_counter(), _cpu(cluster)
        estimate = job.estimate_job()
        job.start()
        job.wait()
        wall, used = time.perf_counter() - started, _cpu(cluster) - cpu
        assert job.error is None, job.error
        print(f"estimate: {estimate.describe()}")
        print(f"job: {wall:.2f} s wall, {used:.2f} s CPU (all processes); estimate/wall = {estimate.seconds / wall:.2f}, "
              f"estimate × workers / CPU = {estimate.seconds * estimate.workers / used:.2f} (the fair figure under load)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")

        job = PartitionedJob(model, data, LOCAL, budget_seconds=float("inf"))
        job.start()
        while not any(str(task.key).startswith("_explain_partition") and task.state == "memory"
                      for task in cluster.scheduler.tasks.values()):  # a first partition explained
            time.sleep(0.01)
        cancelled = time.perf_counter()
        job.cancel()
        while cluster.scheduler.tasks:
            time.sleep(0.01)
        print(f"cancel → no task left on the scheduler: {time.perf_counter() - cancelled:.2f} s")
        job.wait()
    finally:
        close_local_cluster()


if __name__ == "__main__":
    main()
