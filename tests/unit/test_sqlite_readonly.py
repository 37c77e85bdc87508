"""The shared read-only SQLite opener: never creates, never writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.sqlite_readonly import connect_readonly, sqlite_file, table_names


def test_uri_parsing() -> None:
    assert sqlite_file("sqlite:////tmp/a%20b.db?mode=x") == Path("/tmp/a b.db")
    assert sqlite_file("postgresql://h/db") is None


def test_missing_files_are_not_created(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        connect_readonly(tmp_path / "none.db", 1).execute("SELECT 1")
    assert not (tmp_path / "none.db").exists()


def test_writes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert table_names(path, 1) == {"t"}
    connection = connect_readonly(path, 1)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("INSERT INTO t VALUES (1)")
    connection.close()
