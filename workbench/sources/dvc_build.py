"""Build small git+DVC repositories of dataset versions (tests, benchmarks, examples).

Uses the in-process ``dvc.repo.Repo`` API (much faster than the CLI) and the ``git`` CLI with
fixed author names and dates, so histories are deterministic.
"""

from __future__ import annotations

import logging
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from workbench.sources.dvc_meta import load_yaml

_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


class RepoBuilder:
    """A git repository with DVC initialised (and optionally a local remote) in ``directory``."""

    def __init__(self, directory: str | os.PathLike[str], remote: bool = True, dvc: bool = True) -> None:
        self.root = Path(directory)
        self.root.mkdir(parents=True, exist_ok=True)
        self.commits = 0
        self.git("init", "-q", "-b", "main")
        self._repo = None
        if dvc:
            os.environ.setdefault("DVC_NO_ANALYTICS", "1")
            from dvc.repo import Repo

            logging.getLogger("dvc").setLevel(logging.WARNING)
            self._repo = Repo.init(str(self.root))
            with self._repo.config.edit() as config:
                config["core"]["analytics"] = False
                if remote:
                    remote_dir = self.root / ".dvc-remote"
                    remote_dir.mkdir(exist_ok=True)
                    config["remote"]["local"] = {"url": str(remote_dir)}
                    config["core"]["remote"] = "local"
            (self.root / ".gitignore").write_text(".dvc-remote/\n")
            self.commit("Initialise DVC")

    def git(self, *args: str, when: datetime | None = None, author: str = "Ada Lovelace") -> str:
        when = when or _START + timedelta(days=self.commits)
        stamp = when.isoformat()
        email = author.lower().replace(" ", ".") + "@example.org"
        env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
               "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email,
               "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        done = subprocess.run(["git", *args], cwd=self.root, env=env, capture_output=True,
                              text=True, timeout=60, check=True)
        return done.stdout.strip()

    def write(self, path: str, content: pd.DataFrame | bytes | str | dict[str, bytes]) -> Path:
        """Write a table (CSV/TSV/Parquet/JSONL by extension), raw bytes/text, or a folder of files."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            target.mkdir(exist_ok=True)
            for old in target.iterdir():
                if old.name not in content:
                    old.unlink()
            for name, data in content.items():
                (target / name).write_bytes(data)
        elif isinstance(content, pd.DataFrame):
            write_table(content, target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return target

    def track(self, path: str, meta: dict | None = None) -> str:
        """``dvc add path`` (in-process); writes ``meta`` into the .dvc file; returns its md5."""
        assert self._repo is not None, "DVC is not initialised in this builder"
        self._repo.add([str(self.root / path)])
        dvc_file = self.root / f"{path}.dvc"
        if meta:
            data = load_yaml(dvc_file.read_text())
            data["meta"] = meta
            import yaml

            dvc_file.write_text(yaml.safe_dump(data, sort_keys=False))
        return load_yaml(dvc_file.read_text())["outs"][0]["md5"]

    def commit(self, message: str, tag: str | None = None, author: str = "Ada Lovelace",
               when: datetime | None = None) -> str:
        """Stage everything and commit (optionally tagged); returns the commit sha."""
        self.git("add", "-A", when=when, author=author)
        self.git("commit", "-q", "--allow-empty", "-m", message, when=when, author=author)
        self.commits += 1
        if tag:
            self.git("tag", tag, when=when, author=author)
        return self.git("rev-parse", "HEAD")

    def version(self, path: str, content, message: str, tag: str | None = None,
                author: str = "Ada Lovelace", meta: bool = True) -> str:
        """Write, track and commit one version of ``path``; returns the commit sha."""
        self.write(path, content)
        info = None
        if meta and isinstance(content, pd.DataFrame):
            info = {"rows": int(len(content)), "columns": int(content.shape[1])}
        self.track(path, info)
        return self.commit(message, tag=tag, author=author)

    def stage(self, name: str, cmd: str, deps: list[str], outs: list[str]) -> None:
        """Add a pipeline stage to dvc.yaml and reproduce it (records its outs in dvc.lock)."""
        assert self._repo is not None
        previous = os.getcwd()
        os.chdir(self.root)  # DVC resolves stage paths against the working directory
        try:
            self._repo.stage.add(name=name, cmd=cmd, deps=deps, outs=outs, force=True)
            self._repo.reproduce(name)
        finally:
            os.chdir(previous)

    def push(self) -> None:
        """Push every cached object to the local remote."""
        assert self._repo is not None
        self._repo.push()

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()


def write_table(frame: pd.DataFrame, target: Path) -> None:
    """Write ``frame`` in the format named by the file extension."""
    suffix = target.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(target, index=False)
    elif suffix == ".tsv":
        frame.to_csv(target, sep="\t", index=False)
    elif suffix in (".jsonl", ".ndjson"):
        frame.to_json(target, orient="records", lines=True)
    else:
        frame.to_csv(target, index=False)
