"""MLflow runs as tidy pandas: experiments, runs (cached, incremental refresh), metric histories.

``MlflowSource(tracking_uri)`` picks a read-only reader for the URI:

- ``sqlite:///file.db``: plain SQL through a ``mode=ro`` connection (fast path, never writes);
- ``postgresql://``: the same SQL over a ``default_transaction_read_only`` session (psycopg2);
- a local ``mlruns`` folder (``file://`` or a path): the file store read directly, never written;
- ``http(s)://``: ``MlflowClient`` with a short request timeout and few retries.

The runs frame is cached per experiment set; ``runs(..., refresh=True)`` re-reads only runs that
are new, still running or changed status (the cheap run list is always re-read). The cache is shared
by every source of the process on the same store and access scope (each served session opens its
own source): a new source checks it is current on its first read (one cheap query), then reuses
the frame another session read.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from workbench.access import allowed
from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError, NotFound
from workbench.sources.mlflow_artifacts import DEFAULT_CAP, ArtifactContent, ArtifactReader
from workbench.sources.mlflow_frames import RunBatch, assemble_runs, combine_runs, empty_runs
from workbench.sources.shared_cache import SharedRegistry

DEFAULT_TIMEOUT = 5.0


class RunsReader(Protocol):
    """What a store-specific reader provides (see mlflow_sql / mlflow_files / mlflow_rest)."""

    def experiments(self) -> pd.DataFrame: ...
    def run_infos(self, experiment_ids: Sequence[str]) -> pd.DataFrame: ...
    def run_data(self, infos: pd.DataFrame) -> RunBatch: ...
    def metric_history(self, run_ids: Sequence[str], keys: Sequence[str] | None = None) -> pd.DataFrame: ...
    def close(self) -> None: ...


def open_reader(tracking_uri: str, timeout: float = DEFAULT_TIMEOUT) -> RunsReader:
    """The read-only reader for ``tracking_uri``; typed errors when it cannot be opened."""
    uri = (tracking_uri or "").strip()
    if not uri:
        raise ConfigError("No MLflow tracking URI is configured.",
                          "set tracking_uri (e.g. sqlite:///path/to/mlflow.db) in workbench.toml, "
                          "WORKBENCH_TRACKING_URI or --tracking-uri")
    if uri.startswith("sqlite:"):
        if not uri.startswith("sqlite:///") or ":memory:" in uri:
            raise ConfigError(f"The tracking URI '{uri}' is not a SQLite file URI.",
                              "use sqlite:///<path to mlflow.db>")
        from workbench.sources.mlflow_sql import SqliteRunsReader

        return SqliteRunsReader(uri, timeout=timeout)
    if uri.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        from workbench.sources.mlflow_postgres import PostgresRunsReader

        return PostgresRunsReader(uri, timeout=timeout)
    if uri.startswith(("http://", "https://")):
        from workbench.sources.mlflow_rest import RestRunsReader

        return RestRunsReader(uri, timeout=timeout)
    if uri.startswith("file:") or "://" not in uri:
        from workbench.sources.mlflow_files import FileStoreReader

        return FileStoreReader(uri)
    raise ConfigError(f"The tracking URI '{uri}' is not supported.",
                      "use sqlite:///<file>, postgresql://<user>@<host>/<db>, a local mlruns folder, "
                      "or http(s)://<tracking server>")


@dataclass
class _Cached:
    infos: pd.DataFrame
    frame: pd.DataFrame
    fingerprint: tuple | None = None


@dataclass
class _SharedRuns:
    """What the sources of one store and access scope share: runs frames, metric histories, a lock."""

    runs: dict[tuple[str, ...], _Cached] = field(default_factory=dict)
    histories: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


_SHARED: SharedRegistry[_SharedRuns] = SharedRegistry(_SharedRuns)


def shared_runs(tracking_uri: str, allowed_experiments: frozenset[str] | None) -> _SharedRuns:
    """The process-wide cache of ``tracking_uri`` for one access scope (users with other rules never share)."""
    return _SHARED.get((tracking_uri, allowed_experiments))


def clear_shared_runs() -> None:
    """Forget every shared runs cache (tests; a process that wants fresh reads everywhere)."""
    _SHARED.clear()


class MlflowSource:
    """Read-only access to one MLflow tracking store, with an in-memory runs cache."""

    def __init__(self, tracking_uri: str, timeout: float = DEFAULT_TIMEOUT,
                 allowed_experiments: Collection[str] | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.allowed_experiments = None if allowed_experiments is None else frozenset(allowed_experiments)
        self.timeout = timeout
        self._reader = open_reader(tracking_uri, timeout)
        shared = shared_runs(tracking_uri, self.allowed_experiments)
        self._cache, self._histories, self._lock = shared.runs, shared.histories, shared.lock
        self._checked: set[tuple[str, ...]] = set()  # experiment sets this source made sure are current
        self._artifacts = ArtifactReader(timeout)
        self.last_reread = 0  # how many runs the last runs() call had to re-read (for tests/benchmarks)

    @classmethod
    def from_config(cls, config: WorkbenchConfig) -> MlflowSource:
        return cls(config.tracking_uri or "", allowed_experiments=allowed(config, "experiments"))

    def close(self) -> None:
        self._reader.close()

    # -- experiments ------------------------------------------------------------------------------
    def experiments(self) -> pd.DataFrame:
        """Active experiments: experiment_id, name, artifact_location, lifecycle_stage (only the allowed
        ones under per-user access: every lookup below goes through this list)."""
        frame = self._reader.experiments()
        if self.allowed_experiments is not None:
            frame = frame[frame["name"].isin(self.allowed_experiments)].reset_index(drop=True)
        return frame

    def experiment_ids(self, names: Sequence[str] | None = None) -> list[str]:
        """Ids of the named experiments (all active ones when ``names`` is empty)."""
        experiments = self.experiments()
        if experiments.empty and self.allowed_experiments is not None:
            raise NotFound("Your account may see no experiment of this MLflow store.",
                           "ask the workbench's administrator to add you to an [access.allow] rule")
        if experiments.empty:
            raise NotFound(f"The MLflow store '{self.tracking_uri}' has no experiments.",
                           "log runs with mlflow first, or point tracking_uri at the store that has them")
        if not names:
            return experiments["experiment_id"].tolist()
        by_name = dict(zip(experiments["name"], experiments["experiment_id"], strict=True))
        unknown = [name for name in names if name not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name))
            raise NotFound(f"Unknown MLflow experiment(s): {', '.join(unknown)}.",
                           f"choose among: {known}" if len(by_name) <= 30 else "check the experiment names")
        return [by_name[name] for name in names]

    # -- runs -------------------------------------------------------------------------------------
    def runs(self, experiment_ids: Sequence[str] | None = None, refresh: bool = False) -> pd.DataFrame:
        """Tidy runs frame of the experiments (all when None); cached, ``refresh`` re-reads changes."""
        ids = list(experiment_ids) if experiment_ids else self.experiment_ids()
        if self.allowed_experiments is not None:
            permitted = set(self.experiments()["experiment_id"])
            ids = [i for i in ids if i in permitted]
            if not ids:
                return empty_runs()
        key = tuple(sorted(ids))
        refresh = refresh or key not in self._checked  # another session's frame: is it still current?
        with self._lock:
            self._checked.add(key)
            cached = self._cache.get(key)
            if cached is not None and not refresh:
                self.last_reread = 0
                return cached.frame
            fingerprint = self._fingerprint(ids)
            if cached is not None and fingerprint is not None and fingerprint == cached.fingerprint \
                    and not fingerprint[-1]:  # same run list and nothing running: nothing to re-read
                self.last_reread = 0
                return cached.frame
            infos = self._reader.run_infos(ids)
            stale = _stale_mask(infos, cached.infos if cached is not None else None)
            experiments = self.experiments()
            names = dict(zip(experiments["experiment_id"], experiments["name"], strict=True))
            self.last_reread = int(stale.sum())
            if cached is None:
                frame = assemble_runs(self._reader.run_data(infos), names) if len(infos) else empty_runs()
            elif not stale.any() and len(infos) == len(cached.infos):
                frame = cached.frame
            else:
                fresh = assemble_runs(self._reader.run_data(infos[stale]), names) if stale.any() else empty_runs()
                kept = cached.frame[cached.frame["run_id"].isin(infos.loc[~stale, "run_id"])]
                frame = combine_runs(fresh, kept)
                for run_id in infos.loc[stale, "run_id"]:
                    self._forget_history(run_id)
            self._cache[key] = _Cached(infos=infos, frame=frame, fingerprint=fingerprint)
            return frame

    def _fingerprint(self, experiment_ids: Sequence[str]) -> tuple | None:
        fingerprint = getattr(self._reader, "fingerprint", None)
        return fingerprint(experiment_ids) if fingerprint is not None and 0 < len(experiment_ids) <= 900 else None

    def refresh(self, experiment_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Re-read what changed since the last read (new, running or re-statused runs)."""
        return self.runs(experiment_ids, refresh=True)

    # -- artifacts ------------------------------------------------------------------------------
    def artifact_uri(self, run_id: str) -> str:
        """The artifact root of a run read before (from the cached runs frames)."""
        for cached in self._cache.values():
            match = cached.frame.loc[cached.frame["run_id"] == run_id, "artifact_uri"]
            if len(match):
                uri = str(match.iloc[0])
                if uri.startswith("mlflow-artifacts:/") and not uri.startswith("mlflow-artifacts://") \
                        and self.tracking_uri.startswith(("http://", "https://")):
                    host = urllib.parse.urlparse(self.tracking_uri).netloc
                    uri = f"mlflow-artifacts://{host}{uri[len('mlflow-artifacts:'):]}"
                return uri
        raise NotFound(f"Run {run_id!r} is not among the runs read.", "read the runs first (runs())")

    def list_artifacts(self, run_id: str, path: str = "") -> pd.DataFrame:
        """Entries (path, is_dir, size) of a folder of the run's artifacts."""
        return self._artifacts.list(self.artifact_uri(run_id), path)

    def read_artifact(self, run_id: str, path: str, max_bytes: int = DEFAULT_CAP) -> ArtifactContent:
        """The first ``max_bytes`` of an artifact file (model files are refused)."""
        return self._artifacts.read(self.artifact_uri(run_id), path, max_bytes)

    # -- metric histories -------------------------------------------------------------------------
    def metric_history(self, run_ids: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
        """Long frame (run_id, key, step, timestamp, value) for the given runs and metric keys; cached."""
        if self.allowed_experiments is not None:
            permitted = set(self.runs()["run_id"])
            run_ids = [run_id for run_id in run_ids if run_id in permitted]
        with self._lock:
            wanted = [(r, k) for r in run_ids for k in keys]
            missing = [pair for pair in wanted if pair not in self._histories]
            if missing:
                fetched = self._reader.metric_history(sorted({r for r, _ in missing}), sorted({k for _, k in missing}))
                groups = dict(tuple(fetched.groupby(["run_id", "key"], sort=False)))
                empty = fetched.iloc[0:0]
                for pair in missing:
                    self._histories[pair] = groups.get(pair, empty).reset_index(drop=True)
            parts = [self._histories[pair] for pair in wanted]
        if not parts:
            return pd.DataFrame(columns=["run_id", "key", "step", "timestamp", "value"])
        return pd.concat(parts, ignore_index=True)

    def history_sizes(self, run_ids: Sequence[str]) -> pd.Series:
        """Logged values per metric key over the runs, most first (empty when the store cannot tell cheaply)."""
        sizes = getattr(self._reader, "history_sizes", None)
        return sizes(run_ids) if sizes is not None and len(run_ids) else pd.Series(dtype=float)

    def _forget_history(self, run_id: str) -> None:
        for pair in [pair for pair in self._histories if pair[0] == run_id]:
            del self._histories[pair]


def ensure_model_allowed(config: WorkbenchConfig, model_uri: str) -> None:
    """Under per-user access, refuse a model whose run is outside the user's experiments (NotFound)."""
    if allowed(config, "experiments") is None or not (model_uri or "").strip():
        return
    from workbench.sources.explanations_runs import parse_model_uri

    ref = parse_model_uri(model_uri)
    source = MlflowSource.from_config(config)
    try:
        permitted = ref.run_id is not None and ref.run_id in set(source.runs()["run_id"])
    except NotFound:
        permitted = False
    finally:
        source.close()
    if not permitted:
        raise NotFound(f"The model '{model_uri}' is not among the runs your account may see.",
                       "open a run of your experiments (Experiments tab), or ask for access to its experiment")


def _stale_mask(infos: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    """Runs to re-read: new ones, ones running before, ones whose status or end time changed."""
    if previous is None or previous.empty:
        return pd.Series(True, index=infos.index)
    before = previous.set_index("run_id")[["status", "end_time"]]
    status = infos["run_id"].map(before["status"])
    end = infos["run_id"].map(before["end_time"])
    new = status.isna()
    changed = (status != infos["status"]) | ~((end == infos["end_time"]) | (end.isna() & infos["end_time"].isna()))
    return (new | changed | (status == "RUNNING")).astype(bool)
