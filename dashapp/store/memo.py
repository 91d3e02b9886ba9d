"""Bounded in-process memory: an LRU by cost, and per-key locks that do not pile up."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any


class LruDict:
    """A small thread-safe LRU mapping bounded by total ``cost``."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._cost = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    @property
    def cost(self) -> int:
        with self._lock:
            return self._cost

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def put(self, key: Hashable, value: Any, cost: int) -> None:
        if cost > self.max_cost:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._cost -= old[1]
            self._items[key] = (value, cost)
            self._cost += cost
            while self._cost > self.max_cost:
                _, (_, dropped) = self._items.popitem(last=False)
                self._cost -= dropped

    def discard(self, key: Hashable) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._cost -= old[1]




class KeyedLocks:
    """One lock per key while someone holds or waits for it; the entry is
    dropped when the last holder leaves, so the table stays as small as the
    work in flight instead of growing with every (image, model) ever seen."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            if lock is None:
                lock = threading.Lock()
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                _, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)
