"""A dictionary of bounded size for work that repeats within one sync."""

from __future__ import annotations

from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


class BoundedCache(Generic[Key, Value]):
    """A mapping of at most `max_size` entries that keeps recent ones.

    Entries live in two generations of `max_size // 2` entries each.  New
    entries, and old ones read again, go into the young generation.  When
    it is full, it becomes the old generation and the previous old one is
    dropped.  So an entry read at least once per half of the cache's size
    stays, every operation is one or two dictionary accesses, and nothing
    is evicted one key at a time (deleting the oldest keys of a dictionary
    one by one makes each next deletion slower in CPython).
    """

    def __init__(self, max_size: int) -> None:
        if max_size < 2:
            raise ValueError(f"cache max_size must be at least 2, not {max_size}")
        self.max_size = max_size
        self._generation_size = max_size // 2
        self._young: dict[Key, Value] = {}
        self._old: dict[Key, Value] = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def get(self, key: Key) -> Value | None:
        """Return the value stored under `key`, or None."""
        value = self._young.get(key)
        if value is None:
            value = self._old.get(key)
            if value is not None:
                self.put(key, value)
        return value

    def put(self, key: Key, value: Value) -> None:
        """Store a value under `key`.  A stored None would read as a miss."""
        young = self._young
        young[key] = value
        if len(young) >= self._generation_size:
            self._old = young
            self._young = {}

    def clear(self) -> None:
        self._young = {}
        self._old = {}
