"""Items made in a thread, a few ahead of the consumer: I/O and SQL of two steps overlap.

pyarrow, file and socket reads and DuckDB all release the GIL, so the producer's work uses a
second core while the consumer's runs on the first.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")


def read_ahead(items: Iterator[_T], depth: int = 1, *,
               name: str = "batchsql-ahead") -> Generator[_T, None, None]:
    """``items``, made in a thread up to ``depth`` ahead of the consumer.

    An exception in the producer is raised to the consumer where the item would have come.
    Closing the returned generator (or leaving a ``for`` over it early) stops the producer at
    its next item and waits for it.
    """
    out: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                out.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
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
            kind, value = out.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
