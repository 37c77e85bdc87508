"""Finished Optuna trials kept on disk across processes (``<cache_dir>/optuna/<key>/``).

The key is a hash of the storage URL and the study id. The folder holds the *raw* records of finished
trials in chunks (NumPy ``.npz`` files of numbers, datetimes and dictionary-encoded strings, loaded
with ``allow_pickle=False``: nothing is unpickled or executed; no pyarrow import either), and
``manifest.json`` naming the chunks, the highest trial id read and the trials that were unfinished
then (they are read again). Finished trials never change in Optuna, so a new process reads only the
trials that are not cached. A study deleted and re-created gets a new id (a new key); where a
database reuses the id (or the store was rebuilt), the cached trials no longer match the storage's trial
counts and start time, or a probe of three cached trials read back from the storage, and the cache
is dropped. Any unreadable file drops the cache too: the study is then read again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.sources.optuna_frames import RawTrials, to_utc_naive

FORMAT = 1
TABLES = ("trials", "values", "params", "user_attrs", "intermediate")
MAX_CHUNKS = 8  # beyond, the chunks are merged into one
ORPHAN_SECONDS = 600
_DTYPES = {
    "trials": {"trial_id": np.int64, "number": np.int64, "state": str},
    "values": {"trial_id": np.int64, "objective": np.int64, "value": float},
    "params": {"trial_id": np.int64, "param_name": str, "param_value": float, "distribution_json": str},
    "user_attrs": {"trial_id": np.int64, "key": str, "value_json": str},
    "intermediate": {"trial_id": np.int64, "step": np.int64, "value": float},
}


@dataclass
class CachedTrials:
    """What a previous process left: raw finished trials, the highest trial id read, unfinished ids."""

    raw: RawTrials
    max_trial_id: int
    pending_ids: list[int] = field(default_factory=list)


def cache_key(storage: str, study_id: int) -> str:
    return hashlib.sha256(f"{storage}\0{int(study_id)}".encode()).hexdigest()[:32]


def subset(raw: RawTrials, trial_ids) -> RawTrials:
    """The records of ``raw`` that belong to ``trial_ids``."""
    ids = set(int(i) for i in trial_ids)
    pick = {name: getattr(raw, name) for name in TABLES}
    return RawTrials(**{name: frame[frame["trial_id"].astype(np.int64).isin(ids)].reset_index(drop=True)
                        for name, frame in pick.items()})


class DiskTrialCache:
    """The on-disk finished trials of one study of one storage."""

    def __init__(self, cache_dir: str | Path, storage: str, study_id: int) -> None:
        self.folder = Path(cache_dir) / "optuna" / cache_key(storage, study_id)
        self.storage_hash = hashlib.sha256(storage.encode()).hexdigest()
        self.study_id = int(study_id)
        self._chunks: list[str] = []
        self._old_chunks: list[str] = []
        self._n_finished = 0

    # -- reading ---------------------------------------------------------------------------------
    def load(self, n_finished_now: int, first_start_now) -> CachedTrials | None:
        """The cached trials, or None (nothing cached, stale or unreadable: the cache is dropped)."""
        manifest_path = self.folder / "manifest.json"
        if not manifest_path.is_file():
            return None
        try:
            manifest = json.loads(manifest_path.read_text())
            if (manifest.get("format") != FORMAT or manifest.get("storage_hash") != self.storage_hash
                    or manifest.get("study_id") != self.study_id):
                raise ValueError("another format or key")
            chunks = [str(c) for c in manifest["chunks"]]
            raw = RawTrials(**{name: _concat([_read_table(self.folder / f"{c}-{name}.npz") for c in chunks])
                               for name in TABLES})
            if len(raw.trials) != int(manifest["n_finished"]) or not raw.trials["trial_id"].is_unique:
                raise ValueError("chunks do not match the manifest")
            if not _still_valid(raw, n_finished_now, first_start_now):
                raise ValueError("the study in the storage is not the cached one")
            cached = CachedTrials(raw=raw, max_trial_id=int(manifest["max_trial_id"]),
                                  pending_ids=[int(i) for i in manifest["pending_ids"]])
        except Exception:  # noqa: BLE001 - corrupt (pyarrow, JSON...), stale or foreign: read the storage
            self.drop()
            return None
        self._chunks, self._n_finished = chunks, len(raw.trials)
        return cached

    # -- writing ---------------------------------------------------------------------------------
    def save(self, new_finished: RawTrials, max_trial_id: int, pending_ids: list[int]) -> None:
        """Append newly finished trials (if any) and record the read position; failures are ignored."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if len(new_finished.trials):
                self._write_chunk(new_finished)
                self._n_finished += len(new_finished.trials)
                if len(self._chunks) > MAX_CHUNKS:
                    self._merge()
            self._write_manifest(max_trial_id, pending_ids)
        except Exception:  # noqa: BLE001 - a full or read-only disk only costs speed
            return

    def drop(self) -> None:
        """Forget everything cached for this study."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._chunks, self._n_finished = [], 0

    def _write_chunk(self, raw: RawTrials) -> None:
        chunk = uuid.uuid4().hex[:16]
        for name in TABLES:
            _write_table(_normalise(name, getattr(raw, name)), self.folder / f"{chunk}-{name}.npz")
        self._chunks.append(chunk)

    def _merge(self) -> None:
        old = list(self._chunks)
        merged = RawTrials(**{name: _concat([_read_table(self.folder / f"{c}-{name}.npz") for c in old])
                              for name in TABLES})
        self._chunks = []
        self._write_chunk(merged)
        self._old_chunks = old

    def _write_manifest(self, max_trial_id: int, pending_ids: list[int]) -> None:
        manifest = {"format": FORMAT, "storage_hash": self.storage_hash, "study_id": self.study_id,
                    "chunks": self._chunks, "n_finished": self._n_finished, "max_trial_id": int(max_trial_id),
                    "pending_ids": [int(i) for i in pending_ids]}
        temporary = self.folder / f".manifest-{uuid.uuid4().hex[:8]}.tmp"
        temporary.write_text(json.dumps(manifest))
        os.replace(temporary, self.folder / "manifest.json")
        if self._old_chunks:  # merged away: no manifest names them any more
            self._delete(self._old_chunks)
            self._delete(self._orphans())
        self._old_chunks = []

    def _orphans(self) -> list[str]:
        """Chunks no manifest names: left by another process or session whose manifest was replaced
        (older than ORPHAN_SECONDS, so a chunk whose manifest is being written is left alone)."""
        now = time.time()
        return [path.name[: -len("-trials.npz")] for path in self.folder.glob("*-trials.npz")
                if path.name[: -len("-trials.npz")] not in self._chunks
                and now - path.stat().st_mtime > ORPHAN_SECONDS]

    def _delete(self, chunks: list[str]) -> None:
        for chunk in chunks:
            for name in TABLES:
                (self.folder / f"{chunk}-{name}.npz").unlink(missing_ok=True)


def probe_ids(raw: RawTrials) -> list[int]:
    """A few cached trials (first, middle, last) to compare with the storage before trusting the cache."""
    ids = sorted(int(i) for i in raw.trials["trial_id"])
    return sorted({ids[0], ids[len(ids) // 2], ids[-1]}) if ids else []


def same_trials(cached: RawTrials, probe: RawTrials, ids: list[int]) -> bool:
    """The storage's records of ``ids`` (``probe``) equal the cached ones: number, state, start, values."""
    def rows(raw: RawTrials) -> tuple:
        trials = _normalise("trials", subset(raw, ids).trials).sort_values("trial_id")
        values = _normalise("values", subset(raw, ids).values).sort_values(["trial_id", "objective"])
        return (trials[["trial_id", "number", "state", "datetime_start"]].astype(str).to_numpy().tolist(),
                np.round(values["value"].to_numpy(dtype=float), 12).tolist())

    try:
        return rows(cached) == rows(probe)
    except (KeyError, ValueError, TypeError):
        return False


def _still_valid(raw: RawTrials, n_finished_now: int, first_start_now) -> bool:
    """The storage's study can hold the cached trials: as many finished ones at least, none started later."""
    if len(raw.trials) > n_finished_now:
        return False
    if not len(raw.trials):
        return True
    cached_first = raw.trials["datetime_start"].dropna().min()
    if pd.isna(first_start_now) or pd.isna(cached_first):
        return pd.isna(first_start_now) == pd.isna(cached_first)
    return pd.Timestamp(first_start_now) <= pd.Timestamp(cached_first)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)


def _normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed column types (so every chunk has the same Parquet schema); datetimes as naive UTC."""
    out = pd.DataFrame({column: frame[column].astype(dtype).to_numpy() if len(frame) else
                        pd.Series(dtype=dtype if dtype is not str else object)
                        for column, dtype in _DTYPES[name].items()})
    if name == "trials":
        out["datetime_start"] = to_utc_naive(frame["datetime_start"]).to_numpy() if len(frame) else \
            pd.Series(dtype="datetime64[us]")
        out["datetime_complete"] = to_utc_naive(frame["datetime_complete"]).to_numpy() if len(frame) else \
            pd.Series(dtype="datetime64[us]")
    return out


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """One table as ``.npz``: numeric and datetime columns as they are, strings as codes + categories."""
    arrays: dict[str, np.ndarray] = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            codes, categories = pd.factorize(values, use_na_sentinel=True)
            arrays[f"{column}.codes"] = codes.astype(np.int32)
            arrays[f"{column}.categories"] = np.asarray(categories, dtype=str)
        else:
            arrays[column] = values.to_numpy()
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(temporary, path)


def _read_table(path: Path) -> pd.DataFrame:
    columns: dict[str, np.ndarray] = {}
    with np.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            if key.endswith(".categories"):
                continue
            if key.endswith(".codes"):
                name = key[: -len(".codes")]
                codes = archive[key]
                categories = archive[f"{name}.categories"].astype(object)
                values = np.empty(len(codes), dtype=object)
                values[codes >= 0] = categories[codes[codes >= 0]]
                columns[name] = values
            else:
                columns[key] = archive[key]
    return pd.DataFrame(columns)
