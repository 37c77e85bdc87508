"""Server bounds: a cap on open sessions (a 'busy' page beyond it) and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bokeh.client import pull_session
from click.testing import CliRunner
from helpers import free_port, wait_for_port, wait_until

from workbench.cli import main
from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve

WORKBENCH = str(Path(sys.executable).with_name("workbench"))
BUSY = "The workbench is busy"


def document_text(url: str):
    """A real Bokeh session (websocket) on ``url`` and its document as JSON text."""
    session = pull_session(url=url)
    return session, json.dumps(session.document.to_json(deferred=False))


def test_sessions_beyond_the_limit_get_a_busy_page(demo_config: WorkbenchConfig) -> None:
    port = free_port()
    server = serve(demo_config, ServeOptions(port=port, max_sessions=1), threaded=True)
    sessions = []
    try:
        wait_for_port(port)
        first, first_text = document_text(f"http://127.0.0.1:{port}/tuning")
        second, second_text = document_text(f"http://127.0.0.1:{port}/tuning")  # the first is still open
        sessions = [first, second]
        assert BUSY not in first_text and "cancer-gb-tuning" in first_text
        assert BUSY in second_text and "cancer-gb-tuning" not in second_text
        assert "Traceback" not in second_text
    finally:
        for session in sessions:
            session.close()
        server.stop()


def test_a_limit_below_one_is_refused() -> None:
    result = CliRunner().invoke(main, ["serve", "--max-sessions", "0", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "--max-sessions" in result.output and "at least 1" in result.output


@pytest.mark.slow
def test_sigterm_stops_the_server_cleanly(demo_workspace: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen([WORKBENCH, "serve", "--config", str(demo_workspace / "workbench.toml"),
                                    "--port", str(port)], stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=180)
        session, text = document_text(f"http://127.0.0.1:{port}/tuning")  # a live session
        assert "cancer-gb-tuning" in text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert "Received SIGTERM: stopping the workbench server." in log.read_text()
        wait_until(lambda: not port_open(port), timeout=10, what="the port to be released")
        session.close()
    finally:
        if process.poll() is None:
            process.kill()


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
