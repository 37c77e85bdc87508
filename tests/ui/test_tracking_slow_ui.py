"""A tracking server that accepts connections but never answers, from the first screen on (issue 9):
the Experiments page shows a loading indicator while its runs are read off the event loop, /health keeps
answering meanwhile, and the page then says which server did not answer."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_tracking_outage_ui import served_with_probe  # noqa: E402

pytestmark = [pytest.mark.ui]


class SilentServer(threading.Thread):
    """Listens, accepts every connection and never sends a byte (a hung tracking server)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed by stop()
                return
            self.accepted.append(connection)

    def stop(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def test_hung_tracking_server_shows_loading_and_health_keeps_answering(page, demo_config) -> None:
    silent = SilentServer()
    silent.start()
    config = demo_config.with_overrides(tracking_uri=f"http://127.0.0.1:{silent.port}")
    try:
        with served_with_probe(config) as (port, probe):
            probe.phase = "hung"
            page.goto(f"http://127.0.0.1:{port}/?tab=experiments")
            loading = page.locator(".wb-loading").filter(has_text=f"127.0.0.1:{silent.port}")
            loading.first.wait_for()  # the first screen says what it waits for (not a blank page)
            banner = page.locator(".wb-error").filter(has_text=f"127.0.0.1:{silent.port}")
            banner.first.wait_for(timeout=60_000)  # the server never answered: the page says so
            probe.phase = "after"
            assert silent.accepted, "the tracking server was never asked"
            assert loading.count() == 0 and page.locator(".wb-error").filter(has_text="Traceback").count() == 0
            assert page.locator(".bk-tab").filter(has_text="Tuning").count() >= 1  # the rest of the app is there
    finally:
        silent.stop()
    assert probe.answers > 3
    while_hung = [failure for failure in probe.failures if failure.startswith("hung")]
    assert while_hung == [], f"/health failed or took over 1 s while the runs were read: {while_hung}"
