"""Python's cyclic garbage collector tuned for ``workbench serve`` (issue 9: latency under a burst).

Building a session allocates hundreds of thousands of container objects (Panel, Bokeh, param). With
CPython's default thresholds (700, 10, 10) a burst of 30 sessions triggered ~4,000 young collections
and 17 full ones, each full collection walking every live object of every open session: a quarter
of the server's CPU. Collecting the young generation every 10,000 allocations instead cuts the
collector's share from ~10 s to ~2.5 s of CPU for such a burst; garbage is still collected (and the
server collects fully once sessions close: ``session_memory.py``).
"""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (10_000, 20, 10)


def tune_for_serving() -> tuple[int, int, int]:
    """Set the collector's thresholds for a serving process; returns the previous ones."""
    previous = gc.get_threshold()
    gc.set_threshold(*SERVING_THRESHOLDS)
    return previous
