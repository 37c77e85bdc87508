"""Cheap checks of every configured store before serving: one clear line per problem, no backend clients."""

from __future__ import annotations

import socket
import sqlite3
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from workbench.config import WorkbenchConfig
from workbench.sqlite_readonly import connect_readonly, sqlite_file, table_names

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Problem:
    """A setting that cannot work as given, with how to fix it."""

    setting: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message} — {self.hint}"


def check_config(config: WorkbenchConfig) -> list[Problem]:
    """Every problem found in ``config``'s store settings (empty when all look usable)."""
    problems: list[Problem] = []
    if config.tracking_uri:
        problems += _check_tracking_uri(config.tracking_uri)
    if config.optuna_storage:
        problems += _check_optuna_storage(config.optuna_storage)
    if config.dvc_repo:
        problems += _check_dvc_repo(Path(config.dvc_repo), config.dvc_path)
    if config.model and not config.model.startswith(("runs:/", "models:/")):
        problems.append(Problem("model", f"'{config.model}' is not an MLflow model URI.",
                                "use runs:/<run id>/<artifact path> or models:/<name>/<version>"))
    return problems


def _check_sqlite(setting: str, path: Path, required_table: str, what: str) -> list[Problem]:
    if not path.is_file():
        return [Problem(setting, f"the SQLite file '{path}' does not exist.",
                        f"point {setting} at an existing {what} database (the workbench never creates one)")]
    try:
        tables = table_names(path, TIMEOUT_SECONDS)
    except sqlite3.DatabaseError as error:
        return [Problem(setting, f"'{path}' is not a readable SQLite database ({error}).",
                        f"point {setting} at a {what} database")]
    if required_table not in tables:
        return [Problem(setting, f"'{path}' is a SQLite database but not a {what} store (no '{required_table}' table).",
                        f"point {setting} at a {what} database")]
    return []


def _check_database_server(setting: str, uri: str) -> list[Problem]:
    """A PostgreSQL/MySQL URL: is anything listening at its host and port?"""
    parsed = urlparse(uri)
    default_port = 3306 if parsed.scheme.startswith("mysql") else 5432
    host, port = parsed.hostname or "localhost", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_SECONDS):
            return []
    except OSError as error:
        return [Problem(setting, f"the database server {host}:{port} did not answer within "
                        f"{TIMEOUT_SECONDS:.0f} s ({error}).", "start the database or correct the URL")]


def _check_tracking_uri(uri: str) -> list[Problem]:
    path = sqlite_file(uri)
    if path is not None:
        return _check_sqlite("tracking_uri", path, "runs", "MLflow tracking")
    scheme = urlparse(uri).scheme
    if scheme.startswith(("postgres", "mysql")):
        return _check_database_server("tracking_uri", uri)
    if scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=TIMEOUT_SECONDS):
                return []
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            return [Problem("tracking_uri", f"the MLflow server at {uri} did not answer within "
                            f"{TIMEOUT_SECONDS:.0f} s ({reason}).",
                            "start the server (mlflow server ...) or correct the URL")]
    if scheme in ("", "file"):
        folder = Path(urlparse(uri).path if scheme == "file" else uri)
        if not folder.is_dir():
            return [Problem("tracking_uri", f"the MLflow folder '{folder}' does not exist.",
                            "point tracking_uri at an mlruns folder, a sqlite:/// file or an http(s) server")]
    return []


def _check_optuna_storage(storage: str) -> list[Problem]:
    path = sqlite_file(storage)
    if path is not None:
        problems = _check_sqlite("optuna_storage", path, "studies", "Optuna")
        if problems:
            return problems
        connection = connect_readonly(path, TIMEOUT_SECONDS)
        try:
            count = connection.execute("SELECT COUNT(*) FROM studies").fetchone()[0]
        finally:
            connection.close()
        if count == 0:
            return [Problem("optuna_storage", f"the Optuna storage '{path}' holds no studies.",
                            "run an optimisation into it first, or point optuna_storage at another storage")]
        return []
    if urlparse(storage).scheme.startswith(("postgres", "mysql")):
        return _check_database_server("optuna_storage", storage)
    if "://" not in storage and not Path(storage).is_file():
        return [Problem("optuna_storage", f"the Optuna journal file '{storage}' does not exist.",
                        "point optuna_storage at an RDB URL (sqlite:///, postgresql://) or an existing journal file")]
    return []


def _check_dvc_repo(repo: Path, dataset: str | None) -> list[Problem]:
    if not repo.is_dir():
        return [Problem("dvc_repo", f"the folder '{repo}' does not exist.", "point dvc_repo at a git repository with DVC")]
    if not (repo / ".dvc").is_dir():
        return [Problem("dvc_repo", f"'{repo}' is not a DVC repository (no .dvc folder).",
                        "run `dvc init` there, or point dvc_repo at a repository that uses DVC")]
    if not (repo / ".git").exists():
        return [Problem("dvc_repo", f"'{repo}' is not a git repository, so it has no version history.",
                        "point dvc_repo at the root of a git repository")]
    if dataset and not ((repo / f"{dataset}.dvc").is_file() or (repo / dataset).exists()):
        return [Problem("dvc_path", f"'{dataset}' is not tracked in '{repo}'.",
                        "give the path of a DVC-tracked file relative to the repository root")]
    return []
