"""Load: concurrent real Bokeh sessions (websocket clients) plus Chromium on `workbench serve` — no errors,
every session destroyed, and memory that does not grow crowd after crowd (the full 50-session run is
benchmarks/serving/load_sessions.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ui]

DRIVER = Path(__file__).resolve().parents[2] / "benchmarks" / "serving" / "load_sessions.py"
SESSIONS, ROUNDS = 5, 2


def load_driver():
    spec = importlib.util.spec_from_file_location("load_sessions", DRIVER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_concurrent_sessions_without_errors_and_memory_comes_back(demo_workspace: Path, tmp_path: Path) -> None:
    figures = load_driver().load_test(demo_workspace / "workbench.toml", SESSIONS, hold=1.0, rounds=ROUNDS,
                                      server_log=tmp_path / "server.log")
    assert figures["errors"] == [], (tmp_path / "server.log").read_text()[-4000:]
    assert figures["interactions"] == 3 * SESSIONS * ROUNDS  # filter, open a tab, clear the filter: all answered
    assert figures["browser_samples"] >= 1  # the browser saw its filter applied while the crowd was on
    assert figures["sessions_launched"] >= SESSIONS * ROUNDS + 3
    assert figures["sessions_destroyed"] == figures["sessions_launched"]
    baseline, (first, last) = figures["rss_baseline"], figures["rss_after"]
    assert figures["rss_peak"] > baseline  # the sessions really held memory while open
    assert last - first < 3 * SESSIONS, f"RSS grew {last - first:.0f} MB in a second identical round: a leak"
    assert first - baseline < 15 * SESSIONS, f"{first - baseline:.0f} MB kept after {SESSIONS} sessions closed"
