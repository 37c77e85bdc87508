"""Workspace status, lock notes, params/metrics per revision and DVC experiments on real repos."""

from __future__ import annotations

import json
import os
import subprocess

import pandas as pd
import pytest
from helpers import snapshot

from workbench.sources.dvc import DvcSource
from workbench.sources.dvc_build import RepoBuilder


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("status") / "repo"
    builder = RepoBuilder(root, remote=False)
    builder.version("data/a.csv", pd.DataFrame({"x": [1, 2]}), "a")
    builder.version("data/b.csv", pd.DataFrame({"x": [1, 2]}), "b")
    builder.version("data/c.csv", pd.DataFrame({"x": [1, 2]}), "c")
    builder.version("data/d", {"1.txt": b"1", "2.txt": b"2"}, "d")
    builder.write("params.yaml", "train:\n  lr: 0.1\n  depth: 3\n")
    builder.write("metrics.json", json.dumps({"acc": 0.8}))
    builder.commit("Params v1", tag="p1")
    builder.write("params.yaml", "train:\n  lr: 0.05\n  depth: 3\n")
    builder.write("metrics.json", json.dumps({"acc": 0.85, "curve": [1, 2]}))
    builder.commit("Params v2")
    builder.write("README.md", "x")
    builder.commit("Unrelated")
    # workspace edits: a modified, b deleted, c re-added (uncommitted .dvc), d gains a file
    (root / "data/a.csv").write_text("x\n1\n3\n")
    (root / "data/b.csv").unlink()
    builder.write("data/c.csv", pd.DataFrame({"x": [5, 6, 7]}))
    builder.track("data/c.csv")
    (root / "data/d/3.txt").write_text("3")
    builder.close()
    baseline = builder.git("rev-parse", "HEAD")
    # an experiment commit as `dvc exp run` stores it: a commit off the baseline under refs/exps
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=root, input="train:\n  lr: 0.5\n",
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    index = subprocess.run(["git", "ls-tree", "HEAD"], cwd=root, capture_output=True, text=True, check=True,
                           timeout=30).stdout.replace(builder.git("rev-parse", "HEAD:params.yaml"), blob)
    tree = subprocess.run(["git", "mktree"], cwd=root, input=index, capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()
    experiment = builder.git("commit-tree", tree, "-p", baseline, "-m", "exp")
    builder.git("update-ref", f"refs/exps/{baseline[:2]}/{baseline[2:]}/bold-lark", experiment)
    return root


def test_workspace_status(repo):
    before = snapshot(repo)
    status = DvcSource(repo).status().set_index("path")
    assert status.loc["data/a.csv", "status"] == "modified"
    assert status.loc["data/b.csv", "status"] == "not in workspace"
    assert status.loc["data/c.csv", "status"] == "changed (uncommitted)"
    assert status.loc["data/d", "status"] == "modified" and "1 added" in status.loc["data/d", "detail"]
    assert snapshot(repo) == before


def test_same_size_edit_is_found_by_hash(tmp_path):
    builder = RepoBuilder(tmp_path / "r", remote=False)
    builder.version("t.csv", "x\n1\n", "t")
    builder.close()
    assert DvcSource(tmp_path / "r").status().loc[0, "status"] == "unchanged"
    (tmp_path / "r/t.csv").write_text("x\n2\n")
    assert DvcSource(tmp_path / "r").status().loc[0, "status"] == "modified"


def test_stale_rwlock_is_reported_and_left_alone(tmp_path):
    builder = RepoBuilder(tmp_path / "r", remote=False)
    builder.version("t.csv", "x\n1\n", "t")
    builder.close()
    rwlock = tmp_path / "r/.dvc/tmp/rwlock"
    content = json.dumps({"read": {}, "write": {"/x": {"pid": 2**22 + 12345, "cmd": "dvc pull"}}})
    rwlock.write_text(content)
    (tmp_path / "r/.dvc/tmp/lock").write_text(str(os.getppid()))  # a running process holds the lock
    status = DvcSource(tmp_path / "r").status().set_index("path")
    assert status.loc[".dvc/tmp/rwlock", "status"] == "stale lock"
    assert status.loc[".dvc/tmp/lock", "status"] == "locked"
    assert rwlock.read_text() == content


def test_params_and_metrics_per_commit(repo):
    values = DvcSource(repo).params_history()
    assert values["message"].tolist() == ["Params v2", "Params v1"]
    assert values["params.yaml:train.lr"].tolist() == [0.05, 0.1]
    assert values["metrics.json:acc"].tolist() == [0.85, 0.8]
    assert values["metrics.json:curve"].tolist()[0] == "[1, 2]"
    assert values["tags"].tolist() == ["", "p1"]


def test_experiment_refs_are_listed(repo):
    experiments = DvcSource(repo).experiments()
    assert experiments["experiment"].tolist() == ["bold-lark"]
    assert experiments.loc[0, "baseline"] == DvcSource(repo).commit("HEAD")
    assert experiments.loc[0, "commit"] != experiments.loc[0, "baseline"]
    assert experiments.loc[0, "params.yaml:train.lr"] == 0.5
    assert experiments.loc[0, "metrics.json:acc"] == 0.85
