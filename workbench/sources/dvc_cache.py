"""Find DVC objects by hash in the local cache or, failing that, the configured remote — read only.

Objects are opened directly by md5 (``<cache>/files/md5/ab/cdef…``, or the DVC 2 layout
``<cache>/ab/cdef…``); nothing is checked out, fetched into the cache or locked. Every remote
call is bounded by our own deadline (``workbench/sources/dvc_remote.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from workbench.errors import MissingDependency, NotFound, SourceUnavailable
from workbench.sources.dvc_remote import Remote, remote_timeout, tune_client


@dataclass(frozen=True)
class ObjectRef:
    """A DVC object: its hash, the hash scheme (``md5`` for DVC 3, None for DVC 2) and the output it belongs to."""

    md5: str
    hash_name: str | None = None
    label: str = ""


def object_paths(ref: ObjectRef) -> list[str]:
    """Relative locations of ``ref`` in a cache or remote, most likely first."""
    head, tail = ref.md5[:2], ref.md5[2:]
    modern, legacy = f"files/md5/{head}/{tail}", f"{head}/{tail}"
    return [modern, legacy] if ref.hash_name == "md5" else [legacy, modern]


class ObjectStore:
    """Read-only access to the DVC cache and default remote of the repository at ``root``.

    ``timeout``: seconds to wait for the remote on each call (default: ``remote_timeout()``).
    """

    def __init__(self, root: Path, timeout: float | None = None) -> None:
        self.root = Path(root)
        self.timeout = remote_timeout(timeout)
        self._config: Any = None
        self._remote_handle: Remote | None = None

    @property
    def config(self) -> Any:
        if self._config is None:
            try:
                from dvc.config import Config
            except ImportError as exc:  # pragma: no cover - dvc is a core dependency
                raise MissingDependency.for_package("dvc", "Reading DVC data") from exc
            try:
                self._config = Config(dvc_dir=str(self.root / ".dvc"))
            except Exception as exc:  # noqa: BLE001 - dvc raises many config error types
                raise SourceUnavailable(f"The DVC config of '{self.root}' cannot be read: {exc}.",
                                        "fix .dvc/config (see `dvc config --list`)") from exc
        return self._config

    # -- local cache -------------------------------------------------------------------------------
    def cache_dir(self) -> Path:
        configured = self.config.get("cache", {}).get("dir")
        return Path(configured) if configured else self.root / ".dvc" / "cache"

    def cached_path(self, ref: ObjectRef) -> Path | None:
        """The object's file in the local cache, or None when the cache lacks it."""
        base = self.cache_dir()
        for relative in object_paths(ref):
            candidate = base / relative
            if candidate.is_file():
                return candidate
        return None

    # -- remote ------------------------------------------------------------------------------------
    def remote_name(self) -> str | None:
        return self.config.get("core", {}).get("remote")

    def remote(self) -> Remote:
        """The default remote (opened once; no network call here)."""
        if self._remote_handle is None:
            self._remote_handle = self._open_remote()
        return self._remote_handle

    def _open_remote(self) -> Remote:
        name = self.remote_name()
        if not name:
            raise NotFound("This data is not in the local DVC cache and no default remote is configured.",
                           "run `dvc fetch` where the data exists, or configure a remote with `dvc remote add -d`")
        try:
            from dvc.fs import get_cloud_fs

            cls, options, fs_path = get_cloud_fs(self.config, name=name)
            fs = cls(**options)
            tune_client(fs, self.timeout)
            return Remote(name, fs, fs_path, self.timeout)
        except ImportError as exc:
            raise MissingDependency(f"Reading the DVC remote '{name}' needs its DVC plugin: {exc}.",
                                    "install the package it names (dvc-gs, dvc-azure, dvc-ssh, …; S3 is built in)") from exc
        except Exception as exc:  # noqa: BLE001 - plugins raise their own types
            raise SourceUnavailable(f"The DVC remote '{name}' cannot be opened: {exc}.",
                                    "check its url and credentials (`dvc remote list`)") from exc

    def remote_path(self, ref: ObjectRef) -> tuple[Remote, str] | None:
        """(remote, path) of the object in the default remote, or None when it is not there.

        Raises a typed error when the remote cannot answer (timeout, credentials, missing bucket).
        """
        remote = self.remote()
        for relative in object_paths(ref):
            path = f"{remote.base}/{relative}"
            if remote.exists(path):
                return remote, path
        remote.check_container()  # "not pushed" or "no such bucket"?
        return None

    # -- both ------------------------------------------------------------------------------------
    def where(self, ref: ObjectRef, check_remote: bool = True) -> str:
        """'cache', 'remote', 'missing', or 'unreachable' when the remote cannot answer (timeout,
        credentials, connection); a missing bucket or remote plugin counts as missing."""
        if self.cached_path(ref) is not None:
            return "cache"
        if not check_remote:
            return "missing"
        try:
            return "remote" if self.remote_path(ref) is not None else "missing"
        except SourceUnavailable:
            return "unreachable"
        except (NotFound, MissingDependency):
            return "missing"

    def open(self, ref: ObjectRef) -> IO[bytes]:
        """The object's bytes (cache first, then the remote); ``NotFound`` says how to get it."""
        cached = self.cached_path(ref)
        if cached is not None:
            return open(cached, "rb")  # noqa: SIM115 - the caller closes it
        found = self.remote_path(ref)
        if found is None:
            raise NotFound(f"{ref.label or ref.md5} is neither in the DVC cache nor in the remote '{self.remote_name()}'.",
                           "push it from a machine that has it (`dvc push`), or pick another version")
        remote, path = found
        return remote.open(path)

    def fetch(self, ref: ObjectRef) -> Path:
        """Copy the object (and a directory's files) from the remote into the cache — only on request.

        Each file is written to a temporary name and renamed into place, read-only, as DVC does.
        """
        target = self.cached_path(ref)
        if target is None:
            found = self.remote_path(ref)
            if found is None:
                raise NotFound(f"{ref.label or ref.md5} is not in the remote '{self.remote_name()}' either.",
                               "push it from a machine that has it (`dvc push`)")
            remote, path = found
            target = self.cache_dir() / object_paths(ref)[0]
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:
                with remote.open(path) as source, open(partial, "wb") as sink:
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)
                os.chmod(partial, 0o444)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
        if ref.md5.endswith(".dir"):
            for md5 in self.manifest(ref)["md5"]:
                self.fetch(ObjectRef(md5, ref.hash_name, ref.label))
        return target

    def manifest(self, ref: ObjectRef) -> pd.DataFrame:
        """The files of a directory object (``….dir``): relpath, md5, size."""
        with self.open(ref) as handle:
            try:
                entries = json.loads(handle.read())
            except ValueError as exc:
                raise SourceUnavailable(f"The directory listing {ref.md5} is corrupt.",
                                        "re-push it from a machine with a good copy (`dvc push`)") from exc
        frame = pd.DataFrame(entries)
        for column in ("relpath", "md5", "size"):
            if column not in frame:
                frame[column] = None
        frame = frame[["relpath", "md5", "size"]].sort_values("relpath").reset_index(drop=True)
        if frame["size"].isna().any():  # DVC 3 listings omit sizes: take them from cached objects
            frame["size"] = [size if pd.notna(size) else self._cached_size(ObjectRef(md5, ref.hash_name))
                             for md5, size in zip(frame["md5"], frame["size"], strict=True)]
        frame["size"] = frame["size"].astype("Int64")
        return frame

    def _cached_size(self, ref: ObjectRef) -> int | None:
        path = self.cached_path(ref) if isinstance(ref.md5, str) else None
        return path.stat().st_size if path is not None else None
