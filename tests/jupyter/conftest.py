"""A real JupyterLab server (subprocess, token auth) whose root holds a copy of the demo workspace."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port, snapshot, wait_until


@dataclass
class Lab:
    """A running JupyterLab: where it serves, its token, its root folder and process."""

    @property
    def url(self) -> str:
        """The server's URL without a trailing slash."""
        return self.origin + self.base_url.rstrip("/")

    origin: str  # scheme://host:port
    base_url: str  # the server's base URL ("/jupyter/": like JupyterHub, not at the root)
    token: str
    root: Path
    process: subprocess.Popen

    def status(self, path: str, token: bool = True, headers: dict[str, str] | None = None) -> int:
        """The HTTP status of GET ``path`` (redirects not followed), with or without the token."""
        request = urllib.request.Request(f"{self.url}{path}", headers=dict(headers or {}))
        if token:
            request.add_header("Authorization", f"token {self.token}")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def put_settings(self, plugin: str, values: dict) -> None:
        """Save a plugin's user settings, as the Settings Editor does."""
        body = json.dumps({"raw": json.dumps(values)}).encode()
        request = urllib.request.Request(f"{self.url}/lab/api/settings/{plugin}", data=body, method="PUT",
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 204, response.status

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel."""
        headers = {"Authorization": f"token {self.token}"}
        with urllib.request.urlopen(urllib.request.Request(f"{self.url}/api/kernels", headers=headers),
                                    timeout=60) as response:
            kernels = json.load(response)
        for kernel in kernels:
            request = urllib.request.Request(f"{self.url}/api/kernels/{kernel['id']}", headers=headers,
                                             method="DELETE")
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 204

    def login_cookie(self) -> str:
        """A ``Cookie`` header value of a browser session logged in with the token."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{self.url}/lab?token={self.token}", timeout=60):
            pass
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        assert "username-" in cookie, f"no login cookie in {cookie!r}"
        return cookie


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="session")
def lab_workspace(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo workspace to serve as the Jupyter root (the original stays untouched)."""
    root = tmp_path_factory.mktemp("lab") / "workspace"
    shutil.copytree(demo_workspace, root, symlinks=True)
    return root


BASE_URL = "/jupyter/"
STORES = ("mlflow.db", "optuna.db", "data", "mlartifacts")


@pytest.fixture(scope="session")
def store_snapshot(lab_workspace: Path) -> dict[str, dict[str, str]]:
    """Hashes of the served workspace's stores before JupyterLab touched them."""
    return {name: snapshot(lab_workspace / name) for name in STORES}


@pytest.fixture(scope="session")
def lab(lab_workspace: Path, store_snapshot: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab of the test environment serving the workspace copy."""
    with start_lab(sys.executable, lab_workspace, tmp_path_factory.mktemp("lab-home")) as lab:
        yield lab


@contextlib.contextmanager
def start_lab(python: str, root: Path, home: Path, extra_env: dict[str, str] | None = None) -> Iterator[Lab]:
    """JupyterLab of ``python`` on 127.0.0.1 with a token, private config/settings/runtime folders."""
    port, token = free_port(), secrets.token_hex(24)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra_env or {}),
    }
    command = [
        python, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0", f"--ServerApp.base_url={BASE_URL}",
    ]
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "jupyter.log").open("w")
    # Started elsewhere than its root: the app must get the root from Jupyter, not from its cwd.
    process = subprocess.Popen(command, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    lab = Lab(origin=f"http://127.0.0.1:{port}", base_url=BASE_URL, token=token, root=root, process=process)
    try:
        wait_until(lambda: process.poll() is not None or _answers(lab), timeout=90, what="JupyterLab to start")
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited: {(home / 'jupyter.log').read_text()[-3000:]}")
        yield lab
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # our own process group: JupyterLab and the app it started
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _answers(lab: Lab) -> bool:
    try:
        return lab.status("/api/status") == 200
    except OSError:
        return False


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def unix_request(socket_path: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET ``path`` from an HTTP server on a unix socket: (status, body)."""
    connection = _UnixConnection(socket_path)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture
def unix_get() -> Callable[..., tuple[int, str]]:
    """``unix_get(socket_path, path, headers=None) -> (status, body)``."""
    return unix_request


WEBSOCKET_UPGRADE = {
    "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}
