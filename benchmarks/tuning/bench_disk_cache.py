"""Tuning: a cold process opening a study, without and with the on-disk finished-trial cache.

    python benchmarks/tuning/bench_disk_cache.py [--trials 10000] [--dir DIR] [--repeat 3] [--url RDB_URL]

Each measurement is a new Python process that imports the workbench source and reads the whole study
(``open_optuna_source(url, cache_dir=...).study(name)``), as a freshly started ``workbench serve`` or
notebook kernel does. Printed per case: the read time inside the process (median), the process wall
time (imports included), the trial rows fetched from the storage and those taken from the disk cache.
Cases: no disk cache; cold disk cache (the first process writes it); warm disk cache; warm disk cache
after the study grew by --grow trials (only those are fetched). With ``--url`` (an empty PostgreSQL or
MySQL database, e.g. ``mysql+pymysql://user:pw@127.0.0.1:3306/bench``) the same study is copied there
and read from that server instead of the SQLite file (the case the disk cache is for: a shared RDB).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import optuna  # noqa: E402
from workload import STUDY, build_workload  # noqa: E402

READ = textwrap.dedent("""
    import json, sys, time
    started = time.perf_counter()
    from workbench.sources.optuna import open_optuna_source
    imported = time.perf_counter()
    source = open_optuna_source(sys.argv[1], cache_dir=sys.argv[2] or None)
    data = source.study(sys.argv[3])
    done = time.perf_counter()
    print(json.dumps({"read_s": done - imported, "import_s": imported - started, "n": len(data.trials),
                      "from_storage": source.trial_rows_read, "from_disk": source.trial_rows_from_disk}))
""")


def cold_process(url: str, cache_dir: str) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", READ, url, cache_dir, STUDY], capture_output=True, text=True,
                         check=True, timeout=900)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    return result


COPIED = {"trial_params": "param_name, param_value, distribution_json",
          "trial_values": "objective, value, value_type",
          "trial_intermediate_values": "step, intermediate_value, intermediate_value_type"}


def grow(path: Path, n: int) -> None:
    """Append n finished trials (copies of the last n, with their params, values and intermediate values)."""
    with sqlite3.connect(path) as db:
        last, number = db.execute("SELECT MAX(trial_id), MAX(number) FROM trials").fetchone()
        for offset in range(1, n + 1):
            source = last - n + offset
            cursor = db.execute(
                "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) "
                "SELECT ?, study_id, state, datetime_start, datetime_complete FROM trials WHERE trial_id = ?",
                (number + offset, source))
            for table, columns in COPIED.items():
                db.execute(f"INSERT INTO {table} (trial_id, {columns}) SELECT ?, {columns} FROM {table} "
                           "WHERE trial_id = ?", (cursor.lastrowid, source))


def copy_to(sqlite_path: Path, url: str) -> str:
    """The SQLite workload copied into the (empty) database at ``url``, in Optuna's own schema."""
    import pandas as pd
    import sqlalchemy as sa

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.create_study(study_name=STUDY, storage=url)  # Optuna creates the tables and the study
    engine = sa.create_engine(url)
    with sqlite3.connect(sqlite_path) as source, engine.begin() as target:
        study_id = target.execute(sa.text("SELECT study_id FROM studies WHERE study_name = :n"), {"n": STUDY}).scalar()
        for table in ("trials", *COPIED):
            frame = pd.read_sql(f"SELECT * FROM {table}", source)
            if table == "trials":
                frame["study_id"] = study_id
            frame.to_sql(table, target, if_exists="append", index=False, chunksize=5000)
    engine.dispose()
    return url


def grow_rdb(url: str, n: int) -> None:
    """``grow`` for a server database: copies of the last n trials appended."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as db:
        last, number = db.execute(sa.text("SELECT MAX(trial_id), MAX(number) FROM trials")).one()
        for offset in range(1, n + 1):
            source = last - n + offset
            new = db.execute(sa.text(
                "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) "
                "SELECT :number, study_id, state, datetime_start, datetime_complete FROM trials WHERE trial_id = :source"),
                {"number": number + offset, "source": source}).lastrowid
            for table, columns in COPIED.items():
                db.execute(sa.text(f"INSERT INTO {table} (trial_id, {columns}) SELECT :new, {columns} FROM {table} "
                                   "WHERE trial_id = :source"), {"new": new, "source": source})
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite study and the cache are written")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--grow", type=int, default=100)
    parser.add_argument("--url", default=None, help="an empty MySQL/PostgreSQL database to read from instead")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="wb-bench-disk-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / f"optuna-{args.trials}.db"
    url = build_workload(db_path, args.trials)
    if args.url:
        url = copy_to(db_path, args.url)
    cache_dir = folder / "cache"
    shutil.rmtree(cache_dir, ignore_errors=True)

    rows = []

    def measure(name: str, runs: list[dict]) -> None:
        read = statistics.median(r["read_s"] for r in runs)
        wall = statistics.median(r["wall_s"] for r in runs)
        rows.append((name, read, wall, runs[-1]["from_storage"], runs[-1]["from_disk"], runs[-1]["n"]))

    measure("no disk cache", [cold_process(url, "") for _ in range(args.repeat)])
    first = cold_process(url, str(cache_dir))
    measure("cold disk cache (writes it)", [first])
    measure("warm disk cache", [cold_process(url, str(cache_dir)) for _ in range(args.repeat)])
    if args.url:
        grow_rdb(url, args.grow)
    else:
        grow(db_path, args.grow)
    measure(f"warm disk cache, +{args.grow} trials", [cold_process(url, str(cache_dir))])

    where = url.split("://")[0] if args.url else "SQLite"
    print(f"\n{args.trials:,} trials × 8 params, {where}, each case a new process (median of {args.repeat})")
    print(f"{'case':34} {'read s':>8} {'process s':>10} {'rows from storage':>18} {'rows from disk':>15} {'trials':>8}")
    for name, read, wall, storage, disk, n in rows:
        print(f"{name:34} {read:8.2f} {wall:10.2f} {storage:18,} {disk:15,} {n:8,}")
    base = rows[0][1]
    print(f"\nwarm disk cache vs none: {base / rows[2][1]:.1f}× faster read "
          f"({base:.2f} s → {rows[2][1]:.2f} s); cache size "
          f"{sum(p.stat().st_size for p in cache_dir.rglob('*') if p.is_file()) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
