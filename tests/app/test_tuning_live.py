"""A study written by two worker processes while the dashboard refreshes; a worker killed with kill -9."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import optuna
import pandas as pd
import pytest

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig

optuna.logging.set_verbosity(optuna.logging.ERROR)

WORKER = textwrap.dedent("""
    import os, signal, sys, optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url, seed, n, die = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "die"
    study = optuna.load_study(study_name="shared", storage=url, sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 0.5) ** 2, n_trials=n)
    if die:
        trial = study.ask()
        trial.suggest_float("x", -2, 2)
        os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.slow
def test_two_workers_write_while_the_dashboard_refreshes(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    optuna.create_study(study_name="shared", storage=url)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=url))
    dashboard, source = page.dashboard, page.source
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(seed), "25", die])
               for seed, die in ((1, "live"), (2, "die"))]
    refreshes = 0
    while any(w.poll() is None for w in workers) or refreshes == 0:
        dashboard.refresh()
        refreshes += 1
        assert not dashboard._status.objects, dashboard._status.objects  # no "database is locked" banner
    assert [w.returncode for w in workers] == [0, -9]
    dashboard.refresh()
    trials = dashboard.data.trials
    assert len(trials) == 51
    assert (trials["state"] == "COMPLETE").sum() == 50
    [killed] = trials[trials["state"] == "RUNNING"].itertuples()  # the trial of the worker killed with -9
    assert killed.datetime_complete is pd.NaT and killed.value != killed.value  # no end, no value (NaN)
    reference = optuna.load_study(study_name="shared", storage=url)
    assert dashboard.data.trials["value"].min() == pytest.approx(reference.best_value)
    # Every finished trial was read once; only trials unfinished at a refresh were read again.
    assert source.trial_rows_read < 51 + 3 * (refreshes + 1)
    assert "running: 1" in dashboard._summary.object
