"""The app process behind the proxy: unix socket only, and nothing without the secret header."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import WEBSOCKET_UPGRADE
from helpers import wait_until

from workbench.jupyter.protocol import SECRET_ENV, SECRET_HEADER

SECRET = "s3cret-" * 8


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory):
    """The child serving an empty root on a unix socket in a private folder."""
    folder = tmp_path_factory.mktemp("child")
    folder.chmod(0o700)
    root = folder / "root"
    root.mkdir()
    socket_path = folder / "app.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench.jupyter.child", "--unix-socket", str(socket_path),
         "--prefix", "/base/workbench-app", "--root-dir", str(root)],
        env={**os.environ, SECRET_ENV: SECRET}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_until(lambda: socket_path.exists() or process.poll() is not None, timeout=90, what="the child's socket")
        assert process.poll() is None, process.stdout.read()
        yield socket_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_child_listens_on_a_unix_socket_only(child: Path) -> None:
    assert stat.S_ISSOCK(child.stat().st_mode)


def test_requests_without_the_secret_are_refused(child: Path, unix_get) -> None:
    for path in ("/base/workbench-app/", "/base/workbench-app/experiments", "/base/workbench-app/static/js/bokeh.min.js"):
        assert unix_get(str(child), path)[0] == 403
        assert unix_get(str(child), path, {SECRET_HEADER: "wrong"})[0] == 403
    assert unix_get(str(child), "/base/workbench-app/experiments/ws", WEBSOCKET_UPGRADE)[0] == 403


def test_requests_with_the_secret_get_the_app(child: Path, unix_get) -> None:
    status, body = unix_get(str(child), "/base/workbench-app/experiments?theme=dark", {SECRET_HEADER: SECRET})
    assert status == 200
    assert "<title>MLOps Workbench</title>" in body
    assert "background-color: #121212" in body  # the dark theme from ?theme=dark
    status, body = unix_get(str(child), "/base/workbench-app/tuning", {SECRET_HEADER: SECRET})
    assert status == 200
    assert "#121212" not in body


def test_the_child_refuses_to_start_without_a_strong_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workbench.jupyter.child", "--unix-socket", str(tmp_path / "s")],
        env={**os.environ, SECRET_ENV: "short"}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert SECRET_ENV in result.stderr
    assert not (tmp_path / "s").exists()
