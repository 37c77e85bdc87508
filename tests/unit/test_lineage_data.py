"""Data links against a real git+DVC repository: tags, commits, md5s, uncommitted data, lost objects."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import snapshot

from workbench.config import WorkbenchConfig
from workbench.lineage import data_context
from workbench.sources.dvc_build import RepoBuilder
from workbench.sources.lineage import ABSENT, LINKED, MISSING, LineageSource


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("lineage-data") / "repo"
    builder = RepoBuilder(root, remote=False)
    first = builder.version("data/t.csv", pd.DataFrame({"a": [1, 2, 3]}), "First", tag="v1")
    builder.write("notes.txt", "unrelated\n")
    unrelated = builder.commit("Notes only")
    second = builder.version("data/t.csv", pd.DataFrame({"a": [1, 2, 3, 4]}), "Second")
    builder.write("data/t.csv", pd.DataFrame({"a": [9, 9]}))
    uncommitted = builder.track("data/t.csv")  # dvc add without a commit
    builder.close()
    return {"root": root, "first": first, "unrelated": unrelated, "second": second, "uncommitted": uncommitted,
            "before": snapshot(root)}


def _row(**tags: str) -> dict:
    return {"run_id": "r", **{f"tags.workbench.data.{key}": value for key, value in tags.items()}}


def test_data_context_flags_uncommitted_data(repo):
    found = data_context("data/t.csv", repo=repo["root"])
    assert found.uncommitted and found.md5 == repo["uncommitted"] and found.commit == repo["second"]
    assert found.version == repo["second"][:7]  # no tag on HEAD: the short sha
    assert found.tags()["workbench.data.uncommitted"] == "true"


def test_commit_and_md5_resolve_to_the_version_that_recorded_them(repo):
    source = LineageSource(WorkbenchConfig(dvc_repo=str(repo["root"]), dvc_path="data/t.csv"))
    by_commit = source.data_link(_row(path="data/t.csv", git_commit=repo["unrelated"]))
    assert by_commit.status == LINKED and by_commit.target["rows"] == 3  # data unchanged since v1
    assert by_commit.target["commit"] == repo["first"] and by_commit.target["run_commit"] == repo["unrelated"]
    assert by_commit.label == "data/t.csv @ v1"
    v1_md5 = by_commit.target["md5"]
    by_md5 = source.data_link(_row(dvc_md5=v1_md5))
    assert by_md5.status == LINKED and by_md5.target["commit"] == repo["first"] and by_md5.label == "data/t.csv @ v1"
    second = source.data_link(_row(path="data/t.csv", git_commit=repo["second"], version="x"))
    assert second.ok and second.target["version"] == "x" and second.target["rows"] == 4  # untagged: as recorded


def test_uncommitted_or_unknown_data_is_missing_with_a_reason(repo):
    source = LineageSource(WorkbenchConfig(dvc_repo=str(repo["root"]), dvc_path="data/t.csv"))
    trained = source.data_link(_row(path="data/t.csv", git_commit=repo["second"], dvc_md5=repo["uncommitted"]))
    assert trained.status == MISSING and "commit the .dvc file" in trained.reason
    assert "in the DVC cache" in trained.reason
    unknown = source.data_link(_row(path="data/other.csv", git_commit=repo["second"]))
    assert unknown.status == MISSING and "not DVC-tracked" in unknown.reason
    assert source.data_link({"run_id": "r"}).status == ABSENT
    assert snapshot(repo["root"]) == repo["before"]


def test_a_lost_cache_object_is_missing(repo, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(repo["root"], copy, symlinks=True)
    source = LineageSource(WorkbenchConfig(dvc_repo=str(copy), dvc_path="data/t.csv"))
    md5 = source.data_link(_row(path="data/t.csv", git_commit=repo["first"])).target["md5"]
    shutil.rmtree(copy / ".dvc" / "cache")
    lost = LineageSource(WorkbenchConfig(dvc_repo=str(copy), dvc_path="data/t.csv"))
    link = lost.data_link(_row(path="data/t.csv", git_commit=repo["first"]))
    assert link.status == MISSING and md5[:8] in link.reason and "dvc push" in link.reason
