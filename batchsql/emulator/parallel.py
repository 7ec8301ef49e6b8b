"""Doing due batches' work on several processes at once.

``processing.refresh`` answers a batch in the calling thread, and Python threads share one core
for this work. A ``Refresher`` sends the refresh of each large batch to a pool of worker
processes instead, so that as many batches as there are processes are answered at once (the
benchmark's twenty 50,000-line batches, all due at the same moment).

Nothing else changes: a worker process runs the same ``processing.refresh`` on the same state
folder, under the same per-batch lock (a file lock, so it holds between processes) and with the
``now`` the server read, so its files are those the server would have written. A worker that
dies leaves no half-written file (files are written in tmp/ and renamed into place; at worst a
finished output file that no batch names) and holds no lock (the kernel drops it); the server
then does that batch's work itself, and from then on all of it.

The processes are started with multiprocessing's ``spawn``, which imports the program's
``__main__`` in each of them: a script that starts the server must keep its work under
``if __name__ == "__main__":``, as for any use of multiprocessing. (``batchsql``, ``python -m``
and pytest do.)

Small batches stay in the calling thread (starting the processes costs about half a second),
and so do batches with ``fail_times``: their shared per-request failure counts make the
outcome depend on which batch runs first, so they keep the order of the serial code.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from . import processing
from .store import Store
from .timeline import needs_work

Record = dict[str, Any]

# Batches whose input is smaller are answered in the calling thread (~3,000 lines of chat).
MIN_POOL_BYTES = 4 * 1024 * 1024


class Refresher:
    """``processing.refresh`` for one batch or many, the large ones on up to ``processes``
    worker processes (1: all in the calling thread, as the serial code does)."""

    def __init__(self, store: Store, processes: int = 1,
                 min_bytes: int = MIN_POOL_BYTES) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.store, self.processes, self.min_bytes = store, processes, min_bytes
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        # batch id -> its refresh in the pool, and that pool
        self._running: dict[str, tuple[Future[None], ProcessPoolExecutor]] = {}
        self._warming: list[Future[None]] = []

    def start(self, rec: Record, now: float) -> bool:
        """Begin ``rec``'s due work in the pool and return at once; False when it is not for
        the pool (nothing due, a small batch, one process), so the caller does it."""
        if self.processes < 2 or not needs_work(rec, now) or not self._for_pool(rec):
            return False
        with self._lock:
            if self._closed:
                return False
            running = self._running.get(rec["id"])
            if running is not None:
                return True  # its refresh may have an earlier now: refresh() finishes it
            pool = self._pool or self._new_pool()
            try:
                future = pool.submit(_refresh_in_worker, str(self.store.root), rec["id"], now)
            except RuntimeError:  # broken (a worker died): _finished reports it
                return False
            self._running[rec["id"]] = future, pool
        future.add_done_callback(lambda f: self._finished(rec["id"], f, pool))
        return True

    def warm(self) -> None:
        """Start the worker processes now, with nothing to do yet: a batch input of at least
        ``min_bytes`` was uploaded, and the batch made of it would otherwise wait for their
        interpreters to start (half a second) before its work begins."""
        if self.processes < 2:
            return
        with self._lock:
            if self._closed or self._pool is not None:
                return
            pool = self._new_pool()
            # One task per process: the pool starts a process per task while none is idle.
            futures = self._warming = [pool.submit(_started) for _ in range(self.processes)]
        for future in futures:  # a worker that dies starting: no pool from then on
            future.add_done_callback(lambda f: self._check_pool(f, pool))

    @property
    def ready(self) -> bool:
        """Whether the worker pool has started and the processes ``warm`` started are up (True
        with one process: there is no pool to wait for)."""
        if self.processes < 2:
            return True
        with self._lock:
            started, warming = self._pool is not None, list(self._warming)
        return started and all(f.done() for f in warming)

    def _new_pool(self) -> ProcessPoolExecutor:
        """The pool, made (with ``_lock`` held)."""
        # spawn, not fork: the server has threads (and their locks) to fork mid-use.
        self._pool = ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_interrupts)
        return self._pool

    def refresh(self, rec: Record, now: float) -> Record:
        """``processing.refresh(store, rec, now)``: waits for the pool's work on ``rec`` if any,
        then does in this thread whatever is still due (nothing, when the pool did it; all of
        it, when the worker died or the pool was closed before it began)."""
        with self._lock:
            running = self._running.get(rec["id"])
        if running is not None:
            future, pool = running
            concurrent.futures.wait([future])
            self._check_pool(future, pool)  # before its callback, maybe: go on without it now
            rec = self.store.load_batch(rec["id"]) or rec
        return processing.refresh(self.store, rec, now)

    def refresh_all(self, recs: list[Record], now: float) -> list[Record]:
        """``refresh`` of every record (same order), the due large ones side by side."""
        for rec in recs:
            self.start(rec, now)
        return [self.refresh(rec, now) for rec in recs]

    def close(self) -> None:
        """Wait for the work under way (half-done it would be redone), drop what has not
        begun (the next read does it), and end the worker processes."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _for_pool(self, rec: Record) -> bool:
        if rec["faults"].get("fail_times") is not None:
            return False
        try:
            return self.store.batch_input_path(rec["id"]).stat().st_size >= self.min_bytes
        except OSError:
            return False

    def _finished(self, batch_id: str, future: Future[None], pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._running.get(batch_id, (None,))[0] is future:
                del self._running[batch_id]
        error = None if future.cancelled() else future.exception()
        if error is not None and not isinstance(error, BrokenProcessPool):
            # A bug: the next refresh meets it again in the server, where it reaches the reader.
            traceback.print_exception(error, file=sys.stderr)
        self._check_pool(future, pool)

    def _check_pool(self, future: Future[None], pool: ProcessPoolExecutor) -> None:
        """After ``future`` ended: when it found the pool broken, stop using processes."""
        error = None if future.cancelled() else future.exception()
        if not isinstance(error, BrokenProcessPool):
            return
        with self._lock:
            if self._pool is not pool:
                return  # told already
            # A worker died (killed, or the program's __main__ cannot be imported by a spawned
            # process): go on in the server's threads rather than start processes again.
            self._pool, self.processes = None, 1
        print(f"batchsql emulator: a worker process died ({error}); answering batches in the "
              "server process from now on", file=sys.stderr)
        pool.shutdown(wait=False, cancel_futures=True)


def _ignore_interrupts() -> None:
    """Ctrl-C reaches the whole process group: the server, not its workers, decides (its stop
    lets the batches under way finish, as its worker thread does)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _started() -> None:
    """Nothing: run by each worker process as it starts (``Refresher.warm``), after importing
    this module, and with it all that answering a batch needs."""


_stores: dict[str, Store] = {}  # per worker process: one Store per state folder


def _refresh_in_worker(root: str, batch_id: str, now: float) -> None:
    """In a worker process: bring the batch up to ``now`` (its record is read afresh)."""
    store = _stores.get(root)
    if store is None:
        store = _stores[root] = Store(root)
    rec = store.load_batch(batch_id)
    if rec is not None:
        processing.refresh(store, rec, now)


def default_processes() -> int:
    """One worker process per core."""
    return os.cpu_count() or 1
