"""Items made in a thread, a few ahead of the consumer: I/O and SQL of two steps overlap.

pyarrow, file and socket reads and DuckDB all release the GIL, so the producer's work uses a
second core while the consumer's runs on the first.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")


def read_ahead(items: Iterator[_T], depth: int = 1, *, name: str = "batchsql-ahead",
               weight: Callable[[_T], int] | None = None,
               budget: int = 0) -> Generator[_T, None, None]:
    """``items``, made in a thread up to ``depth`` ahead of the consumer.

    With ``weight`` (an item's size in bytes, say), items made ahead also wait while those
    waiting weigh more than ``budget`` in all; one item always goes through.

    An exception in the producer is raised to the consumer where the item would have come.
    Closing the returned generator (or leaving a ``for`` over it early) stops the producer at
    its next item and waits for it.
    """
    out: queue.Queue[tuple[str, Any, int]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    room = threading.Condition()
    waiting = [0]  # the weight of the items in the queue

    def put(kind: str, value: Any, w: int = 0) -> bool:
        with room:
            while waiting[0] and waiting[0] + w > budget and not stop.is_set():
                room.wait(0.05)
            waiting[0] += w
        while not stop.is_set():
            try:
                out.put((kind, value, w), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item, weight(item) if weight is not None else 0):
                    return
            put("done", None)
        except BaseException as e:  # handed to the consumer, raised there
            put("error", e)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value, w = out.get()
            if w:
                with room:
                    waiting[0] -= w
                    room.notify()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
