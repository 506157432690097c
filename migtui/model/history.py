"""Bounded, time-ordered histories of samples."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    @property
    def at(self) -> float: ...


T = TypeVar("T", bound=Timed)


class History(Generic[T]):
    """The last ``capacity`` items, oldest first, with monotonic timestamps.

    An item older than the newest one is refused: histories are fed from one
    poll loop, so a step back in time is a bug, not data.
    """

    def __init__(self, capacity: int = 3600) -> None:
        if capacity < 1:
            raise ValueError("a history holds at least one item")
        self._items: deque[T] = deque(maxlen=capacity)

    @property
    def capacity(self) -> int:
        return self._items.maxlen or 0

    def append(self, item: T) -> None:
        if self._items and item.at < self._items[-1].at:
            raise ValueError(f"time went backwards: {item.at} after {self._items[-1].at}")
        self._items.append(item)

    def clear(self) -> None:
        self._items.clear()

    @property
    def latest(self) -> T | None:
        return self._items[-1] if self._items else None

    def window(self, seconds: float | None) -> list[T]:
        """Items of the last ``seconds`` before the newest one (all if None)."""
        if seconds is None or not self._items:
            return list(self._items)
        since = self._items[-1].at - seconds
        return [item for item in self._items if item.at >= since]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._items)
