"""DvcSource against real git+DVC repositories built in temp dirs: outputs, history, bad input."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import snapshot

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources.dvc import DvcSource
from workbench.sources.dvc_build import RepoBuilder, write_table


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"id": range(n), "x": [(i * 7 + seed) % 13 / 2 for i in range(n)],
                         "colour": [["red", "green", "blue"][(i + seed) % 3] for i in range(n)]})


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("dvc") / "repo"
    builder = RepoBuilder(root)
    v1, v2 = _table(30), _table(30, seed=1)
    v3 = pd.concat([v2, _table(5, seed=2).assign(id=range(100, 105))], ignore_index=True)
    versions = {}
    for frame, message, tag, author in [(v1, "Raw data", "v1", "Ada Lovelace"),
                                        (v2, "Clean <b>values</b>", "v2", "Grace Hopper")]:
        sha = builder.version("data/table.csv", frame, message, tag=tag, author=author)
        versions[tag] = (sha, (root / "data/table.csv").read_bytes())
    builder.write("README.md", "unrelated change\n")
    builder.commit("Docs only")
    builder.version("data/images", {"a.txt": b"one", "b.txt": b"two"}, "Add images")
    sha = builder.version("data/table.csv", v3, "Add five rows", tag="v3")
    versions["v3"] = (sha, (root / "data/table.csv").read_bytes())
    builder.stage("copy", "cp data/table.csv data/copy.csv", deps=["data/table.csv"], outs=["data/copy.csv"])
    builder.commit("Pipeline copy stage")
    builder.push()
    builder.close()
    return {"root": root, "versions": versions, "before": snapshot(root)}


def test_outputs_lists_dvc_files_and_lock_outs(repo):
    outputs = DvcSource(repo["root"]).outputs()
    assert outputs["path"].tolist() == ["data/copy.csv", "data/images", "data/table.csv"]
    by_path = outputs.set_index("path")
    assert by_path.loc["data/copy.csv", "kind"] == "stage:copy"
    assert by_path.loc["data/copy.csv", "source"] == "dvc.lock"
    assert bool(by_path.loc["data/images", "is_dir"]) and by_path.loc["data/images", "nfiles"] == 2
    assert by_path.loc["data/table.csv", "rows"] == 35 and by_path.loc["data/table.csv", "columns"] == 3


def test_outputs_at_a_tag_show_that_revision(repo):
    source = DvcSource(repo["root"])
    assert source.datasets("v1") == ["data/table.csv"]
    assert source.outputs("v1").loc[0, "rows"] == 30


def test_history_lists_every_version_with_metadata(repo):
    history = DvcSource(repo["root"]).history("data/table.csv")
    assert history["tags"].tolist() == ["v3", "v2", "v1"]
    assert history["message"].tolist() == ["Add five rows", "Clean <b>values</b>", "Raw data"]
    assert history["author"].tolist() == ["Ada Lovelace", "Grace Hopper", "Ada Lovelace"]
    assert history["change"].tolist() == ["modified", "modified", "added"]
    assert history["rows"].tolist() == [35, 30, 30]
    for tag, (sha, content) in repo["versions"].items():
        row = history.set_index("tags").loc[tag]
        assert row["commit"] == sha
        assert row["md5"] == hashlib.md5(content).hexdigest()
        assert row["size"] == len(content)
    assert history["date"].is_monotonic_decreasing


def test_history_of_a_stage_output_and_a_directory(repo):
    source = DvcSource(repo["root"])
    copy = source.history("data/copy.csv")
    assert copy["message"].tolist() == ["Pipeline copy stage"]
    assert copy.loc[0, "md5"] == hashlib.md5(repo["versions"]["v3"][1]).hexdigest()
    images = source.history("data/images")
    assert images.loc[0, "md5"].endswith(".dir") and images.loc[0, "nfiles"] == 2


def test_history_default_dataset_and_dvc_file_name(repo):
    source = DvcSource(repo["root"])
    assert source.history()["commit"].tolist() == source.history("data/copy.csv")["commit"].tolist()
    assert len(source.history("data/table.csv.dvc")) == 3


def test_history_marks_a_deleted_dataset(tmp_path):
    builder = RepoBuilder(tmp_path / "repo", remote=False)
    builder.version("data/a.csv", _table(4), "Add a")
    builder.version("data/b.csv", _table(4), "Add b")
    builder.git("rm", "-q", "data/a.csv.dvc")
    builder.commit("Drop a")
    builder.close()
    history = DvcSource(tmp_path / "repo").history("data/b.csv")
    assert history["change"].tolist() == ["added"]
    source = DvcSource(tmp_path / "repo")
    assert source.datasets() == ["data/b.csv"]
    assert source.datasets("HEAD~1") == ["data/a.csv", "data/b.csv"]


def test_reading_never_writes_into_the_repo(repo):
    source = DvcSource(repo["root"])
    source.outputs()
    source.outputs("v1")
    for path in source.datasets():
        source.history(path)
    assert snapshot(repo["root"]) == repo["before"]


def test_bad_repositories_give_typed_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        DvcSource(tmp_path / "missing")
    with pytest.raises(ConfigError, match="No DVC repository"):
        DvcSource(None)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        DvcSource(tmp_path / "file.txt")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceUnavailable, match="not a git repository") as error:
        DvcSource(plain)
    assert "dvc_repo" in error.value.hint
    gitonly = tmp_path / "gitonly"
    gitonly.mkdir()
    subprocess.run(["git", "init", "-q", str(gitonly)], check=True, timeout=30)
    with pytest.raises(SourceUnavailable, match="without DVC") as error:
        DvcSource(gitonly)
    assert "dvc init" in error.value.hint


def test_repo_without_tracked_outputs(tmp_path):
    RepoBuilder(tmp_path / "empty", remote=False).close()
    source = DvcSource(tmp_path / "empty")
    assert source.outputs().empty
    with pytest.raises(NotFound, match="No DVC-tracked data") as error:
        source.history()
    assert "dvc add" in error.value.hint


def test_unknown_dataset_outside_path_and_bad_revision(repo):
    source = DvcSource(repo["root"])
    with pytest.raises(NotFound, match="not DVC-tracked") as error:
        source.history("data/nope.csv")
    assert "data/table.csv" in error.value.hint
    with pytest.raises(ConfigError, match="outside the repository"):
        source.history("../../etc/passwd")
    with pytest.raises(NotFound, match="does not exist"):
        source.history("data/table.csv", rev="no-such-branch")
    with pytest.raises(NotFound):
        source.outputs("--output=/tmp/x")


def test_subfolder_of_the_repo_finds_the_dvc_root(repo):
    assert DvcSource(Path(repo["root"]) / "data").root == Path(repo["root"]).resolve()


def test_write_table_formats_round_trip(tmp_path):
    frame = _table(3)
    for name, reader in [("t.parquet", pd.read_parquet), ("t.tsv", lambda p: pd.read_csv(p, sep="\t")),
                         ("t.jsonl", lambda p: pd.read_json(p, lines=True))]:
        write_table(frame, tmp_path / name)
        pd.testing.assert_frame_equal(reader(tmp_path / name), frame, check_dtype=False)


def test_dvc_root_in_a_subfolder_of_the_git_repo(tmp_path):
    top = tmp_path / "mono"
    top.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(top)], check=True, timeout=30)
    project = top / "project"
    project.mkdir()
    from dvc.repo import Repo

    repo = Repo.init(str(project), subdir=True)
    (project / "t.csv").write_text("x\n1\n")
    repo.add([str(project / "t.csv")])
    repo.close()
    env = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "A",
           "GIT_COMMITTER_EMAIL": "a@x", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "add", "-A"], cwd=top, check=True, timeout=30, env=env)
    subprocess.run(["git", "commit", "-qm", "Track t"], cwd=top, check=True, timeout=30, env=env)
    source = DvcSource(project)
    assert source.prefix == "project/"
    assert source.datasets() == source.datasets("HEAD") == ["t.csv"]
    history = source.history("t.csv")
    assert history["message"].tolist() == ["Track t"]
    assert history.loc[0, "md5"] == hashlib.md5(b"x\n1\n").hexdigest()
    assert len(source.read("t.csv", "HEAD")) == 1
