"""DVC data versions from git and DVC metadata alone: tracked outputs and per-dataset history.

``DvcSource`` never writes into the repository: it reads git objects through ``git cat-file``
(one process for many revisions) and never runs ``dvc`` commands that touch ``.dvc/tmp``.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources.dvc_cache import ObjectRef, ObjectStore
from workbench.sources.dvc_git import Git
from workbench.sources.dvc_meta import (
    OutputRecord,
    is_metadata_file,
    parse_metadata_file,
)
from workbench.sources.dvc_params import experiments, tracked_value_files, values_history
from workbench.sources.dvc_read import (
    MAX_IMAGE_BYTES,
    MAX_TEXT_PREVIEW,
    Preview,
    file_format,
    is_image,
    is_table,
    preview_table,
    read_table,
)
from workbench.sources.dvc_status import workspace_status

OUTPUT_COLUMNS = ["path", "source", "kind", "md5", "size", "nfiles", "is_dir", "hash_name", "rows", "columns"]
HISTORY_COLUMNS = ["commit", "short", "tags", "refs", "date", "author", "email", "message", "change",
                   "md5", "size", "nfiles", "rows", "columns", "source", "hash_name"]
MAX_DIFF_BYTES = 2_000_000_000
TABLE_CACHE_SIZE = 4
READ_CHUNK = 8 << 20
_FIELD, _RECORD = "\x1f", "\x1e"
_LOG_FORMAT = _RECORD + _FIELD.join(["%H", "%h", "%an", "%ae", "%aI", "%s", "%D"])


class DvcSource:
    """Read-only access to a git repository with DVC initialised.

    ``repo`` is the DVC root (the folder holding ``.dvc/``) or any folder inside it; ``timeout``
    bounds git calls, ``remote_timeout`` each call to the DVC remote (None: ``$WORKBENCH_DVC_REMOTE_TIMEOUT``
    or 15 s).
    """

    def __init__(self, repo: str | os.PathLike[str] | None, timeout: float = 20.0,
                 remote_timeout: float | None = None, allowed_datasets: Collection[str] | None = None) -> None:
        self.root, self.git_root = _locate(repo, timeout)
        # per-user access: outputs outside this set are never listed, read or diffed (None: all)
        self.allowed_datasets = None if allowed_datasets is None else frozenset(allowed_datasets)
        self.git = Git(self.git_root, timeout=timeout)  # pathspecs are relative to the top level
        prefix = self.root.relative_to(self.git_root).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"
        self.remote_timeout = remote_timeout
        self._store: ObjectStore | None = None
        self._tables: dict[tuple[str, str], pd.DataFrame] = {}

    # -- outputs ---------------------------------------------------------------------------------
    def outputs(self, rev: str | None = None) -> pd.DataFrame:
        """DVC-tracked outputs at ``rev`` (None: the workspace), one row per output."""
        records = self._records(rev)
        frame = pd.DataFrame([r.as_dict() for r in records], columns=[*OUTPUT_COLUMNS, "meta"])
        frame = frame.drop(columns="meta").sort_values("path", kind="stable").reset_index(drop=True)
        return _integer_columns(frame, ["size", "nfiles", "rows", "columns"])

    def datasets(self, rev: str | None = None) -> list[str]:
        """Paths of the tracked outputs (the dataset chooser's options)."""
        return sorted({record.path for record in self._records(rev)})

    def default_dataset(self, preferred: str | None = None) -> str:
        """``preferred`` when tracked (else ``NotFound``), otherwise the first tracked output."""
        names = self.datasets()
        if not names and self.allowed_datasets is not None:
            raise NotFound("Your account may see no dataset of this repository.",
                           "ask the workbench's administrator to add you to an [access.allow] rule with datasets")
        if not names:
            raise NotFound(f"No DVC-tracked data in '{self.root}'.",
                           "track a file with `dvc add <file>` (or a stage in dvc.yaml) and commit the .dvc file")
        if preferred is None:
            return names[0]
        return self._check_dataset(preferred, names)

    def _records(self, rev: str | None) -> list[OutputRecord]:
        if rev is not None:
            rev = self.commit(rev)
        files = [name for name in self.git.ls_files(rev, under=self.prefix)
                 if name.startswith(self.prefix) and is_metadata_file(name[len(self.prefix):])]
        if rev is None:
            contents = {}
            for name in files:
                try:
                    contents[name] = (self.git_root / name).read_bytes()
                except OSError:
                    continue  # listed by git but deleted from the workspace
        else:
            contents = self.git.cat_files(f"{rev}:{name}" for name in files)
            contents = {spec.split(":", 1)[1]: text for spec, text in contents.items()}
        records: list[OutputRecord] = []
        for name, text in contents.items():
            if text is not None:
                records += parse_metadata_file(text, name[len(self.prefix):])
        if self.allowed_datasets is not None:
            records = [record for record in records if record.path in self.allowed_datasets]
        return records

    # -- history ---------------------------------------------------------------------------------
    def history(self, path: str | None = None, rev: str = "HEAD") -> pd.DataFrame:
        """Every commit reachable from ``rev`` that changed the dataset ``path``, newest first.

        Listed from ``git log`` and the DVC metadata in each commit (one ``git cat-file --batch``
        for all of them) — the data itself is never read.
        """
        path = self.default_dataset(path)
        source = self._source_of(path)
        commit = self.commit(rev)
        watched = [source]
        log = self.git.run(["log", f"--format={_LOG_FORMAT}", "--no-color", commit, "--",
                            *[self.prefix + name for name in watched]])
        commits = [entry.split(_FIELD) for entry in log.decode("utf-8", "replace").split(_RECORD)[1:]]
        commits = [fields[:6] + [fields[6].strip()] for fields in commits if len(fields) >= 7]
        specs = [f"{fields[0]}:{self.prefix}{name}" for fields in commits for name in watched]
        blobs = self.git.cat_files(specs)
        rows, previous = [], None
        for fields in reversed(commits):  # oldest first, to keep only real changes of this output
            record = self._find(path, fields[0], watched, blobs)
            state = (record.md5, record.size) if record else None
            if state == previous:
                continue
            change = "deleted" if record is None else ("added" if previous is None else "modified")
            previous = state
            rows.append(_history_row(fields, record, change))
        frame = pd.DataFrame(rows[::-1], columns=HISTORY_COLUMNS)
        frame["date"] = pd.to_datetime(frame["date"], utc=True)
        return _integer_columns(frame, ["size", "nfiles", "rows", "columns"])

    def _find(self, path: str, commit: str, watched: list[str],
              blobs: dict[str, bytes | None]) -> OutputRecord | None:
        for name in watched:
            text = blobs.get(f"{commit}:{self.prefix}{name}")
            if text is not None:
                for record in parse_metadata_file(text, name):
                    if record.path == path:
                        return record
        return None

    def _source_of(self, path: str) -> str:
        for record in self._records(None):
            if record.path == path:
                return record.source
        for record in self._records("HEAD"):
            if record.path == path:
                return record.source
        raise NotFound(f"'{path}' is not DVC-tracked in '{self.root}'.",
                       f"choose one of: {', '.join(self.datasets()) or '(none)'}")

    def _check_dataset(self, path: str, names: list[str]) -> str:
        candidate = Path(path)
        if candidate.is_absolute() or ".." in candidate.parts:
            resolved = (self.root / candidate).resolve()
            if not resolved.is_relative_to(self.root):
                raise ConfigError(f"Dataset path '{path}' is outside the repository '{self.root}'.",
                                  "give a path inside the DVC repository (setting dvc_path)")
            path = resolved.relative_to(self.root).as_posix()
        path = posixpath.normpath(path.replace(os.sep, "/"))
        if path.endswith(".dvc") and path[:-4] in names:
            path = path[:-4]
        if path not in names:
            raise NotFound(f"'{path}' is not DVC-tracked in '{self.root}'.",
                           f"choose one of: {', '.join(names)} (setting dvc_path)")
        return path

    # -- data ------------------------------------------------------------------------------------
    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            self._store = ObjectStore(self.root, timeout=self.remote_timeout)
        return self._store

    def version(self, path: str, rev: str | None) -> OutputRecord:
        """The metadata of ``path`` at ``rev`` (None: the workspace); ``NotFound`` when absent there."""
        for record in self._records(rev):
            if record.path == path:
                if not record.md5:
                    raise NotFound(f"'{path}' has no recorded hash at {rev or 'the workspace'}.",
                                   "run `dvc commit` (or `dvc repro`) so the version is recorded")
                return record
        raise NotFound(f"'{path}' is not DVC-tracked at revision '{rev or 'workspace'}'.",
                       "pick a revision from the version list")

    def ref(self, path: str, rev: str | None, member: str | None = None) -> ObjectRef:
        """The object holding ``path`` at ``rev`` (``member``: a file inside a directory output)."""
        record = self.version(path, rev)
        label = f"'{path}' at {rev[:12] if rev else 'workspace'}"
        ref = ObjectRef(record.md5, record.hash_name, label)
        if member is None:
            return ref
        files = self.store.manifest(ref)
        match = files[files["relpath"] == member]
        if match.empty:
            raise NotFound(f"'{member}' is not in {label}.", "pick a file from the listing")
        return ObjectRef(match.iloc[0]["md5"], record.hash_name, f"'{path}/{member}' at {rev[:12] if rev else 'workspace'}")

    def availability(self, history: pd.DataFrame, check_remote: bool = True) -> list[str]:
        """'cache', 'remote', 'missing' or 'unreachable' for each version of a history frame (no data read)."""
        return [self.store.where(ObjectRef(md5, name), check_remote) if isinstance(md5, str) else "missing"
                for md5, name in zip(history["md5"], history["hash_name"], strict=True)]

    def preview(self, path: str, rev: str | None, rows: int = 100, member: str | None = None) -> Preview:
        """What ``path`` holds at ``rev``: a table head, an image, a text head or a file listing."""
        ref = self.ref(path, rev, member)
        name = member or path
        fmt = file_format(name)
        if ref.md5.endswith(".dir"):
            return Preview("files", ref.label, table=self.store.manifest(ref))
        with self.store.open(ref) as handle:
            if is_table(fmt):
                return Preview("table", ref.label, table=preview_table(handle, fmt, ref.label, rows))
            if is_image(fmt):
                data = handle.read(MAX_IMAGE_BYTES + 1)
                if len(data) > MAX_IMAGE_BYTES:
                    return Preview("text", ref.label, text="", notes=["The image is too large to preview."])
                return Preview("image", ref.label, data=data)
            head = handle.read(MAX_TEXT_PREVIEW)
        if b"\0" in head[:8192]:
            return Preview("text", ref.label, text="", notes=[f"{ref.label} is a binary file: no preview."])
        return Preview("text", ref.label, text=head.decode("utf-8", "replace"))

    def read(self, path: str, rev: str | None, member: str | None = None,
             max_bytes: int = MAX_DIFF_BYTES) -> pd.DataFrame:
        """The whole table ``path`` at ``rev`` (for diffs and checks); refuses files over ``max_bytes``.

        Objects are content-addressed, so the last few tables read are kept by md5 (a copy is returned).
        """
        ref = self.ref(path, rev, member)
        fmt = file_format(member or path)
        if not is_table(fmt):
            raise SourceUnavailable(f"{ref.label} is not a table (CSV, TSV, Parquet or JSON lines).",
                                    "content diffs and quality checks need a table; compare files instead")
        cached = self._tables.get((ref.md5, fmt))
        if cached is None:
            cached = self._read_object(ref, fmt, max_bytes)
            self._tables[(ref.md5, fmt)] = cached
            while len(self._tables) > TABLE_CACHE_SIZE:
                self._tables.pop(next(iter(self._tables)))
        return cached.copy(deep=False)

    def _read_object(self, ref: ObjectRef, fmt: str, max_bytes: int) -> pd.DataFrame:
        local = self.store.cached_path(ref)
        found = None if local is not None else self.store.remote_path(ref)  # one lookup in the remote
        if found is not None and found[0].is_local:
            local = Path(found[1])
        if local is None:
            if found is None:
                raise NotFound(f"{ref.label} is neither in the DVC cache nor in the remote.",
                               "push it from a machine that has it (`dvc push`), or pick another version")
            remote, path = found
            _check_size(ref, remote.size(path), max_bytes)
            with tempfile.NamedTemporaryFile(suffix="." + fmt) as tmp:  # outside the repo and its cache
                with remote.open(path) as handle:
                    while chunk := handle.read(READ_CHUNK):  # each chunk within the remote's deadline
                        tmp.write(chunk)
                tmp.flush()
                return read_table(Path(tmp.name), fmt, ref.label)
        _check_size(ref, local.stat().st_size, max_bytes)
        return read_table(local, fmt, ref.label)

    def fetch(self, path: str, rev: str | None) -> Path:
        """Copy one version from the remote into the DVC cache (writes ``.dvc/cache`` only; on request)."""
        return self.store.fetch(self.ref(path, rev))

    def files(self, path: str, rev: str | None) -> pd.DataFrame:
        """The file listing of a directory output at ``rev``."""
        ref = self.ref(path, rev)
        if not ref.md5.endswith(".dir"):
            raise NotFound(f"{ref.label} is a file, not a directory.", "preview it instead")
        return self.store.manifest(ref)

    # -- workspace, params, experiments ----------------------------------------------------------
    def status(self) -> pd.DataFrame:
        """Each output's workspace data vs its record, uncommitted records, DVC lock notes."""
        return workspace_status(self.root, self._records(None), self._records("HEAD") if self.has_commits() else [],
                                self.store)

    def params_history(self, rev: str = "HEAD") -> pd.DataFrame:
        """params/metrics files (params.yaml, metrics.json, those dvc.yaml declares) per commit."""
        commit = self.commit(rev)
        return values_history(self.git, self.prefix, commit, tracked_value_files(self.git, self.prefix, commit))

    def experiments(self) -> pd.DataFrame:
        """DVC experiments stored as git refs (refs/exps), with their params/metrics values."""
        files = tracked_value_files(self.git, self.prefix, self.commit("HEAD")) if self.has_commits() else []
        return experiments(self.git, self.prefix, files)

    def refs(self) -> list[str]:
        """Branch and tag names (for choosing a revision)."""
        out = self.git.run(["for-each-ref", "--format=%(refname:short)", "--sort=-creatordate",
                            "refs/heads", "refs/tags"])
        return out.decode("utf-8", "replace").split()

    def has_commits(self) -> bool:
        return self.git.resolve("HEAD") is not None

    # -- revisions -------------------------------------------------------------------------------
    def commit(self, rev: str) -> str:
        """The full sha of ``rev`` (branch, tag or commit); ``NotFound`` when it names nothing."""
        if not rev or rev.startswith("-"):
            raise NotFound(f"'{rev}' is not a revision.", "give a branch, tag or commit sha")
        sha = self.git.resolve(rev)
        if sha is None:
            raise NotFound(f"Revision '{rev}' does not exist in '{self.git_root}'.",
                           "give an existing branch, tag or commit (see the version list)")
        return sha


def _check_size(ref: ObjectRef, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise SourceUnavailable(f"{ref.label} is {size / 1e9:.1f} GB: too large to read whole.",
                                "preview it instead (it reads only the rows shown), or diff a smaller file")


def _integer_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = frame[column].astype("Int64")
    return frame


def _history_row(fields: list[str], record: OutputRecord | None, change: str) -> dict:
    sha, short, author, email, date, message, refs = fields
    ref_names = [ref.strip() for ref in refs.split(",") if ref.strip()]
    tags = [ref[len("tag: "):] for ref in ref_names if ref.startswith("tag: ")]
    others = [ref.replace("HEAD -> ", "") for ref in ref_names if not ref.startswith("tag: ")]
    return {
        "commit": sha, "short": short, "tags": ", ".join(tags), "refs": ", ".join(others),
        "date": date, "author": author, "email": email, "message": message, "change": change,
        "md5": record.md5 if record else None, "size": record.size if record else None,
        "nfiles": record.nfiles if record else None, "rows": record.rows if record else None,
        "columns": record.columns if record else None, "source": record.source if record else None,
        "hash_name": record.hash_name if record else None,
    }


def _locate(repo: str | os.PathLike[str] | None, timeout: float) -> tuple[Path, Path]:
    """(DVC root, git top level) for ``repo``, or a typed error saying what is missing."""
    if repo is None or str(repo).strip() == "":
        raise ConfigError("No DVC repository is configured.",
                          "set dvc_repo (workbench.toml, WORKBENCH_DVC_REPO or --dvc-repo) to a git repository with DVC")
    path = Path(repo).expanduser()
    if not path.exists():
        raise ConfigError(f"The DVC repository '{repo}' does not exist.",
                          "set dvc_repo to an existing folder (a git repository with DVC initialised)")
    if not path.is_dir():
        raise ConfigError(f"The DVC repository '{repo}' is not a folder.",
                          "set dvc_repo to the folder that holds the .dvc/ directory")
    path = path.resolve()
    git_root = Git(path, timeout=timeout).toplevel()
    if git_root is None:
        hint = ("DVC data versions live in git: run `git init` there and commit the .dvc files"
                if (path / ".dvc").is_dir() else "set dvc_repo to a git repository with DVC initialised")
        raise SourceUnavailable(f"'{path}' is not a git repository.", hint)
    git_root = git_root.resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".dvc").is_dir():
            return candidate, git_root
        if candidate == git_root:
            break
    raise SourceUnavailable(f"'{path}' is a git repository without DVC.",
                            "run `dvc init` in it and track data with `dvc add`, or point dvc_repo at a DVC repository")
