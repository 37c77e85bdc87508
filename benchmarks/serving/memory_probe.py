"""Memory census of a running `workbench serve` process, for the load test and the session-memory test.

Installed by the load test's launcher (never by `workbench serve` itself): on SIGUSR1 the server writes
one JSON census to ``$WORKBENCH_MEMORY_PROBE``:

* ``objects``: live objects of the session-scoped types (Bokeh Documents, workbench pages, Panel
  viewables, Bokeh models, DataFrames, param watchers), counted through the garbage collector;
* ``panel_state``: Panel's per-session registries (``pn.state._views``, ``_locations``, ``_curdoc``...);
* ``heap``: Python's allocated blocks and glibc's ``mallinfo2`` (heap in use vs free but kept);
* ``garbage_types``: what the census's own collection freed (garbage nobody had collected yet);
* ``page_holders``: for up to two live workbench pages, the chain of referrers keeping each alive;
* ``top_types``: the most frequent gc-tracked types, and with ``WORKBENCH_TRACEMALLOC=N`` the top
  allocation sites (grouped by file:line) — compare a census before and after a crowd.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

SESSION_TYPES = {  # label → (module prefix, class name or None for "any class of that module prefix")
    "documents": ("bokeh.document.document", "Document"),
    "session_contexts": ("bokeh.server.contexts", "BokehSessionContext"),
    "server_sessions": ("bokeh.server.session", "ServerSession"),
    "workbench_pages": ("workbench.apps", None),
    "workbench_objects": ("workbench", None),
    "panel_objects": ("panel", None),
    "bokeh_models": ("bokeh.models", None),
    "holoviews_objects": ("holoviews", None),
    "dataframes": ("pandas.core.frame", "DataFrame"),
}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _mallinfo() -> dict[str, float]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = libc.mallinfo2
    except (OSError, AttributeError):
        return {}
    function.restype = _MallInfo2
    info = function()
    mb = 1024 * 1024
    return {"malloc_heap_mb": (info.arena + info.hblkhd) / mb, "malloc_in_use_mb": (info.uordblks + info.hblkhd) / mb,
            "malloc_free_kept_mb": info.fordblks / mb}


def _classify(obj: object) -> list[str]:
    cls = type(obj)
    module = cls.__dict__.get("__module__")
    if not isinstance(module, str):
        return []
    labels = []
    for label, (prefix, name) in SESSION_TYPES.items():
        if (module == prefix or module.startswith(prefix + ".")) and (name is None or cls.__name__ == name):
            if label == "workbench_pages" and not hasattr(obj, "_build"):
                continue
            labels.append(label)
    return labels


def census(top: int = 25) -> dict:
    """Counts of live session-scoped objects, Panel's registries and the heap, after a full collection."""
    rss_before = _rss_mb()
    gc.set_debug(gc.DEBUG_SAVEALL)  # see what the collection frees: garbage nobody collected yet
    try:
        collected = gc.collect()
        garbage = Counter(f"{type(obj).__module__}.{type(obj).__qualname__}" for obj in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    gc.collect()  # frees what DEBUG_SAVEALL kept
    rss_collected = _rss_mb()
    counts: Counter[str] = Counter()
    types: Counter[str] = Counter()
    watchers = 0
    for obj in gc.get_objects():
        cls = type(obj)
        types[f"{cls.__dict__.get('__module__')}.{cls.__qualname__}"] += 1
        for label in _classify(obj):
            counts[label] += 1
        if cls.__name__ == "Watcher" and str(cls.__dict__.get("__module__")).startswith("param"):
            watchers += 1
    counts["param_watchers"] = watchers
    pages = [obj for obj in gc.get_objects() if "workbench_pages" in _classify(obj)]
    result = {
        "objects": dict(counts), "garbage_types": garbage.most_common(top), "panel_state": _panel_state(),
        "top_types": types.most_common(top), "page_holders": [holder_path(page, (pages,)) for page in pages[:2]],
        "heap": {"python_blocks": sys.getallocatedblocks(), **_mallinfo(), **_arenas(), **_pymalloc(),
                 **_arrow_pool(), **_mappings(), "rss_mb": rss_before, "gc_collected": collected,
                 "rss_after_collect_mb": rss_collected},
    }
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        result["tracemalloc_mb"] = sum(stat.size for stat in snapshot.statistics("filename")) / 2**20
        result["tracemalloc_top"] = [(str(stat.traceback), stat.size / 2**20, stat.count)
                                     for stat in snapshot.statistics("lineno")[:top]]
        result["tracemalloc_files"] = [(str(stat.traceback), stat.size / 2**20, stat.count)
                                       for stat in snapshot.statistics("filename")[:top]]
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)
        result["heap"]["rss_after_trim_mb"] = _rss_mb()
    return result


def holder_path(target: object, exclude: tuple = (), limit: int = 300) -> list[str]:
    """What keeps ``target`` alive: the shortest chain of referrers from a module, class or frame (then what
    keeps that frame). Each step scans every object: ``limit`` bounds the search."""
    import types
    from collections import deque

    roots = {id(vars(module)): name for name, module in list(sys.modules.items()) if module is not None}
    objects: dict[int, object] = {id(target): target}
    child: dict[int, int | None] = {id(target): None}
    queue = deque([id(target)])
    skip = {id(objects), id(child), id(queue), *map(id, exclude)}
    while queue and len(objects) < limit:
        current = queue.popleft()
        referrers = gc.get_referrers(objects[current])
        skip.add(id(referrers))
        for referrer in referrers:
            if id(referrer) in objects or id(referrer) in skip:
                continue
            if _own(referrer):
                continue
            objects[id(referrer)], child[id(referrer)] = referrer, current
            if id(referrer) in roots or isinstance(referrer, (type, types.FrameType)):
                path, key = [], id(referrer)
                while key is not None:
                    obj = objects[key]
                    label = roots.get(key) or f"{type(obj).__module__}.{type(obj).__qualname__}"
                    if isinstance(obj, dict) and child[key] is not None:
                        label += str([str(k)[:40] for k, v in obj.items() if id(v) == child[key]][:1])
                    elif isinstance(obj, types.FrameType):
                        label += f"({obj.f_code.co_filename}:{obj.f_lineno} {obj.f_code.co_name})"
                    path.append(label)
                    key = child[key]
                return _frame_holders(referrer, skip) + path if isinstance(referrer, types.FrameType) else path
            queue.append(id(referrer))
    return ["(no root found)"]


def _frame_holders(frame: object, skip: set[int], hops: int = 300) -> list[str]:
    """A few referrers up from a frame that finished running (kept by a traceback, an exception...)."""
    chain: list[str] = []
    current, mine = frame, set(skip)
    for _ in range(hops):
        referrers = gc.get_referrers(current)
        mine.add(id(referrers))
        candidates = [ref for ref in referrers if id(ref) not in mine and not _own(ref)]
        mine.add(id(candidates))
        del referrers
        if not candidates:
            break
        current = candidates[0]
        mine.add(id(current))
        describe = getattr(current, "f_code", None)
        label = f"{type(current).__module__}.{type(current).__qualname__}"
        chain.insert(0, f"{label}({describe.co_filename}:{current.f_lineno})" if describe else label)
    return chain


def _own(obj: object) -> bool:
    """This module's frames and the census's lists of every object."""
    code = getattr(obj, "f_code", None)
    return (code is not None and code.co_filename == __file__) or (isinstance(obj, list) and len(obj) > 100_000)


def _mappings() -> dict[str, float]:
    """Resident MB by kind of mapping (/proc/self/smaps): the main heap, anonymous maps (thread arenas,
    other allocators, stacks), files (code, shared libraries)."""
    sizes: Counter[str] = Counter()
    kind = "anonymous"
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            path = fields[5] if len(fields) > 5 else ""
            kind = "heap" if path == "[heap]" else "anonymous" if not path or path.startswith("[") else "files"
        elif fields and fields[0] == "Rss:":
            sizes[kind] += int(fields[1])
    return {f"rss_{name}_mb": kb / 1024 for name, kb in sizes.items()}


def _arrow_pool() -> dict[str, float]:
    """pyarrow's own memory pool (jemalloc/mimalloc keep freed memory), when pyarrow is loaded."""
    if "pyarrow" not in sys.modules:
        return {}
    pool = sys.modules["pyarrow"].default_memory_pool()
    return {"arrow_pool": pool.backend_name, "arrow_allocated_mb": pool.bytes_allocated() / 2**20,
            "arrow_peak_mb": pool.max_memory() / 2**20}


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def _arenas() -> dict[str, float]:
    """glibc's totals over every malloc arena (threads get their own), from ``malloc_info``."""
    import re
    import tempfile

    try:
        libc = _libc()
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    except (OSError, AttributeError):
        return {}
    with tempfile.NamedTemporaryFile(suffix=".xml") as out:
        handle = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, handle)
        libc.fclose(handle)
        xml = Path(out.name).read_text()
    heaps = xml.count("<heap nr=")
    tail = xml[xml.rfind("</heap>"):]
    system = re.search(r'<system type="current" size="(\d+)"', tail)
    free = re.findall(r'<total type="(?:fast|rest)" count="\d+" size="(\d+)"', tail)
    mmap = re.search(r'<total type="mmap" count="\d+" size="(\d+)"', tail)
    mb = 2**20
    return {"malloc_arenas": heaps, "malloc_all_arenas_mb": int(system.group(1)) / mb if system else float("nan"),
            "malloc_all_free_mb": sum(map(int, free)) / mb, "malloc_mmap_mb": int(mmap.group(1)) / mb if mmap else 0.0}


def _pymalloc() -> dict[str, float]:
    """pymalloc's arenas (1 MiB each, mmap'ed) and how much of them is free, from ``_debugmallocstats``."""
    import re
    import tempfile

    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        try:
            sys.stderr.flush()
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")

    def number(label: str) -> float:
        match = re.search(re.escape(label) + r"\s*=\s*([\d,]+)", text)
        return int(match.group(1).replace(",", "")) if match else float("nan")

    unused = re.search(r"unused pools \* \d+ bytes\s*=\s*([\d,]+)", text)
    mb = 2**20
    return {"pymalloc_arenas_mb": number("# arenas allocated current"),  # 1 MiB each
            "pymalloc_used_mb": number("# bytes in allocated blocks") / mb,
            "pymalloc_free_in_arenas_mb": (number("# bytes in available blocks")
                                           + (int(unused.group(1).replace(",", "")) if unused else 0)) / mb}


def _panel_state() -> dict[str, int]:
    if "panel" not in sys.modules:
        return {}
    state = sys.modules["panel"].state
    sizes = {}
    for name in ("_views", "_locations", "_curdoc", "_periodic", "_onload", "_on_session_destroyed", "_templates",
                 "_handles", "_indicators", "_locks", "_ioloop", "_memoized", "_cache_locks", "_session_key_funcs",
                 "_loaded", "_busy_counter", "_stylesheets", "_notifications", "_scheduled", "_browsers",
                 "_reload_watchers", "_hold", "_thread_pool_executor", "_extensions_", "_component_resources"):
        value = getattr(state, name, None)
        try:
            sizes[name] = len(value)
        except TypeError:
            continue
    sizes["cache"] = len(state.cache)
    return sizes


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def install(path: str) -> None:
    """On SIGUSR1, write a census to ``path`` (renamed into place: readers never see half a file)."""
    frames = int(os.environ.get("WORKBENCH_TRACEMALLOC", "0") or 0)
    if frames:
        tracemalloc.start(frames)

    def on_signal(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        try:
            data = census()
        except Exception as error:  # noqa: BLE001 - the reader reports it instead of waiting
            data = {"error": f"{type(error).__name__}: {error}"}
        partial = Path(path + ".part")
        partial.write_text(json.dumps(data))
        partial.replace(path)

    signal.signal(signal.SIGUSR1, on_signal)
