"""Every run of the demo workspace resolves all its links, read-only; trial ↔ run and version → runs agree."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from helpers import snapshot

from workbench.analysis.lineage.coverage import coverage
from workbench.analysis.lineage.versions import metric_by_version, run_points, shared_metrics
from workbench.config import WorkbenchConfig
from workbench.sources.lineage import ABSENT, LINKED, LineageSource


@pytest.fixture(scope="module")
def demo(demo_workspace, demo_config) -> dict:
    before = snapshot(demo_workspace)
    source = LineageSource(demo_config)
    table = source.lineage_table()
    summary = json.loads((demo_workspace / ".workbench-demo.json").read_text())
    with sqlite3.connect(f"file:{demo_workspace / 'mlflow.db'}?mode=ro", uri=True) as connection:
        with_model = {row[0] for row in connection.execute("SELECT source_run_id FROM logged_models")}
    return {"source": source, "table": table.set_index("run_id"), "summary": summary, "with_model": with_model,
            "before": before, "root": demo_workspace}


def test_every_demo_run_resolves_all_its_links(demo):
    table, summary = demo["table"], demo["summary"]
    assert len(table) == sum(summary["experiments"].values())
    assert (table["data_status"] == LINKED).all()
    tuning = table["experiment"] == "cancer-tuning"
    assert (table.loc[tuning, "trial_status"] == LINKED).all()
    assert (table.loc[~tuning, "trial_status"] == ABSENT).all()
    has_model = table.index.isin(demo["with_model"])
    assert has_model.sum() == len(demo["with_model"]) > 60
    assert (table.loc[has_model, "model_status"] == LINKED).all()
    assert (table.loc[~has_model, "model_status"] == ABSENT).all()
    assert table.index[table["explanation_status"] == LINKED].tolist() == [summary["best_run_id"]]
    recorded = coverage(table.reset_index())
    assert (recorded["missing"] == 0).all() and (recorded["resolved_pct"] == 100.0).all()


def test_data_links_name_the_tag_commit_and_md5_of_the_demo_versions(demo):
    source = demo["source"]
    runs = source.runs()
    versions = {item["tag"]: item for item in demo["summary"]["data_versions"]}
    for row in runs.sample(20, random_state=0).to_dict("records"):
        link = source.data_link(row)
        expected = versions[row["tags.workbench.data.version"]]
        assert (link.target["commit"], link.target["md5"], link.target["rows"]) == \
            (expected["commit"], expected["md5"], expected["rows"])
        assert link.label == f"data/cancer.csv @ {expected['tag']}"


def test_best_run_links_to_its_trial_model_and_explanation(demo):
    summary, source = demo["summary"], demo["source"]
    lineage = source.run_lineage(summary["best_run_id"])
    assert lineage.trial.target["study"] == "cancer-gb-tuning"
    assert lineage.trial.target["number"] == summary["best_trial"]
    assert lineage.trial.target["trial_run_id"] == summary["best_run_id"]
    assert lineage.data.target["version"] == "v5"
    assert lineage.explanation.target["uri"] == f"runs:/{summary['best_run_id']}/model"
    assert lineage.model.ok and lineage.model.blocked and not lineage.model.followable
    trusted = LineageSource(WorkbenchConfig.load(config_file=demo["root"] / "workbench.toml", env={}, trusted=True))
    assert trusted.model_link(summary["best_run_id"]).followable


def test_the_configured_model_links_back_to_its_run(demo, demo_config):
    source, best = demo["source"], demo["summary"]["best_run_id"]
    link = source.run_link(demo_config.model)
    assert link.ok and link.target["run_id"] == best and link.label.startswith("cancer-gb-tuning-trial-")
    assert source.run_lineage(link.target["run_id"]).explanation.ok
    assert source.run_link(None).status == ABSENT
    gone = source.run_link("runs:/0123456789abcdef/model")
    assert gone.status == "missing" and "does not exist" in gone.reason
    assert source.run_link("not a uri").status == "missing"


def test_trials_and_runs_point_at_each_other(demo):
    source = demo["source"]
    trials = source.optuna.trials("cancer-gb-tuning")
    for number, run_id in zip(trials["number"][:15], trials["user_attrs_mlflow_run_id"][:15], strict=True):
        found = source.trial_runs("cancer-gb-tuning", int(number))
        assert found.runs["run_id"].tolist() == [run_id]
        assert source.run_lineage(run_id).trial.target["number"] == number
    study = source.trial_runs("cancer-accuracy-vs-size")
    assert len(study.runs) == demo["summary"]["studies"]["cancer-accuracy-vs-size"] + 1  # + the parent run
    missing = source.trial_runs("cancer-gb-tuning", 10_000)
    assert missing.runs.empty and "No run" in missing.reason


def test_version_runs_by_tag_commit_or_md5(demo):
    source, summary = demo["source"], demo["summary"]
    v3 = next(item for item in summary["data_versions"] if item["tag"] == "v3")
    by_tag, by_commit, by_md5 = (source.version_runs(key) for key in ("v3", v3["commit"], v3["md5"]))
    assert len(by_tag.runs) == 13
    assert set(by_tag.runs["run_id"]) == set(by_commit.runs["run_id"]) == set(by_md5.runs["run_id"])
    assert (by_tag.runs["tags.workbench.data.version"] == "v3").all()
    assert {"metrics.roc_auc", "metrics.accuracy"} <= set(by_tag.runs.columns)
    unknown = source.version_runs("no-such-tag")
    assert unknown.runs.empty and "does not exist" in unknown.reason


def test_metric_per_data_version_on_the_demo(demo):
    source = demo["source"]
    runs, history, md5s = source.runs(), source.versions(), source.run_data_md5()
    assert {"roc_auc", "accuracy", "log_loss"} <= set(shared_metrics(runs, md5s))
    points = run_points(runs, md5s, history, "roc_auc")
    table = metric_by_version(points, history, "roc_auc")
    assert table["version"].tolist() == ["v1", "v2", "v3", "v4", "v5"]
    assert table["n_runs"].tolist()[:4] == [13, 13, 13, 13]
    on_v5 = (runs["tags.workbench.data.version"] == "v5") & runs["metrics.roc_auc"].notna()
    assert table.loc[4, "n_runs"] == on_v5.sum() > 50  # pruned trials and study parents log no roc_auc
    v1 = points[points["version"] == "v1"]["value"]
    assert table.loc[0, "best"] == pytest.approx(v1.max())
    assert pd.isna(table.loc[0, "delta"]) and table.loc[1:, "delta"].notna().all()


def test_resolving_the_demo_leaves_it_byte_identical(demo):
    demo["source"].version_runs("v2")
    assert snapshot(demo["root"]) == demo["before"]
