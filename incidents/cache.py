"""A value kept per process, shared by its threads, and built again when what it was built from changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class StampedCache(Generic[T]):
    """Hold one value with the stamp (any comparable summary of its sources) it was built for.

    ``get(stamp, build)`` returns the value, building it again first when the stamp differs.
    Readers of the database stamp with a cheap query (a count and a latest change, row
    versions), so a change made by another process is seen at the next call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: Hashable | None = None
        self._value: T | None = None

    def get(self, stamp: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if self._value is None or self._stamp != stamp:
                self._value = build()
                self._stamp = stamp
            return self._value

    def clear(self) -> None:
        """Forget the value: the next ``get`` builds it again."""
        with self._lock:
            self._stamp = self._value = None
