"""MLflow dataset inputs (``mlflow.log_input``) of runs, read-only, for lineage without tags.

SQLite stores are read with plain SQL over a ``mode=ro`` connection; other stores are not read here
(their runs are linked through tags only).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pandas as pd

from workbench.errors import SourceUnavailable
from workbench.sources.mlflow_sql import readonly_connect, sqlite_path

INPUT_COLUMNS = ["run_id", "name", "digest", "source", "tags"]
CHUNK = 900


def dataset_inputs(tracking_uri: str, run_ids: Sequence[str], timeout: float = 5.0) -> pd.DataFrame:
    """One row per dataset input of the runs: run_id, name, digest, source, tags (a dict)."""
    if not tracking_uri.startswith("sqlite:///") or not run_ids:
        return pd.DataFrame(columns=INPUT_COLUMNS)
    connection = readonly_connect(sqlite_path(tracking_uri), timeout)
    rows, tags = [], {}
    try:
        ids = list(run_ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += connection.execute(
                "SELECT i.input_uuid, i.destination_id, d.name, d.digest, d.dataset_source FROM inputs i "
                "JOIN datasets d ON d.dataset_uuid = i.source_id WHERE i.source_type = 'DATASET' "
                f"AND i.destination_type = 'RUN' AND i.destination_id IN ({marks})", chunk).fetchall()
        uuids = [row[0] for row in rows]
        for start in range(0, len(uuids), CHUNK):
            chunk = uuids[start:start + CHUNK]
            marks = ",".join("?" * len(chunk))
            for uuid, name, value in connection.execute(
                    f"SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN ({marks})", chunk):
                tags.setdefault(uuid, {})[name] = value
    except sqlite3.DatabaseError as exc:
        raise SourceUnavailable(f"The dataset inputs of '{tracking_uri}' cannot be read: {exc}.",
                                "check the file is an intact MLflow SQLite store") from exc
    finally:
        connection.close()
    return pd.DataFrame([(run, name, digest, source, tags.get(uuid, {}))
                         for uuid, run, name, digest, source in rows], columns=INPUT_COLUMNS)
