"""Wall time per pipeline phase of a run, so users and benchmarks see where time goes.

Phases nest: entering one pauses the one around it, so each second is counted once, in the
innermost phase (uploading a chunk from inside the encoder counts as upload, not encode).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: The phases of a run, in pipeline order.
PHASES = ("select", "render", "encode", "upload", "provider", "download", "reconcile",
          "write")


class Phases:
    """Exclusive wall seconds and row counts per phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.rows: dict[str, int] = dict.fromkeys(PHASES, 0)
        self._stack: list[str] = []
        self._since = time.perf_counter()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Count the time inside the block as ``name`` (minus nested phases)."""
        self._switch()
        self._stack.append(name)
        try:
            yield
        finally:
            self._switch()
            self._stack.pop()

    def iterate(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """``items``, with the time spent producing each (e.g. reading a stream) as ``name``."""
        it = iter(items)
        while True:
            with self(name):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item

    def count(self, name: str, rows: int) -> None:
        """Add rows that went through a phase (for rows/second)."""
        self.rows[name] = self.rows.get(name, 0) + rows

    def _switch(self) -> None:
        now = time.perf_counter()
        if self._stack:
            name = self._stack[-1]
            self.seconds[name] = self.seconds.get(name, 0.0) + now - self._since
        self._since = now

    def own_seconds(self) -> float:
        """batchsql's own time: every phase but waiting for the provider."""
        return sum(s for name, s in self.seconds.items() if name != "provider")
