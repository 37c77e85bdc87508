"""The targets.md tuning workload: N trials × 8 params (float, log-float, int, categorical) in SQLite.

Optuna writes the study, its directions and the first trial (so the schema and the distribution JSON
are Optuna's own); the other trials are bulk-inserted as the same rows, because ``add_trials`` needs
~20 ms per trial on this machine. ``check_workload`` loads the result back through Optuna.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np
import optuna
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
)
from optuna.trial import TrialState, create_trial

STUDY = "bench-10k"
DISTRIBUTIONS = {
    "x0": FloatDistribution(-5, 5), "x1": FloatDistribution(-5, 5), "x2": FloatDistribution(0, 1),
    "lr": FloatDistribution(1e-5, 1, log=True), "reg": FloatDistribution(1e-6, 10, log=True),
    "depth": IntDistribution(1, 16), "units": IntDistribution(8, 512, log=True),
    "booster": CategoricalDistribution(["gbtree", "dart", "gblinear", "linear"]),
}
STEPS = 5


def _sample(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "x0": rng.uniform(-5, 5, n), "x1": rng.uniform(-5, 5, n), "x2": rng.uniform(0, 1, n),
        "lr": 10 ** rng.uniform(-5, 0, n), "reg": 10 ** rng.uniform(-6, 1, n),
        "depth": rng.integers(1, 17, n).astype(float), "units": np.round(2 ** rng.uniform(3, 9, n)).clip(8, 512),
        "booster": rng.integers(0, 4, n).astype(float),  # internal repr: index of the choice
    }


def _objective(p: dict[str, np.ndarray]) -> np.ndarray:
    return ((p["x0"] - 1) ** 2 + (p["x1"] + 2) ** 2 + p["x2"] + np.abs(np.log10(p["lr"]) + 2)
            + 0.05 * p["depth"] + 0.3 * p["booster"])


def build_workload(path: Path, trials: int, seed: int = 0) -> str:
    """Write the workload study into ``path`` (an SQLite file) and return its URL."""
    path = Path(path)
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    rng = np.random.default_rng(seed)
    params = _sample(rng, trials)
    values = _objective(params)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name=STUDY, storage=url)
    first = {name: DISTRIBUTIONS[name].to_external_repr(params[name][0]) for name in DISTRIBUTIONS}
    study.add_trial(create_trial(value=float(values[0]), params=first, distributions=DISTRIBUTIONS,
                                 intermediate_values={s: float(values[0]) + STEPS - s for s in range(STEPS)}))
    states = np.where(np.arange(trials) % 20 == 19, "FAIL", np.where(np.arange(trials) % 10 == 9, "PRUNED", "COMPLETE"))
    start = dt.datetime(2026, 11, 1)
    with sqlite3.connect(path) as db:
        study_id, first_id = db.execute("SELECT study_id, trial_id FROM trials").fetchone()
        json_of = {name: distribution_to_json(d) for name, d in DISTRIBUTIONS.items()}
        trial_rows = []
        for i in range(1, trials):
            begin = start + dt.timedelta(seconds=3 * i)
            trial_rows.append((first_id + i, i, study_id, states[i], str(begin), str(begin + dt.timedelta(seconds=2))))
        db.executemany("INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) "
                       "VALUES (?, ?, ?, ?, ?, ?)", trial_rows)
        db.executemany("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
                       "VALUES (?, ?, ?, ?)",
                       [(first_id + i, name, float(params[name][i]), json_of[name])
                        for i in range(1, trials) for name in DISTRIBUTIONS])
        db.executemany("INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, 'FINITE')",
                       [(first_id + i, float(values[i])) for i in range(1, trials) if states[i] == "COMPLETE"])
        db.executemany("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
                       "intermediate_value_type) VALUES (?, ?, ?, 'FINITE')",
                       [(first_id + i, s, float(values[i]) + STEPS - s) for i in range(1, trials)
                        if states[i] != "FAIL" for s in range(STEPS if states[i] == "COMPLETE" else 2)])
    return url


def check_workload(url: str, trials: int) -> optuna.Study:
    """Load the study through Optuna: it must see every trial with its params."""
    study = optuna.load_study(study_name=STUDY, storage=url)
    loaded = study.get_trials(deepcopy=False)
    assert len(loaded) == trials, (len(loaded), trials)
    assert set(loaded[-1].params) == set(DISTRIBUTIONS) and loaded[-1].state in (TrialState.FAIL, TrialState.COMPLETE,
                                                                                    TrialState.PRUNED)
    return study
