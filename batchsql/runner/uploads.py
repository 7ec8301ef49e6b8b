"""Uploading request files while the next one is written; creating their batches in order.

An upload is the one long step of submitting (70 MB per 50,000 requests: seconds over a real
network). A thread uploads a chunk's file while the chunk writer encodes the next; every other
step (the intent before the upload, the file id after it, the batch's creation, the counts)
stays in the run's thread, in chunk order, so a crash at any point leaves what
``batchsql.runner.submit`` resumes from: an intent with or without a file, or a batch.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchsql.runner.core import Runner, RunSummary

#: Files uploaded or uploading ahead of the batches created: bounds the spool's disk use.
AHEAD = 2


@dataclass
class _Upload:
    batch: dict[str, Any]
    lines: int
    rows: int
    file_id: Future[str]


class Uploads:
    """The uploads of one submit pass, in chunk order. Use as a context manager: leaving it
    after an error waits for the upload in progress and creates no more batches."""

    def __init__(self, runner: Runner, summary: RunSummary) -> None:
        self.r = runner
        self.summary = summary
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="batchsql-upload")
        self._queue: deque[_Upload] = deque()

    def add(self, batch: dict[str, Any], path: Path, lines: int, rows: int) -> None:
        """Start uploading an intent's file (the intent is recorded); create the batches of
        uploads that are done, and wait for the oldest while too many are ahead."""
        future = self._pool.submit(self.r.provider.upload, path)
        self._queue.append(_Upload(batch, lines, rows, future))
        while self._queue and (len(self._queue) > AHEAD or self._queue[0].file_id.done()):
            self._create(self._queue.popleft())

    def finish(self) -> None:
        """Create the batches of every upload left (waiting for them)."""
        while self._queue:
            self._create(self._queue.popleft())

    def _create(self, upload: _Upload) -> None:
        r, summary = self.r, self.summary
        with r.phases("upload"):
            file_id = upload.file_id.result()  # an upload's error is raised here, in order
            r.heartbeat(force=True)  # stop here, before paying, if another run took it over
            info = r.submitter.send(upload.batch, uploaded=file_id)
        if info is None:
            return
        r.phases.count("upload", upload.lines)
        summary.batches_submitted += 1
        summary.submitted += upload.lines
        r.emit("submitted", {"batch": info.id, "requests": upload.lines, "rows": upload.rows})

    def __enter__(self) -> Uploads:
        return self

    def __exit__(self, *exc: object) -> None:
        # After an error, uploads not started are dropped and the one in progress is waited
        # for: their intents are resumed by the next run (found by file name, or sent again).
        self._pool.shutdown(wait=True, cancel_futures=True)
