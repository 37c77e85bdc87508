"""Hyperparameter importances via ``optuna.importance`` on an in-memory copy of the trials."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

PARAM_PREFIX = "params_"

COPY_NAME = "workbench-copy"


class _HideCopyCreation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return COPY_NAME not in record.getMessage()


logging.getLogger("optuna.storages._in_memory").addFilter(_HideCopyCreation())

class _SharedTrialsStorage(optuna.storages.InMemoryStorage):
    """An in-memory storage that keeps the given (freshly built) trials instead of deep-copying them."""

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is None:
            return super().create_new_trial(study_id)
        with self._lock:
            self._check_study_id(study_id)
            trial = copy.copy(template_trial)
            self._max_trial_id += 1
            trial.number = len(self._studies[study_id].trials)
            trial._trial_id = self._max_trial_id
            self._trial_id_to_study_id_and_number[trial._trial_id] = (study_id, trial.number)
            self._studies[study_id].trials.append(trial)
            self._update_cache(trial._trial_id, study_id)
            return trial._trial_id


EVALUATORS = {
    "ped-anova": optuna.importance.PedAnovaImportanceEvaluator,
    "fanova": optuna.importance.FanovaImportanceEvaluator,
    "mean-decrease-impurity": optuna.importance.MeanDecreaseImpurityImportanceEvaluator,
}


def in_memory_study(trials: pd.DataFrame, distributions: Mapping[str, BaseDistribution],
                    directions: Sequence[str], value_columns: Sequence[str]) -> optuna.Study:
    """An in-memory Study holding the COMPLETE trials of the frame (params with known distributions)."""
    storage = _SharedTrialsStorage()
    storage.create_new_study([StudyDirection[d.upper()] for d in directions], study_name=COPY_NAME)
    study = optuna.Study(study_name=COPY_NAME, storage=storage)
    done = trials[trials["state"] == "COMPLETE"] if "state" in trials else trials.iloc[0:0]
    if done.empty or not set(value_columns) <= set(done.columns):
        return study
    frozen = []
    names = [n for n in distributions if f"{PARAM_PREFIX}{n}" in done]
    columns = {n: done[f"{PARAM_PREFIX}{n}"].to_numpy(dtype=object) for n in names}
    values = done[list(value_columns)].to_numpy(dtype=float)
    for i in range(len(done)):
        params, dists = {}, {}
        for name in names:
            value = columns[name][i]
            dist = distributions[name]
            if isinstance(value, float) and np.isnan(value):
                continue  # the trial did not suggest this parameter
            if value is None and not (isinstance(dist, optuna.distributions.CategoricalDistribution)
                                      and None in dist.choices):
                continue
            try:
                dist.to_internal_repr(value)
            except (ValueError, TypeError):
                continue  # a value outside the latest distribution (search space changed)
            if not dist._contains(dist.to_internal_repr(value)):
                continue
            params[name], dists[name] = _cast(dist, value), dist
        if not np.all(np.isfinite(values[i])):
            continue
        frozen.append(FrozenTrial(number=-1, trial_id=-1, state=TrialState.COMPLETE, value=None,
                                  values=list(values[i]), datetime_start=None, datetime_complete=None,
                                  params=params, distributions=dists, user_attrs={}, system_attrs={},
                                  intermediate_values={}))
    study_id = storage.get_study_id_from_name(COPY_NAME)
    for trial in frozen:  # already valid: values and params come from a storage
        storage.create_new_trial(study_id, template_trial=trial)
    return study


def _cast(dist: BaseDistribution, value):
    if isinstance(dist, optuna.distributions.IntDistribution):
        return int(value)
    if isinstance(dist, optuna.distributions.FloatDistribution):
        return float(value)
    return value


def param_importances(trials: pd.DataFrame, distributions: Mapping[str, BaseDistribution],
                      directions: Sequence[str], value_columns: Sequence[str], objective: int = 0,
                      evaluator: str = "ped-anova", seed: int = 0, max_trials: int | None = None) -> pd.Series:
    """Normalised importances per parameter (descending) for one objective; empty if too few trials.

    With ``max_trials``, larger studies are evaluated on a seeded random sample of their completed
    trials (the result's ``attrs["sampled"]`` then says how many).
    """
    done = trials[trials["state"] == "COMPLETE"] if "state" in trials else trials
    sampled = None
    if max_trials is not None and len(done) > max_trials:
        done = done.sample(n=max_trials, random_state=seed).sort_values("number")
        sampled = max_trials
    study = in_memory_study(done, distributions, directions, value_columns)
    if len(study.trials) < 2:
        return pd.Series(dtype=float, name="importance")
    kwargs = {"seed": seed} if evaluator in ("fanova", "mean-decrease-impurity") else {}
    target = None if len(directions) == 1 else (lambda t: t.values[objective])
    if len(directions) > 1 and evaluator == "ped-anova":
        # PED-ANOVA looks at the top quantile by the study's direction, which a target cannot express.
        evaluator = "fanova"
        kwargs = {"seed": seed}
    result = optuna.importance.get_param_importances(study, evaluator=EVALUATORS[evaluator](**kwargs),
                                                     target=target)
    series = pd.Series(result, name="importance", dtype=float).sort_values(ascending=False)
    series.attrs["sampled"] = sampled
    return series
