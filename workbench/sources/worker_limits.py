"""Run one call in a worker process under a memory limit (imports only the standard library, so light
workers that load nothing but numpy and shap's C extension stay light)."""

from __future__ import annotations

import os


def bounded_call(function, limit_bytes: int | None, parent_pid: int, *args):
    """In a worker process: run ``function(*args)`` allowed to grow the process's address space by at
    most ``limit_bytes`` (``RLIMIT_AS``: an allocation beyond it raises MemoryError in the worker instead
    of the machine running out of memory). The previous limit is restored afterwards; in the calling
    process itself (``parent_pid``, e.g. a one-worker job run in place) nothing is limited."""
    if limit_bytes is None or os.getpid() == parent_pid:
        return function(*args)
    try:
        import resource
    except ImportError:  # not on POSIX: no limit
        return function(*args)
    previous = resource.getrlimit(resource.RLIMIT_AS)
    soft = address_space() + limit_bytes
    if previous[1] != resource.RLIM_INFINITY:
        soft = min(soft, previous[1])
    resource.setrlimit(resource.RLIMIT_AS, (soft, previous[1]))
    try:
        return function(*args)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


def address_space() -> int:
    """This process's virtual memory size in bytes (Linux: /proc/self/statm; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
