"""Per-session FIFO queues served round-robin. Pure data structure: no threads, no I/O.

Every pool puts its requests here. A session that submits ten requests while
another submits one does not make the other wait behind all ten: ``pop`` takes
one request from each waiting session in turn, oldest session first, and each
session's own requests leave in the order they came.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from voxswitch.errors import PoolOverloadedError

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Round-robin over sessions, FIFO within a session, bounded in total."""

    def __init__(self, depth: int, *, name: str = "pool"):
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self._depth = depth
        self._name = name
        # session -> its waiting items; order of keys is the round-robin order.
        self._sessions: OrderedDict[Hashable, deque[T]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def depth(self) -> int:
        return self._depth

    def sessions(self) -> int:
        return len(self._sessions)

    def push(self, session: Hashable, item: T) -> None:
        """Queue ``item`` for ``session``; refuse when the pool is saturated."""
        if self._size >= self._depth:
            raise PoolOverloadedError(
                f"{self._name} pool is saturated ({self._size} requests waiting); try again later"
            )
        queue = self._sessions.get(session)
        if queue is None:
            queue = self._sessions[session] = deque()
        queue.append(item)
        self._size += 1

    def pop(self, max_items: int = 1) -> list[tuple[Hashable, T]]:
        """Up to ``max_items`` items, one per session in turn (then again if room remains)."""
        out: list[tuple[Hashable, T]] = []
        while self._sessions and len(out) < max_items:
            session, queue = next(iter(self._sessions.items()))
            out.append((session, queue.popleft()))
            self._size -= 1
            if queue:
                # The session keeps its place in the rotation, but behind everyone else.
                self._sessions.move_to_end(session)
            else:
                del self._sessions[session]
        return out

    def remove(self, session: Hashable, item: T) -> bool:
        """Take one specific waiting item out (its caller gave up). False if not waiting."""
        queue = self._sessions.get(session)
        if queue is None:
            return False
        try:
            queue.remove(item)
        except ValueError:
            return False
        self._size -= 1
        if not queue:
            del self._sessions[session]
        return True

    def drop_session(self, session: Hashable) -> list[T]:
        """Remove and return everything ``session`` has waiting."""
        queue = self._sessions.pop(session, None)
        if not queue:
            return []
        self._size -= len(queue)
        return list(queue)

    def drain(self) -> list[T]:
        """Remove and return everything (pool shutdown)."""
        items = [item for queue in self._sessions.values() for item in queue]
        self._sessions.clear()
        self._size = 0
        return items
