"""Find a run's artifacts (explanations, models) from a ``runs:/`` or ``models:/`` URI, read-only.

SQLite stores are read with plain SQL over a ``mode=ro`` connection (no MLflow client, no migration,
nothing written); other stores go through ``MlflowClient`` with a timeout. Local artifact folders are
read in place; remote ones are downloaded file by file to a temporary folder.
"""

from __future__ import annotations

import sqlite3
import tempfile
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sqlite_readonly import connect_readonly, sqlite_file

T = TypeVar("T")
URI_HINT = "set model to runs:/<run id>/<artifact path> or models:/<registered name>/<version>"


@dataclass(frozen=True)
class RunRef:
    """A model reference: a run id and artifact path, or a registered model name and version."""

    run_id: str | None = None
    artifact_path: str = "model"
    model_name: str | None = None
    model_version: str | None = None

    def describe(self) -> str:
        if self.run_id:
            return f"runs:/{self.run_id}/{self.artifact_path}"
        return f"models:/{self.model_name}/{self.model_version}"


def parse_model_uri(uri: str | None) -> RunRef:
    """``runs:/<id>/<path>`` or ``models:/<name>/<version>`` as a RunRef; anything else is a ConfigError."""
    text = (uri or "").strip()
    if text.startswith("runs:/"):
        run_id, _, path = text[len("runs:/"):].strip("/").partition("/")
        if run_id and run_id.isalnum():
            return RunRef(run_id=run_id, artifact_path=path or "model")
    elif text.startswith("models:/"):
        name, _, version = text[len("models:/"):].strip("/").rpartition("/")
        if name and version:
            return RunRef(model_name=name, model_version=version)
    raise ConfigError(f"The setting 'model' ({text!r}) is not a model URI the workbench understands.", URI_HINT)


def with_timeout(function: Callable[[], T], timeout: float, what: str,
                 on_timeout: Callable[[], None] | None = None) -> T:
    """Run ``function`` in a worker thread; a SourceUnavailable (after ``on_timeout()``) if it takes longer
    than ``timeout``."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(function).result(timeout=timeout)
    except FutureTimeout:
        if on_timeout is not None:
            on_timeout()
        raise SourceUnavailable(f"{what} did not answer within {timeout:g} s.",
                                "check the tracking server is running and reachable") from None
    finally:
        pool.shutdown(wait=False)


# -- the run's artifact root ----------------------------------------------------------------------
def _connect_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    if not path.is_file():
        raise SourceUnavailable(f"The MLflow store '{path}' does not exist.",
                                "check tracking_uri; the workbench never creates stores")
    return connect_readonly(path, timeout)


def _query(path: Path, timeout: float, sql: str, args: tuple) -> list[tuple]:
    connection = _connect_readonly(path, timeout)
    try:
        return connection.execute(sql, args).fetchall()
    except sqlite3.DatabaseError as exc:
        raise SourceUnavailable(f"The MLflow store '{path}' cannot be read: {exc}.",
                                "point tracking_uri at an intact MLflow SQLite store") from exc
    finally:
        connection.close()


def _sqlite_run_id(path: Path, ref: RunRef, timeout: float) -> tuple[str, str | None]:
    """(run id, version source) of a registered model version."""
    rows = _query(path, timeout, "SELECT run_id, source FROM model_versions WHERE name = ? AND version = ?",
                  (ref.model_name, ref.model_version))
    if not rows or not rows[0][0]:
        raise NotFound(f"The registered model version '{ref.describe()}' does not exist in '{path}'.", URI_HINT)
    return rows[0][0], rows[0][1]


def run_artifact_root(tracking_uri: str | None, ref: RunRef, timeout: float = 10.0) -> tuple[str, str]:
    """(run id, the run's artifact URI)."""
    if not tracking_uri:
        raise ConfigError("No tracking_uri is set, so the model's run cannot be found.",
                          "set tracking_uri to the MLflow store the model was logged to")
    path = sqlite_file(tracking_uri)
    if path is not None:
        run_id = ref.run_id or _sqlite_run_id(path, ref, timeout)[0]
        rows = _query(path, timeout, "SELECT artifact_uri FROM runs WHERE run_uuid = ?", (run_id,))
        if not rows:
            raise NotFound(f"The run '{run_id}' does not exist in '{path}'.",
                           "check the run id in the model setting (copy it from the Experiments tab)")
        return run_id, _absolute(rows[0][0], path.parent)

    def remote() -> tuple[str, str]:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        from workbench.sources.mlflow_rest import short_requests

        client = MlflowClient(tracking_uri=tracking_uri)
        try:
            with short_requests(timeout):  # no retries: a server that is down fails now, not after backoffs
                run_id = ref.run_id or client.get_model_version(ref.model_name, ref.model_version).run_id
                return run_id, client.get_run(run_id).info.artifact_uri
        except MlflowException as exc:
            if "Connection" in exc.message or "Max retries" in exc.message:
                raise SourceUnavailable(f"The tracking server {tracking_uri} does not answer.",
                                        "start it (or check tracking_uri), then reopen this page") from exc
            raise NotFound(f"'{ref.describe()}' was not found in '{tracking_uri}': {exc.message}.",
                           "check the run id in the model setting") from exc

    return _asking(tracking_uri, remote, timeout, f"The tracking store '{tracking_uri}'")


def _asking(tracking_uri: str | None, function: Callable[[], T], timeout: float, what: str) -> T:
    """``with_timeout`` for a store: a tracking server that did not answer lately is not waited for again,
    and one that does not answer now is remembered (the Experiments source shares the memory)."""
    if not tracking_uri or sqlite_file(tracking_uri) is not None:
        return with_timeout(function, timeout, what)
    from workbench.sources.mlflow_rest import note_silent, raise_if_silent

    raise_if_silent(tracking_uri)
    return with_timeout(function, timeout, what, on_timeout=lambda: note_silent(tracking_uri))


def _absolute(artifact_uri: str, base: Path) -> str:
    if "://" in artifact_uri or artifact_uri.startswith(("mlflow-artifacts:", "file:")):
        return artifact_uri
    return str((base / artifact_uri).resolve()) if not Path(artifact_uri).is_absolute() else artifact_uri


def local_path(uri: str) -> Path | None:
    """The local folder of a file artifact URI (None for remote ones)."""
    if uri.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))
    if uri.startswith("file:"):
        return Path(urllib.parse.unquote(uri[len("file:"):]))
    if "://" in uri or uri.startswith("mlflow-artifacts:"):
        return None
    return Path(uri)


def locate_run_artifact(tracking_uri: str | None, ref: RunRef, relative: str, timeout: float = 10.0) -> Path:
    """A local path of the run artifact ``relative`` (downloaded when the artifact store is remote)."""
    run_id, root = run_artifact_root(tracking_uri, ref, timeout)
    folder = local_path(root)
    if folder is not None:
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder.resolve()) or not target.exists():
            raise NotFound(f"The run '{run_id}' has no artifact '{relative}'.", "log it with the run")
        return target
    return _download(f"{root.rstrip('/')}/{relative}", tracking_uri, timeout, f"artifact '{relative}' of run '{run_id}'")


def _download(uri: str, tracking_uri: str | None, timeout: float, what: str) -> Path:
    def fetch() -> Path:
        import mlflow.artifacts
        from mlflow.exceptions import MlflowException

        try:
            return Path(mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=tempfile.mkdtemp(prefix="workbench-"), tracking_uri=tracking_uri))
        except (MlflowException, OSError) as exc:
            raise NotFound(f"The {what} could not be fetched: {exc}.", "log it with the run") from exc

    return _asking(tracking_uri, fetch, timeout, f"The artifact store of '{tracking_uri}'")


def locate_model(tracking_uri: str | None, ref: RunRef, timeout: float = 30.0) -> Path:
    """The local folder of a logged model (its MLmodel file inside); reading it is the caller's business."""
    run_id, root = run_artifact_root(tracking_uri, ref, timeout)
    folder = local_path(root)
    path = sqlite_file(tracking_uri or "")
    if folder is not None and (folder / ref.artifact_path / "MLmodel").is_file():
        return folder / ref.artifact_path
    if path is not None:  # MLflow 3 logs models as LoggedModels outside the run's folder
        rows = _query(path, timeout, "SELECT artifact_location FROM logged_models WHERE source_run_id = ? AND name = ? "
                      "ORDER BY creation_timestamp_ms DESC", (run_id, ref.artifact_path)) if ref.run_id else []
        if ref.model_name:
            source = _sqlite_run_id(path, ref, timeout)[1] or ""
            model_id = source[len("models:/"):].strip("/") if source.startswith("models:/") else None
            rows = _query(path, timeout, "SELECT artifact_location FROM logged_models WHERE model_id = ?",
                          (model_id,)) if model_id else [(source,)]
        for (location,) in rows:
            candidate = local_path(_absolute(location, path.parent))
            if candidate is not None and (candidate / "MLmodel").is_file():
                return candidate
        raise NotFound(f"The run '{run_id}' has no logged model '{ref.artifact_path}'.",
                       "log the model with mlflow.sklearn.log_model, or pass it with wb.explain(model, X)")
    return _download(ref.describe(), tracking_uri, timeout, f"model '{ref.describe()}'")
