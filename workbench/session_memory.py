"""Give memory back to the OS once browser sessions end (``workbench serve``).

A closed session's objects are freed by Python, but glibc keeps the pages: after a crowd leaves, the
server's RSS would stay at its peak. One garbage collection plus ``malloc_trim`` shortly after a burst of
sessions is destroyed brings it back near the baseline (measured by benchmarks/serving/load_sessions.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable

DELAY_SECONDS = 2.0  # sessions are discarded in batches: one release per batch


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where it does not exist (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


_TRIM = _malloc_trim()
_lock = threading.Lock()
_pending = False


def release_memory() -> None:
    """Collect reference cycles and return free heap pages to the OS."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def release_after_session(session_context) -> None:  # noqa: ARG001 - Bokeh checks the parameter's name
    """An ``on_session_destroyed`` hook: schedules one release for the sessions ending now."""
    global _pending
    with _lock:
        if _pending:
            return
        _pending = True
    timer = threading.Timer(DELAY_SECONDS, _release_now)
    timer.daemon = True
    timer.start()


def _release_now() -> None:
    global _pending
    with _lock:
        _pending = False
    release_memory()
