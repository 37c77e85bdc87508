"""The demo workspace builder, checked against the real stores it writes (git, DVC, MLflow, Optuna)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from collections import Counter
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import snapshot

from workbench.config import WorkbenchConfig
from workbench.demo import MARKER, PARTIAL_MARKER, build_demo, is_complete
from workbench.demo.data import dataset_versions
from workbench.demo.repo import build_repository
from workbench.demo.workspace import _build_lock, _check_can_build, _clear, total_steps
from workbench.errors import ConfigError

TAGS = ["v1", "v2", "v3", "v4", "v5"]
EXPERIMENTS = ["cancer-baselines", "cancer-tuning"]


# -- helpers --------------------------------------------------------------------------------------
def git(root: Path, *args: str) -> str:
    """A read-only git command (no optional index refresh, so the demo is not touched)."""
    done = subprocess.run(["git", "--no-optional-locks", *args], cwd=root, capture_output=True, text=True,
                          timeout=30, check=True)
    return done.stdout.strip()


def dvc_file_at(root: Path, rev: str) -> dict:
    return yaml.safe_load(git(root, "show", f"{rev}:data/cancer.csv.dvc"))


def object_path(base: Path, md5: str) -> Path:
    return base / "files" / "md5" / md5[:2] / md5[2:]


def version_frame(root: Path, rev: str) -> pd.DataFrame:
    """The dataset as committed at ``rev``, read from the DVC cache (checks the md5 on the way)."""
    md5 = dvc_file_at(root, rev)["outs"][0]["md5"]
    content = object_path(root / ".dvc" / "cache", md5).read_bytes()
    assert hashlib.md5(content).hexdigest() == md5
    return pd.read_csv(StringIO(content.decode("utf-8")))


@pytest.fixture(scope="module")
def mlflow_runs(demo_workspace: Path):
    """All runs of both experiments as MlflowClient sees them (the store is proven unchanged by reading)."""
    from mlflow import MlflowClient

    before = snapshot(demo_workspace / "mlflow.db")
    client = MlflowClient(tracking_uri=f"sqlite:///{demo_workspace / 'mlflow.db'}")
    experiments = {name: client.get_experiment_by_name(name) for name in EXPERIMENTS}
    runs = {name: client.search_runs([experiment.experiment_id], max_results=5000)
            for name, experiment in experiments.items()}
    yield client, experiments, runs
    assert snapshot(demo_workspace / "mlflow.db") == before


@pytest.fixture(scope="module")
def studies(demo_workspace: Path):
    import optuna

    storage = f"sqlite:///{demo_workspace / 'optuna.db'}"
    before = snapshot(demo_workspace / "optuna.db")
    loaded = {summary.study_name: optuna.load_study(study_name=summary.study_name, storage=storage)
              for summary in optuna.get_all_study_summaries(storage)}
    yield loaded
    assert snapshot(demo_workspace / "optuna.db") == before


# -- workspace, config, markers ---------------------------------------------------------------------
def test_workbench_toml_loads_with_relative_paths(demo_workspace: Path) -> None:
    config_file = demo_workspace / "workbench.toml"
    text = config_file.read_text(encoding="utf-8")
    assert str(demo_workspace) not in text  # relative: the folder can be moved
    config = WorkbenchConfig.load(config_file=config_file, env={})
    assert config.tracking_uri == f"sqlite:///{demo_workspace.resolve() / 'mlflow.db'}"
    assert config.optuna_storage == f"sqlite:///{demo_workspace.resolve() / 'optuna.db'}"
    assert config.experiments == EXPERIMENTS
    assert config.study_name == "cancer-gb-tuning"
    assert Path(config.dvc_repo) == demo_workspace.resolve()
    assert config.dvc_path == "data/cancer.csv"
    assert Path(config.cache_dir) == demo_workspace.resolve() / ".workbench-cache"
    assert config.model.startswith("runs:/") and config.model.endswith("/model")


def test_marker_is_complete_and_progress_was_counted(demo_workspace: Path) -> None:
    assert is_complete(demo_workspace)
    assert not (demo_workspace / PARTIAL_MARKER).exists()
    summary = json.loads((demo_workspace / MARKER).read_text(encoding="utf-8"))
    assert summary["progress_steps"] == {"reported": total_steps(), "total": total_steps()}
    assert [v["tag"] for v in summary["data_versions"]] == TAGS


def test_second_call_returns_at_once_without_touching_files(demo_workspace: Path) -> None:
    def files() -> dict[str, str]:  # the workbench's own cache may be written by other readers meanwhile
        return {path: digest for path, digest in snapshot(demo_workspace).items()
                if not path.startswith(".workbench-cache")}

    before = files()
    steps: list[tuple[str, int, int]] = []
    assert build_demo(demo_workspace, progress=lambda *step: steps.append(step)) == demo_workspace / "workbench.toml"
    assert steps == []
    assert files() == before


@pytest.mark.parametrize("force", [False, True])
def test_refuses_to_build_into_a_foreign_folder(tmp_path: Path, force: bool) -> None:
    (tmp_path / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build_demo(tmp_path, force=force)
    assert "not a workbench demo" in caught.value.message and "--dir" in caught.value.hint
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]
    assert (tmp_path / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_refuses_a_file_as_the_demo_folder(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    target.write_text("a file", encoding="utf-8")
    with pytest.raises(ConfigError, match="is a file"):
        build_demo(target)
    assert target.read_text(encoding="utf-8") == "a file"


def test_unwritable_location_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="Could not write the demo") as caught:
        build_demo(tmp_path / "file" / "demo")
    assert "--dir" in caught.value.hint


def test_half_built_demo_may_be_cleared_but_keeps_the_lock(tmp_path: Path) -> None:
    (tmp_path / PARTIAL_MARKER).write_text("{}", encoding="utf-8")
    (tmp_path / "mlartifacts" / "x").mkdir(parents=True)
    (tmp_path / "mlflow.db").write_bytes(b"half")
    assert not is_complete(tmp_path)
    _check_can_build(tmp_path)  # ours: no error
    _clear(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [PARTIAL_MARKER]


def test_concurrent_builds_take_turns_on_the_lock(tmp_path: Path) -> None:
    """A second builder waits for the first; when the first removes its marker, the second locks a new one."""
    order: list[str] = []
    trying = threading.Event()

    def second_builder() -> None:
        trying.set()
        with _build_lock(tmp_path):
            order.append("second has the lock")

    with _build_lock(tmp_path):
        thread = threading.Thread(target=second_builder)
        thread.start()
        trying.wait()
        time.sleep(0.3)  # give the second builder every chance to (wrongly) get in
        order.append("first done")
        (tmp_path / PARTIAL_MARKER).unlink()  # what a finished build does before releasing
    thread.join()
    assert order == ["first done", "second has the lock"]
    assert (tmp_path / PARTIAL_MARKER).is_file()  # the second one locked a live marker, not the deleted one


def test_marker_of_another_format_is_not_complete(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_text(json.dumps({"format": -1}), encoding="utf-8")
    (tmp_path / "workbench.toml").write_text("", encoding="utf-8")
    assert not is_complete(tmp_path)
    _check_can_build(tmp_path)  # an old demo of ours may be rebuilt


# -- git + DVC ------------------------------------------------------------------------------------
def test_git_history_tells_the_data_story(demo_workspace: Path) -> None:
    assert git(demo_workspace, "tag", "--list").split() == TAGS
    log = git(demo_workspace, "log", "--reverse", "--format=%H|%at|%an|%s").splitlines()
    assert len(log) == 6  # project start + one commit per version
    times = [int(line.split("|")[1]) for line in log]
    assert times == sorted(times) and times[-1] - times[0] > 4 * 7 * 86400  # spread over weeks
    assert len({line.split("|")[2] for line in log}) >= 2
    for tag, line in zip(TAGS, log[1:], strict=True):
        assert git(demo_workspace, "rev-parse", f"{tag}^{{commit}}") == line.split("|")[0]
    assert git(demo_workspace, "status", "--porcelain", "--untracked-files=all") == ""
    ignored = (demo_workspace / ".gitignore").read_text(encoding="utf-8")
    for entry in ("mlflow.db", "mlartifacts/", "optuna.db", ".dvc-remote/", "workbench.toml", MARKER):
        assert entry in ignored


def test_dvc_versions_are_distinct_cached_and_pushed(demo_workspace: Path) -> None:
    config = (demo_workspace / ".dvc" / "config").read_text(encoding="utf-8")
    assert "analytics = false" in config and "url = ../.dvc-remote" in config
    md5s = []
    for tag in TAGS:
        dvc_file = dvc_file_at(demo_workspace, tag)
        md5 = dvc_file["outs"][0]["md5"]
        md5s.append(md5)
        assert object_path(demo_workspace / ".dvc" / "cache", md5).is_file()
        assert object_path(demo_workspace / ".dvc-remote", md5).is_file()
        frame = version_frame(demo_workspace, tag)
        assert dvc_file["meta"] == {"rows": len(frame), "columns": frame.shape[1]}
    assert len(set(md5s)) == len(TAGS)


def test_versions_are_raw_cleaned_featured_grown_reencoded(demo_workspace: Path) -> None:
    v1, v2, v3, v4, v5 = (version_frame(demo_workspace, tag) for tag in TAGS)
    assert v1.isna().sum().sum() > 0 and v1.duplicated().sum() > 0
    assert v2.isna().sum().sum() == 0 and v2.duplicated().sum() == 0 and len(v2) < len(v1)
    assert set(v3.columns) - set(v2.columns) == {"radius_growth"} and len(v3) == len(v2)
    assert len(v4) > len(v3) and list(v4.columns) == list(v3.columns)
    assert set(v4["diagnosis"]) == {"M", "B"} and set(v5["diagnosis"]) == {0, 1}
    assert ((v4["diagnosis"] == "M").astype(int) == v5["diagnosis"]).all()
    assert len(v5) == 569  # every biopsy of scikit-learn's bundled data


@pytest.mark.slow
def test_data_history_is_deterministic(demo_workspace: Path, tmp_path: Path) -> None:
    steps: list[str] = []
    records = build_repository(tmp_path, dataset_versions(), steps.append)
    assert len(steps) == len(TAGS)
    assert [r.commit for r in records] == [git(demo_workspace, "rev-parse", f"{t}^{{commit}}") for t in TAGS]
    assert [r.md5 for r in records] == [dvc_file_at(demo_workspace, t)["outs"][0]["md5"] for t in TAGS]


# -- MLflow -----------------------------------------------------------------------------------------
def test_experiments_store_artifacts_in_the_workspace(demo_workspace: Path, mlflow_runs) -> None:
    _, experiments, _ = mlflow_runs
    for name, experiment in experiments.items():
        assert Path(experiment.artifact_location) == demo_workspace.resolve() / "mlartifacts" / name


def test_baseline_runs_are_real_training_with_histories_and_artifacts(mlflow_runs) -> None:
    client, experiments, runs = mlflow_runs
    baselines = runs["cancer-baselines"]
    assert len(baselines) >= 60
    assert {r.data.params["data_version"] for r in baselines} == set(TAGS)
    assert len({r.data.params["model_family"] for r in baselines}) >= 4
    for run in baselines:
        assert run.info.status == "FINISHED"
        assert {"accuracy", "f1", "roc_auc", "log_loss"} <= set(run.data.metrics)
        assert 0.8 < run.data.metrics["accuracy"] <= 1.0  # real models on real data learn something
        assert "mlflow.parentRunId" not in run.data.tags
    sample = baselines[:: len(baselines) // 6]
    for run in sample:
        history = client.get_metric_history(run.info.run_id, "val_log_loss")
        assert len(history) >= 10 and len({m.step for m in history}) == len(history)
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"evaluation.png", "classification_report.json"} <= artifacts
        png = Path(run.info.artifact_uri) / "evaluation.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        report = json.loads((Path(run.info.artifact_uri) / "classification_report.json").read_text())
        assert report["accuracy"] == pytest.approx(run.data.metrics["accuracy"])
    logged = client.search_logged_models(experiment_ids=[experiments["cancer-baselines"].experiment_id],
                                         max_results=1000)
    assert {m.source_run_id for m in logged} == {r.info.run_id for r in baselines}


def test_tuning_runs_are_nested_under_one_parent_per_study(mlflow_runs, studies) -> None:
    _, _, runs = mlflow_runs
    tuning = runs["cancer-tuning"]
    parents = {r.info.run_id: r for r in tuning if "mlflow.parentRunId" not in r.data.tags}
    assert {p.data.tags["optuna.study_name"] for p in parents.values()} == set(studies)
    children = [r for r in tuning if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == sum(len(study.trials) for study in studies.values())
    for child in children:
        parent = parents[child.data.tags["mlflow.parentRunId"]]
        assert parent.data.tags["optuna.study_name"] == child.data.tags["optuna.study_name"]
    states = Counter((c.data.tags["optuna.trial_state"], c.info.status) for c in children)
    assert set(states) == {("COMPLETE", "FINISHED"), ("PRUNED", "KILLED")}


def test_lineage_tags_resolve(demo_workspace: Path, mlflow_runs, studies) -> None:
    _, _, runs = mlflow_runs
    all_runs = [run for experiment_runs in runs.values() for run in experiment_runs]
    by_commit = {}
    for tag in TAGS:
        commit = git(demo_workspace, "rev-parse", f"{tag}^{{commit}}")
        by_commit[commit] = (tag, dvc_file_at(demo_workspace, commit)["outs"][0]["md5"])
    for run in all_runs:
        tags = run.data.tags
        assert tags["workbench.data.path"] == "data/cancer.csv"
        commit = tags["workbench.data.git_commit"]
        assert git(demo_workspace, "cat-file", "-t", commit) == "commit"
        assert by_commit[commit] == (tags["workbench.data.version"], tags["workbench.data.dvc_md5"])
        assert object_path(demo_workspace / ".dvc" / "cache", tags["workbench.data.dvc_md5"]).is_file()
        if "optuna.trial_number" in tags:
            trial = studies[tags["optuna.study_name"]].trials[int(tags["optuna.trial_number"])]
            assert trial.number == int(tags["optuna.trial_number"])
            assert trial.user_attrs["mlflow_run_id"] == run.info.run_id
            assert run.data.params["trial_number"] == str(trial.number)


# -- Optuna -----------------------------------------------------------------------------------------
def test_tuning_study_has_real_pruned_trials(studies) -> None:
    import optuna

    study = studies["cancer-gb-tuning"]
    states = Counter(t.state for t in study.trials)
    assert len(study.trials) >= 100
    assert states[optuna.trial.TrialState.PRUNED] >= 10 and states[optuna.trial.TrialState.COMPLETE] >= 20
    for trial in study.trials:
        assert trial.intermediate_values and "mlflow_run_id" in trial.user_attrs
        if trial.state == optuna.trial.TrialState.PRUNED:
            assert max(trial.intermediate_values) < trial.params["n_estimators"]
        else:
            assert max(trial.intermediate_values) == trial.params["n_estimators"]
    assert 0 < study.best_value < 0.3
    assert study.user_attrs["data_version"] == "v5"


def test_multi_objective_study(studies) -> None:
    study = studies["cancer-accuracy-vs-size"]
    assert len(study.directions) == 2 and study.metric_names == ["accuracy", "size_kb"]
    assert len(study.trials) >= 30
    assert all(len(t.values) == 2 and "mlflow_run_id" in t.user_attrs for t in study.trials)
    sizes = [t.values[1] for t in study.trials]
    assert min(sizes) < max(sizes) / 2  # the sampler explored small and large models
    assert 1 <= len(study.best_trials) < len(study.trials)


# -- stored explanation -----------------------------------------------------------------------------
def test_stored_explanation_is_consistent_with_the_best_model(demo_workspace: Path, demo_config, mlflow_runs,
                                                              studies) -> None:
    import mlflow

    client, _, _ = mlflow_runs
    run_id = demo_config.model.split("/")[1]
    study = studies["cancer-gb-tuning"]
    assert study.best_trial.user_attrs["mlflow_run_id"] == run_id
    run = client.get_run(run_id)
    assert run.data.tags["workbench.best_model"] == "true"
    folder = Path(run.info.artifact_uri) / "explain"
    values = pd.read_parquet(folder / "shap_values.parquet")
    features = pd.read_parquet(folder / "features.parquet")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert {"base_value", "target", "positive_class", "model_type", "feature_names"} <= set(meta)
    assert isinstance(meta["base_value"], float) and isinstance(meta["positive_class"], str)
    assert list(values.columns) == list(features.columns) == meta["feature_names"]
    assert values.shape == features.shape and len(values) > 100
    assert not values.isna().any().any()
    assert meta["target"] == "diagnosis" and "sample_id" not in meta["feature_names"]
    # SHAP additivity against the logged model: base + sum(contributions) == the model's log-odds
    model = mlflow.sklearn.load_model(_model_dir(demo_workspace, client, run_id))
    assert type(model).__name__ == meta["model_type"]
    log_odds = model.decision_function(features)
    np.testing.assert_allclose(meta["base_value"] + values.sum(axis=1).to_numpy(), log_odds, atol=1e-6)


def _model_dir(demo_workspace: Path, client, run_id: str) -> str:
    """The local folder of the run's logged model (``runs:/<id>/model`` resolves to it)."""
    (model,) = [m for m in client.search_logged_models(
        experiment_ids=[client.get_run(run_id).info.experiment_id], max_results=1000)
        if m.source_run_id == run_id]
    path = Path(model.artifact_location.removeprefix("file://"))
    assert demo_workspace.resolve() in path.parents
    return str(path)
