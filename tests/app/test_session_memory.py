"""Closed sessions leave nothing alive in a real `workbench serve` process: after real Bokeh sessions (websocket
clients that filter runs and open tabs, as benchmarks/serving/load_sessions.py does) are destroyed, a census of the
server's objects (benchmarks/serving/memory_probe.py, taken in the server on SIGUSR1) finds no workbench page alive
and the same Documents, Panel and Bokeh objects as before the crowd, no garbage waits for a later collection, and the
server runs on the system allocator whose free pages go back to the OS."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_load_sessions import load_driver  # benchmarks/serving/load_sessions.py, imported by path

pytestmark = pytest.mark.slow

SESSIONS = 6
SESSION_SCOPED = ("documents", "session_contexts", "server_sessions", "workbench_pages", "panel_objects",
                  "bokeh_models")
SESSION_MODULES = ("panel.", "bokeh.", "holoviews.", "param.", "workbench.", "pandas.")


def test_closed_sessions_leave_no_objects_alive(demo_workspace: Path, tmp_path: Path) -> None:
    driver = load_driver()
    server = driver.Server(demo_workspace / "workbench.toml", driver.free_port(), census_file=tmp_path / "census.json")
    try:
        server.wait_ready()
        warm = driver.ClientResult()
        for index in range(3):  # every tab built once: imports and shared caches are not per session
            driver.run_async(driver.run_client(server.url, index, 0.0, 180.0, warm, arrive=0.0))
        assert server.wait_sessions_destroyed(120) and server.wait_memory_released(120)
        before = server.census()

        crowd = driver.run_async(driver.run_clients(server.url, SESSIONS, hold=0.5, timeout=180.0))
        assert server.wait_sessions_destroyed(120), "sessions were never destroyed"
        assert server.wait_memory_released(120), "the server did not release memory after the sessions ended"
        after = server.census()
        environ = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
    finally:
        server.stop()

    assert warm.errors == [] and crowd.errors == [] and server.errors == [], "".join(server.log)[-4000:]
    assert len(crowd.latencies) == 3 * SESSIONS  # the sessions really worked: filter, open a tab, clear
    assert len(server.destroyed) == len(server.launched) == 3 + SESSIONS
    assert "error" not in before and "error" not in after, (before, after)
    assert before["objects"]["panel_objects"] >= 1  # the census sees the server's objects
    # no page of any closed session is alive (the first sessions used to be pinned by Optuna's import)
    assert before["objects"].get("workbench_pages", 0) == after["objects"].get("workbench_pages", 0) == 0, (
        before["page_holders"], after["page_holders"])
    for kind in SESSION_SCOPED:
        assert after["objects"].get(kind, 0) == before["objects"].get(kind, 0), (
            f"{kind}: {before['objects'].get(kind, 0)} before the crowd, {after['objects'].get(kind, 0)} after "
            f"its {SESSIONS} sessions were destroyed")
    session_garbage = [(kind, count) for kind, count in after["garbage_types"] if kind.startswith(SESSION_MODULES)]
    assert session_garbage == [], "the release left sessions' cycles for a later collection"
    assert b"PYTHONMALLOC=malloc" in environ  # `workbench serve` restarted itself on the system allocator
    assert after["heap"]["python_blocks"] == 0  # (pymalloc is not in use: its arenas would pin freed memory)
