"""A throwaway MariaDB (MySQL) server for the tests: ``mysql_url`` (session), ``new_mysql_database``.

The server runs from Debian's MariaDB binaries (installed with apt-get when missing and the tests run
as root), as the current user, with its data in a temporary directory, listening on a free
127.0.0.1 port; it is stopped and deleted at teardown. The driver is PyMySQL (the ``test`` extra).
Registered from tests/conftest.py.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import free_port, wait_for_port

MARIADBD = "/usr/sbin/mariadbd"


def _install() -> None:
    """Debian's MariaDB server and client, when missing (needs root)."""
    if Path(MARIADBD).exists() and shutil.which("mariadb-install-db") and shutil.which("mariadb-dump"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("MariaDB is not installed and the tests do not run as root: "
                           "apt-get install -y mariadb-server mariadb-client")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env, timeout=600, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "mariadb-server", "mariadb-client"],
                   check=True, env=env, timeout=900, capture_output=True)


def _connect(socket_path: Path, database: str | None = None):
    import pymysql

    return pymysql.connect(unix_socket=str(socket_path), user="root", database=database, connect_timeout=5,
                           autocommit=True)


def new_mysql_database(server: dict, name: str) -> str:
    """Create an empty database on the test server and return its ``mysql+pymysql://`` URL."""
    connection = _connect(server["socket"])
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        connection.close()
    return f"{server['url']}/{name}"


@pytest.fixture(scope="session")
def mysql_server() -> Iterator[dict]:
    """{"url": "mysql+pymysql://wb:wb@127.0.0.1:<port>", "socket": Path, "port": int} of a fresh server."""
    _install()
    root = Path(tempfile.mkdtemp(prefix="wb-mysql-"))
    data, socket_path, port = root / "data", root / "mysqld.sock", free_port()
    user = getpass.getuser()
    common = ["--no-defaults", f"--datadir={data}", f"--user={user}"]
    process = None
    try:
        subprocess.run(["mariadb-install-db", *common, "--auth-root-authentication-method=normal",
                        "--skip-test-db", "--skip-name-resolve"], check=True, capture_output=True, timeout=300)
        process = subprocess.Popen(
            [MARIADBD, *common, f"--socket={socket_path}", f"--port={port}", "--bind-address=127.0.0.1",
             f"--pid-file={root / 'mysqld.pid'}", f"--log-error={root / 'error.log'}", "--skip-name-resolve",
             "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=0",
             "--performance-schema=off", "--skip-log-bin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port, timeout=120)
        for _ in range(100):  # the socket answers a moment after the port opens
            try:
                connection = _connect(socket_path)
                break
            except Exception:  # noqa: BLE001 - not ready yet
                time.sleep(0.2)
        else:
            raise RuntimeError(f"MariaDB did not start: {(root / 'error.log').read_text()[-2000:]}")
        with connection.cursor() as cursor:  # a TCP user (root is bound to localhost)
            cursor.execute("CREATE USER 'wb'@'127.0.0.1' IDENTIFIED BY 'wb'")
            cursor.execute("GRANT ALL PRIVILEGES ON *.* TO 'wb'@'127.0.0.1'")
        connection.close()
        yield {"url": f"mysql+pymysql://wb:wb@127.0.0.1:{port}", "socket": socket_path, "port": port}
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mysql_unchanged(mysql_server):
    """``with mysql_unchanged(database):`` asserts the database's data (mariadb-dump) is identical afterwards."""

    def dump(database: str) -> str:
        result = subprocess.run(
            ["mariadb-dump", f"--socket={mysql_server['socket']}", "--user=root", "--skip-dump-date",
             "--skip-comments", "--no-create-info", "--skip-extended-insert", database],
            capture_output=True, text=True, timeout=120, check=True)
        return result.stdout

    @contextmanager
    def unchanged(database: str, table: str) -> Iterator[None]:
        before = dump(database)
        assert f"INSERT INTO `{table}`" in before, f"{table} is empty: the comparison would prove nothing"
        yield
        assert dump(database) == before, "the MariaDB store changed while the workbench read it"

    return unchanged
