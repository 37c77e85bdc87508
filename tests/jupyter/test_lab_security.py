"""Nothing the extension adds answers without Jupyter's auth, and the app is only reachable via the proxy."""

from __future__ import annotations

import asyncio
import concurrent.futures
import stat
from pathlib import Path

import psutil
import pytest
import tornado.httpclient
import tornado.websocket
from conftest import WEBSOCKET_UPGRADE
from helpers import wait_until

from workbench.jupyter.handlers import handler_routes
from workbench.jupyter.protocol import SECRET_HEADER

pytestmark = [pytest.mark.jupyter, pytest.mark.slow]


def websocket_status(url: str, headers: dict[str, str]) -> int:
    """101 when the websocket handshake succeeds, else the HTTP status that refused it."""

    async def connect() -> int:
        request = tornado.httpclient.HTTPRequest(url, headers=headers, request_timeout=60)
        try:
            connection = await tornado.websocket.websocket_connect(request)
        except tornado.httpclient.HTTPClientError as error:
            return error.code
        connection.close()
        return 101

    # Own thread: Playwright's sync API may already run an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, connect()).result()


def test_the_proxied_app_needs_jupyter_auth(lab) -> None:
    assert lab.status("/workbench-app/experiments") == 200
    assert lab.status("/workbench-app/experiments", token=False) in (302, 403)
    assert lab.status("/workbench-app/", token=False) in (302, 403)
    assert lab.status("/workbench-app/static/js/bokeh.min.js", token=False) in (302, 403)


def test_every_handler_of_the_server_extension_needs_auth(lab) -> None:
    routes = handler_routes(lab.base_url)
    assert routes, "the extension registers its API handlers"
    for pattern, _handler in routes:
        assert pattern.startswith(lab.base_url)
        path = pattern[len(lab.base_url.rstrip("/")):]
        assert lab.status(f"{path}?path=optuna.db", token=False) == 403
        assert lab.status(f"{path}?path=optuna.db") == 200
    assert lab.status("/workbench/api/inspect?path=../../etc/passwd") == 400


def test_websockets_need_auth_and_the_jupyter_origin(lab) -> None:
    ws_url = lab.url.replace("http://", "ws://") + "/workbench-app/experiments/ws"
    session = {"Cookie": lab.login_cookie()}  # what a browser sends, also from a foreign page
    assert websocket_status(ws_url, {"Origin": lab.origin}) == 403
    assert websocket_status(ws_url, {**session, "Origin": "http://evil.example"}) == 403
    assert websocket_status(ws_url, {**session, "Origin": lab.origin.replace("127.0.0.1", "localhost")}) == 403
    # Positive control: the same handshake from Jupyter's own origin reaches the app.
    assert websocket_status(ws_url, {**session, "Origin": lab.origin}) == 101


def test_the_app_process_is_unusable_without_the_proxy_secret(lab, unix_get) -> None:
    assert lab.status("/workbench-app/experiments") == 200  # make sure the proxy started it

    def child_socket() -> str | None:
        for process in psutil.Process(lab.process.pid).children(recursive=True):
            command = process.cmdline()
            if "workbench.jupyter.child" in command:
                return command[command.index("--unix-socket") + 1]
        return None

    socket_path = wait_until(child_socket, timeout=30, what="the workbench app process")
    assert stat.S_IMODE(Path(socket_path).parent.stat().st_mode) == 0o700  # a private folder
    child = psutil.Process(lab.process.pid).children(recursive=True)
    assert not [c for c in child if "workbench.jupyter.child" in c.cmdline() and c.net_connections("inet")], \
        "the app process listens on no TCP port"
    app = f"{lab.base_url}workbench-app/experiments"
    assert unix_get(socket_path, app)[0] == 403
    assert unix_get(socket_path, app, {SECRET_HEADER: "guess"})[0] == 403
    assert unix_get(socket_path, f"{app}/ws", WEBSOCKET_UPGRADE)[0] == 403
