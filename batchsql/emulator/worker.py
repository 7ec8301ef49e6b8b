"""Doing a batch's work as soon as it falls due, instead of in the first read after that.

A batch's status is a function of the clock, and its work (validating, answering) is done once
by whoever reads it first past the moment it falls due (``processing.refresh``). Left to the
reads, a million-line batch is answered inside a client's GET or list request, after the client
started polling. The worker does the same ``refresh`` from a thread of the server at each of a
batch's due moments (by the emulator clock), so the work overlaps whatever the client does
meanwhile (writing and uploading its next file) and a poll usually finds it done. Nothing
observable changes: a read that comes while the work is under way waits for it on the batch's
lock, exactly as when another reader is doing it.

With a ``Refresher`` of several processes, the worker hands each large batch to its pool and goes
on to the next due one, so batches that fall due together are answered side by side.

Only batches created or cancelled through this server are scheduled; any other (a second server
on the same folder, a restart) is done by its first read, as before.
"""

from __future__ import annotations

import heapq
import sys
import threading
import traceback
from typing import Any

from . import processing
from .parallel import Refresher
from .store import Store
from .timeline import Timeline


class Worker:
    """One daemon thread that refreshes batches at their due moments."""

    def __init__(self, store: Store, refresher: Refresher | None = None) -> None:
        self.store = store
        self.refresher = refresher
        self._due: list[tuple[float, str]] = []  # heap of (emulator time, batch id)
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="batchsql-emulator-worker",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch under way in this thread (its files are half-written otherwise),
        then end. The pool's work is the refresher's to finish (``Refresher.close``)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join()

    def schedule(self, rec: dict[str, Any]) -> None:
        """Refresh ``rec`` at each moment its state may need work: validation, end, cancel."""
        tl = Timeline(rec)
        moments = {tl.validated, tl.done, tl.completed}
        if tl.cancelled is not None:
            moments.add(tl.cancelled)
        with self._cond:
            for t in moments:
                heapq.heappush(self._due, (t, rec["id"]))
            self._cond.notify()

    def wake(self) -> None:
        """The clock moved: look at what fell due."""
        with self._cond:
            self._cond.notify()

    def _next(self) -> str | None:
        """The next batch that is due, waiting for it; None when stopping."""
        with self._cond:
            while not self._stopping:
                if self._due:
                    wait = self._due[0][0] - self.store.now()
                    if wait <= 0:
                        return heapq.heappop(self._due)[1]
                    # Another process may move the shared clock: look again now and then.
                    self._cond.wait(min(wait, 1.0))
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while (batch_id := self._next()) is not None:
            try:
                rec = self.store.load_batch(batch_id)
                now = self.store.now()
                if rec is not None and not (self.refresher is not None
                                            and self.refresher.start(rec, now)):
                    processing.refresh(self.store, rec, now)
            except Exception:  # a bug: the read that needs the batch will meet it too
                traceback.print_exc(file=sys.stderr)
