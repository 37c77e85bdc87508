"""Serving benchmark: first page cold/warm and memory per extra session of the full workbench.

Compares `workbench serve` on the demo workspace with `panel serve` of a minimal app, side by side.

    .venv/bin/python benchmarks/serving/bench_sessions.py [--demo-dir /tmp/wb-demo] [--sessions 20]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MINIMAL_APP = "import panel as pn\npn.Column('# Hello', pn.widgets.Tabulator(__import__('pandas').DataFrame({'a': range(10)}))).servable()\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def page_seconds(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return time.perf_counter() - start


def measure(command: list[str], url: str, sessions: int) -> dict[str, float]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_open = wait_ready(url.rsplit("/", 1)[0] + "/health" if "workbench" in command[1] else url)
        cold = page_seconds(url)
        warm = statistics.median(page_seconds(url) for _ in range(3))
        before = rss_mb(process.pid)
        for _ in range(sessions):
            page_seconds(url)
        after = rss_mb(process.pid)
        return {"ready": port_open, "cold": cold, "warm": warm, "mb_per_session": (after - before) / sessions}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-dir", default="workbench-demo")
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    venv_bin = Path(sys.executable).parent
    demo = Path(args.demo_dir)
    if not (demo / "workbench.toml").is_file():
        subprocess.run([str(venv_bin / "workbench"), "demo", "--build-only", "--dir", str(demo)], check=True)

    port = free_port()
    ours = measure([str(venv_bin / "workbench"), "serve", "--config", str(demo / "workbench.toml"), "--port", str(port)],
                   f"http://127.0.0.1:{port}/", args.sessions)
    with tempfile.TemporaryDirectory() as folder:
        app = Path(folder) / "app.py"
        app.write_text(MINIMAL_APP)
        port = free_port()
        minimal = measure([str(venv_bin / "panel"), "serve", str(app), "--port", str(port), "--address", "127.0.0.1"],
                          f"http://127.0.0.1:{port}/app", args.sessions)
    print(f"{'':28}{'workbench (demo)':>18}{'panel serve minimal':>22}")
    for key, label in [("ready", "server ready (s)"), ("cold", "first page cold (s)"), ("warm", "first page warm (s)"),
                       ("mb_per_session", "RSS per extra session (MB)")]:
        print(f"{label:28}{ours[key]:>18.2f}{minimal[key]:>22.2f}")
    print(f"targets: warm first page <= 2 s -> {'met' if ours['warm'] <= 2 else 'NOT met'}; "
          f"<= 15 MB per session -> {'met' if ours['mb_per_session'] <= 15 else 'NOT met'}")


if __name__ == "__main__":
    main()
