"""Shared fixtures: the demo workspace (built once per run), a served Panel app, a Chromium page."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import free_port, wait_for_port  # noqa: E402

pytest_plugins = ["conftest_postgres", "conftest_mysql"]  # throwaway PostgreSQL and MariaDB servers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fully built demo workspace. Set WORKBENCH_TEST_DEMO_DIR to reuse one build across runs."""
    from workbench.demo import build_demo

    reuse = os.environ.get("WORKBENCH_TEST_DEMO_DIR")
    directory = Path(reuse) if reuse else tmp_path_factory.mktemp("demo") / "workbench-demo"
    build_demo(directory)
    return directory


@pytest.fixture(scope="session")
def demo_config(demo_workspace: Path):
    """The WorkbenchConfig the demo's workbench.toml describes (no environment variables applied)."""
    from workbench.config import WorkbenchConfig

    return WorkbenchConfig.load(config_file=demo_workspace / "workbench.toml", env={})


@pytest.fixture
def serve_viewable() -> Iterator[Callable[..., str]]:
    """Serve a Panel viewable (or a zero-argument factory) on a free port; returns its URL."""
    import panel as pn

    servers = []

    def serve(viewable, **kwargs) -> str:
        port = free_port()
        server = pn.serve(
            viewable, port=port, address="127.0.0.1", show=False, threaded=True, start=True,
            websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"], **kwargs,
        )
        servers.append(server)
        wait_for_port(port)
        return f"http://127.0.0.1:{port}"

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (``playwright install`` cannot download here)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (the README's test "
                    "command does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page (own context) that fails the test on uncaught JavaScript errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
