"""Per-user access enforced below the views: the sources built from a narrowed config never return
another user's experiments, runs, studies, datasets or lineage links (demo workspace, headless)."""

from __future__ import annotations

import pytest
from access_rules import DEMO_ACCESS

from workbench.access import AccessPolicy, narrow
from workbench.errors import NotFound
from workbench.sources.dvc import DvcSource
from workbench.sources.lineage import LineageSource
from workbench.sources.mlflow import MlflowSource, ensure_model_allowed
from workbench.sources.optuna import open_optuna_source

ACCESS = DEMO_ACCESS


@pytest.fixture(scope="module")
def configs(demo_config):
    config = demo_config.with_overrides(access=ACCESS)
    policy = AccessPolicy.from_table(ACCESS)
    return {user: narrow(config, policy, user) for user in ("alice", "bob", "mallory")}


def test_mlflow_lists_and_looks_up_only_allowed_runs(configs, demo_config) -> None:
    everything = MlflowSource.from_config(demo_config)
    all_runs = everything.runs()
    tuning_ids = set(all_runs.loc[all_runs["experiment"] == "cancer-tuning", "run_id"])
    alice = MlflowSource.from_config(configs["alice"])
    assert alice.experiments()["name"].tolist() == ["cancer-baselines"]
    assert set(alice.runs()["experiment"]) == {"cancer-baselines"}
    tuning_experiment = everything.experiment_ids(["cancer-tuning"])
    assert alice.runs(tuning_experiment).empty  # asking by id does not help
    with pytest.raises(NotFound):
        alice.experiment_ids(["cancer-tuning"])
    stolen = sorted(tuning_ids)[:3]
    assert alice.metric_history(stolen, ["accuracy", "val_accuracy"]).empty
    with pytest.raises(NotFound):
        alice.list_artifacts(stolen[0])
    with pytest.raises(NotFound, match="your account"):
        ensure_model_allowed(configs["alice"], demo_config.model)  # the best model is a tuning run
    ensure_model_allowed(configs["bob"], demo_config.model)
    with pytest.raises(NotFound, match="may see no experiment"):
        MlflowSource.from_config(configs["mallory"]).experiment_ids()


def test_optuna_and_dvc_hide_other_items(configs, demo_config) -> None:
    alice = open_optuna_source(demo_config.optuna_storage, allowed_studies=configs["alice"].scope.studies)
    assert alice.study_names() == ["cancer-accuracy-vs-size"]
    with pytest.raises(NotFound):
        alice.study("cancer-gb-tuning")
    assert configs["alice"].study_name is None  # the configured first study is not hers
    bob_dvc = DvcSource(demo_config.dvc_repo, allowed_datasets=configs["bob"].scope.datasets)
    assert bob_dvc.datasets() == []
    for read in (lambda: bob_dvc.history("data/cancer.csv"), lambda: bob_dvc.preview("data/cancer.csv", "v1"),
                 lambda: bob_dvc.default_dataset()):
        with pytest.raises(NotFound):
            read()
    alice_dvc = DvcSource(demo_config.dvc_repo, allowed_datasets=configs["alice"].scope.datasets)
    assert alice_dvc.datasets() == ["data/cancer.csv"]


def test_lineage_links_stop_at_the_scope(configs, demo_config) -> None:
    runs = MlflowSource.from_config(demo_config).runs()
    baseline = runs.loc[runs["experiment"] == "cancer-baselines", "run_id"].iloc[0]
    tuned = runs.loc[runs["experiment"] == "cancer-tuning", "run_id"].iloc[0]
    bob = LineageSource(configs["bob"])
    with pytest.raises(NotFound):
        bob.run_lineage(baseline)
    lineage = bob.run_lineage(tuned)
    assert not lineage.data.ok  # the dataset is not bob's: no link to its versions
    alice = LineageSource(configs["alice"])
    with pytest.raises(NotFound):
        alice.run_lineage(tuned)
    assert alice.trial_runs("cancer-gb-tuning").runs.empty
