"""log_run_context() in a real training script (fresh git+DVC repo, SQLite MLflow store, Optuna SQLite
study), then LineageSource resolving what it recorded — read-only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from helpers import snapshot

from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError
from workbench.lineage import data_context, log_run_context
from workbench.sources.dvc_build import RepoBuilder
from workbench.sources.lineage import ABSENT, LINKED, MISSING, LineageSource

pytestmark = pytest.mark.slow  # one real training script: MLflow + Optuna stores created from scratch

SCRIPT = textwrap.dedent("""
    import sys
    import mlflow, optuna, pandas as pd
    from sklearn.linear_model import LogisticRegression
    from workbench.lineage import log_run_context

    tracking, storage, artifacts = sys.argv[1:4]
    mlflow.set_tracking_uri(tracking)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("fresh", artifact_location=artifacts))
    data = pd.read_csv("data/train.csv")
    X, y = data[["x1", "x2"]], data["y"]

    def objective(trial):
        C = trial.suggest_float("C", 0.1, 10.0, log=True)
        with mlflow.start_run(run_name=f"trial-{trial.number}"):
            log_run_context("data/train.csv", trial=trial, data=data)
            model = LogisticRegression(C=C).fit(X, y)
            mlflow.log_metric("accuracy", model.score(X, y))
            if trial.number == 0:
                mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle")
            return model.score(X, y)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="fresh-study", storage=storage, direction="maximize")
    study.optimize(objective, n_trials=2)
    with mlflow.start_run(run_name="no <b>lineage</b>"):
        mlflow.log_metric("accuracy", 0.5)
    with mlflow.start_run(run_name="input only") as run:  # tags lost: the dataset input still says it all
        log_run_context("data/train.csv")
        for key in ("path", "version", "git_commit", "dvc_md5"):
            mlflow.MlflowClient().delete_tag(run.info.run_id, "workbench.data." + key)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("fresh-study", artifact_location=artifacts))
    with mlflow.start_run(run_name="1"):  # what optuna_integration's MLflowCallback logs for trial 1
        mlflow.set_tags({"number": "1", "direction": "MAXIMIZE"})
    with mlflow.start_run(run_name="broken"):
        mlflow.set_tags({"workbench.data.path": "data/train.csv", "workbench.data.git_commit": "0" * 40,
                         "workbench.data.dvc_md5": "f" * 32, "optuna.study_name": "gone",
                         "optuna.trial_number": "3"})
""")


def _frame(n: int, shift: int) -> pd.DataFrame:
    return pd.DataFrame({"x1": [(i * 7 + shift) % 11 for i in range(n)], "x2": [(i * 3) % 5 for i in range(n)],
                         "y": [(i + shift) % 2 for i in range(n)]})


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("lineage")
    root = base / "repo"
    builder = RepoBuilder(root)
    first = builder.version("data/train.csv", _frame(40, 0), "First data", tag="v1")
    second = builder.version("data/train.csv", _frame(60, 1), "More rows", tag="v2")
    builder.push()
    builder.close()
    tracking, storage = f"sqlite:///{base / 'mlflow.db'}", f"sqlite:///{base / 'optuna.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking, "GIT_PYTHON_REFRESH": "quiet"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, tracking, storage, str(base / "artifacts")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    config = WorkbenchConfig(tracking_uri=tracking, optuna_storage=storage, dvc_repo=str(root),
                             dvc_path="data/train.csv", experiments=["fresh", "fresh-study"])
    source = LineageSource(config)
    runs = source.runs()
    before = {name: snapshot(base / name) for name in ("repo", "mlflow.db", "optuna.db", "artifacts")}
    return {"base": base, "root": root, "source": source, "config": config, "first": first, "second": second,
            "by_name": dict(zip(runs["run_name"], runs["run_id"], strict=True)), "before": before}


def test_helper_runs_resolve_every_link(fresh):
    source, by_name = fresh["source"], fresh["by_name"]
    lineage = source.run_lineage(by_name["trial-0"])
    assert lineage.data.status == LINKED
    assert lineage.data.target["version"] == "v2"
    assert lineage.data.target["commit"] == fresh["second"]
    assert lineage.data.target["stored"] == "cache"
    assert lineage.data.target["rows"] == 60
    assert lineage.trial.status == LINKED
    assert lineage.trial.target == {"study": "fresh-study", "number": 0, "state": "COMPLETE",
                                    "trial_run_id": by_name["trial-0"]}
    assert lineage.model.status == LINKED and lineage.model.target["uri"] == f"runs:/{by_name['trial-0']}/model"
    assert lineage.model.blocked  # untrusted by default: the model is found but not loaded
    assert lineage.explanation.status == ABSENT and "trusted" in lineage.explanation.reason
    second = source.run_lineage(by_name["trial-1"])
    assert second.data.ok and second.trial.ok and second.trial.target["number"] == 1
    assert second.model.status == ABSENT and "log_model" in second.model.reason


def test_helper_logs_a_dataset_input_with_the_dvc_md5(fresh):
    from mlflow import MlflowClient

    md5 = fresh["source"].run_lineage(fresh["by_name"]["trial-0"]).data.target["md5"]
    run = MlflowClient(fresh["config"].tracking_uri).get_run(fresh["by_name"]["trial-0"])
    inputs = run.inputs.dataset_inputs
    assert [item.dataset.name for item in inputs] == ["data/train.csv"]
    assert inputs[0].dataset.digest == md5
    assert {tag.key: tag.value for tag in inputs[0].tags}["workbench.data.version"] == "v2"
    assert "x1" in (inputs[0].dataset.schema or "")


def test_trial_and_version_lookups_find_the_helper_runs(fresh):
    source, by_name = fresh["source"], fresh["by_name"]
    assert set(source.trial_runs("fresh-study", 1).runs["run_id"]) == {by_name["trial-1"], by_name["1"]}
    assert source.trial_runs("fresh-study", 0).runs["run_id"].tolist() == [by_name["trial-0"]]
    assert set(source.trial_runs("fresh-study").runs["run_id"]) == {by_name[n] for n in ("trial-0", "trial-1", "1")}
    on_v2 = source.version_runs("v2")
    assert set(on_v2.runs["run_id"]) == {by_name["trial-0"], by_name["trial-1"], by_name["input only"]}
    assert not on_v2.reason
    on_v1 = source.version_runs(fresh["first"])
    assert on_v1.runs.empty and "No run" in on_v1.reason


def test_dataset_inputs_and_callback_tags_are_fallbacks(fresh):
    source, by_name = fresh["source"], fresh["by_name"]
    runs = source.runs().set_index("run_id")
    assert pd.isna(runs.loc[by_name["input only"], "tags.workbench.data.dvc_md5"])
    from_input = source.run_lineage(by_name["input only"]).data
    assert from_input.status == LINKED and from_input.target["version"] == "v2"
    from_callback = source.run_lineage(by_name["1"]).trial
    assert from_callback.status == LINKED and from_callback.target["number"] == 1


def test_a_run_without_lineage_gets_reasons_not_errors(fresh):
    lineage = fresh["source"].run_lineage(fresh["by_name"]["no <b>lineage</b>"])
    assert [link.status for link in lineage.links().values()] == [ABSENT] * 4
    assert all(link.reason and not link.followable for link in lineage.links().values())
    assert "log_run_context" in lineage.data.reason


def test_recorded_but_unresolvable_links_say_why(fresh):
    lineage = fresh["source"].run_lineage(fresh["by_name"]["broken"])
    assert lineage.data.status == MISSING and "0000000000" in lineage.data.reason
    assert lineage.trial.status == MISSING and "'gone'" in lineage.trial.reason
    assert {link.kind for link in lineage.broken} == {"data", "trial"}


def test_unreachable_stores_become_reasons(fresh):
    config = fresh["config"]
    broken = LineageSource(WorkbenchConfig(tracking_uri=config.tracking_uri, experiments=["fresh"],
                                           optuna_storage=f"sqlite:///{fresh['base'] / 'nope.db'}",
                                           dvc_repo=str(fresh["base"] / "nowhere")))
    lineage = broken.run_lineage(fresh["by_name"]["trial-0"])
    assert lineage.data.status == MISSING and "does not exist" in lineage.data.reason
    assert lineage.trial.status == MISSING and "Optuna storage" in lineage.trial.reason
    assert broken.version_runs("v2").reason


def test_stores_are_unchanged_by_resolving(fresh):
    fresh["source"].lineage_table()
    after = {name: snapshot(fresh["base"] / name) for name in ("repo", "mlflow.db", "optuna.db", "artifacts")}
    assert after == fresh["before"]


def test_data_context_reads_the_workspace_record(fresh):
    found = data_context(fresh["root"] / "data" / "train.csv")
    assert (found.version, found.commit, found.uncommitted) == ("v2", fresh["second"], False)
    assert found.tags()["workbench.data.dvc_md5"] == found.md5


def test_helper_refuses_without_a_run_or_outside_a_repo(fresh, tmp_path):
    with pytest.raises(ConfigError, match="active MLflow run"):
        log_run_context(fresh["root"] / "data" / "train.csv")
    (tmp_path / "plain.csv").write_text("a\n1\n")
    with pytest.raises(ConfigError, match="not inside a DVC repository"):
        data_context(tmp_path / "plain.csv")


def test_refresh_sees_runs_logged_since(fresh, tmp_path):
    import shutil

    from mlflow import MlflowClient

    shutil.copy(fresh["base"] / "mlflow.db", tmp_path / "mlflow.db")
    config = fresh["config"]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    source = LineageSource(WorkbenchConfig(tracking_uri=uri, optuna_storage=config.optuna_storage,
                                           dvc_repo=config.dvc_repo, dvc_path=config.dvc_path,
                                           experiments=["fresh"]))
    before = len(source.runs())
    trial_0 = source.run_lineage(fresh["by_name"]["trial-0"])
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("fresh").experiment_id
    run = client.create_run(experiment, run_name="later", tags={
        key: trial_0.data.target[field] for key, field in (("workbench.data.dvc_md5", "md5"),
                                                           ("workbench.data.path", "path"))})
    assert len(source.runs()) == before  # cached
    assert len(source.refresh()) == before + 1
    assert source.run_lineage(run.info.run_id).data.target["version"] == "v2"


def test_versions_panel_needs_runs_on_two_versions(fresh):
    import panel as pn

    from workbench.views.lineage.panels import VersionsPanel

    panel = VersionsPanel(source=fresh["source"])  # every helper run trained on v2
    alerts = panel.__panel__().select(pn.pane.Alert)
    assert alerts and "two or more data versions" in alerts[0].object
