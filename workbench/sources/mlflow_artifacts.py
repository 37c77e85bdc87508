"""Run artifacts, read-only: list a folder, read a file up to a size cap. Never loads models.

Local artifact roots (plain paths, ``file://``) are read from disk with containment checks
(``Path.resolve()`` + ``is_relative_to``: ``..``, absolute paths and symlinks out of the run's
artifact folder are refused). Other roots (``mlflow-artifacts:``, ``s3://``, ...) go through
MLflow's artifact repository for that URI, under a short timeout.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import pandas as pd

from workbench.errors import NotFound, SourceUnavailable, UntrustedOperation

DEFAULT_CAP = 2_000_000  # bytes read for a preview
MODEL_MARKERS = ("MLmodel",)
T = TypeVar("T")
MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".h5", ".keras", ".onnx", ".cloudpickle")


@dataclass
class ArtifactContent:
    """The first ``len(data)`` bytes of an artifact; ``truncated`` when the file is larger."""

    path: str
    data: bytes
    size: int

    @property
    def truncated(self) -> bool:
        return self.size > len(self.data)


def is_model_file(path: str) -> bool:
    """Pickles and model folders are listed but never opened by the workbench."""
    name = PurePosixPath(path).name
    return name in MODEL_MARKERS or name.lower().endswith(MODEL_SUFFIXES)


def clean_relative(path: str) -> str:
    """A relative artifact path with no ``..``, no absolute part and no empty segments."""
    text = urllib.parse.unquote(path or "").replace("\\", "/")
    if text.startswith("/") or any(part == ".." for part in text.split("/")) or "\0" in text:
        raise NotFound(f"Artifact path {path!r} is outside the run's artifacts.",
                       "use a path relative to the run's artifact folder, without '..'")
    return "/".join(part for part in text.split("/") if part not in ("", "."))


def local_root(artifact_uri: str) -> Path | None:
    """The folder of a local artifact URI, or None for remote URIs."""
    if artifact_uri.startswith("file:"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(artifact_uri).path))
    if "://" not in artifact_uri and ":" not in artifact_uri.split("/", 1)[0]:
        return Path(artifact_uri)
    return None


class ArtifactReader:
    """Lists and reads the artifacts of runs given their ``artifact_uri``."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def _local(self, root: Path, path: str) -> Path:
        base = root.resolve()
        target = (base / clean_relative(path)).resolve()
        if not target.is_relative_to(base):
            raise NotFound(f"Artifact path {path!r} points outside the run's artifacts.",
                           "links out of the artifact folder are not followed")
        if not target.exists():
            raise NotFound(f"Artifact {path!r} does not exist.", "pick an artifact from the list")
        return target

    def list(self, artifact_uri: str, path: str = "") -> pd.DataFrame:
        """path, is_dir, size (bytes; NaN for folders) of one folder's entries, folders first."""
        root = local_root(artifact_uri)
        rows = []
        if root is not None:
            if not root.exists():
                return pd.DataFrame(columns=["path", "is_dir", "size"])
            folder = self._local(root, path)
            base = root.resolve()
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                resolved = Path(entry.path).resolve()
                if not resolved.is_relative_to(base):
                    continue  # symlink out of the artifacts: not listed
                relative = resolved.relative_to(base).as_posix()
                is_dir = resolved.is_dir()
                rows.append((relative, is_dir, float("nan") if is_dir else float(resolved.stat().st_size)))
        else:
            listed = self._remote(artifact_uri, lambda repo: repo.list_artifacts(clean_relative(path) or None))
            for info in listed:
                rows.append((info.path, info.is_dir, float("nan") if info.is_dir else float(info.file_size or 0)))
        frame = pd.DataFrame(rows, columns=["path", "is_dir", "size"])
        return frame.sort_values(["is_dir", "path"], ascending=[False, True], ignore_index=True)

    def read(self, artifact_uri: str, path: str, max_bytes: int = DEFAULT_CAP) -> ArtifactContent:
        """The first ``max_bytes`` of an artifact file; models are refused (they are never unpickled)."""
        relative = clean_relative(path)
        if is_model_file(relative):
            raise UntrustedOperation(f"'{relative}' is a model file; the workbench does not open models here.",
                                     "load it yourself in a notebook with mlflow.<flavor>.load_model")
        root = local_root(artifact_uri)
        if root is not None:
            target = self._local(root, relative)
            if target.is_dir():
                raise NotFound(f"'{relative}' is a folder.", "pick a file to preview")
            with target.open("rb") as handle:
                return ArtifactContent(relative, handle.read(max_bytes), target.stat().st_size)
        with tempfile.TemporaryDirectory(prefix="wb-artifact-") as folder:
            local = Path(self._remote(artifact_uri, lambda repo: repo.download_artifacts(relative, dst_path=folder)))
            with local.open("rb") as handle:
                return ArtifactContent(relative, handle.read(max_bytes), local.stat().st_size)

    def _remote(self, artifact_uri: str, call: Callable[[Any], T]) -> T:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        from workbench.sources.mlflow_rest import short_requests

        try:
            with short_requests(self.timeout):
                return call(get_artifact_repository(artifact_uri))
        except Exception as exc:  # the artifact store is the problem, whatever it raised
            raise SourceUnavailable(f"The artifacts at {artifact_uri} cannot be reached: {exc}",
                                    "check the artifact store (or tracking server) is running") from exc
