"""File-browser items the workbench opens: validate a path under the Jupyter root, pick its page.

A ``.dvc`` file opens the Data versions page on its dataset; a SQLite file opens Tuning (an Optuna
storage) or Experiments (an MLflow store); an ``mlruns`` folder opens Experiments.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sqlite_readonly import table_names

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SQLITE_TIMEOUT_SECONDS = 5.0
OPTUNA_TABLES = {"studies", "trials"}
MLFLOW_TABLES = {"experiments", "runs"}


@dataclass(frozen=True)
class Item:
    """What a file-browser item is and the config overrides that open the workbench on it."""

    path: str  # relative to the Jupyter root, '/'-separated
    kind: str  # "dvc", "optuna", "mlflow"
    page: str  # a key of workbench.apps.main.PAGES
    overrides: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind, "page": self.page}


def resolve_under_root(root: str | Path, relative: str) -> Path:
    """The absolute path of ``relative`` inside ``root``; refuses anything that escapes it."""
    root_path = Path(root).resolve()
    if not relative or "\x00" in relative:
        raise ConfigError("No file or folder was given.", "pick an item in the file browser")
    candidate = (root_path / relative.lstrip("/")).resolve()
    if not candidate.is_relative_to(root_path):
        raise ConfigError(f"'{relative}' is outside the folder JupyterLab serves.",
                          "open items below the JupyterLab root folder only")
    if not candidate.exists():
        raise NotFound(f"'{relative}' does not exist.", "refresh the file browser and pick an existing item")
    return candidate


def inspect_item(root: str | Path, relative: str) -> Item:
    """Classify a file-browser item; raises a WorkbenchError when the workbench cannot open it."""
    root_path = Path(root).resolve()
    target = resolve_under_root(root_path, relative)
    rel = target.relative_to(root_path).as_posix()
    if target.is_dir():
        if target.name == "mlruns":
            return Item(rel, "mlflow", "experiments", {"tracking_uri": str(target)})
        raise ConfigError(f"The folder '{rel}' is not an MLflow 'mlruns' folder.",
                          "open an mlruns folder, a .dvc file or an MLflow/Optuna SQLite file")
    if target.suffix == ".dvc":
        return _dvc_item(root_path, target, rel)
    if target.suffix.lower() in SQLITE_SUFFIXES:
        tables = sqlite_tables(target)
        uri = f"sqlite:///{target}"
        if tables >= OPTUNA_TABLES:
            return Item(rel, "optuna", "tuning", {"optuna_storage": uri})
        if tables >= MLFLOW_TABLES:
            return Item(rel, "mlflow", "experiments", {"tracking_uri": uri})
        raise ConfigError(f"'{rel}' is neither an Optuna storage nor an MLflow store.",
                          "open a SQLite file written by Optuna or MLflow")
    raise ConfigError(f"The workbench cannot open '{rel}'.",
                      "open an mlruns folder, a .dvc file or an MLflow/Optuna SQLite file")


def sqlite_tables(path: Path) -> set[str]:
    """The table names of a SQLite file, read through a read-only connection."""
    try:
        tables = table_names(path, SQLITE_TIMEOUT_SECONDS)
    except sqlite3.DatabaseError as error:
        raise SourceUnavailable(f"'{path.name}' cannot be read as a SQLite database: {error}.",
                                "check that the file is a complete SQLite database") from None
    return tables


def _dvc_item(root: Path, dvc_file: Path, rel: str) -> Item:
    """A .dvc file: its repository is the nearest folder above it (inside the root) with a .dvc/ dir."""
    for folder in dvc_file.parents:
        if not folder.is_relative_to(root):
            break
        if (folder / ".dvc").is_dir():
            data_path = dvc_file.with_suffix("").relative_to(folder).as_posix()
            return Item(rel, "dvc", "data_versions", {"dvc_repo": str(folder), "dvc_path": data_path})
    raise ConfigError(f"'{rel}' is not inside a DVC repository below the JupyterLab root folder.",
                      "run `dvc init` in the repository, or start JupyterLab in (or above) it")
