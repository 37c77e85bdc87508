"""OAuth / OpenID Connect sign-in (`[auth]` + `workbench serve --oauth-*`) against a real, small OIDC
provider served by the test on 127.0.0.1, followed by Chromium through authorize → code → token → userinfo."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import free_port, wait_for_port

from workbench.config import WorkbenchConfig

pytestmark = [pytest.mark.ui, pytest.mark.slow]
WORKBENCH = str(Path(sys.executable).with_name("workbench"))
CLIENT_ID, CLIENT_SECRET, CODE, TOKEN = "workbench", "s3cret-client", "the-code", "the-token"
COOKIE_SECRET = "c" * 40


class Provider(BaseHTTPRequestHandler):
    """authorize → redirect with a code; token ← code + client secret; userinfo ← bearer token."""

    calls: list[str] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        Provider.calls.append(url.path)
        if url.path == "/authorize" and query.get("client_id") == CLIENT_ID:
            target = f"{query['redirect_uri']}?{urllib.parse.urlencode({'code': CODE, 'state': query['state']})}"
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
        elif url.path == "/userinfo" and self.headers.get("Authorization") == f"Bearer {TOKEN}":
            self._json(200, {"email": "alice@example.org", "name": "Alice"})
        else:
            self._json(401, {"error": "unauthorized"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        Provider.calls.append(self.path)
        if self.path == "/token" and form.get("code") == CODE and form.get("client_secret") == CLIENT_SECRET:
            self._json(200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600})
        else:
            self._json(400, {"error": "invalid_grant"})


@pytest.fixture
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Provider.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


PROCESSES: dict[int, subprocess.Popen] = {}


def start(demo_workspace: Path, provider: str, folder: Path, secret: str = CLIENT_SECRET) -> int:
    """`workbench serve` of the demo with an [auth] table pointing at the provider, in its own process
    (Panel keeps OAuth settings in process-wide config)."""
    config = WorkbenchConfig.load(config_file=demo_workspace / "workbench.toml")
    toml = config.to_toml() + (
        f'\n[auth]\nprovider = "generic"\nkey = "{CLIENT_ID}"\nauthorize_url = "{provider}/authorize"\n'
        f'token_url = "{provider}/token"\nuser_url = "{provider}/userinfo"\nuser_key = "email"\n')
    (folder / "workbench.toml").write_text(toml)
    port = free_port()
    with (folder / "serve.log").open("ab") as log:
        PROCESSES[port] = subprocess.Popen(
            [WORKBENCH, "serve", "--config", str(folder / "workbench.toml"), "--port", str(port),
             "--cookie-secret", COOKIE_SECRET, "--oauth-redirect-uri", f"http://127.0.0.1:{port}/login"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "WORKBENCH_OAUTH_SECRET": secret})
    wait_for_port(port, timeout=180)
    return port


def stop(port: int) -> None:
    process = PROCESSES.pop(port)
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture
def oauth_server(demo_workspace: Path, provider: str, tmp_path: Path) -> Iterator[int]:
    port = start(demo_workspace, provider, tmp_path)
    yield port
    stop(port)


def status_and_location(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.getheader("Location") or ""


def test_pages_need_the_provider_and_health_stays_public(oauth_server: int) -> None:
    for path in ("/", "/experiments", "/tuning?study=cancer-gb-tuning"):
        status, location = status_and_location(oauth_server, path)
        assert status == 302 and "login?next=" in location, (path, status, location)
    status, _ = status_and_location(oauth_server, "/health")
    assert status == 200


def test_signing_in_through_the_provider_opens_the_workbench(oauth_server: int, page) -> None:
    page.goto(f"http://127.0.0.1:{oauth_server}/experiments")
    page.locator(".tabulator-row").first.wait_for(timeout=120_000)  # the runs table of the demo
    assert page.locator(".tabulator-row").count() >= 10
    assert page.get_by_text("cancer-baselines").count() > 0
    assert Provider.calls[:3] == ["/authorize", "/token", "/userinfo"]
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert "alice@example.org" not in cookies["user"]["value"]  # signed and encoded, not the bare name
    assert cookies["user"]["httpOnly"]


def test_a_wrong_client_secret_never_opens_the_workbench(demo_workspace: Path, provider: str, tmp_path: Path,
                                                        page) -> None:
    port = start(demo_workspace, provider, tmp_path, secret="wrong-secret")
    try:
        response = page.goto(f"http://127.0.0.1:{port}/experiments")
        assert Provider.calls[:2] == ["/authorize", "/token"] and "/userinfo" not in Provider.calls
        assert response is not None and response.status >= 400
        assert page.locator(".tabulator-row").count() == 0 and "cancer" not in page.content()
    finally:
        stop(port)
