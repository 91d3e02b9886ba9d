"""``cached_property`` without the lock Python 3.11's holds across instances.

``functools.cached_property`` in Python 3.8-3.11 computes under one lock per
property of a class, shared by every instance (gh-87634, removed in 3.12).
Under gunicorn's threads that serialized a worker's requests: while one
request's view computed ``maps`` for a new image (its forward pass, 100 ms
and more under load), every other request reading ``maps`` or ``ranking`` of
any view waited for it. A view belongs to one request and one thread, so this
one caches in the instance's ``__dict__`` as functools' does, with no lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_property(Generic[T]):  # named after the functools descriptor it replaces
    """Computed on first read, then an ordinary attribute of that instance."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        value = self.compute(instance)
        # A non-data descriptor: from now on the instance's own attribute is found first.
        instance.__dict__[self.name] = value
        return value
