"""Memory of closed sessions: every cycle collected (also those freed by a collection's weakref callbacks),
and `workbench serve`'s switch to the system allocator, whose free pages malloc_trim returns to the OS."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

from workbench.session_memory import release_memory, restart_command


class Node:
    """An object in a reference cycle (only the garbage collector frees it)."""

    def __init__(self) -> None:
        self.me = self


def cycle_behind_a_weak_key() -> tuple[weakref.WeakKeyDictionary, weakref.ref]:
    """A cyclic value kept by a WeakKeyDictionary whose key is cyclic garbage: the first collection frees the
    key, and its weakref callback drops the value, which only a further collection can free (the shape of
    Panel's per-document registries and HoloViews' option trees after a session ends)."""
    registry: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    key, value = Node(), Node()
    registry[key] = value
    return registry, weakref.ref(value)


def test_one_collection_leaves_cycles_freed_by_weakref_callbacks() -> None:
    registry, value = cycle_behind_a_weak_key()
    gc.collect()
    assert len(registry) == 0  # the key is gone ...
    assert value() is not None  # ... but its value waits for another collection: one gc.collect() is not enough
    gc.collect()
    assert value() is None


def test_release_memory_collects_until_nothing_is_left() -> None:
    registry, value = cycle_behind_a_weak_key()
    collected = release_memory()
    assert len(registry) == 0
    assert value() is None
    assert collected >= 2  # the key and the value, in two collections


def test_restart_command_is_this_process_command_line() -> None:
    command = restart_command()
    assert command is not None
    assert command[1:] == sys.orig_argv[1:]


def run_serve_startup(environment: dict[str, str]) -> list[str]:
    """A process calling use_system_allocator() the way `workbench serve` does: pid/allocator before and after."""
    show = "print(os.getpid(), os.environ.get('PYTHONMALLOC'), sys.getallocatedblocks() > 0, pool(), flush=True)"
    code = ("import os, sys; pool = lambda: __import__('pyarrow').default_memory_pool().backend_name; "
            f"{show}; from workbench.session_memory import use_system_allocator; use_system_allocator(); {show}")
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONMALLOC", "ARROW_DEFAULT_MEMORY_POOL")} | environment
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                               check=True)
    return completed.stdout.splitlines()


def test_serve_restarts_itself_on_the_system_allocator() -> None:
    first, restarted, final = run_serve_startup({})
    pid = first.split()[0]
    assert first == f"{pid} None True mimalloc"  # started on pymalloc (Python's small-object allocator)
    assert restarted == f"{pid} malloc False system"  # the same process, same command, now on malloc ...
    assert final == f"{pid} malloc False system"  # ... which does not restart again


def test_an_explicit_allocator_choice_is_kept() -> None:
    lines = run_serve_startup({"PYTHONMALLOC": "pymalloc"})
    pid = lines[0].split()[0]
    assert lines == [f"{pid} pymalloc True mimalloc", f"{pid} pymalloc True mimalloc"]  # no restart: opted out
