"""The targets.md Data versions workload: a git+DVC repo with a 100,000-row CSV in N versions,
and a metadata-only history of many commits (built with ``git fast-import``)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.sources.dvc_build import RepoBuilder

CATEGORIES = np.array(["north", "south", "east", "west", "central"])


def base_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": np.arange(rows)})
    for i in range(6):
        frame[f"f{i}"] = rng.normal(i, 1 + i / 3, rows).round(5)
    frame["count"] = rng.integers(0, 1000, rows)
    frame["region"] = CATEGORIES[rng.integers(0, len(CATEGORIES), rows)]
    frame["flag"] = rng.integers(0, 2, rows)
    frame["score"] = rng.uniform(0, 1, rows).round(6)
    return frame


def evolve(frame: pd.DataFrame, step: int, seed: int = 0) -> pd.DataFrame:
    """One realistic step: ~1% of rows edited, 500 rows added, 200 removed, a column every 10 steps."""
    rng = np.random.default_rng(seed + step)
    frame = frame.copy()
    rows = len(frame)
    edit = rng.choice(rows, rows // 100, replace=False)
    frame.loc[frame.index[edit], "f0"] = (frame["f0"].iloc[edit] + rng.normal(0.3, 0.1, len(edit))).round(5)
    frame = frame.drop(index=frame.index[rng.choice(rows, 200, replace=False)])
    start = int(frame["id"].max()) + 1
    extra = base_table(500, seed=seed + 1000 + step).assign(id=np.arange(start, start + 500))
    extra["f1"] = (extra["f1"] + 0.05 * step).round(5)  # new data drifts
    for column in frame.columns.difference(extra.columns):
        extra[column] = 0.0
    frame = pd.concat([frame, extra[frame.columns]], ignore_index=True)
    if step % 10 == 0 and frame.shape[1] < 13:
        frame[f"extra{step}"] = rng.normal(0, 1, len(frame)).round(4)
    return frame


def build_versions(directory: Path, versions: int = 31, rows: int = 100_000) -> Path:
    """``versions`` DVC versions of data/table.csv (tags v1..vN), pushed to a local remote."""
    builder = RepoBuilder(directory)
    frame = base_table(rows)
    for step in range(1, versions + 1):
        if step > 1:
            frame = evolve(frame, step)
        builder.version("data/table.csv", frame, f"Version {step}: {len(frame)} rows", tag=f"v{step}",
                        author=["Ada Lovelace", "Grace Hopper"][step % 2])
    builder.push()
    builder.close()
    return directory


def build_long_history(directory: Path, commits: int = 1000) -> Path:
    """A git repo (DVC initialised) whose data/big.csv.dvc changes in each of ``commits`` commits.

    Only metadata is written (the history listing never reads data); every 5th commit also
    changes an unrelated file so the log has commits to skip.
    """
    builder = RepoBuilder(directory, remote=False)
    builder.close()
    lines = []
    for i in range(commits):
        digest = hashlib.md5(f"content {i}".encode()).hexdigest()
        body = (f"outs:\n- md5: {digest}\n  size: {8_700_000 + i}\n  hash: md5\n  path: big.csv\n"
                f"meta:\n  rows: {100_000 + i}\n  columns: 12\n")
        files = [("data/big.csv.dvc", body)]
        if i % 5 == 0:
            files.append(("src/train.py", f"# revision {i}\n"))
        mark = i + 1
        stamp = 1_767_000_000 + i * 3600
        message = f"Data update {i}"
        lines.append(f"commit refs/heads/main\nmark :{mark}\n"
                     f"author Ada Lovelace <ada@example.org> {stamp} +0000\n"
                     f"committer Ada Lovelace <ada@example.org> {stamp} +0000\n"
                     f"data {len(message.encode())}\n{message}\n")
        if i == 0:
            lines.append("from refs/heads/main^0\n")
        for path, content in files:
            lines.append(f"M 100644 inline {path}\ndata {len(content.encode())}\n{content}\n")
        lines.append("\n")
    subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=directory, input="".join(lines).encode(),
                   check=True, timeout=300)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=directory, check=True, timeout=120)
    return directory
