"""Slow Dask partitions for the bounds tests, importable by worker processes (Dask nannies).

``slow_partitions(X, n, seconds)`` is a Dask DataFrame whose every partition takes ``seconds`` to
load (it sleeps, using no CPU on the shared machine), so a job is still running when a test cancels
it, kills a worker or reaches its time limit.
"""

from __future__ import annotations

import time

import pandas as pd


def sleep_then(frame: pd.DataFrame, seconds: float) -> pd.DataFrame:
    time.sleep(seconds)
    return frame


def slow_partitions(X: pd.DataFrame, npartitions: int, seconds: float):
    import dask.dataframe as dd

    return dd.from_pandas(X, npartitions=npartitions).map_partitions(sleep_then, seconds, meta=X.iloc[:0])
