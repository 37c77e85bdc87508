"""Give memory back to the OS once browser sessions end (``workbench serve``).

Where a closed crowd's memory went (benchmarks/serving/load_sessions.py --census, 50 sessions): no live
object of a closed session is left, but

* pymalloc, Python's small-object allocator, keeps 1 MiB arenas until *every* object in them is freed: a
  few long-lived objects created during the crowd pin hundreds of mostly empty arenas (315 MB free inside
  479 MB of arenas after 50 sessions) — so ``workbench serve`` runs with ``PYTHONMALLOC=malloc``
  (:func:`use_system_allocator`), whose free pages ``malloc_trim`` can return one by one (pyarrow's
  mimalloc pool kept 15 MB more: it uses malloc too);
* the first session to open the Tuning tab imported Optuna, which keeps ImportErrors (their traceback, hence
  that session's frames and pages) forever — so the server imports it before any session
  (:func:`import_outside_sessions`);
* a first collection frees the sessions' Documents, and weak-reference callbacks run by it release more
  cycles (HoloViews option trees, widgets) that only a further collection finds — so the release collects
  until nothing is left.

One release runs shortly after a burst of sessions is destroyed, off the event loop's thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
DELAY_SECONDS = 2.0  # sessions are discarded in batches: one release per batch
MAX_COLLECTIONS = 4  # a collection's weakref callbacks can free cycles only the next one finds
ALLOCATOR = "malloc"
# pyarrow's default pool (mimalloc) kept ~15 MB after a 50-session crowd that glibc's trim returns
SYSTEM_ALLOCATORS = {"ARROW_DEFAULT_MEMORY_POOL": "system"}
PRELOADED = ("optuna",)  # see import_outside_sessions


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


def release_memory() -> int:
    """Collect reference cycles until none is left, then return free heap pages to the OS; the number of
    objects collected."""
    collected = 0
    for _ in range(MAX_COLLECTIONS):
        found = gc.collect()
        collected += found
        if not found:
            break
    if _TRIM is not None:
        _TRIM(0)
    return collected


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
    collected = release_memory()
    log.info("Released the memory of closed sessions (%d objects collected).", collected)


def import_outside_sessions(modules: tuple[str, ...] = PRELOADED) -> None:
    """Import, before any session exists, the libraries whose import keeps an exception with its traceback
    (Optuna's ``try_import`` keeps the ImportError of each missing optional dependency): imported lazily by
    a session's first Tuning tab, those frames (and their ``f_back`` chain) would pin that session's whole
    page for the life of the server. Missing libraries are skipped: the page reports them itself."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            log.debug("%s is not installed: not preloaded", name)


def use_system_allocator(environ: dict[str, str] | None = None) -> None:
    """Restart this process (same pid, same command line) with ``PYTHONMALLOC=malloc`` unless it runs so,
    and pyarrow on the system allocator too (unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise).

    Only where ``malloc_trim`` exists (glibc) and the command line can be read back (Linux). An explicit
    ``PYTHONMALLOC`` (e.g. ``pymalloc``) is respected: that is how an operator opts out. Returns only
    when no restart is needed or possible.
    """
    environ = os.environ if environ is None else environ
    if environ.get("PYTHONMALLOC") or _TRIM is None:
        return
    argv = restart_command()
    if argv is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, {**SYSTEM_ALLOCATORS, **environ, "PYTHONMALLOC": ALLOCATOR})


def restart_command() -> list[str] | None:
    """This process's exact command line (``/proc/self/cmdline``), or None when it cannot be read."""
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
    except OSError:
        return None
    argv = [part.decode(errors="surrogateescape") for part in raw.split(b"\0")[:-1]]
    return argv or None
