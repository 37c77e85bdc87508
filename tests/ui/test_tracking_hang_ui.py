"""The tracking server hangs (SIGSTOP: connections accepted, never answered) while the served app is open
in Chromium: a banner within seconds, /health and a second session keep answering, and the app recovers
when the server continues (SIGCONT)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from helpers import snapshot
from test_tracking_outage_ui import demo_tracking_server, main_tab, served_with_probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from test_experiments_server import stop_server  # noqa: E402 - the real mlflow server

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def test_tracking_server_hung_and_continued_in_the_browser(page, tmp_path: Path, demo_config) -> None:
    db, tracking_port, tracking, config = demo_tracking_server(tmp_path, demo_config)
    before = snapshot(db)
    try:
        with served_with_probe(config) as (port, probe):
            # the page is built once the server answered (off the event loop): a link value it refuses is still told
            page.goto(f"http://127.0.0.1:{port}/?tab=experiments&exp_view=banana")
            page.locator(".wb-url-notice").filter(has_text="could not be applied").first.wait_for()
            page.goto(f"http://127.0.0.1:{port}/?tab=experiments")
            page.locator(".tabulator-row").first.wait_for()
            rows = page.locator(".tabulator-row").count()

            probe.phase = "hang"
            os.killpg(tracking.pid, signal.SIGSTOP)  # alive, port open, never answers
            banner = page.locator(".wb-error").filter(has_text=f"127.0.0.1:{tracking_port}")
            banner.first.wait_for(timeout=30_000)
            page.wait_for_timeout(6000)  # more live refreshes against the hung server (the probe keeps polling)
            assert page.locator(".tabulator-row").count() == rows  # the last good table stays
            probe.phase = "second-session"  # building a session's page holds Panel's event loop (not counted)
            other = page.context.new_page()  # a second reader arrives during the hang
            other.goto(f"http://127.0.0.1:{port}/?tab=tuning")  # a page that does not need the tracking server
            other.locator(".wb-tuning-tabs").first.wait_for(timeout=30_000)
            main_tab(other, "Experiments").click()  # told at once: the server did not answer moments ago
            other.locator(".wb-error").filter(has_text=f"127.0.0.1:{tracking_port}").first.wait_for(timeout=10_000)
            probe.phase = "hang-again"
            page.wait_for_timeout(6000)

            probe.phase = "recovery"
            os.killpg(tracking.pid, signal.SIGCONT)
            page.locator(".wb-retry").first.wait_for(state="detached", timeout=60_000)
            assert page.locator(".tabulator-row").count() == rows
            other.close()
    finally:
        stop_server(tracking)  # SIGKILL ends a stopped server too
    assert probe.answers > 10
    during_hang = [failure for failure in probe.failures if failure.startswith("hang")]
    assert during_hang == [], f"/health failed or took over 1 s while the tracking server hung: {during_hang}"
    assert snapshot(db) == before
