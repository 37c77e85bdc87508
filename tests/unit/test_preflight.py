"""Preflight checks: one clear problem per unusable store setting, and nothing written."""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path

from helpers import snapshot

from workbench.config import WorkbenchConfig
from workbench.preflight import check_config


def settings(problems) -> list[str]:
    return [problem.setting for problem in problems]


def test_missing_files_and_folders_are_reported(tmp_path: Path) -> None:
    config = WorkbenchConfig(tracking_uri=f"sqlite:///{tmp_path}/none.db", optuna_storage=str(tmp_path / "j.log"),
                             dvc_repo=str(tmp_path / "nope"))
    problems = check_config(config)
    assert settings(problems) == ["tracking_uri", "optuna_storage", "dvc_repo"]
    assert "does not exist" in problems[0].message and "never creates" in problems[0].hint
    assert not (tmp_path / "none.db").exists(), "a check must never create the store"


def test_a_sqlite_file_of_the_wrong_kind_is_named(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (x)")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    before = snapshot(tmp_path)
    problems = check_config(WorkbenchConfig(tracking_uri=f"sqlite:///{other}", optuna_storage=f"sqlite:///{garbage}"))
    assert "not a MLflow tracking store" in problems[0].message
    assert "not a readable SQLite database" in problems[1].message
    assert snapshot(tmp_path) == before


def test_an_optuna_storage_without_studies_is_reported(tmp_path: Path) -> None:
    import optuna

    path = tmp_path / "empty.db"
    optuna.storages.RDBStorage(f"sqlite:///{path}")  # a real, empty Optuna schema
    problems = check_config(WorkbenchConfig(optuna_storage=f"sqlite:///{path}"))
    assert settings(problems) == ["optuna_storage"]
    assert "holds no studies" in problems[0].message


def test_a_folder_without_dvc_or_git_is_reported(tmp_path: Path) -> None:
    problems = check_config(WorkbenchConfig(dvc_repo=str(tmp_path)))
    assert "not a DVC repository" in problems[0].message and "dvc init" in problems[0].hint
    (tmp_path / ".dvc").mkdir()
    assert "not a git repository" in check_config(WorkbenchConfig(dvc_repo=str(tmp_path)))[0].message


def test_a_tracking_server_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
        problems = check_config(WorkbenchConfig(tracking_uri=f"http://127.0.0.1:{port}"))
    assert settings(problems) == ["tracking_uri"]
    assert "did not answer within 5 s" in problems[0].message


def test_a_refused_connection_is_reported() -> None:
    from helpers import free_port

    problems = check_config(WorkbenchConfig(tracking_uri=f"http://127.0.0.1:{free_port()}"))
    assert "did not answer" in problems[0].message and "start the server" in problems[0].hint


def test_the_demo_workspace_passes(demo_config: WorkbenchConfig) -> None:
    assert check_config(demo_config) == []


def test_a_bad_model_uri_is_reported() -> None:
    assert settings(check_config(WorkbenchConfig(model="/tmp/model.pkl"))) == ["model"]


def test_a_database_server_that_is_not_there_is_reported() -> None:
    from helpers import free_port

    port = free_port()
    problems = check_config(WorkbenchConfig(tracking_uri=f"postgresql://u@127.0.0.1:{port}/mlflow",
                                            optuna_storage=f"postgresql://u@127.0.0.1:{port}/optuna"))
    assert settings(problems) == ["tracking_uri", "optuna_storage"]
    assert f"127.0.0.1:{port}" in problems[0].message and "start the database" in problems[0].hint


def test_a_running_postgres_passes(postgres_url: str) -> None:
    assert check_config(WorkbenchConfig(tracking_uri=postgres_url, optuna_storage=postgres_url)) == []
