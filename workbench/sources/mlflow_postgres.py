"""Read-only reader for PostgreSQL MLflow stores: the SQLite fast path's SQL on a psycopg2 connection.

Every session runs with ``default_transaction_read_only=on`` (PostgreSQL refuses any write), a
``connect_timeout`` and a ``statement_timeout``; the schema is never created or migrated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd

from workbench.errors import MissingDependency, SourceUnavailable
from workbench.sources.mlflow_sql import REQUIRED_TABLES, SqliteRunsReader


def libpq_uri(uri: str) -> str:
    """``postgresql+driver://`` → ``postgresql://`` (libpq does not know SQLAlchemy driver names)."""
    scheme, rest = uri.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def display_uri(uri: str) -> str:
    """The URI without its password (for messages)."""
    scheme, rest = uri.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        credentials, host = rest.split("@", 1)
        rest = f"{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials else rest
    return f"{scheme}://{rest}"


class PostgresRunsReader(SqliteRunsReader):
    """Experiments, runs, their data and metric histories from an MLflow PostgreSQL database."""

    TOTAL = "SUM"  # exact on bigint (numeric result), no overflow

    def __init__(self, uri: str, timeout: float = 5.0) -> None:
        try:
            import psycopg2
        except ImportError as error:
            raise MissingDependency.for_package("psycopg2-binary", "Reading MLflow runs from PostgreSQL") from error
        self._errors = psycopg2.Error
        self.path = display_uri(uri)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._last_listing: tuple[list[str], int] = ([], -1)
        try:
            self._connection = psycopg2.connect(
                libpq_uri(uri), connect_timeout=max(1, int(timeout)),
                options=f"-c default_transaction_read_only=on -c statement_timeout={int(timeout * 6000)}")
        except psycopg2.Error as error:
            raise SourceUnavailable(f"Could not connect to the MLflow store {self.path}: {str(error).strip()}",
                                    "check that the PostgreSQL server is running and reachable, and the "
                                    "host, port, database, user and password in tracking_uri") from error
        self._connection.autocommit = True  # one read-only transaction per statement: no idle locks
        tables = {row[0] for row in self._query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        missing = REQUIRED_TABLES - tables
        if missing:
            self._connection.close()
            raise SourceUnavailable(
                f"{self.path} is not an MLflow tracking store (missing tables: {', '.join(sorted(missing))}).",
                "point tracking_uri at the database your runs were logged to")

    @contextmanager
    def _cursor(self) -> Iterator:
        with self._lock:
            try:
                with self._connection.cursor() as cursor:
                    yield cursor
            except self._errors as error:
                raise SourceUnavailable(f"Reading the MLflow store {self.path} failed: {str(error).strip()}",
                                        "check that the PostgreSQL server is running and the database is an "
                                        "MLflow store") from error

    def _query(self, sql: str, args=()) -> list[tuple]:
        with self._cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), tuple(args))  # the shared SQL uses qmark placeholders
            return cursor.fetchall()

    def _text_table(self, table: str, run_ids: Sequence[str]) -> pd.DataFrame:
        """Params or tags, one row per run (index run_id), as one JSON object per run."""
        rows = self._select(f"SELECT run_uuid, json_object_agg(key, value) FROM {table} WHERE {{where}}"
                            " GROUP BY run_uuid", run_ids)
        return pd.DataFrame.from_records([row[1] for row in rows], index=[row[0] for row in rows])
