"""Sign-in on a real server: nothing is served without a valid session; failures are throttled."""

from __future__ import annotations

import http.client
import urllib.parse
from pathlib import Path

import pytest
from helpers import free_port, wait_for_port

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve
from workbench.users import add_user

PASSWORD = "correct horse battery staple"
SECRET = "x" * 48


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, demo_config: WorkbenchConfig):
    users = tmp_path_factory.mktemp("auth") / "users.json"
    add_user(users, "alice", PASSWORD)
    port = free_port()
    server = serve(demo_config, ServeOptions(port=port, users_file=str(users), cookie_secret=SECRET), threaded=True)
    wait_for_port(port)
    yield port
    server.stop()


def request(port: int, method: str, path: str, body: dict | None = None, cookie: str | None = None,
            headers: dict | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    all_headers = dict(headers or {})
    if cookie:
        all_headers["Cookie"] = cookie
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=data, headers=all_headers)
    response = connection.getresponse()
    response.read()
    return response


def login(port: int, user: str, password: str) -> http.client.HTTPResponse:
    return request(port, "POST", "/login", {"username": user, "password": password})


def session_cookie(response: http.client.HTTPResponse) -> str:
    cookies = [value.split(";", 1)[0] for key, value in response.getheaders() if key.lower() == "set-cookie"]
    return "; ".join(cookies)


@pytest.mark.parametrize("path", ["/", "/experiments", "/tuning", "/explain", "/data_versions", "/?tab=tuning"])
def test_pages_redirect_to_sign_in_without_a_session(secured: int, path: str) -> None:
    response = request(secured, "GET", path)
    assert response.status == 302
    assert response.getheader("Location").lstrip(".").startswith("/login")


def test_websocket_without_a_session_is_refused(secured: int) -> None:
    response = request(secured, "GET", "/ws", headers={
        "Origin": f"http://127.0.0.1:{secured}", "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert response.status in (401, 403)


def test_the_sign_in_page_needs_no_internet(secured: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", secured, timeout=60)
    connection.request("GET", "/login")
    page = connection.getresponse().read().decode()
    assert "<form" in page and "password" in page
    assert "http://" not in page and "https://" not in page


def test_a_valid_session_opens_the_app_and_a_tampered_one_does_not(secured: int) -> None:
    response = login(secured, "alice", PASSWORD)
    assert response.status == 302
    cookie = session_cookie(response)
    assert "user=" in cookie
    assert request(secured, "GET", "/", cookie=cookie).status == 200
    tampered = cookie.replace("user=", "user=A", 1)
    assert request(secured, "GET", "/", cookie=tampered).status == 302
    assert request(secured, "GET", "/", cookie="user=alice").status == 302


def test_wrong_passwords_are_refused_then_throttled(secured: int) -> None:
    refused = [login(secured, "mallory", "wrong password!") for _ in range(5)]
    assert [response.status for response in refused] == [302] * 5
    assert all("error=" in response.getheader("Location") for response in refused)
    assert all("user=" not in session_cookie(response) for response in refused)
    assert login(secured, "mallory", "wrong password!").status == 429
    # the throttle is per client too: even the right password waits now
    assert login(secured, "alice", PASSWORD).status == 429


def test_serving_publicly_without_a_secret_is_refused(tmp_path: Path, demo_config: WorkbenchConfig) -> None:
    from workbench.errors import ConfigError

    users = tmp_path / "users.json"
    add_user(users, "alice", PASSWORD)
    with pytest.raises(ConfigError, match="cookie secret"):
        ServeOptions(address="0.0.0.0", port=free_port(), users_file=str(users), cookie_secret="short").validate()
