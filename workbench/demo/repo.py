"""The demo's git repository with DVC: one commit and one annotated tag per dataset version.

Identity and dates go through the environment of each git call (never the user's git config), so the
commit hashes are the same on every machine. DVC runs in-process with analytics off and a local remote.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from workbench.demo.data import DANA, DATA_PATH, DataVersion, to_csv_bytes
from workbench.errors import MissingDependency, SourceUnavailable

REMOTE_DIR = ".dvc-remote"
GIT_TIMEOUT = 30
GITIGNORE = """\
# Stores and files the workbench demo writes next to the code; not versioned with git.
/mlflow.db
/mlartifacts/
/optuna.db
/.dvc-remote/
/.workbench-cache/
/workbench.toml
/.workbench-demo.json
/.workbench-demo.partial
"""
DVC_CONFIG = """\
[core]
    remote = local
    analytics = false
['remote "local"']
    url = ../.dvc-remote
"""
README = """\
# Breast-cancer screening: a workbench demo project

Data: the Wisconsin diagnostic breast-cancer data bundled with scikit-learn, versioned with DVC in
`data/cancer.csv` (tags `v1`..`v5`; `git log --oneline` tells the story). Experiments are tracked
with MLflow in `mlflow.db`, hyper-parameter studies with Optuna in `optuna.db`.

    workbench serve --config workbench.toml
    dvc checkout            # after `git checkout v2` to get that version of the data
"""


@dataclass(frozen=True)
class VersionRecord:
    """Where a committed dataset version lives: what the lineage tags of a run point at."""

    tag: str
    title: str
    commit: str
    md5: str
    rows: int
    columns: int
    date: datetime


def _git_env(author: tuple[str, str], when: datetime) -> dict[str, str]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
    name, email = author
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update({
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": stamp,
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
    })
    return env


def git(root: Path, *args: str, author: tuple[str, str] = DANA, when: datetime | None = None) -> str:
    """Run one git command in ``root`` with a fixed identity; returns stdout."""
    when = when or datetime(2026, 8, 31, 9, 0, tzinfo=timezone.utc)
    command = ["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.hooksPath=/dev/null",
               "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false", *args]
    try:
        done = subprocess.run(command, cwd=root, env=_git_env(author, when), capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise MissingDependency("Building the demo needs the `git` program.",
                                "install git (e.g. apt-get install -y git) and try again") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceUnavailable(f"`git {args[0]}` did not finish within {GIT_TIMEOUT} s in {root}.",
                                "check the disk and try again") from exc
    if done.returncode != 0:
        raise SourceUnavailable(f"`git {' '.join(args)}` failed in {root}: {done.stderr.strip()}",
                                "check that git works on this machine and the folder is writable")
    return done.stdout.strip()


@contextlib.contextmanager
def quiet_dvc() -> Iterator[None]:
    """In-process DVC without analytics and without its hints ("To track the changes with git, ...")."""
    logger = logging.getLogger("dvc")
    level, analytics = logger.level, os.environ.get("DVC_NO_ANALYTICS")
    logger.setLevel(logging.WARNING)
    os.environ["DVC_NO_ANALYTICS"] = "1"
    try:
        yield
    finally:
        logger.setLevel(level)
        if analytics is None:
            os.environ.pop("DVC_NO_ANALYTICS", None)
        else:
            os.environ["DVC_NO_ANALYTICS"] = analytics


def init_repository(root: Path, first_commit_date: datetime) -> None:
    """``git init`` + ``dvc init`` with analytics off and the local remote, committed as the project start."""
    from dvc.repo import Repo

    git(root, "init", "--quiet")
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (root / "README.md").write_text(README, encoding="utf-8")
    with quiet_dvc():
        Repo.init(os.fspath(root)).close()
    (root / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")
    (root / REMOTE_DIR).mkdir(exist_ok=True)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "Start the breast-cancer screening project\n\n"
        "DVC tracks the data (local remote in .dvc-remote); MLflow and Optuna stores stay out of git.",
        when=first_commit_date)


def commit_versions(root: Path, versions: list[DataVersion],
                    tick: Callable[[str], None] = lambda _: None) -> list[VersionRecord]:
    """Write, ``dvc add``, push, commit and tag every version in order."""
    from dvc.repo import Repo

    data_file = root / DATA_PATH
    data_file.parent.mkdir(parents=True, exist_ok=True)
    records = []
    with quiet_dvc(), contextlib.closing(Repo(os.fspath(root))) as repo:
        for version in versions:
            tick(f"Committing data version {version.tag} ({version.title})")
            data_file.write_bytes(to_csv_bytes(version.frame))
            repo.add(os.fspath(data_file))
            md5 = _write_meta(data_file.with_name(data_file.name + ".dvc"), *version.shape)
            repo.push()
            git(root, "add", "--all")
            git(root, "commit", "--quiet", "-m", version.message, author=version.author, when=version.date)
            git(root, "tag", "-a", version.tag, "-m", f"{version.tag}: {version.title}",
                author=version.author, when=version.date + timedelta(minutes=3))
            commit = git(root, "rev-parse", "HEAD")
            records.append(VersionRecord(version.tag, version.title, commit, md5, *version.shape,
                                         date=version.date))
    return records


def _write_meta(dvc_file: Path, rows: int, columns: int) -> str:
    """Record ``meta: {rows, columns}`` in the .dvc file; returns the data's md5."""
    content = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))
    content["meta"] = {"rows": int(rows), "columns": int(columns)}
    dvc_file.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return content["outs"][0]["md5"]


def build_repository(root: Path, versions: list[DataVersion],
                     tick: Callable[[str], None] = lambda _: None) -> list[VersionRecord]:
    """The whole git + DVC history of the demo dataset in ``root``."""
    init_repository(root, versions[0].date - timedelta(days=1, hours=2))
    return commit_versions(root, versions, tick)
