"""Read-only fast path for SQLite MLflow stores: plain SQL over MLflow's tables, no ORM, no writes.

The connection is opened with ``file:...?mode=ro`` so nothing (not even a migration or a journal)
can be written. ``tests/unit/test_mlflow_source.py`` shows the table equals ``mlflow.search_runs``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from workbench.errors import SourceUnavailable
from workbench.sources.mlflow_frames import INFO_COLUMNS, LONG_COLUMNS, RunBatch
from workbench.sqlite_readonly import connect_readonly

CHUNK = 900  # stays below SQLite's default limit of bound variables
REQUIRED_TABLES = {"experiments", "runs", "params", "tags", "metrics", "latest_metrics"}


def sqlite_path(uri: str) -> Path:
    """The file path of a ``sqlite:///`` URI."""
    path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else uri
    path = path.split("?", 1)[0]
    return Path(urllib.parse.unquote(path))


def readonly_connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that cannot write; fails (instead of creating the file) when it is missing."""
    if not path.is_file():
        raise SourceUnavailable(
            f"The MLflow store '{path}' does not exist.",
            "check tracking_uri (sqlite:///<absolute path to mlflow.db>); the workbench never creates stores",
        )
    try:
        connection = connect_readonly(path, timeout)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise SourceUnavailable(f"The MLflow store '{path}' cannot be read: {exc}.",
                                "check that the file is an intact SQLite database") from exc
    missing = REQUIRED_TABLES - tables
    if missing:
        connection.close()
        raise SourceUnavailable(
            f"'{path}' is not an MLflow tracking store (missing tables: {', '.join(sorted(missing))}).",
            "point tracking_uri at the mlflow.db your runs were logged to",
        )
    return connection


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


class SqliteRunsReader:
    """Reads experiments, runs, their data and metric histories from an MLflow SQLite file."""

    TOTAL = "TOTAL"  # SQLite's overflow-free SUM (the PostgreSQL reader uses SUM, exact on bigint)

    def __init__(self, uri: str, timeout: float = 5.0) -> None:
        self.path = sqlite_path(uri)
        self.timeout = timeout
        self._connection = readonly_connect(self.path, timeout)
        self._lock = threading.Lock()
        self._last_listing: tuple[list[str], int] = ([], -1)

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            try:
                yield self._connection.cursor()
            except sqlite3.DatabaseError as exc:
                raise SourceUnavailable(f"Reading the MLflow store '{self.path}' failed: {exc}.",
                                        "check the file is an intact MLflow SQLite store") from exc

    def _query(self, sql: str, args: Iterable[object] = ()) -> list[tuple]:
        with self._cursor() as cursor:
            return cursor.execute(sql, tuple(args)).fetchall()

    # -- reads --------------------------------------------------------------------------------
    def experiments(self) -> pd.DataFrame:
        rows = self._query(
            "SELECT experiment_id, name, artifact_location, lifecycle_stage FROM experiments"
            " WHERE lifecycle_stage = 'active' ORDER BY experiment_id")
        frame = pd.DataFrame(rows, columns=["experiment_id", "name", "artifact_location", "lifecycle_stage"])
        frame["experiment_id"] = frame["experiment_id"].astype(str)
        return frame

    def run_infos(self, experiment_ids: Sequence[str]) -> pd.DataFrame:
        """One row per active run of the experiments (cheap: no params/metrics/tags)."""
        rows: list[tuple] = []
        for chunk in _chunks(list(experiment_ids)):
            marks = ",".join("?" * len(chunk))
            rows += self._query(
                "SELECT run_uuid, name, experiment_id, status, start_time, end_time, artifact_uri"
                f" FROM runs WHERE lifecycle_stage = 'active' AND experiment_id IN ({marks})",
                [int(e) for e in chunk])
        frame = pd.DataFrame(rows, columns=INFO_COLUMNS)
        frame["experiment_id"] = frame["experiment_id"].astype(str)
        self._last_listing = (list(experiment_ids), len(frame))
        return frame

    def fingerprint(self, experiment_ids: Sequence[str]) -> tuple:
        """A cheap summary of the experiments' run list (count, times, statuses): equal means unchanged."""
        marks = ",".join("?" * len(experiment_ids))
        total = self.TOTAL
        rows = self._query(
            f"SELECT COUNT(*), {total}(start_time), {total}(COALESCE(end_time, 0)), MAX(COALESCE(end_time, 0)),"
            f" {total}(CASE status WHEN 'FINISHED' THEN 1 WHEN 'FAILED' THEN 2 WHEN 'KILLED' THEN 4"
            " WHEN 'RUNNING' THEN 8 ELSE 16 END), SUM(CASE WHEN status = 'RUNNING' THEN 1 ELSE 0 END)"
            f" FROM runs WHERE lifecycle_stage = 'active' AND experiment_id IN ({marks})",
            [int(e) for e in experiment_ids])
        return tuple(rows[0])

    def _select(self, sql: str, run_ids: Sequence[str]) -> list[tuple]:
        """Rows of ``sql`` (with a ``{where}`` slot) for the runs; whole experiments use one subquery."""
        experiment_ids, count = self._last_listing
        if len(run_ids) == count and len(experiment_ids) <= CHUNK:
            marks = ",".join("?" * len(experiment_ids))
            where = (f"run_uuid IN (SELECT run_uuid FROM runs WHERE lifecycle_stage = 'active'"
                     f" AND experiment_id IN ({marks}))")
            return self._query(sql.format(where=where), [int(e) for e in experiment_ids])
        rows: list[tuple] = []
        for chunk in _chunks(list(run_ids)):
            rows += self._query(sql.format(where=f"run_uuid IN ({','.join('?' * len(chunk))})"), chunk)
        return rows

    def _text_table(self, table: str, run_ids: Sequence[str]) -> pd.DataFrame:
        """Params or tags, one row per run (index run_id): SQLite builds a JSON object per run,
        which is exact for text and parses in C, much faster than one Python tuple per value."""
        try:
            rows = self._select(f"SELECT run_uuid, json_group_object(key, value) FROM {table} WHERE {{where}}"
                                " GROUP BY run_uuid", run_ids)
        except SourceUnavailable as error:
            if "no such function" not in str(error):
                raise
            # SQLite built without JSON functions: plain rows
            long = pd.DataFrame(self._select(f"SELECT run_uuid, key, value FROM {table} WHERE {{where}}", run_ids),
                                columns=LONG_COLUMNS)
            return long.pivot(index="run_id", columns="key", values="value")
        records = json.loads("[" + ",".join(row[1] for row in rows) + "]")  # one parse, not one per run
        return pd.DataFrame.from_records(records, index=[row[0] for row in rows])

    def run_data(self, infos: pd.DataFrame) -> RunBatch:
        """Params and tags (wide) and latest metrics (long) of the runs in ``infos``."""
        run_ids = infos["run_id"].tolist()
        metrics = self._select("SELECT run_uuid, key, CASE WHEN is_nan THEN NULL ELSE value END"
                               " FROM latest_metrics WHERE {where}", run_ids)
        metric_frame = pd.DataFrame(metrics, columns=LONG_COLUMNS)
        metric_frame["value"] = pd.to_numeric(metric_frame["value"], errors="coerce").astype(float)
        return RunBatch(infos=infos, params=self._text_table("params", run_ids), metrics=metric_frame,
                        tags=self._text_table("tags", run_ids))

    def history_sizes(self, run_ids: Sequence[str]) -> pd.Series:
        """Number of logged values per metric key over the runs (which metrics have curves)."""
        rows = self._select("SELECT key, COUNT(*) FROM metrics WHERE {where} GROUP BY key", list(run_ids))
        return pd.Series(dict(rows), dtype=float).sort_values(ascending=False)

    def metric_history(self, run_ids: Sequence[str], keys: Sequence[str] | None = None) -> pd.DataFrame:
        """Every logged value of the metrics (all when ``keys`` is None) of the runs."""
        sql = ("SELECT run_uuid, key, step, timestamp, CASE WHEN is_nan THEN NULL ELSE value END"
               " FROM metrics WHERE run_uuid IN ({marks})")
        rows: list[tuple] = []
        key_list = list(keys) if keys else []
        for chunk in _chunks(list(run_ids)):
            query = sql.format(marks=",".join("?" * len(chunk)))
            args: list[object] = list(chunk)
            if key_list:
                query += f" AND key IN ({','.join('?' * len(key_list))})"
                args += key_list
            rows += self._query(query, args)
        frame = pd.DataFrame(rows, columns=["run_id", "key", "step", "timestamp", "value"])
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
        return frame.sort_values(["run_id", "key", "step", "timestamp"], kind="stable", ignore_index=True)
