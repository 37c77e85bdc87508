"""The standalone server: routes, health, websocket origin checks — on a real Panel server."""

from __future__ import annotations

import http.client
import json
import logging
import urllib.request

import pytest
from helpers import free_port, wait_for_port, wait_until

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, is_loopback, serve, websocket_origins


@pytest.fixture
def running_server(demo_config: WorkbenchConfig):
    port = free_port()
    server = serve(demo_config, ServeOptions(port=port), threaded=True)
    wait_for_port(port)
    yield port
    server.stop()


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.read().decode()


def test_every_page_route_answers(running_server: int) -> None:
    for path in ("/", "/experiments", "/tuning", "/explain", "/data_versions"):
        status, body = get(f"http://127.0.0.1:{running_server}{path}")
        assert status == 200
        assert "MLOps Workbench" in body


def test_health_endpoint(running_server: int) -> None:
    status, _ = get(f"http://127.0.0.1:{running_server}/health")
    assert status == 200


@pytest.mark.parametrize("origin", ["http://evil.test", "http://127.0.0.1.evil.test", "null"])
def test_websockets_from_foreign_origins_are_refused(running_server: int, origin: str) -> None:
    assert websocket_handshake_status(running_server, origin) == 403


def test_websockets_from_the_own_origin_pass_the_origin_check(running_server: int) -> None:
    # Without a session token Bokeh still refuses, but not for the origin (403 is the origin check).
    assert websocket_handshake_status(running_server, f"http://127.0.0.1:{running_server}") != 403


def websocket_handshake_status(port: int, origin: str) -> int:
    """The HTTP status of a websocket upgrade request to /ws from ``origin``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/ws", headers={
        "Origin": origin, "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    })
    try:
        return connection.getresponse().status
    finally:
        connection.close()


def test_origins_never_include_a_wildcard() -> None:
    origins = websocket_origins(ServeOptions(port=5006))
    assert "*" not in "".join(origins)
    assert set(origins) == {"127.0.0.1:5006", "localhost:5006"}


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("example.org")


def test_health_reveals_nothing_and_stays_public(running_server: int) -> None:
    status, body = get(f"http://127.0.0.1:{running_server}/health?endpoint=/")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    assert "wb-demo" not in body and "sqlite" not in body


def test_access_log_is_json_without_query_strings(running_server: int, caplog) -> None:
    def logged_health() -> list[dict]:
        records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "workbench.access"]
        return [r for r in records if r["path"] == "/health"]

    with caplog.at_level(logging.INFO, logger="workbench.access"):
        get(f"http://127.0.0.1:{running_server}/health?token=SECRET123")
        health = wait_until(logged_health, timeout=10, what="the access log line")  # logged after the reply
    assert health[0]["status"] == 200 and health[0]["method"] == "GET"
    assert "SECRET123" not in caplog.text
