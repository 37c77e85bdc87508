"""Bounds of the standalone server: how many sessions it holds, and a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

import panel as pn

log = logging.getLogger(__name__)
DEFAULT_MAX_SESSIONS = 100


class SessionLimiter:
    """Counts open sessions; beyond ``limit`` a new browser tab gets a short "busy" page instead of the
    workbench, so a crowd (or a script opening sessions) cannot exhaust the server's memory."""

    def __init__(self, limit: int = DEFAULT_MAX_SESSIONS) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def admit(self) -> bool:
        """Take a slot for the current session (released when it is destroyed); False when full."""
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
        pn.state.on_session_destroyed(lambda context: self._release())
        return True

    def _release(self) -> None:
        with self._lock:
            self.open = max(self.open - 1, 0)


def busy_page(limit: int) -> pn.viewable.Viewable:
    """What a session beyond the limit sees (no data, no traceback)."""
    return pn.pane.Alert(
        f"**The workbench is busy**: it already serves {limit} open sessions. Close unused tabs or try again "
        "in a minute; an administrator can raise `--max-sessions`.", alert_type="warning", css_classes=["wb-busy"])


def limited(factory: Callable[[], object], limiter: SessionLimiter) -> Callable[[], object]:
    """``factory`` behind ``limiter`` (a plain function: Panel does not call partials)."""

    def new_session() -> object:
        return factory() if limiter.admit() else busy_page(limiter.limit)

    return new_session


def stop_gracefully_on_signals(server) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT stop accepting connections, run the applications'
    unload hooks and end the event loop, so the process exits 0 instead of dying mid-request."""

    def stop() -> None:
        server.stop()
        server.io_loop.stop()

    def on_signal(signum: int, frame) -> None:  # noqa: ARG001 - signal handler signature
        log.warning("Received %s: stopping the workbench server.", signal.Signals(signum).name)
        server.io_loop.asyncio_loop.call_soon_threadsafe(stop)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
