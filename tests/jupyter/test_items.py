"""File-browser items and tab URLs → workbench config: classification and path validation."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import snapshot

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.jupyter.items import inspect_item, resolve_under_root
from workbench.jupyter.session import session_config


def _sqlite(path: Path, *tables: str) -> Path:
    connection = sqlite3.connect(path)
    for table in tables:
        connection.execute(f"CREATE TABLE {table} (id INTEGER)")
    connection.commit()
    connection.close()
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jupyter root with a DVC repo in a subfolder, two SQLite stores, an mlruns folder."""
    root = tmp_path_factory.mktemp("items") / "root"
    repo = root / "project"
    (repo / "data").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=repo, check=True,
                   env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    (repo / "data" / "table.csv.dvc").write_text("outs:\n- md5: 0\n  path: table.csv\n")
    _sqlite(root / "optuna.db", "studies", "trials", "alembic_version")
    _sqlite(root / "mlflow.db", "experiments", "runs", "metrics")
    _sqlite(root / "other.sqlite", "things")
    (root / "mlruns" / "0").mkdir(parents=True)
    (root / "notes.txt").write_text("hello")
    return root


def test_items_open_the_matching_page(root: Path) -> None:
    optuna = inspect_item(root, "optuna.db")
    assert (optuna.page, optuna.kind, optuna.overrides) == (
        "tuning", "optuna", {"optuna_storage": f"sqlite:///{root.resolve() / 'optuna.db'}"})
    mlflow = inspect_item(root, "/mlflow.db")
    assert (mlflow.page, mlflow.overrides["tracking_uri"]) == ("experiments", f"sqlite:///{root.resolve() / 'mlflow.db'}")
    mlruns = inspect_item(root, "mlruns")
    assert (mlruns.page, mlruns.overrides) == ("experiments", {"tracking_uri": str(root.resolve() / "mlruns")})
    dvc = inspect_item(root, "project/data/table.csv.dvc")
    assert dvc.to_json() == {"path": "project/data/table.csv.dvc", "kind": "dvc", "page": "data_versions"}
    assert dvc.overrides == {"dvc_repo": str(root.resolve() / "project"), "dvc_path": "data/table.csv"}


def test_inspecting_never_writes_the_stores(root: Path) -> None:
    before = snapshot(root)
    for item in ("optuna.db", "mlflow.db", "other.sqlite"):
        with contextlib.suppress(ConfigError):
            inspect_item(root, item)
    assert snapshot(root) == before


def test_items_the_workbench_cannot_open_give_typed_errors(root: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither an Optuna storage nor an MLflow store"):
        inspect_item(root, "other.sqlite")
    with pytest.raises(ConfigError, match="cannot open 'notes.txt'"):
        inspect_item(root, "notes.txt")
    with pytest.raises(ConfigError, match="not an MLflow 'mlruns' folder"):
        inspect_item(root, "project")
    with pytest.raises(NotFound, match="does not exist"):
        inspect_item(root, "missing.db")
    (root / "broken.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(SourceUnavailable, match="cannot be read as a SQLite database"):
        inspect_item(root, "broken.db")
    (tmp_path / "loose.csv.dvc").write_text("outs: []\n")
    (root / "loose.csv.dvc").write_text("outs: []\n")
    with pytest.raises(ConfigError, match="not inside a DVC repository") as error:
        inspect_item(root, "loose.csv.dvc")
    assert "dvc init" in error.value.hint


def test_paths_outside_the_root_are_refused(root: Path, tmp_path: Path) -> None:
    outside = _sqlite(tmp_path / "secret.db", "studies", "trials")
    (root / "link.db").symlink_to(outside)
    for path in ("../secret.db", "link.db", "project/../../secret.db"):
        with pytest.raises(ConfigError, match="outside the folder JupyterLab serves"):
            inspect_item(root, path)
    with pytest.raises(NotFound):  # like JupyterLab's, absolute paths are relative to the root
        inspect_item(root, str(outside))
    with pytest.raises(ConfigError, match="No file or folder"):
        resolve_under_root(root, "")


def test_session_config_layers_settings_and_item(root: Path) -> None:
    config, page = session_config(root, {}, "experiments")
    assert page == "experiments"
    assert config.tracking_uri == f"sqlite:///{root.resolve() / 'mlflow.db'}"  # discovered in the root
    assert config.optuna_storage == f"sqlite:///{root.resolve() / 'optuna.db'}"

    args = {"tracking_uri": "mlruns", "optuna_storage": "sqlite:///other.sqlite", "dvc_repo": "project",
            "refresh_interval": "2.5", "theme": "dark"}
    config, page = session_config(root, args, None)
    assert page is None
    assert config.tracking_uri == str(root.resolve() / "mlruns")
    assert config.optuna_storage == f"sqlite:///{root.resolve() / 'other.sqlite'}"
    assert config.dvc_repo == str(root.resolve() / "project")
    assert config.refresh_interval == 2.5
    config, _ = session_config(root, {"tracking_uri": "http://tracking.example:5000"}, None)
    assert config.tracking_uri == "http://tracking.example:5000"

    config, page = session_config(root, {**args, "path": "project/data/table.csv.dvc"}, None)
    assert page == "data_versions"  # the item picks the page when the route does not
    assert (config.dvc_repo, config.dvc_path) == (str(root.resolve() / "project"), "data/table.csv")


def test_session_config_rejects_bad_arguments(root: Path) -> None:
    with pytest.raises(ConfigError, match="not a number"):
        session_config(root, {"refresh_interval": "soon"}, None)
    with pytest.raises(ConfigError, match="cannot be negative"):
        session_config(root, {"refresh_interval": "-1"}, None)
    with pytest.raises(ConfigError, match="outside the folder"):
        session_config(root, {"path": "../../etc/passwd"}, "tuning")
