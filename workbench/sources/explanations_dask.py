"""Explaining on a Dask cluster: connecting (an address, or "local"), and data larger than memory.

``explain_partitions`` explains a Dask DataFrame partition by partition on the cluster. Only small
results come back to this process: per-feature sums of |SHAP| (global importance over every row),
the row count, and a sample of rows with their SHAP values for the views; with ``output_dir`` the
workers also write every row's SHAP values to Parquet (one file per partition, same index).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, MissingDependency, SourceUnavailable, WorkbenchError
from workbench.sources.explanations import Explanation

LOCAL = "local"
_LOCAL_CLUSTER = None  # one LocalCluster per process for dask_scheduler = "local", started on first use


def is_dask_frame(data) -> bool:
    """Whether ``data`` is a Dask DataFrame (without importing dask when it is not loaded)."""
    return type(data).__module__.startswith("dask") and hasattr(data, "npartitions")


def local_workers() -> int:
    """Worker processes of the "local" cluster: one per core (up to 8)."""
    from workbench.sources.explanations_live import n_workers

    return n_workers()


def _local_address() -> str:
    """The scheduler of this process's LocalCluster (worker processes, one thread each: shap's tree
    explainer holds the GIL, so threads would not run in parallel)."""
    global _LOCAL_CLUSTER
    if _LOCAL_CLUSTER is None:
        from distributed import LocalCluster

        _LOCAL_CLUSTER = LocalCluster(n_workers=local_workers(), threads_per_worker=1, processes=True,
                                      dashboard_address=None)
    return _LOCAL_CLUSTER.scheduler_address


def close_local_cluster() -> None:
    """Stop the LocalCluster "local" started (if any)."""
    global _LOCAL_CLUSTER
    if _LOCAL_CLUSTER is not None:
        cluster, _LOCAL_CLUSTER = _LOCAL_CLUSTER, None
        cluster.close()


@contextlib.contextmanager
def dask_client(address: str, timeout: float = 5.0) -> Iterator:
    """A ``distributed.Client`` of the cluster at ``address`` ("local": a LocalCluster on this machine)."""
    try:
        from distributed import Client
    except ImportError:
        raise MissingDependency.for_package("distributed", "Explaining on a Dask cluster", extra="dask") from None
    try:
        client = Client(_local_address() if address == LOCAL else address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise SourceUnavailable(f"The Dask scheduler at '{address}' did not answer: {exc}.",
                                "start the cluster, or unset dask_scheduler to explain on this machine") from exc
    try:
        yield client
    finally:
        client.close()


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


def _first_rows(data, rows: int = 200) -> pd.DataFrame:
    """The first rows of the first non-empty partition (computes that partition only)."""
    head = None
    for number in range(data.npartitions):
        head = data.get_partition(number).compute()
        if len(head):
            break
    if head is None or head.empty:
        raise ConfigError("There are no rows to explain (the Dask DataFrame is empty).", "pass data with rows")
    return head.head(rows)


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
                       seed: int = 0) -> PartitionedExplanation:
    """Explain every row of the Dask DataFrame ``data`` on the cluster at ``address``, one partition
    per task and one pass over the data; this process holds only the summary and a uniform sample of
    ``sample_rows`` rows."""
    from workbench.sources.explanations_live import make_spec, to_explanation, validate_inputs

    head = _first_rows(data)
    validated = validate_inputs(model, head)  # columns, dtypes and NaNs checked on the first rows
    if list(validated.columns) != list(head.columns):
        data = data[list(validated.columns)]  # the model's column order
    spec = make_spec(model, validated, seed=seed)
    if not spec.picklable:
        raise ConfigError(f"The {spec.model_type} cannot be sent to Dask workers (it cannot be pickled).",
                          "explain a pandas DataFrame on this machine instead")
    output = None if output_dir is None else Path(output_dir)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    with dask_client(address, timeout=timeout) as client:
        from distributed import as_completed

        shared = client.scatter(spec, broadcast=True)  # the model travels once per worker
        parts = data.to_delayed()
        futures = [client.submit(_explain_partition, client.compute(part), shared, sample_rows, seed,
                                 None if output is None else str(output), number, pure=False)
                   for number, part in enumerate(parts)]
        summaries, kept = [], 0
        try:
            for future in as_completed(futures):
                summary = future.result()
                summaries.append(summary)
                kept += len(summary.get("keys", ()))
                if kept > 2 * sample_rows:  # bound what this process holds
                    summaries, kept = _trim(summaries, sample_rows), sample_rows
        except WorkbenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - any worker failure becomes one clear message
            raise WorkbenchError(f"SHAP could not explain the {spec.model_type} on the cluster: "
                                 f"{type(exc).__name__}: {exc}",
                                 "check every partition has the model's columns, numeric and without NaN") from exc
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
    sample = to_explanation(spec, features, values.to_numpy(), summaries[0]["base"],
                            y=None if y is None else y.loc[values.index], target=target,
                            source=f"computed on Dask ({len(parts)} partitions, {total:,} rows)")
    sample = replace(sample, importance=importance, rows_total=total)
    return PartitionedExplanation(sample=sample, importance=importance, rows=total, partitions=len(parts),
                                  spec=spec, values_dir=output)


class PartitionedJob:
    """A Dask DataFrame explained progressively: its first rows here at once (the first screen), then
    ``explain_partitions`` on the cluster in the background; ``on_update`` gets the final sample (with
    the importance over every row) or the error. Offers what the Explain page uses of ``LiveExplanation``."""

    def __init__(self, model, data, address: str, y: pd.Series | None = None, target: str = "",
                 sample_rows: int = 5_000, first_rows: int = 200, on_update=None,
                 output_dir: str | Path | None = None) -> None:
        from workbench.sources.explanations_live import make_spec, validate_inputs

        self.model, self.data, self.address, self.target = model, data, address, target
        self.sample_rows, self.on_update, self.output_dir = sample_rows, on_update, output_dir
        self.y = y if isinstance(y, pd.Series) else None
        self.rows = validate_inputs(model, _first_rows(data, first_rows))
        if not self.rows.index.is_unique:
            self.rows = self.rows.reset_index(drop=True)
        self.spec = make_spec(model, self.rows)
        self.estimate, self.sampled, self.X = None, False, self.rows
        self.latest: Explanation | None = None
        self.result: PartitionedExplanation | None = None
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="workbench-explain-dask")
        self._starting = threading.Lock()

    def start(self, background: bool = True) -> Explanation:
        """The first screen: the first rows, explained in this process."""
        from workbench.sources.explanations_live import explain_chunk, to_explanation

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
        try:
            self.result = explain_partitions(self.model, self.data, self.address, sample_rows=self.sample_rows,
                                             output_dir=self.output_dir, y=self.y, target=self.target)
            self.latest = self.result.sample
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
        """Nothing to stop early: the cluster finishes its tasks (the result is then ignored)."""
