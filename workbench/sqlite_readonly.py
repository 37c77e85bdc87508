"""Read-only SQLite: the one way every layer opens a user's SQLite store (never created, never written)."""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path


def sqlite_file(uri: str) -> Path | None:
    """The file behind a ``sqlite:///`` URI (query string dropped, %-escapes decoded); None for other URIs."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(urllib.parse.unquote(uri[len("sqlite:///"):].split("?", 1)[0]))


def connect_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    """A ``mode=ro`` connection: it cannot write, and fails instead of creating a missing file."""
    uri = f"file:{urllib.parse.quote(str(Path(path).resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)


def table_names(path: Path, timeout: float) -> set[str]:
    """The table names of a SQLite file (raises ``sqlite3.DatabaseError`` for a non-SQLite file)."""
    connection = connect_readonly(path, timeout)
    try:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        connection.close()
