"""Find DVC objects by hash in the local cache or, failing that, the configured remote — read only.

Objects are opened directly by md5 (``<cache>/files/md5/ab/cdef…``, or the DVC 2 layout
``<cache>/ab/cdef…``); nothing is checked out, fetched into the cache or locked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from workbench.errors import MissingDependency, NotFound, SourceUnavailable


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
    """Read-only access to the DVC cache and default remote of the repository at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._config: Any = None

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

    def _remote(self) -> tuple[Any, str]:
        name = self.remote_name()
        if not name:
            raise NotFound("This data is not in the local DVC cache and no default remote is configured.",
                           "run `dvc fetch` where the data exists, or configure a remote with `dvc remote add -d`")
        try:
            from dvc.fs import get_cloud_fs

            cls, options, fs_path = get_cloud_fs(self.config, name=name)
            return cls(**options), fs_path
        except ImportError as exc:
            raise MissingDependency(f"Reading the DVC remote '{name}' needs its DVC plugin: {exc}.",
                                    "install it, e.g. pip install dvc-s3 for S3-compatible remotes") from exc
        except Exception as exc:  # noqa: BLE001 - plugins raise their own types
            raise SourceUnavailable(f"The DVC remote '{name}' cannot be opened: {exc}.",
                                    "check its url and credentials (`dvc remote list`)") from exc

    def remote_path(self, ref: ObjectRef) -> tuple[Any, str] | None:
        """(filesystem, path) of the object in the default remote, or None when it is not there."""
        fs, base = self._remote()
        for relative in object_paths(ref):
            path = f"{base.rstrip('/')}/{relative}"
            try:
                if fs.exists(path):
                    return fs, path
            except Exception as exc:  # noqa: BLE001 - network filesystems raise anything
                raise SourceUnavailable(f"The DVC remote '{self.remote_name()}' did not answer: {exc}.",
                                        "check the network and the remote's url and credentials") from exc
        return None

    # -- both ------------------------------------------------------------------------------------
    def where(self, ref: ObjectRef, check_remote: bool = True) -> str:
        """'cache', 'remote' or 'missing' (remote errors count as missing)."""
        if self.cached_path(ref) is not None:
            return "cache"
        if not check_remote:
            return "missing"
        try:
            return "remote" if self.remote_path(ref) is not None else "missing"
        except (NotFound, SourceUnavailable, MissingDependency):
            return "missing"

    def local_path(self, ref: ObjectRef) -> Path | None:
        """A local file holding the object: the cache, or a local-directory remote."""
        cached = self.cached_path(ref)
        if cached is not None:
            return cached
        found = self.remote_path(ref)
        if found is not None and getattr(found[0], "protocol", None) == "local" and os.path.isfile(found[1]):
            return Path(found[1])
        return None

    def open(self, ref: ObjectRef) -> IO[bytes]:
        """The object's bytes (cache first, then the remote); ``NotFound`` says how to get it."""
        cached = self.cached_path(ref)
        if cached is not None:
            return open(cached, "rb")  # noqa: SIM115 - the caller closes it
        found = self.remote_path(ref)
        if found is None:
            raise NotFound(f"{ref.label or ref.md5} is neither in the DVC cache nor in the remote '{self.remote_name()}'.",
                           "push it from a machine that has it (`dvc push`), or pick another version")
        fs, path = found
        return fs.open(path, "rb")

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
            fs, path = found
            target = self.cache_dir() / object_paths(ref)[0]
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:
                with fs.open(path, "rb") as source, open(partial, "wb") as sink:
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

    def size(self, ref: ObjectRef) -> int | None:
        cached = self.cached_path(ref)
        if cached is not None:
            return cached.stat().st_size
        found = self.remote_path(ref)
        if found is None:
            return None
        return int(found[0].size(found[1]))

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
