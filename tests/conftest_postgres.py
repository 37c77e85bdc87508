"""A throwaway PostgreSQL server for the tests: ``postgres_url`` (session) and ``new_database``.

The server runs from the Debian PostgreSQL binaries (installed with apt-get when missing and the
tests run as root), in a temporary directory owned by the ``postgres`` user, listening on a free
127.0.0.1 port; it is stopped and deleted at teardown. Registered from tests/conftest.py.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import free_port

PG_USER = "postgres"


def _bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin, installing PostgreSQL when it is missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL is not installed and the tests do not run as root: "
                               "apt-get install -y postgresql")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env, timeout=600, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "postgresql"], check=True,
                       env=env, timeout=900, capture_output=True)
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent


def _run(args: list[str], cwd: Path, timeout: float = 120) -> None:
    """Run a server command, as the postgres user when we are root (PostgreSQL refuses root)."""
    kwargs: dict = {}
    if os.geteuid() == 0:
        kwargs = {"user": PG_USER, "group": pwd.getpwnam(PG_USER).pw_gid, "extra_groups": []}
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stdout}\n{result.stderr}")


def with_psycopg2(url: str) -> str:
    """The same URL with the psycopg2 driver named (SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3),
    for the tests' writers (Optuna, MLflow); the workbench must accept the bare URL."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def new_database(server_url: str, name: str) -> str:
    """Create an empty database on the test server and return its URL."""
    import psycopg2

    connection = psycopg2.connect(server_url, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the ``postgres`` database of a fresh server (user postgres, trust auth, 127.0.0.1)."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="wb-pg-"))
    if os.geteuid() == 0:
        os.chown(root, pwd.getpwnam(PG_USER).pw_uid, pwd.getpwnam(PG_USER).pw_gid)
    data = root / "data"
    port = free_port()
    started = False
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER, "-E", "UTF8",
              "--no-sync"], cwd=root)
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options,
              "-w", "-t", "60", "start"], cwd=root)
        started = True
        yield f"postgresql://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], cwd=root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_dump_data(postgres_url: str):
    """``dump(url) -> str``: the data of a database as ``pg_dump --data-only`` prints it."""
    pg_dump = _bin_dir() / "pg_dump"

    def dump(url: str) -> str:
        result = subprocess.run([str(pg_dump), "--data-only", "--no-owner", "-d", url],
                                capture_output=True, text=True, timeout=120, check=True)
        # minus the random \restrict key newer pg_dump releases print around the dump
        return "\n".join(line for line in result.stdout.splitlines()
                         if not line.startswith(("\\restrict", "\\unrestrict")))

    return dump


@pytest.fixture(scope="session")
def pg_unchanged(pg_dump_data):
    """``with pg_unchanged(url, table):`` asserts the database's data is identical afterwards."""

    @contextmanager
    def unchanged(url: str, table: str) -> Iterator[None]:
        before = pg_dump_data(url)
        lines = before.splitlines()
        copy = next(i for i, line in enumerate(lines) if line.startswith(f"COPY public.{table} "))
        assert lines[copy + 1] != "\\.", f"{table} is empty: the comparison would prove nothing"
        yield
        assert pg_dump_data(url) == before, "the PostgreSQL store changed while the workbench read it"

    return unchanged
