"""A file appended to by a thread, so that writing overlaps the work that produces the bytes.

Copying a gigabyte into the page cache costs seconds on a busy or virtual machine. A run
writes its request bodies (compressed, on this thread: see ``batchsql.bodies``) and then its
request files (about 1.4 GB for a million rows); with the copies on a thread of their own
(``os.pwrite`` and zstd release the GIL), they overlap the rendering and encoding of the next
slice instead of adding to them.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable
from typing import BinaryIO

#: Bytes waiting for the thread at most: bounds the memory the queued slices hold.
QUEUED_BYTES = 64 * 1024 * 1024


class Appender:
    """Appends to ``file`` (opened for writing, unbuffered or flushed) from a thread.

    ``write`` queues the bytes and returns (waiting only while more than ``limit`` bytes are
    queued); ``flush`` waits until they are in the file and raises the first write error, as
    do later writes. The caller must keep the bytes unchanged until then (a memoryview keeps
    an Arrow buffer alive). Writes are positional: the caller may read the file between them.

    With ``encode`` (compression, say), the thread writes ``encode(data)`` in place of each
    write's bytes, and ``extents`` says where each one lies in the file once it is flushed.
    """

    def __init__(self, file: BinaryIO, *, limit: int = QUEUED_BYTES,
                 encode: Callable[[memoryview], bytes | memoryview] | None = None) -> None:
        self.file = file
        self.limit = limit
        self.encode = encode
        #: Bytes appended so far (queued ones included): without ``encode``, the next
        #: write's offset.
        self.size = file.seek(0, os.SEEK_END)
        #: (offset, length) in the file of each write's encoded bytes, in order (``encode``).
        self.extents: list[tuple[int, int]] = []
        self._end = self.size  # where the thread writes next
        self._queue: collections.deque[memoryview] = collections.deque()
        self._queued = 0
        self._writing = False
        self._closing = False
        self._failed: OSError | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def write(self, data: bytes | memoryview) -> int:
        """Queue ``data`` to be appended; returns its length."""
        view = memoryview(data).cast("B")
        n = len(view)
        if not n:
            return 0
        with self._changed:
            self._raise()
            while self._queued > self.limit and self._failed is None:
                self._changed.wait()
            self._raise()
            self._queue.append(view)
            self._queued += n
            self.size += n
            self._changed.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="batchsql-appender")
            self._thread.start()
        return n

    def flush(self) -> None:
        """Wait until every queued byte is in the file."""
        with self._changed:
            while (self._queue or self._writing) and self._failed is None:
                self._changed.wait()
            self._raise()

    def close(self) -> None:
        """Flush, stop the thread and close the file."""
        try:
            self.flush()
        finally:
            with self._changed:
                self._closing = True
                self._changed.notify_all()
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            self.file.close()

    def _raise(self) -> None:
        if self._failed is not None:
            raise self._failed

    def _run(self) -> None:
        fd = self.file.fileno()
        while True:
            with self._changed:
                while not self._queue and not self._closing:
                    self._changed.wait()
                if not self._queue:
                    return
                view = self._queue.popleft()
                self._writing = True
            n = len(view)
            try:
                if self.encode is not None:
                    view = memoryview(self.encode(view)).cast("B")
                    self.extents.append((self._end, len(view)))
                offset = self._end
                while view:  # a positional write may write less than asked
                    done = os.pwrite(fd, view, offset)
                    view, offset = view[done:], offset + done
                self._end = offset
            except OSError as e:  # disk full, say: raised to the caller by flush or write
                with self._changed:
                    self._failed = e
                    self._queue.clear()
                    self._queued = n
            finally:
                with self._changed:
                    self._writing = False
                    self._queued -= n
                    self._changed.notify_all()
