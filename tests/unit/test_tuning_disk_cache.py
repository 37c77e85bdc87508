"""Finished trials cached on disk across processes: a new process reads only the trials not cached."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import textwrap
import time

import optuna
import pandas as pd
import pytest
from helpers import snapshot
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

from workbench.sources.optuna import open_optuna_source

optuna.logging.set_verbosity(optuna.logging.ERROR)

FIRST_PROCESS = textwrap.dedent("""
    import json, sys
    from workbench.sources.optuna import open_optuna_source
    source = open_optuna_source(sys.argv[1], cache_dir=sys.argv[2])
    data = source.study("cached")
    print(json.dumps({"read": source.trial_rows_read, "from_disk": source.trial_rows_from_disk,
                      "n": len(data.trials)}))
""")


def _storage(tmp_path, kind: str):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'optuna.db'}"
        return url, url, tmp_path / "optuna.db"
    path = tmp_path / "journal.log"
    return JournalStorage(JournalFileBackend(str(path))), str(path), path


def _grow(study: optuna.Study, n: int, seed: int) -> None:
    study.sampler = optuna.samplers.RandomSampler(seed=seed)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -3, 3)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        for step in range(3):
            trial.report(x * x + step, step)
        if trial.number % 7 == 3:
            raise optuna.TrialPruned()
        return x * x + (kind == "b")

    study.optimize(objective, n_trials=n)


def _uncached(storage: str, name: str) -> pd.DataFrame:
    return open_optuna_source(storage).study(name).trials


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_new_process_reads_only_trials_not_cached(tmp_path, kind):
    writer, storage, path = _storage(tmp_path, kind)
    study = optuna.create_study(study_name="cached", storage=writer)
    _grow(study, 30, seed=0)
    running = study.ask()  # unfinished when the first process caches: it must be read again later
    running.suggest_float("x", -3, 3)
    cache_dir = tmp_path / "cache"

    first = subprocess.run([sys.executable, "-c", FIRST_PROCESS, storage, str(cache_dir)],
                           capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(first.stdout) == {"read": 31, "from_disk": 0, "n": 31}

    study.tell(running, 0.5)  # the running trial finishes, and 5 new ones arrive
    _grow(study, 5, seed=1)
    before = snapshot(path)
    source = open_optuna_source(storage, cache_dir=str(cache_dir))
    data = source.study("cached")
    assert source.trial_rows_from_disk == 30
    assert source.trial_rows_read == 1 + 5  # the formerly running trial and the new ones only
    pd.testing.assert_frame_equal(data.trials, _uncached(storage, "cached"))
    assert len(data.intermediate) == len(open_optuna_source(storage).study("cached").intermediate)
    assert data.distributions.keys() == {"x", "kind"}

    third = open_optuna_source(storage, cache_dir=str(cache_dir))  # everything is now finished and cached
    pd.testing.assert_frame_equal(third.study("cached").trials, data.trials)
    assert (third.trial_rows_read, third.trial_rows_from_disk) == (0, 36)
    assert snapshot(path) == before  # the readers never write to the storage


def test_a_recreated_study_is_not_mixed_with_the_cached_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    cache_dir = str(tmp_path / "cache")
    first = optuna.create_study(study_name="cached", storage=url)
    _grow(first, 20, seed=0)
    assert len(open_optuna_source(url, cache_dir=cache_dir).study("cached").trials) == 20
    optuna.delete_study(study_name="cached", storage=url)
    again = optuna.create_study(study_name="cached", storage=url)  # SQLite hands out the same study id
    _grow(again, 8, seed=5)
    assert again._study_id == first._study_id  # same key: only the validation can tell them apart
    source = open_optuna_source(url, cache_dir=cache_dir)
    trials = source.study("cached").trials
    pd.testing.assert_frame_equal(trials, _uncached(url, "cached"))
    assert len(trials) == 8 and source.trial_rows_from_disk == 0


@pytest.mark.parametrize("damage", ["manifest", "chunk", "missing chunk"])
def test_a_damaged_cache_is_dropped_and_the_study_read_again(tmp_path, damage):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    cache_dir = tmp_path / "cache"
    _grow(optuna.create_study(study_name="cached", storage=url), 12, seed=0)
    open_optuna_source(url, cache_dir=str(cache_dir)).study("cached")
    [folder] = (cache_dir / "optuna").iterdir()
    chunk = next(folder.glob("*-trials.npz"))
    if damage == "manifest":
        (folder / "manifest.json").write_text("{not json")
    elif damage == "chunk":
        chunk.write_bytes(chunk.read_bytes()[:40])
    else:
        chunk.unlink()
    source = open_optuna_source(url, cache_dir=str(cache_dir))
    pd.testing.assert_frame_equal(source.study("cached").trials, _uncached(url, "cached"))
    assert (source.trial_rows_read, source.trial_rows_from_disk) == (12, 0)
    healed = open_optuna_source(url, cache_dir=str(cache_dir))  # the re-read was cached again
    healed.study("cached")
    assert (healed.trial_rows_read, healed.trial_rows_from_disk) == (0, 12)


def test_live_refreshes_extend_the_disk_cache_in_few_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    cache_dir = tmp_path / "cache"
    study = optuna.create_study(study_name="cached", storage=url)
    source = open_optuna_source(url, cache_dir=str(cache_dir))
    source.study("cached")
    _grow(study, 1, seed=99)
    other = open_optuna_source(url, cache_dir=str(cache_dir))  # another session writes its own chunk,
    other.study("cached")  # then this one's manifest replaces the other's: that chunk is an orphan
    [folder] = (cache_dir / "optuna").iterdir()
    for orphan in folder.glob("*.npz"):
        os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    for round_ in range(12):  # more refreshes than chunks kept: they are merged
        _grow(study, 2, seed=round_)
        source.refresh("cached")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["n_finished"] == 25 and len(manifest["chunks"]) <= 8
    assert len(list(folder.glob("*.npz"))) == 5 * len(manifest["chunks"])  # merged chunks and orphans deleted
    fresh = open_optuna_source(url, cache_dir=str(cache_dir))
    pd.testing.assert_frame_equal(fresh.study("cached").trials, _uncached(url, "cached"))
    assert fresh.trial_rows_read == 0
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)


def _fixed_time_store(path, values: list[float]) -> str:
    """A store whose trials carry fixed start times (as a deterministic rebuild would write them)."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    study = optuna.create_study(study_name="cached", storage=url)
    start = datetime.datetime(2026, 11, 1, 12, 0)
    dist = {"x": optuna.distributions.FloatDistribution(0, 10)}
    for i, value in enumerate(values):
        begin = start + datetime.timedelta(minutes=i)
        study.add_trial(optuna.trial.FrozenTrial(
            number=i, state=TrialState.COMPLETE, value=value, datetime_start=begin,
            datetime_complete=begin + datetime.timedelta(seconds=30), params={"x": value}, distributions=dist,
            user_attrs={}, system_attrs={}, intermediate_values={}, trial_id=i))
    return url


def test_a_rebuilt_store_with_the_same_ids_and_times_is_read_afresh(tmp_path):
    cache_dir = str(tmp_path / "cache")
    url = _fixed_time_store(tmp_path / "optuna.db", [1.0, 2.0, 3.0, 4.0])
    assert list(open_optuna_source(url, cache_dir=cache_dir).study("cached").trials["value"]) == [1, 2, 3, 4]
    url = _fixed_time_store(tmp_path / "optuna.db", [5.0, 6.0, 7.0, 8.0])  # same ids, counts and times
    source = open_optuna_source(url, cache_dir=cache_dir)
    assert list(source.study("cached").trials["value"]) == [5, 6, 7, 8]
    assert source.trial_rows_from_disk == 0
