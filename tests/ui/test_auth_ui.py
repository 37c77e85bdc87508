"""Signing in through the browser opens the app with live data (cookie reaches the websocket)."""

from __future__ import annotations

import pytest
from helpers import free_port, wait_for_port

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve
from workbench.users import add_user

pytestmark = pytest.mark.ui


def test_sign_in_then_see_runs(page, tmp_path, demo_config: WorkbenchConfig) -> None:
    users = tmp_path / "users.json"
    add_user(users, "alice", "correct horse battery staple")
    port = free_port()
    server = serve(demo_config, ServeOptions(port=port, users_file=str(users), cookie_secret="s" * 40), threaded=True)
    try:
        wait_for_port(port)
        page.goto(f"http://127.0.0.1:{port}/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        page.get_by_text("Invalid user name or password").wait_for()
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "correct horse battery staple")
        page.click("button[type=submit]")
        page.locator(".tabulator-row").first.wait_for()
        assert page.locator(".tabulator-row").count() >= 10
    finally:
        server.stop()
