"""Optuna RDB storages (SQLite, PostgreSQL, MySQL) read with plain SELECTs over read-only connections.

Tables are never created or migrated (unlike ``optuna.storages.RDBStorage``): SQLite is opened
through a ``file:...?mode=ro`` URI, and every statement is a SELECT with a timeout.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from workbench.errors import ConfigError, MissingDependency, SourceUnavailable
from workbench.sources.optuna import DEFAULT_TIMEOUT, STUDY_COLUMNS, OptunaSource
from workbench.sources.optuna_frames import STATES, RawTrials, decode_json, to_utc_naive
from workbench.sqlite_readonly import connect_readonly

READ_SCHEMA_VERSION = 12  # optuna.storages._rdb.models.SCHEMA_VERSION this reader was written for
_SPECIAL_VALUES = {"INF_POS": np.inf, "INF_NEG": -np.inf, "NAN": np.nan}
_DRIVERS = {"postgresql": "psycopg2", "mysql": "pymysql"}


class RDBSource(OptunaSource):
    """An Optuna RDB storage read with SQL (no ORM objects: fast at 100,000 trials)."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._engine = _make_engine(url, timeout)
        self._schema_checked = False

    def close(self) -> None:
        self._engine.dispose()

    # -- connection and errors -------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as connection:
                if not self._schema_checked:
                    self._check_schema(connection)
                yield connection
        except SourceUnavailable:
            raise
        except sa.exc.NoSuchModuleError as error:
            raise MissingDependency(f"The database driver for {self.storage} is not installed: {error}.",
                                    "install the driver, e.g. pip install psycopg2-binary (PostgreSQL) "
                                    "or pymysql (MySQL)") from error
        except (sa.exc.SQLAlchemyError, sqlite3.Error, OSError) as error:
            raise _translate(error, self.storage) from error

    def _check_schema(self, connection: sa.Connection) -> None:
        tables = set(sa.inspect(connection).get_table_names())
        if "studies" not in tables or "trials" not in tables:
            raise SourceUnavailable(
                f"{_display(self.storage)} is not an Optuna storage (it has no 'studies' table).",
                "point optuna_storage at the database your studies were created in "
                "(optuna.create_study(storage=...))")
        if "version_info" in tables:
            row = connection.execute(sa.text("SELECT schema_version, library_version FROM version_info")).first()
            if row is not None and row[0] is not None and int(row[0]) > READ_SCHEMA_VERSION:
                raise SourceUnavailable(
                    f"{_display(self.storage)} was written by Optuna {row[1]} (schema {row[0]}); "
                    f"this workbench reads schema ≤ {READ_SCHEMA_VERSION}.",
                    "upgrade mlops-workbench and optuna (pip install -U mlops-workbench optuna)")
        self._schema_checked = True

    def _frame(self, connection: sa.Connection, sql: str, columns: list[str], **params) -> pd.DataFrame:
        if connection.dialect.name == "sqlite":
            rows = self._sqlite_rows(connection, sql, params)
        else:
            statement = sa.text(sql)
            for key, value in params.items():
                if isinstance(value, list):
                    statement = statement.bindparams(sa.bindparam(key, expanding=True))
            rows = connection.execute(statement, params).all()
        if not rows:
            return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
        if not isinstance(rows[0], tuple):  # SQLAlchemy rows: pandas would probe each one (10× slower)
            rows = [tuple(row) for row in rows]
        return pd.DataFrame(rows, columns=columns)

    @staticmethod
    def _sqlite_rows(connection: sa.Connection, sql: str, params: dict) -> list[tuple]:
        """Plain tuples straight from the sqlite3 cursor (named parameters; lists expanded)."""
        flat = {}
        for key, value in params.items():
            if isinstance(value, list):
                names = [f"{key}_{i}" for i in range(len(value))]
                sql = sql.replace(f":{key}", "(" + ", ".join(f":{n}" for n in names) + ")")
                flat.update(zip(names, value, strict=True))
            else:
                flat[key] = value
        cursor = connection.connection.driver_connection.cursor()
        try:
            return cursor.execute(sql, flat).fetchall()
        finally:
            cursor.close()

    # -- hooks -----------------------------------------------------------------------------------
    def _list_studies(self) -> pd.DataFrame:
        with self._connect() as c:
            studies = self._frame(c, "SELECT study_id, study_name FROM studies ORDER BY study_id",
                                  ["study_id", "study_name"])
            directions = self._frame(
                c, "SELECT study_id, objective, direction FROM study_directions ORDER BY study_id, objective",
                ["study_id", "objective", "direction"])
            counts = self._frame(
                c, "SELECT study_id, state, COUNT(*), MIN(datetime_start), "
                   "MAX(COALESCE(datetime_complete, datetime_start)) FROM trials GROUP BY study_id, state",
                ["study_id", "state", "n", "first", "last"])
            best = self._frame(
                c, "SELECT t.study_id, MIN(v.value), MAX(v.value) FROM trials t "
                   "JOIN trial_values v ON v.trial_id = t.trial_id "
                   "WHERE t.state = 'COMPLETE' AND v.objective = 0 AND v.value_type = 'FINITE' "
                   "GROUP BY t.study_id", ["study_id", "min", "max"])
        return _studies_frame(studies, directions, counts, best)

    def _read_trials(self, study_id: int, after_trial_id: int, also_ids: list[int]) -> RawTrials:
        ids = "(%s.trial_id > :after" + (" OR %s.trial_id IN :also)" if also_ids else ")")
        where = "t.study_id = :sid AND " + ids.replace("%s", "t")
        params = {"sid": study_id, "after": after_trial_id}
        if also_ids:
            params["also"] = also_ids
        # the id condition on x too: the database reads only the new rows through its trial_id index
        join = f"JOIN trials t ON t.trial_id = x.trial_id WHERE t.study_id = :sid AND {ids.replace('%s', 'x')}"
        with self._connect() as c:
            trials = self._frame(
                c, f"SELECT t.trial_id, t.number, t.state, t.datetime_start, t.datetime_complete "
                   f"FROM trials t WHERE {where}",
                ["trial_id", "number", "state", "datetime_start", "datetime_complete"], **params)
            values = self._frame(c, f"SELECT x.trial_id, x.objective, x.value, x.value_type FROM trial_values x {join}",
                                 ["trial_id", "objective", "value", "value_type"], **params)
            param_rows = self._params(c, join, params)
            attrs = self._frame(c, f"SELECT x.trial_id, x.key, x.value_json FROM trial_user_attributes x {join}",
                                ["trial_id", "key", "value_json"], **params)
            intermediate = self._frame(
                c, f"SELECT x.trial_id, x.step, x.intermediate_value, x.intermediate_value_type "
                   f"FROM trial_intermediate_values x {join}",
                ["trial_id", "step", "value", "value_type"], **params)
        trials["state"] = _enum_names(trials["state"])
        return RawTrials(trials=trials, values=_typed_values(values), params=param_rows,
                         user_attrs=attrs, intermediate=_typed_values(intermediate))

    def _params(self, c: sa.Connection, join: str, params: dict) -> pd.DataFrame:
        """Param rows; the distribution JSON is fetched once per parameter when it never changed."""
        distinct = self._frame(c, f"SELECT DISTINCT x.param_name, x.distribution_json FROM trial_params x {join}",
                               ["param_name", "distribution_json"], **params)
        if distinct["param_name"].is_unique:
            rows = self._frame(c, f"SELECT x.trial_id, x.param_name, x.param_value FROM trial_params x {join}",
                               ["trial_id", "param_name", "param_value"], **params)
            mapping = dict(zip(distinct["param_name"], distinct["distribution_json"], strict=True))
            return rows.assign(distribution_json=rows["param_name"].map(mapping))
        return self._frame(
            c, f"SELECT x.trial_id, x.param_name, x.param_value, x.distribution_json FROM trial_params x {join}",
            ["trial_id", "param_name", "param_value", "distribution_json"], **params)

    def _system_attrs(self, study_id: int, trial_id: int) -> dict:
        with self._connect() as c:
            rows = self._frame(c, "SELECT a.key, a.value_json FROM trial_system_attributes a WHERE a.trial_id = :tid",
                               ["key", "value_json"], tid=trial_id)
        return {k: decode_json(v) for k, v in zip(rows["key"], rows["value_json"], strict=False)}


# -- helpers --------------------------------------------------------------------------------------
def _make_engine(url: str, timeout: float) -> sa.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as error:
        raise ConfigError(f"'{url}' is not a valid Optuna storage URL.",
                          "use sqlite:///path/to/optuna.db, postgresql://user@host/db or a journal file path") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise ConfigError(f"'{url}' is an in-memory SQLite database; it holds no studies to read.",
                              "give the path of the SQLite file: sqlite:///path/to/optuna.db")
        path = Path(database).expanduser()
        if not path.is_file():
            raise SourceUnavailable(f"The Optuna storage file '{path}' does not exist.",
                                    "check optuna_storage: the path after sqlite:/// must be an existing file")
        def creator() -> sqlite3.Connection:
            return connect_readonly(path, timeout)

        return sa.create_engine("sqlite://", creator=creator, poolclass=NullPool)
    connect_args: dict = {}
    if backend == "postgresql":
        parsed = with_installed_postgres_driver(parsed)
        connect_args = {"connect_timeout": max(1, int(timeout)),
                        "options": f"-c statement_timeout={int(timeout * 6000)} -c default_transaction_read_only=on"}
    elif backend == "mysql":
        parsed = _with_installed_mysql_driver(parsed)
        connect_args = {"connect_timeout": max(1, int(timeout)), "read_timeout": max(1, int(timeout * 6)),
                        "init_command": "SET SESSION TRANSACTION READ ONLY"}
    try:
        return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True, pool_size=2, max_overflow=2)
    except (ImportError, sa.exc.NoSuchModuleError) as error:
        driver = _DRIVERS.get(backend, parsed.drivername)
        raise MissingDependency.for_package(driver, f"Reading Optuna studies from {backend}") from error


def with_installed_postgres_driver(url: sa.URL) -> sa.URL:
    """A bare ``postgresql://`` URL with the driver that is installed.

    SQLAlchemy 2.1 maps it to psycopg 3; the workbench depends on psycopg2, which older SQLAlchemy
    (and most Optuna/MLflow set-ups) use for the same URL.
    """
    if url.drivername != "postgresql" or importlib.util.find_spec("psycopg") is not None:
        return url
    if importlib.util.find_spec("psycopg2") is None:
        return url
    return url.set(drivername="postgresql+psycopg2")


def _with_installed_mysql_driver(url: sa.URL) -> sa.URL:
    """A bare ``mysql://`` URL (SQLAlchemy's default: mysqlclient) read with PyMySQL when only it is installed."""
    if url.drivername != "mysql" or importlib.util.find_spec("MySQLdb") is not None:
        return url
    if importlib.util.find_spec("pymysql") is None:
        return url
    return url.set(drivername="mysql+pymysql")


def _display(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _translate(error: BaseException, url: str) -> SourceUnavailable:
    text = str(getattr(error, "orig", None) or error)
    where = _display(url)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return SourceUnavailable(f"The Optuna storage {where} is busy (another process holds a write lock).",
                                 "try again in a moment; long write transactions from workers block readers")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return SourceUnavailable(f"The Optuna storage {where} is not a readable SQLite database ({text}).",
                                 "the file may be corrupt or not SQLite; point optuna_storage at a valid study database")
    if "no such column" in lowered or "no such table" in lowered or "does not exist" in lowered:
        return SourceUnavailable(f"The Optuna storage {where} has an unexpected schema ({text}).",
                                 "it was probably written by another Optuna version; run `optuna storage upgrade` "
                                 "on a copy, or install the matching optuna")
    return SourceUnavailable(f"Could not read the Optuna storage {where}: {text}",
                             "check that the database server is running and reachable, and the URL, "
                             "user and password in optuna_storage")


def _enum_name(value) -> str:
    return getattr(value, "name", None) or str(value).split(".")[-1]


def _enum_names(series: pd.Series) -> pd.Series:
    """Enum columns come back as names (SQLite) or enum objects (some drivers)."""
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series
    return series.map(_enum_name)


def _typed_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace NULL values by ±inf/NaN according to their stored type."""
    if frame.empty:
        return frame.drop(columns="value_type")
    kinds = _enum_names(frame["value_type"])
    values = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    for kind, special in _SPECIAL_VALUES.items():
        values = values.mask(kinds == kind, special)
    return frame.assign(value=values).drop(columns="value_type")


def _studies_frame(studies: pd.DataFrame, directions: pd.DataFrame, counts: pd.DataFrame,
                   best: pd.DataFrame) -> pd.DataFrame:
    rows = []
    directions = directions.assign(direction=directions["direction"].map(_enum_name).str.lower())
    counts = counts.assign(state=counts["state"].map(_enum_name))
    for study_id, study_name in zip(studies["study_id"], studies["study_name"], strict=False):
        dirs = tuple(directions.loc[directions["study_id"] == study_id, "direction"])
        mine = counts[counts["study_id"] == study_id]
        by_state = {state: 0 for state in STATES} | {s: int(n) for s, n in zip(mine["state"], mine["n"], strict=False)}
        row_best = best[best["study_id"] == study_id]
        best_value = np.nan
        if len(dirs) == 1 and len(row_best):
            best_value = row_best["max" if dirs[0] == "maximize" else "min"].iloc[0]
        first = to_utc_naive(mine["first"].dropna())
        last = to_utc_naive(mine["last"].dropna())
        rows.append([
            int(study_id), study_name, dirs, int(mine["n"].sum()), by_state["COMPLETE"], by_state["PRUNED"],
            by_state["FAIL"], by_state["RUNNING"], by_state["WAITING"],
            float(best_value) if best_value is not None else np.nan,
            first.min() if len(first) else pd.NaT, last.max() if len(last) else pd.NaT,
        ])
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)
