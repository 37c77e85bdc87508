"""A repository built with the real `dvc` and `git` command lines, as users build them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import snapshot

from workbench.sources.dvc import DvcSource

DVC = str(Path(sys.executable).with_name("dvc"))


def run(repo: Path, *command: str) -> None:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "Grace Hopper",
           "GIT_AUTHOR_EMAIL": "grace@example.org", "GIT_COMMITTER_NAME": "Grace Hopper",
           "GIT_COMMITTER_EMAIL": "grace@example.org"}
    subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def cli_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("cli") / "repo"
    repo.mkdir()
    run(repo, "git", "init", "-q", "-b", "main")
    run(repo, DVC, "init", "-q")
    run(repo, DVC, "config", "core.analytics", "false")
    remote = repo.parent / "remote"
    run(repo, DVC, "remote", "add", "-d", "storage", str(remote))
    run(repo, "git", "commit", "-qam", "Initialise DVC")
    (repo / "data").mkdir()
    frames = [pd.DataFrame({"id": range(n), "value": [i * 1.5 for i in range(n)]}) for n in (5, 8)]
    for number, frame in enumerate(frames, start=1):
        frame.to_csv(repo / "data" / "table.csv", index=False)
        run(repo, DVC, "add", "-q", "data/table.csv")
        run(repo, "git", "add", "data/table.csv.dvc", "data/.gitignore")
        run(repo, "git", "commit", "-qm", f"Version {number}: {len(frame)} rows")
        run(repo, "git", "tag", f"v{number}")
        run(repo, DVC, "push", "-q")
    return repo


def test_history_and_previews_of_a_cli_built_repo(cli_repo: Path) -> None:
    before = snapshot(cli_repo)
    source = DvcSource(cli_repo)
    history = source.history("data/table.csv")
    assert list(history["message"]) == ["Version 2: 8 rows", "Version 1: 5 rows"]
    assert list(source.preview("data/table.csv", "v1").table["id"]) == list(range(5))
    assert len(source.read("data/table.csv", "v2")) == 8
    assert snapshot(cli_repo) == before


def test_a_version_missing_from_the_cache_is_read_from_the_remote(cli_repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(cli_repo, copy, symlinks=True)
    shutil.rmtree(copy / ".dvc" / "cache")
    source = DvcSource(copy)
    assert source.availability(source.history("data/table.csv")) == ["remote", "remote"]
    assert len(source.read("data/table.csv", "v1")) == 5
    cache = copy / ".dvc" / "cache"
    assert not any(path.is_file() for path in cache.rglob("*")), "reading from the remote must not fill the cache"
