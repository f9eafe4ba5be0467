"""Which free LLM instance a session's next reply runs on. Pure logic, no I/O.

llama.cpp reuses the longest token prefix its KV cache shares with the new
prompt. A voice conversation's next prompt is its previous prompt plus the
reply and one new user line, so on the instance that served the session last
only those few tokens need evaluating; on any other instance the whole history
does (measured on 2 cores, one caller, five-turn conversations: mean time to
first token 0.47 s spread over instances, 0.16 s back on its own). So a reply goes back to its
session's last instance when that one is free, and otherwise to the free
instance used longest ago, which keeps other sessions' caches alive longest.
Every instance's cache also starts with the system prompt (the warm-up), so a
miss still skips that part.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class InstanceLedger:
    """Lends out instance indices ``0..n-1``, one borrower each. Thread-safe."""

    def __init__(self, instances: int):
        if instances < 1:
            raise ValueError("instances must be >= 1")
        self._lock = threading.Lock()
        self._free: list[int] = list(range(instances))  # least recently used first
        # Keyed by instance, so it stays as small as the pool whatever the sessions.
        self._last_session: dict[int, Hashable] = {}

    def take(self, session: Hashable) -> int:
        """An instance for ``session``: its last one if free, else the least recently used.

        Raises ``LookupError`` when every instance is lent out (callers hold at
        most as many as there are instances, so for them this is a bug).
        """
        with self._lock:
            if not self._free:
                raise LookupError("every instance is in use")
            for position, index in enumerate(self._free):
                if self._last_session.get(index) == session:
                    return self._free.pop(position)
            return self._free.pop(0)

    def give_back(self, index: int, session: Hashable) -> None:
        """Return ``index``; its cache now holds ``session``'s conversation."""
        with self._lock:
            if index in self._free:
                raise ValueError(f"instance {index} was not lent out")
            self._last_session[index] = session
            self._free.append(index)
