"""Process-wide state shared by the sources of one store and access scope (issue 9).

Each served session opens its own sources; what they read from the same store under the same access
rules is the same, so it is kept once per process: ``SharedRegistry(factory).get(key)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_SHARED = 64  # stores x access scopes kept (the least recently used dropped first)


class SharedRegistry(Generic[T]):
    """One ``factory()`` object per key (e.g. store URI and access scope), least recently used dropped."""

    def __init__(self, factory: Callable[[], T], limit: int = MAX_SHARED) -> None:
        self._factory, self._limit = factory, limit
        self._items: dict[Hashable, T] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T:
        with self._lock:
            item = self._items.pop(key, None)
            if item is None:
                item = self._factory()
            self._items[key] = item  # most recently used last
            while len(self._items) > self._limit:
                del self._items[next(iter(self._items))]
            return item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
