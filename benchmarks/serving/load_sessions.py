"""Load test: N concurrent Bokeh sessions on `workbench serve` plus one Chromium page measuring latency.

Starts `workbench -v serve` on the demo workspace, then:
  * N websocket clients, each a real Bokeh session (GET the page → session token → websocket → PULL-DOC),
    each interacting like a user: filter the runs, switch to another tab (built on first view), clear the
    filter, switch back — every change sent as a PATCH-DOC, timed until the server's resulting patch;
  * one Chromium page (Debian's, via Playwright) timing click/typing → visible update while the N run;
  * server RSS cold, warm (after three visitors saw every tab), peak during, and after every session was
    destroyed and the server released their memory (both logged); ``--census FILE`` adds the server's own
    census of live objects and heap (memory_probe.py) at the warm baseline and after each round.

    .venv/bin/python benchmarks/serving/load_sessions.py --demo-dir /tmp/wb-demo --sessions 50
    .venv/bin/python benchmarks/serving/load_sessions.py --demo-dir /tmp/wb-demo --sessions 50 --rounds 2 --census /tmp/census.json
    .venv/bin/python benchmarks/serving/load_sessions.py --sessions 10 --json   # what the slow test runs
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TABS = ["experiments", "tuning", "explain", "data_versions"]
QUERY = "metrics.accuracy > 0.95"
PAGE_CLASSES = {1: "wb-tuning", 2: "wb-explain", 3: "wb-data-tabs"}  # a model each page brings when built
RUN_COUNT = re.compile(r"[\d,]+ of [\d,]+ runs")
SETTLE_SECONDS = 2.0  # after the server's memory release (logged): the OS accounts the returned pages
TOKEN = re.compile(r'"token":\s*"([^"]+)"')
PROBE_DIR = Path(__file__).resolve().parent  # memory_probe.py: a census on SIGUSR1 when asked for
LAUNCHER = ("import logging, os, sys; log = logging.getLogger('panel.io.application'); log.setLevel(logging.INFO); "
            "log.addHandler(logging.StreamHandler(sys.stdout)); probe = os.environ.get('WORKBENCH_MEMORY_PROBE'); "
            f"probe and (sys.path.insert(0, {str(PROBE_DIR)!r}), __import__('memory_probe').install(probe)); "
            "from workbench.cli import main; main(args=sys.argv[1:], prog_name='workbench')")
SESSION_LOG = re.compile(r"Session (\d+) (launching|destroyed)")
RELEASE_LOG = "Released the memory of closed sessions"  # workbench/session_memory.py, after sessions ended


# -- the server ------------------------------------------------------------------------------------
def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """`workbench -v serve` in a subprocess; follows its log for session launches/destructions and errors."""

    def __init__(self, config_file: Path, port: int, census_file: Path | None = None, tracemalloc_frames: int = 0,
                 env: dict[str, str] | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.census_file = census_file
        environment = {**os.environ, **(env or {})}
        if census_file is not None:
            environment.update(WORKBENCH_MEMORY_PROBE=str(census_file), WORKBENCH_TRACEMALLOC=str(tracemalloc_frames))
        # `workbench -v serve`, logging Panel's session launches and destructions
        command = [sys.executable, "-c", LAUNCHER, "-v", "serve", "--config", str(config_file), "--port", str(port)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=environment)
        self.launched: set[str] = set()
        self.destroyed: set[str] = set()
        self.errors: list[str] = []
        self.log: list[str] = []
        self.last_destroyed = self.last_release = -1  # log line numbers
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        for line in self.process.stdout:
            self.log.append(line)
            match = SESSION_LOG.search(line)
            if match:
                (self.launched if match.group(2) == "launching" else self.destroyed).add(match.group(1))
                if match.group(2) == "destroyed":
                    self.last_destroyed = len(self.log)
            elif RELEASE_LOG in line:
                self.last_release = len(self.log)
            elif line.startswith(("ERROR", "CRITICAL")) or "Traceback" in line:
                self.errors.append(line.strip())

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url + "/health", timeout=5):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"workbench serve exited with {self.process.returncode}")
            time.sleep(0.2)
        raise TimeoutError("workbench serve did not answer /health")

    def wait_memory_released(self, timeout: float) -> bool:
        """Block until the server released memory after the last session it destroyed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.last_release > self.last_destroyed:
                return True
            time.sleep(0.5)
        return False

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def wait_sessions_destroyed(self, timeout: float) -> bool:
        """Block until every launched session was destroyed (Bokeh discards unused sessions periodically)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.launched <= self.destroyed:
                return True
            time.sleep(0.5)
        return False

    def census(self, timeout: float = 120) -> dict:
        """The server's memory census (benchmarks/serving/memory_probe.py), taken on SIGUSR1."""
        if self.census_file is None:
            raise RuntimeError("the server was started without a census file")
        self.census_file.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not self.census_file.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise TimeoutError("the server wrote no memory census")
            time.sleep(0.2)
        return json.loads(self.census_file.read_text())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


class MemorySampler(threading.Thread):
    """Samples the server's RSS every ``interval`` seconds; ``peak`` is the highest seen."""

    def __init__(self, server: Server, interval: float = 0.25):
        super().__init__(daemon=True)
        self.server, self.interval, self.peak = server, interval, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, self.server.rss())
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# -- one Bokeh session over the websocket ------------------------------------------------------------
def find_models(tree, found: dict[str, dict]) -> None:
    """Index every serialized Bokeh model ({"type": "object", "id", "name", "attributes"}) in ``tree``."""
    if isinstance(tree, dict):
        if tree.get("type") == "object" and "id" in tree and "name" in tree:
            found[tree["id"]] = tree
        for value in tree.values():
            find_models(value, found)
    elif isinstance(tree, list):
        for value in tree:
            find_models(value, found)


def model_with_class(models: dict[str, dict], css_class: str) -> str | None:
    for model in models.values():
        if css_class in (model.get("attributes", {}).get("css_classes") or []):
            return model["id"]
    return None


def changes(model_id: str, attr: str):
    """Predicate: a patch sets ``attr`` of the model ``model_id``."""
    def test(content: dict) -> bool:
        return any(event.get("kind") == "ModelChanged" and event.get("attr") == attr
                   and event.get("model", {}).get("id") == model_id for event in content.get("events", []))
    return test


def adds(css_class: str):
    """Predicate: a patch brings a model with ``css_class`` (a page built on first view)."""
    def test(content: dict) -> bool:
        found: dict[str, dict] = {}
        find_models(content, found)
        return model_with_class(found, css_class) is not None
    return test


class BokehSession:
    """A minimal Bokeh client: what BokehJS does in a browser tab, without rendering."""

    def __init__(self, base: str, timeout: float):
        self.base, self.timeout = base, timeout
        self.models: dict[str, dict] = {}
        self.patches: asyncio.Queue = asyncio.Queue()
        self.ws = None
        self._reader: asyncio.Task | None = None
        self.server_errors: list[str] = []

    async def open(self, path: str = "/") -> float:
        """GET the page, open its websocket session and pull the document; seconds it took."""
        start = time.perf_counter()
        page = await AsyncHTTPClient().fetch(self.base + path, request_timeout=self.timeout)
        token = TOKEN.search(page.body.decode()).group(1)
        ws_url = self.base.replace("http://", "ws://") + "/ws"
        request = HTTPRequest(ws_url, headers={"Origin": self.base}, request_timeout=self.timeout)
        self.ws = await websocket_connect(request, subprotocols=["bokeh", token], max_message_size=1 << 30)
        self._receiver = Receiver(Protocol())
        ack = await self._read()
        if ack.msgtype != "ACK":
            raise RuntimeError(f"expected ACK, got {ack.msgtype}")
        await self.send("PULL-DOC-REQ", {})
        reply = await self._read()
        while reply.msgtype == "PATCH-DOC":  # a patch may overtake the reply; the pulled document includes it
            reply = await self._read()
        if reply.msgtype != "PULL-DOC-REPLY":
            raise RuntimeError(f"expected PULL-DOC-REPLY, got {reply.msgtype}")
        find_models(reply.content["doc"], self.models)
        if model_with_class(self.models, "wb-busy"):
            raise RuntimeError("the server answered with its 'busy' page")
        self._reader = asyncio.create_task(self._read_forever())
        # BokehJS announces a rendered page; Panel waits for it before onload callbacks and lazy updates
        await self.send("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {
            "type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}}}]})
        return time.perf_counter() - start

    async def _read(self):
        while True:
            fragment = await asyncio.wait_for(self.ws.read_message(), self.timeout)
            if fragment is None:
                raise ConnectionError("the server closed the websocket")
            message = await self._receiver.consume(fragment)
            if message is not None:
                return message

    async def _read_forever(self) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                message = await self._read()
                if message.msgtype == "PATCH-DOC":
                    find_models(message.content, self.models)
                    self.patches.put_nowait((time.perf_counter(), message.content))
                elif message.msgtype == "ERROR":
                    self.server_errors.append(str(message.content))

    async def send(self, msgtype: str, content: dict) -> None:
        header = {"msgid": uuid.uuid4().hex, "msgtype": msgtype}
        for part in (header, {}, content):
            await self.ws.write_message(json.dumps(part))

    async def change(self, model_id: str, attr: str, new, until) -> float:
        """Set ``attr`` of a model as the browser would; seconds until a server patch satisfies ``until``."""
        while not self.patches.empty():
            self.patches.get_nowait()
        start = time.perf_counter()
        await self.send("PATCH-DOC", {"events": [{"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr,
                                                  "new": new}]})
        deadline = start + self.timeout
        while True:
            arrived, content = await asyncio.wait_for(self.patches.get(), max(deadline - time.perf_counter(), 0.01))
            if until(content):
                return arrived - start

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            self.ws.close()


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)
    opens: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def run_client(base: str, index: int, hold: float, timeout: float, result: ClientResult,
                     arrive: float = 2.0) -> None:
    """One user: open the app, filter the runs, open another tab, clear the filter, go back, stay, leave."""
    rng = random.Random(index)
    session = BokehSession(base, timeout)
    try:
        await asyncio.sleep(rng.uniform(0, arrive))  # users do not arrive in the same millisecond
        result.opens.append(await session.open())
        query, tabs, count = (model_with_class(session.models, name) for name in ("wb-query", "wb-tabs", "wb-run-count"))
        if None in (query, tabs, count):
            raise RuntimeError("the runs filter, run count or page tabs are missing from the document")
        other = 1 + index % 3  # tuning, explain or data versions: built on first view
        steps = [(query, "value", QUERY, changes(count, "text")),
                 (tabs, "active", other, adds(PAGE_CLASSES[other])),
                 (tabs, "active", 0, None),  # back to a built tab: nothing for the server to send
                 (query, "value", "", changes(count, "text"))]
        for model, attr, value, until in steps:
            await asyncio.sleep(rng.uniform(0.3, 1.0))  # think time
            if until is None:
                await session.send("PATCH-DOC", {"events": [{"kind": "ModelChanged", "model": {"id": model},
                                                             "attr": attr, "new": value}]})
            else:
                result.latencies.append(await session.change(model, attr, value, until))
        await asyncio.sleep(hold)
        result.errors += session.server_errors
    except Exception as error:  # noqa: BLE001 - every failure is counted and reported
        result.errors.append(f"session {index}: {type(error).__name__}: {error}")
    finally:
        await session.close()


async def run_clients(base: str, sessions: int, hold: float, timeout: float) -> ClientResult:
    AsyncHTTPClient.configure(None, max_clients=max(sessions, 10))  # one page request per user at once, no queue
    result = ClientResult()
    await asyncio.gather(*[run_client(base, i, hold, timeout, result) for i in range(sessions)])
    return result


def run_async(coroutine):
    """``asyncio.run`` in a thread of its own: works even where this thread already runs an event loop
    (Playwright's sync API in the same test session)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# -- the browser measuring what a user sees ----------------------------------------------------------
class BrowserProbe(threading.Thread):
    """A Chromium page that repeats user actions while the load runs and times each visible update."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.ready = threading.Event()
        self._halt = threading.Event()

    def run(self) -> None:
        from playwright.sync_api import expect, sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(120_000)
                page.on("pageerror", lambda exc: self.errors.append(f"browser: {exc}"))
                page.goto(self.base + "/?tab=experiments")
                count = page.locator(".wb-run-count").get_by_text(RUN_COUNT).first  # "N of M runs"
                count.wait_for()
                query = page.locator(".wb-query input").first
                self.ready.set()
                filtered = False
                while not self._halt.is_set():
                    before = count.inner_text()
                    start = time.perf_counter()
                    query.fill("" if filtered else QUERY)
                    query.press("Enter")
                    expect(count).not_to_have_text(before, timeout=300_000)
                    self.latencies.append(time.perf_counter() - start)
                    filtered = not filtered
                    self._halt.wait(0.5)
                browser.close()
        except Exception as error:  # noqa: BLE001
            self.errors.append(f"browser: {type(error).__name__}: {error}")
        finally:
            self.ready.set()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=180)


# -- the run -----------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_test(config_file: Path, sessions: int, hold: float = 5.0, timeout: float = 180.0,
              cleanup_timeout: float = 120.0, browser: bool = True, server_log: Path | None = None,
              rounds: int = 1, census_dir: Path | None = None, tracemalloc_frames: int = 0,
              server_env: dict[str, str] | None = None) -> dict:
    """Run the scenario ``rounds`` times on one server; a dict of the figures (seconds, MB).

    ``rss_cold`` is the RSS once the server answers, ``rss_baseline`` after three warm-up visitors
    (every tab built once) closed; ``rss_after`` lists the RSS after each round's sessions were
    destroyed: a leak grows it round after round, memory the allocator keeps does not. With
    ``census_dir``, ``census`` holds the server's memory census (memory_probe.py) at the warm baseline
    and after each round.
    """
    census_file = census_dir / "census.json" if census_dir is not None else None
    server = Server(config_file, free_port(), census_file, tracemalloc_frames, server_env)
    censuses: list[dict] = []
    try:
        server.wait_ready()
        rss_cold = server.rss()
        warm = ClientResult()  # first visitors: every tab once (imports, caches), one after the other
        for index in range(3):
            run_async(run_client(server.url, index, 0.0, timeout, warm, arrive=0.0))
        server.wait_sessions_destroyed(cleanup_timeout)
        released = server.wait_memory_released(cleanup_timeout)
        time.sleep(SETTLE_SECONDS)
        baseline = server.rss()
        if census_file is not None:
            censuses.append(server.census())
        sampler = MemorySampler(server)
        sampler.start()
        result, browser_latencies, errors, after, elapsed = ClientResult(), [], list(warm.errors), [], 0.0
        if not released:
            errors.append("the server never released memory after the warm-up sessions")
        for _ in range(rounds):
            probe = BrowserProbe(server.url) if browser else None
            if probe is not None:
                probe.start()
                probe.ready.wait(300)
            started = time.perf_counter()
            batch = run_async(run_clients(server.url, sessions, hold, timeout))
            elapsed += time.perf_counter() - started
            if probe is not None:
                probe.stop()
                browser_latencies += probe.latencies
                errors += probe.errors
            result.latencies += batch.latencies
            errors += batch.errors
            if not server.wait_sessions_destroyed(cleanup_timeout):
                errors.append(f"{len(server.launched - server.destroyed)} sessions were never destroyed")
            if not server.wait_memory_released(cleanup_timeout):
                errors.append("the server never released memory after the sessions ended")
            time.sleep(SETTLE_SECONDS)
            after.append(server.rss())
            if census_file is not None:
                censuses.append(server.census())
        sampler.stop()
        return {
            "sessions": sessions, "rounds": rounds, "seconds": elapsed, "interactions": len(result.latencies),
            "ws_p50": statistics.median(result.latencies) if result.latencies else float("nan"),
            "ws_p95": percentile(result.latencies, 0.95), "ws_max": max(result.latencies, default=float("nan")),
            "browser_samples": len(browser_latencies),
            "browser_p50": statistics.median(browser_latencies) if browser_latencies else float("nan"),
            "browser_p95": percentile(browser_latencies, 0.95),
            "rss_cold": rss_cold, "rss_baseline": baseline, "rss_peak": sampler.peak, "rss_after": after,
            "census": censuses, "cpu_seconds": server_cpu_seconds(server.process.pid),
            "sessions_launched": len(server.launched), "sessions_destroyed": len(server.destroyed),
            "errors": errors + server.errors,
        }
    finally:
        server.stop()
        if server_log is not None:
            server_log.write_text("".join(server.log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-dir", default="workbench-demo")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--hold", type=float, default=5.0, help="Seconds each session stays open after its actions.")
    parser.add_argument("--no-browser", action="store_true", help="Skip the Chromium latency probe.")
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    parser.add_argument("--rounds", type=int, default=1, help="Repeat the crowd on the same server (leak check).")
    parser.add_argument("--server-log", type=Path, default=None, help="Write the server's log to this file.")
    parser.add_argument("--census", type=Path, default=None, metavar="FILE",
                        help="Write the server's memory census (warm baseline, after each round) to this JSON file.")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                        help="With --census: trace allocations in the server (slower) and list the top sites.")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="An environment variable for the server (e.g. MALLOC_ARENA_MAX=2); repeatable.")
    args = parser.parse_args()
    demo = Path(args.demo_dir)
    if not (demo / "workbench.toml").is_file():
        subprocess.run([str(Path(sys.executable).parent / "workbench"), "demo", "--build-only", "--dir", str(demo)],
                       check=True)
    figures = load_test(demo / "workbench.toml", args.sessions, hold=args.hold, browser=not args.no_browser,
                        server_log=args.server_log, rounds=args.rounds,
                        census_dir=args.census.parent if args.census else None, tracemalloc_frames=args.tracemalloc,
                        server_env=dict(item.split("=", 1) for item in args.server_env))
    if args.census:
        args.census.write_text(json.dumps(figures["census"], indent=1))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['sessions']} concurrent sessions x {figures['rounds']} round(s), {figures['interactions']} "
          f"websocket interactions in {figures['seconds']:.1f} s")
    print(f"websocket change → server patch: p50 {figures['ws_p50']:.2f} s, p95 {figures['ws_p95']:.2f} s, "
          f"max {figures['ws_max']:.2f} s")
    print(f"browser filter → visible update ({figures['browser_samples']} samples): p50 {figures['browser_p50']:.2f} s,"
          f" p95 {figures['browser_p95']:.2f} s")
    print(f"server CPU {figures['cpu_seconds']:.0f} s; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"server RSS: cold {figures['rss_cold']:.0f} MB, warm baseline {figures['rss_baseline']:.0f} MB, peak {figures['rss_peak']:.0f} MB, "
          f"after close {' / '.join(f'{mb:.0f}' for mb in figures['rss_after'])} MB "
          f"({figures['sessions_destroyed']}/{figures['sessions_launched']} sessions destroyed)")
    print(f"errors: {len(figures['errors'])}")
    for error in figures["errors"][:20]:
        print(f"  {error}")


if __name__ == "__main__":
    main()
