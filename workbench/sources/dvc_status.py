"""Workspace status of DVC outputs (changed vs committed) and DVC lock state — read only.

Files are compared to their recorded md5 by size first and then by hashing (bounded); the DVC
state database, ``dvc status`` and the locks under ``.dvc/tmp`` are never used or touched.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from workbench.sources.dvc_cache import ObjectRef, ObjectStore
from workbench.sources.dvc_meta import OutputRecord

MAX_HASH_BYTES = 512_000_000
STATUS_COLUMNS = ["path", "status", "detail"]


def file_md5(path: Path, limit: int = MAX_HASH_BYTES) -> str | None:
    """md5 of a file, or None when it is larger than ``limit``."""
    if path.stat().st_size > limit:
        return None
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def output_status(root: Path, record: OutputRecord, store: ObjectStore, limit: int = MAX_HASH_BYTES) -> tuple[str, str]:
    """(status, detail) of one output in the workspace against its recorded hash."""
    target = root / record.path
    if not record.md5:
        return "not committed", "no hash recorded: run `dvc commit` or `dvc repro`"
    if not target.exists():
        return "not in workspace", "run `dvc checkout` (or `dvc pull`) to get it"
    if record.is_dir:
        return _dir_status(target, record, store, limit)
    if record.size is not None and target.stat().st_size != record.size:
        return "modified", f"size {target.stat().st_size} ≠ recorded {record.size}"
    digest = file_md5(target, limit)
    if digest is None:
        return "not checked", "too large to hash here"
    return ("unchanged", "") if digest == record.md5 else ("modified", "content differs from the recorded md5")


def _dir_status(target: Path, record: OutputRecord, store: ObjectStore, limit: int) -> tuple[str, str]:
    try:
        manifest = store.manifest(ObjectRef(record.md5, record.hash_name))
    except Exception as error:  # noqa: BLE001 - missing listing: we cannot tell
        return "unknown", f"directory listing unavailable: {getattr(error, 'message', error)}"
    recorded = dict(zip(manifest["relpath"], manifest["md5"], strict=True))
    present = {p.relative_to(target).as_posix(): p for p in target.rglob("*") if p.is_file()}
    added = sorted(set(present) - set(recorded))
    removed = sorted(set(recorded) - set(present))
    modified = sorted(name for name in set(present) & set(recorded)
                      if file_md5(present[name], limit) not in (recorded[name], None))
    if not (added or removed or modified):
        return "unchanged", ""
    parts = [f"{len(items)} {word}" for items, word in ((added, "added"), (removed, "removed"),
                                                          (modified, "modified")) if items]
    return "modified", ", ".join(parts) + " file(s)"


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_status(root: Path) -> list[dict]:
    """Notes about DVC locks: a running holder, or stale rwlock entries of dead processes."""
    notes = []
    tmp = root / ".dvc" / "tmp"
    lock = tmp / "lock"
    if lock.is_file():
        text = lock.read_text(errors="replace").strip()
        if text.isdigit() and int(text) != os.getpid() and _pid_running(int(text)):
            notes.append({"path": ".dvc/tmp/lock", "status": "locked",
                          "detail": f"a DVC command (pid {text}) may be running; data shown may be mid-update"})
    rwlock = tmp / "rwlock"
    if rwlock.is_file():
        try:
            entries = json.loads(rwlock.read_text() or "{}")
        except ValueError:
            entries = {}
        holders = []
        for kind in ("read", "write"):
            for info in (entries.get(kind) or {}).values():
                for item in info if isinstance(info, list) else [info]:
                    if isinstance(item, dict) and isinstance(item.get("pid"), int):
                        holders.append(item)
        stale = [h for h in holders if not _pid_running(h["pid"])]
        if stale:
            notes.append({"path": ".dvc/tmp/rwlock", "status": "stale lock",
                          "detail": f"{len(stale)} entr{'y' if len(stale) == 1 else 'ies'} of processes that are gone "
                                    "(DVC may refuse to run until you remove .dvc/tmp/rwlock; the workbench leaves it alone)"})
    return notes


def workspace_status(root: Path, workspace: list[OutputRecord], committed: list[OutputRecord],
                     store: ObjectStore, limit: int = MAX_HASH_BYTES) -> pd.DataFrame:
    """One row per output: data vs its .dvc/dvc.lock record, and records not yet committed to git."""
    at_head = {r.path: r for r in committed}
    rows = []
    for record in sorted(workspace, key=lambda r: r.path):
        status, detail = output_status(root, record, store, limit)
        head = at_head.get(record.path)
        if head is None:
            status, detail = (status if status != "unchanged" else "new"), detail or f"{record.source} is not committed to git"
        elif head.md5 != record.md5:
            detail = (detail + "; " if detail else "") + f"{record.source} changed since the last commit"
            status = "changed (uncommitted)" if status == "unchanged" else status
        rows.append({"path": record.path, "status": status, "detail": detail})
    for path in sorted(set(at_head) - {r.path for r in workspace}):
        rows.append({"path": path, "status": "deleted", "detail": "its .dvc/dvc.lock entry was removed since the last commit"})
    rows += lock_status(root)
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)
