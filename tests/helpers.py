"""Small helpers shared by the tests."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from pathlib import Path


def snapshot(path: Path, exclude: tuple[str, ...] = (".workbench-cache",)) -> dict[str, str]:
    """{relative path: sha256} of every file below ``path`` (or of ``path`` itself): proves stores unchanged.

    Top-level folders named in ``exclude`` (the workbench's own cache) are left out.
    """
    path = Path(path)
    base = path.parent if path.is_file() else path
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*")
        if p.is_file() and not p.is_symlink() and p.relative_to(base).parts[0] not in exclude
    )
    return {str(f.relative_to(base)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something listens on 127.0.0.1:port."""
    wait_until(lambda: _port_open(port), timeout=timeout, what=f"port {port} to open")


def wait_until(condition: Callable[[], object], timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy; raise AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
