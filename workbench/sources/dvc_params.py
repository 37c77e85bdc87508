"""Params and metrics files tracked in git (params.yaml, metrics.json, …) per revision, and DVC experiments."""

from __future__ import annotations

import json
import posixpath
from typing import Any

import pandas as pd

from workbench.sources.dvc_git import Git
from workbench.sources.dvc_meta import load_yaml

DEFAULT_FILES = ("params.yaml", "params.json", "metrics.json", "metrics.yaml")
_FIELD, _RECORD = "\x1f", "\x1e"


def declared_files(dvc_yaml: bytes | None) -> list[str]:
    """Params and metrics files named in a dvc.yaml (top-level ``metrics``/``params`` and stage outs)."""
    if not dvc_yaml:
        return []
    try:
        data = load_yaml(dvc_yaml)
    except Exception:  # noqa: BLE001 - a broken dvc.yaml just declares nothing
        return []
    if not isinstance(data, dict):
        return []
    names: list[str] = []
    for key in ("metrics", "params"):
        names += [item for item in data.get(key) or [] if isinstance(item, str)]
    for stage in (data.get("stages") or {}).values():
        if not isinstance(stage, dict):
            continue
        for item in stage.get("metrics") or []:
            names.append(next(iter(item)) if isinstance(item, dict) else item)
        for item in stage.get("params") or []:
            if isinstance(item, dict):
                names += [name for name in item if isinstance(name, str)]
    return [name for name in names if isinstance(name, str) and name.endswith((".yaml", ".yml", ".json"))]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} → {"a.b": 1}; lists become JSON text."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        return {prefix: json.dumps(value)}
    return {prefix: value}


def parse_values(text: bytes, name: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if name.endswith(".json") else load_yaml(text)
    except Exception:  # noqa: BLE001 - unreadable file: no values
        return {}
    return flatten(data) if isinstance(data, dict) else {}


def values_history(git: Git, prefix: str, rev: str, files: list[str]) -> pd.DataFrame:
    """One row per commit that changed any of ``files``: commit info plus ``<file>:<key>`` columns."""
    if not files:
        return pd.DataFrame(columns=["commit", "short", "date", "message"])
    log = git.run(["log", f"--format={_RECORD}%H{_FIELD}%h{_FIELD}%aI{_FIELD}%s{_FIELD}%D", rev, "--",
                   *[prefix + name for name in files]])
    commits = [entry.split(_FIELD) for entry in log.decode("utf-8", "replace").split(_RECORD)[1:]]
    blobs = git.cat_files(f"{c[0]}:{prefix}{name}" for c in commits for name in files)
    rows = []
    for sha, short, date, message, refs in commits:
        tags = ", ".join(r.strip()[5:] for r in refs.split(",") if r.strip().startswith("tag: "))
        row: dict[str, Any] = {"commit": sha, "short": short, "tags": tags, "date": date, "message": message}
        for name in files:
            text = blobs.get(f"{sha}:{prefix}{name}")
            if text is not None:
                row.update({f"{name}:{key}": value for key, value in parse_values(text, name).items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame


def experiments(git: Git, prefix: str = "", files: list[str] | None = None) -> pd.DataFrame:
    """DVC experiments (refs under refs/exps): name, baseline and experiment commit, and the
    ``<file>:<key>`` values of ``files`` (params/metrics) in each experiment's commit."""
    out = git.run(["for-each-ref", "--format=%(refname)%09%(objectname)%09%(creatordate:iso-strict)", "refs/exps"])
    rows = []
    for line in out.decode("utf-8", "replace").splitlines():
        ref, sha, date = line.split("\t")
        parts = ref.split("/")
        if len(parts) >= 5:
            rows.append({"experiment": parts[-1], "baseline": parts[2] + parts[3], "commit": sha, "date": date})
    if rows and files:
        blobs = git.cat_files(f"{row['commit']}:{prefix}{name}" for row in rows for name in files)
        for row in rows:
            for name in files:
                text = blobs.get(f"{row['commit']}:{prefix}{name}")
                if text is not None:
                    row.update({f"{name}:{key}": value for key, value in parse_values(text, name).items()})
    frame = pd.DataFrame(rows)
    return frame if rows else pd.DataFrame(columns=["experiment", "baseline", "commit", "date"])


def tracked_value_files(git: Git, prefix: str, rev: str) -> list[str]:
    """Default params/metrics files plus those dvc.yaml declares, that exist at ``rev``."""
    names = [name[len(prefix):] for name in git.ls_files(rev, under=prefix) if name.startswith(prefix)]
    declared = declared_files(git.cat_files([f"{rev}:{prefix}dvc.yaml"]).get(f"{rev}:{prefix}dvc.yaml"))
    wanted = [*DEFAULT_FILES, *declared]
    present = set(names)
    return sorted({posixpath.normpath(name) for name in wanted if posixpath.normpath(name) in present})
