"""Optuna studies and trials as tidy pandas, read-only, with finished trials cached and never re-read.

``open_optuna_source(storage)`` accepts any Optuna storage: an RDB URL (``sqlite:///``,
``postgresql://``, ``mysql://``) read with plain SQL over a read-only connection (SQLite through a
``mode=ro`` URI; tables are never created or migrated), or a ``JournalStorage`` file path read
without writing. A refresh fetches only trials that are new or were unfinished at the last read.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from optuna.distributions import BaseDistribution

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources.optuna_disk_cache import DiskTrialCache, probe_ids, same_trials, subset
from workbench.sources.optuna_frames import (
    FINISHED_STATES,
    INTERMEDIATE_COLUMNS,
    RawTrials,
    assemble,
    combine,
    empty_trials,
    param_names,
    value_columns,
)
from workbench.sources.shared_cache import SharedRegistry

DEFAULT_TIMEOUT = 5.0
PROBE_ONLY = 2**62  # as after_trial_id: read only the trials listed
SQLITE_MAGIC = b"SQLite format 3\x00"
STUDY_COLUMNS = [
    "study_id", "study_name", "directions", "n_trials", "n_complete", "n_pruned", "n_fail",
    "n_running", "n_waiting", "best_value", "datetime_start", "last_update",
]


@dataclass
class StudyData:
    """Everything the tuning views need about one study, as frames."""

    name: str
    directions: list[str]
    trials: pd.DataFrame
    intermediate: pd.DataFrame
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)

    @property
    def value_columns(self) -> list[str]:
        return value_columns(len(self.directions))

    @property
    def param_names(self) -> list[str]:
        return param_names(self.trials)

    @property
    def is_multi_objective(self) -> bool:
        return len(self.directions) > 1


@dataclass
class _StudyCache:
    """Trials of one study: finished ones kept forever, unfinished ones replaced on each read."""

    study_id: int
    n_objectives: int
    finished: list[pd.DataFrame] = field(default_factory=list)
    finished_iv: list[pd.DataFrame] = field(default_factory=list)
    finished_ids: set[int] = field(default_factory=set)
    unfinished: pd.DataFrame | None = None
    unfinished_iv: pd.DataFrame | None = None
    max_trial_id: int = -1
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    data: StudyData | None = None
    pending_ids: list[int] = field(default_factory=list)  # unfinished when the disk cache was written
    disk: DiskTrialCache | None = None


@dataclass
class _SharedStudies:
    """Trial caches the sources of one storage and access scope share (``open_optuna_source(shared=True)``)."""

    caches: dict[str, _StudyCache] = field(default_factory=dict)
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


_SHARED: SharedRegistry[_SharedStudies] = SharedRegistry(_SharedStudies)


def clear_shared_studies() -> None:
    """Forget every shared trial cache."""
    _SHARED.clear()


class OptunaSource(ABC):
    """Read-only access to the studies of one Optuna storage."""

    def __init__(self, storage: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.storage = storage
        self.timeout = timeout
        self.trial_rows_read = 0  # how many trial records were fetched so far (proves caching)
        self.trial_rows_from_disk = 0  # finished trials taken from the on-disk cache instead
        self.cache_dir: str | None = None  # set: finished trials are also kept on disk across processes
        self._lock = threading.RLock()
        self._caches: dict[str, _StudyCache] = {}
        self._dist_cache: dict[str, BaseDistribution] = {}
        self._checked: set[str] | None = None  # shared caches: studies this source made sure are current

    def share(self, key: tuple) -> None:
        """Use the process-wide trial caches of ``key`` (storage, access scope...): a study another source
        read is reused after one cheap query for new or unfinished trials."""
        shared = _SHARED.get((type(self).__name__, self.storage, *key))
        self._caches, self._dist_cache, self._lock = shared.caches, shared.distributions, shared.lock
        self._checked = set()

    # -- backend hooks ---------------------------------------------------------------------------
    @abstractmethod
    def _list_studies(self) -> pd.DataFrame:
        """One row per study with the STUDY_COLUMNS."""

    @abstractmethod
    def _read_trials(self, study_id: int, after_trial_id: int, also_ids: list[int]) -> RawTrials:
        """Raw records of the trials with ``trial_id > after_trial_id`` or in ``also_ids``."""

    def _system_attrs(self, study_id: int, trial_id: int) -> dict:
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook; file-based sources hold no connections
        """Release connections (the source stays usable; it reconnects on demand)."""

    # -- public API ------------------------------------------------------------------------------
    allowed_studies: frozenset[str] | None = None  # per-user access: only these studies exist (None: all)

    def studies(self) -> pd.DataFrame:
        """Studies with directions, trial counts by state, best value, first start and last update."""
        studies = self._list_studies()
        if self.allowed_studies is not None:
            studies = studies[studies["study_name"].isin(self.allowed_studies)].reset_index(drop=True)
        return studies

    def study_names(self) -> list[str]:
        return list(self.studies()["study_name"])

    def study(self, name: str, refresh: bool = False) -> StudyData:
        """The study's trials; the first call reads all, ``refresh=True`` only new/unfinished ones."""
        with self._lock:
            cache = self._caches.get(name)
            if cache is not None and self._checked is not None and name not in self._checked:
                self._checked.add(name)  # read by another source: fetch only what is new since
                directions = cache.data.directions
                if not self._update(cache) and not refresh:
                    return cache.data  # unchanged: the very frames the other sessions show
            elif cache is None:
                row = self._study_row(name)
                cache = _StudyCache(study_id=int(row["study_id"]), n_objectives=len(row["directions"]))
                directions = list(row["directions"])
                self._load_disk(cache, row)
                self._update(cache)
                self._caches[name] = cache
                if self._checked is not None:
                    self._checked.add(name)
            elif refresh:
                directions = cache.data.directions
                self._update(cache)
            else:
                return cache.data
            trials = combine([*cache.finished, cache.unfinished])
            if trials.empty:
                trials = empty_trials(cache.n_objectives)
            ivs = [f for f in [*cache.finished_iv, cache.unfinished_iv] if f is not None and len(f)]
            intermediate = (pd.concat(ivs, ignore_index=True).sort_values(["number", "step"], kind="stable")
                            .reset_index(drop=True)) if ivs else _empty_intermediate()
            cache.data = StudyData(name=name, directions=directions, trials=trials,
                                   intermediate=intermediate, distributions=dict(cache.distributions))
            return cache.data

    def refresh(self, name: str) -> StudyData:
        """Fetch only the trials that are new or were unfinished at the last read."""
        return self.study(name, refresh=True)

    def trials(self, name: str) -> pd.DataFrame:
        return self.study(name).trials

    def trial_detail(self, name: str, number: int) -> dict:
        """Params, values, attributes, intermediate values, duration and state of one trial."""
        data = self.study(name)
        rows = data.trials[data.trials["number"] == number]
        if rows.empty:
            raise NotFound(f"Study '{name}' has no trial number {number}.",
                           f"choose a trial number between 0 and {len(data.trials) - 1}")
        row = rows.iloc[0]
        iv = data.intermediate[data.intermediate["number"] == number]
        return {
            "number": int(row["number"]),
            "state": row["state"],
            "values": {c: row[c] for c in data.value_columns},
            "params": {p: row[f"params_{p}"] for p in data.param_names if pd.notna(row[f"params_{p}"])},
            "user_attrs": {c[len("user_attrs_"):]: row[c] for c in data.trials.columns
                           if c.startswith("user_attrs_") and _present(row[c])},
            "system_attrs": self._system_attrs(self._caches[name].study_id, int(row["trial_id"])),
            "datetime_start": row["datetime_start"],
            "datetime_complete": row["datetime_complete"],
            "duration": row["duration"],
            "intermediate": iv[["step", "value"]].reset_index(drop=True),
        }

    # -- internals -------------------------------------------------------------------------------
    def _study_row(self, name: str) -> pd.Series:
        studies = self.studies()
        match = studies[studies["study_name"] == name]
        if match.empty:
            known = ", ".join(studies["study_name"].head(10)) or "none"
            raise NotFound(f"Study '{name}' is not in the Optuna storage {self.storage}.",
                           f"choose one of the studies it holds: {known}")
        return match.iloc[0]

    def _load_disk(self, cache: _StudyCache, row: pd.Series) -> None:
        """Start from the finished trials a previous process cached on disk (if any, and still valid)."""
        if not self.cache_dir:
            return
        cache.disk = DiskTrialCache(self.cache_dir, self.storage, cache.study_id)
        n_finished = int(row["n_complete"] + row["n_pruned"] + row["n_fail"])
        cached = cache.disk.load(n_finished, row["datetime_start"])
        if cached is None:
            return
        ids = probe_ids(cached.raw)
        if ids and not same_trials(cached.raw, self._read_trials(cache.study_id, PROBE_ONLY, ids), ids):
            cache.disk.drop()  # another study under the same id, or a rebuilt store
            return
        try:
            frame, iv = assemble(cached.raw, cache.n_objectives, self._dist_cache)
        except (ValueError, KeyError, TypeError, IndexError):
            cache.disk.drop()
            return
        cache.distributions.update(cached.raw.distributions)
        if len(frame):
            cache.finished, cache.finished_iv = [frame], [iv]
            cache.finished_ids = set(int(i) for i in frame["trial_id"])
        cache.max_trial_id, cache.pending_ids = cached.max_trial_id, cached.pending_ids
        self.trial_rows_from_disk += len(frame)

    def _update(self, cache: _StudyCache) -> int:
        """Read new and unfinished trials into ``cache``; how many trial records were read."""
        unfinished_ids = (cache.pending_ids if cache.unfinished is None
                          else [int(i) for i in cache.unfinished["trial_id"]])
        raw = self._read_trials(cache.study_id, cache.max_trial_id, unfinished_ids)
        self.trial_rows_read += len(raw.trials)
        try:
            frame, iv = assemble(raw, cache.n_objectives, self._dist_cache)
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise SourceUnavailable(
                f"The trials of study #{cache.study_id} in {self.storage} could not be read: {error}.",
                "its records are damaged or were written by an incompatible Optuna; the other studies "
                "of the storage can still be opened") from error
        cache.distributions.update(raw.distributions)
        if len(frame):
            cache.max_trial_id = max(cache.max_trial_id, int(frame["trial_id"].max()))
        done = frame["state"].isin(FINISHED_STATES).to_numpy()
        new_finished = frame[done & ~frame["trial_id"].isin(cache.finished_ids).to_numpy()]
        if len(new_finished):
            cache.finished.append(new_finished.reset_index(drop=True))
            cache.finished_ids.update(int(i) for i in new_finished["trial_id"])
            cache.finished_iv.append(iv[iv["trial_id"].isin(new_finished["trial_id"])].reset_index(drop=True))
            if len(cache.finished) > 8:  # keep concatenation cheap for long live sessions
                cache.finished = [combine(cache.finished)]
                cache.finished_iv = [pd.concat(cache.finished_iv, ignore_index=True)]
        cache.unfinished = frame[~done].reset_index(drop=True)
        cache.unfinished_iv = iv[iv["trial_id"].isin(cache.unfinished["trial_id"])].reset_index(drop=True)
        if cache.disk is not None and len(raw.trials):
            cache.disk.save(subset(raw, new_finished["trial_id"]), cache.max_trial_id,
                            [int(i) for i in cache.unfinished["trial_id"]])
        return len(raw.trials)


def _empty_intermediate() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in INTERMEDIATE_COLUMNS})


def _present(value) -> bool:
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def open_optuna_source(storage: str | None, timeout: float = DEFAULT_TIMEOUT,
                       cache_dir: str | None = None, allowed_studies: Collection[str] | None = None,
                       shared: bool = False) -> OptunaSource:
    """The right source for an RDB URL or a journal file; raises typed errors for bad settings.

    With ``cache_dir``, finished trials are also kept on disk, so a new process reads only the others.
    With ``shared``, sources of the same storage and access scope share their trials in memory (served
    sessions: a study is assembled once, not once per session).
    """
    source = _open(storage, timeout)
    source.cache_dir = cache_dir
    source.allowed_studies = None if allowed_studies is None else frozenset(allowed_studies)
    if shared:
        source.share((cache_dir, source.allowed_studies))
    return source


def _open(storage: str | None, timeout: float) -> OptunaSource:
    if not storage:
        raise ConfigError("No Optuna storage is configured.",
                          "set optuna_storage (e.g. sqlite:///optuna.db or a journal file path) in "
                          "workbench.toml, WORKBENCH_OPTUNA_STORAGE or --optuna-storage")
    if "://" in storage:
        from workbench.sources.optuna_rdb import RDBSource

        return RDBSource(storage, timeout=timeout)
    path = Path(storage).expanduser()
    if not path.is_file():
        raise ConfigError(f"The Optuna storage file '{path}' does not exist.",
                          "check optuna_storage: give an existing journal file or sqlite:///<path to .db>")
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        from workbench.sources.optuna_rdb import RDBSource

        return RDBSource(f"sqlite:///{path.resolve()}", timeout=timeout)
    from workbench.sources.optuna_journal import JournalSource

    return JournalSource(str(path.resolve()), timeout=timeout)
