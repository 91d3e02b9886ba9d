"""Derived numbers kept per process, bounded by their real size in bytes.

A warm request should not redo statistics or regions. Keys are short tuples
of names and hashes (never arrays), and hold the weights' identity.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

import numpy as np

from ..store import LruDict

T = TypeVar("T")


def size_of(value: Any, depth: int = 0) -> int:
    """Bytes a value holds, counting arrays by their buffers and walking
    dataclasses, lists and dicts a few levels deep."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + 112
    if depth > 4:
        return sys.getsizeof(value)
    if is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(size_of(getattr(value, f.name), depth + 1) for f in fields(value))
    if isinstance(value, (list, tuple)):
        return sys.getsizeof(value) + sum(size_of(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_of(k, depth + 1) + size_of(v, depth + 1) for k, v in value.items())
    return sys.getsizeof(value)


class Memo:
    def __init__(self, max_bytes: int) -> None:
        self._items = LruDict(max_cost=max_bytes)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        value = self._items.get(key)
        if value is None:
            value = compute()
            self._items.put(key, value, size_of(value))
        return value

    @property
    def bytes(self) -> int:
        return self._items.cost
