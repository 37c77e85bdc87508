"""Reading versions by hash: the cache first, then a local remote; never writing either or the repo."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import snapshot

from workbench.errors import MissingDependency, NotFound, SourceUnavailable
from workbench.sources.dvc import DvcSource
from workbench.sources.dvc_build import RepoBuilder
from workbench.sources.dvc_read import preview_table


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(n), "v": np.arange(n) * 0.5, "s": ["a", "b"] * (n // 2)})


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    builder = RepoBuilder(root)
    builder.version("data/t.csv", _frame(10), "one", tag="v1")
    builder.version("data/t.parquet", _frame(4000), "parquet", tag="p1")
    builder.version("data/t.jsonl", _frame(6), "jsonl")
    builder.version("data/t.tsv", _frame(8), "tsv")
    builder.push()
    builder.close()
    return root


def test_every_table_format_previews_and_reads(repo):
    source = DvcSource(repo)
    for name, rows in [("data/t.csv", 10), ("data/t.parquet", 4000), ("data/t.jsonl", 6), ("data/t.tsv", 8)]:
        frame = source.read(name, "HEAD")
        pd.testing.assert_frame_equal(frame, _frame(rows), check_dtype=False)
        preview = source.preview(name, "HEAD", rows=3)
        assert preview.kind == "table" and len(preview.table) == 3
        assert preview.table.columns.tolist() == ["id", "v", "s"]


def test_falls_back_to_the_local_remote_without_filling_the_cache(repo):
    shutil.rmtree(repo / ".dvc" / "cache")
    before = snapshot(repo)
    source = DvcSource(repo)
    history = source.history("data/t.csv")
    assert source.availability(history) == ["remote"]
    assert source.availability(history, check_remote=False) == ["missing"]
    assert len(source.preview("data/t.csv", "v1").table) == 10
    assert len(source.read("data/t.csv", "v1")) == 10
    assert snapshot(repo) == before
    assert not (repo / ".dvc" / "cache").exists()


def test_missing_everywhere_says_how_to_fix(repo):
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / ".dvc-remote" / "files")  # the remote exists but lacks the objects
    source = DvcSource(repo)
    with pytest.raises(NotFound, match="neither in the DVC cache nor in the remote") as error:
        source.preview("data/t.csv", "v1")
    assert "dvc push" in error.value.hint
    with pytest.raises(NotFound, match="neither in the DVC cache nor in the remote"):
        source.read("data/t.csv", "v1")


def test_a_remote_folder_that_does_not_exist_is_named(repo):
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / ".dvc-remote")
    with pytest.raises(NotFound, match="remote 'local' does not exist") as error:
        DvcSource(repo).preview("data/t.csv", "v1")
    assert "dvc remote modify local url" in error.value.hint


class CountingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer):
        count = super().readinto(buffer)
        self.bytes_read += count or 0
        return count


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_previews_of_large_files_read_only_what_they_show(tmp_path, fmt):
    big = pd.DataFrame({"id": np.arange(300_000), "v": np.random.default_rng(0).normal(size=300_000)})
    path = tmp_path / f"big.{fmt}"
    if fmt == "parquet":
        big.to_parquet(path, row_group_size=10_000)
    else:
        big.to_csv(path, index=False)
    with CountingFile(path, "rb") as handle:
        frame = preview_table(handle, fmt, "big", rows=50)
        read = handle.bytes_read
    assert frame["id"].tolist() == list(range(50))
    assert read < path.stat().st_size / 5


def test_too_large_to_read_whole_is_refused_but_preview_works(repo):
    source = DvcSource(repo)
    with pytest.raises(SourceUnavailable, match="too large to read whole"):
        source.read("data/t.csv", "HEAD", max_bytes=10)
    assert len(source.preview("data/t.csv", "HEAD", rows=2).table) == 2


def test_a_table_read_of_a_non_table_is_refused(tmp_path):
    builder = RepoBuilder(tmp_path / "r", remote=False)
    builder.version("model.bin", bytes(range(256)), "weights")
    builder.close()
    source = DvcSource(tmp_path / "r")
    with pytest.raises(SourceUnavailable, match="not a table"):
        source.read("model.bin", "HEAD")
    assert "binary file" in source.preview("model.bin", "HEAD").notes[0]


def test_a_remote_without_its_plugin_names_the_package(repo):
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / ".dvc" / "config").write_text("[core]\n    remote = gcs\n['remote \"gcs\"']\n    url = gs://bucket/path\n")
    source = DvcSource(repo)
    assert source.availability(source.history("data/t.csv")) == ["missing"]
    with pytest.raises(MissingDependency, match="dvc-gs") as error:
        source.preview("data/t.csv", "v1")
    assert "dvc-gs" in error.value.hint


def test_tables_read_are_kept_by_content_hash(repo):
    source = DvcSource(repo)
    first = source.read("data/t.csv", "v1")
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / ".dvc-remote")
    pd.testing.assert_frame_equal(source.read("data/t.csv", "v1"), first)
    with pytest.raises(NotFound):
        DvcSource(repo).read("data/t.csv", "v1")
