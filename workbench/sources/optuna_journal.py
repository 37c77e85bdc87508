"""Optuna ``JournalStorage`` files, replayed incrementally without ever writing to the file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Generator
from typing import Any

import numpy as np
import pandas as pd
from optuna.distributions import BaseDistribution, distribution_to_json
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import FrozenTrial

from workbench.errors import SourceUnavailable, UntrustedOperation
from workbench.sources.optuna import DEFAULT_TIMEOUT, STUDY_COLUMNS, OptunaSource
from workbench.sources.optuna_frames import STATES, RawTrials, to_utc_naive


class ReadOnlyJournalBackend(JournalFileBackend):
    """A journal file backend that reads (incrementally, from the last log read) and never writes."""

    def __init__(self, file_path: str) -> None:  # no lock object, no file creation
        if not os.path.isfile(file_path):
            raise SourceUnavailable(f"The Optuna journal file '{file_path}' does not exist.",
                                    "check optuna_storage: give the path of an existing JournalStorage file")
        self._file_path = file_path
        self._log_number_offset: dict[int, int] = {0: 0}

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        yield from super().read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        raise UntrustedOperation("The workbench opened this Optuna journal read-only.",
                                 "write to studies from your own optuna code, not through the workbench")


class JournalSource(OptunaSource):
    """A JournalStorage file; each read replays only the log lines appended since the last one."""

    def __init__(self, path: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(path, timeout)
        self._storage: JournalStorage | None = None
        self._json_by_dist: dict[BaseDistribution, str] = {}

    def _journal(self) -> JournalStorage:
        try:
            if self._storage is None:
                self._storage = JournalStorage(ReadOnlyJournalBackend(self.storage))
            return self._storage
        except (ValueError, KeyError, TypeError) as error:
            raise SourceUnavailable(f"The Optuna journal file '{self.storage}' cannot be read: {error}.",
                                    "it is not a JournalStorage file or it is corrupt; point optuna_storage "
                                    "at a journal written by optuna.storages.JournalStorage") from error

    def _frozen(self, study_id: int) -> list[FrozenTrial]:
        storage = self._journal()
        try:
            return storage.get_all_trials(study_id, deepcopy=False)
        except (ValueError, KeyError, TypeError) as error:
            raise SourceUnavailable(f"The Optuna journal file '{self.storage}' cannot be read: {error}.",
                                    "the file may be corrupt; a complete line is needed per log entry") from error

    def _list_studies(self) -> pd.DataFrame:
        storage = self._journal()
        try:
            studies = storage.get_all_studies()
        except (ValueError, KeyError, TypeError) as error:
            raise SourceUnavailable(f"The Optuna journal file '{self.storage}' cannot be read: {error}.",
                                    "it is not a JournalStorage file or it is corrupt") from error
        rows = []
        for study in studies:
            trials = self._frozen(study._study_id)
            counts = {state: 0 for state in STATES}
            for trial in trials:
                counts[trial.state.name] += 1
            directions = tuple(d.name.lower() for d in study.directions)
            best = np.nan
            if len(directions) == 1:
                finite = [t.value for t in trials if t.state.name == "COMPLETE" and t.value is not None
                          and np.isfinite(t.value)]
                if finite:
                    best = max(finite) if directions[0] == "maximize" else min(finite)
            starts = [_utc(t.datetime_start) for t in trials if t.datetime_start]
            ends = [_utc(t.datetime_complete or t.datetime_start) for t in trials if t.datetime_start]
            rows.append([study._study_id, study.study_name, directions, len(trials), counts["COMPLETE"],
                         counts["PRUNED"], counts["FAIL"], counts["RUNNING"], counts["WAITING"], best,
                         to_utc_naive(pd.Series(starts)).min() if starts else pd.NaT,
                         to_utc_naive(pd.Series(ends)).max() if ends else pd.NaT])
        return pd.DataFrame(rows, columns=STUDY_COLUMNS)

    def _read_trials(self, study_id: int, after_trial_id: int, also_ids: list[int]) -> RawTrials:
        also = set(also_ids)
        chosen = [t for t in self._frozen(study_id) if t._trial_id > after_trial_id or t._trial_id in also]
        trials, values, params, attrs, intermediate = [], [], [], [], []
        for t in chosen:
            tid = t._trial_id
            trials.append((tid, t.number, t.state.name, _utc(t.datetime_start), _utc(t.datetime_complete)))
            values.extend((tid, i, v) for i, v in enumerate(t.values or []))
            for name, value in t.params.items():
                dist = t.distributions[name]
                params.append((tid, name, dist.to_internal_repr(value), self._dist_json(dist)))
            attrs.extend((tid, key, _json(value)) for key, value in t.user_attrs.items())
            intermediate.extend((tid, step, value) for step, value in t.intermediate_values.items())
        return RawTrials(
            trials=pd.DataFrame(trials, columns=["trial_id", "number", "state", "datetime_start", "datetime_complete"]),
            values=pd.DataFrame(values, columns=["trial_id", "objective", "value"]),
            params=pd.DataFrame(params, columns=["trial_id", "param_name", "param_value", "distribution_json"]),
            user_attrs=pd.DataFrame(attrs, columns=["trial_id", "key", "value_json"]),
            intermediate=pd.DataFrame(intermediate, columns=["trial_id", "step", "value"]),
        )

    def _system_attrs(self, study_id: int, trial_id: int) -> dict:
        for trial in self._frozen(study_id):
            if trial._trial_id == trial_id:
                return dict(trial.system_attrs)
        return {}

    def _dist_json(self, dist: BaseDistribution) -> str:
        text = self._json_by_dist.get(dist)
        if text is None:
            text = self._json_by_dist[dist] = distribution_to_json(dist)
        return text


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Journal datetimes come back as naive local time; make them aware UTC."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
