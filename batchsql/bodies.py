"""The request bodies a run rendered, kept in a local file instead of the warehouse.

A body (about 1.4 kB with a typed output's schema) is needed twice: its hash is the row's
fingerprint, computed when the row renders, and the body itself is sent once the pending rows
are known. Writing a million bodies into the warehouse and reading them back cost more than
everything else a run does (and, for a remote warehouse, an upload of every body). So the
stage keeps each row's fingerprint and where its body is: the id of the run that rendered it
(``_spool``) and its row number in that run's file (``_seq``). The file lives as long as the
run (an anonymous temporary file: a crash leaves nothing behind), so a row rendered by an
earlier run is rendered again before it is sent (see ``Runner.render_stage``).

The file holds the bodies' UTF-8 bytes end to end; their offsets stay in memory (8 bytes a row).
A thread writes them (see ``batchsql.appender``), while the next slice renders.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from batchsql.appender import Appender
from batchsql.errors import BatchsqlError

#: Bodies that lie closer than this in the file are read with one read call.
_GAP = 64 * 1024


class BodyFile:
    """An append-only temporary file of request bodies, read back by row number."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # Deleted on close, and by the system if the process dies.
        self._file = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
            dir=folder, prefix="batchsql-bodies-", buffering=0)
        #: Byte offset of each row's body, and one past the last, as appended slices.
        self._ends: list[np.ndarray] = [np.zeros(1, np.int64)]
        self._appender = Appender(self._file)

    @property
    def rows(self) -> int:
        """How many rows (NULL bodies included) the file holds."""
        return sum(len(e) for e in self._ends) - 1

    def append(self, bodies: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Write a slice's bodies; returns each one's row number (NULL for a NULL body)."""
        if isinstance(bodies, pa.ChunkedArray):
            bodies = bodies.combine_chunks()
        bodies = bodies.cast(pa.large_string())  # 64-bit offsets; the bytes are not copied
        first, n = self.rows, len(bodies)
        offsets = np.frombuffer(bodies.buffers()[1], np.int64, n + 1, bodies.offset * 8)
        start, stop = int(offsets[0]), int(offsets[-1])
        base = self._appender.size
        if stop > start:
            data = memoryview(bodies.buffers()[2])[start:stop]  # type: ignore[arg-type]
            self._io(self._appender.write, data)  # the view keeps the Arrow buffer alive
        self._ends.append(offsets[1:] - start + base)
        seqs = pa.array(np.arange(first, first + n, dtype=np.int64))
        return seqs if bodies.null_count == 0 else pc.if_else(bodies.is_valid(), seqs, None)

    def read(self, seqs: pa.Array | pa.ChunkedArray | np.ndarray) -> pa.Array:
        """The bodies of these row numbers, in their order (a string array)."""
        want = np.asarray(seqs, dtype=np.int64)
        if len(want) == 0:
            return pa.array([], pa.string())
        self._io(self._appender.flush)
        offsets = self._offsets()
        if want.min() < 0 or want.max() >= len(offsets) - 1:
            raise IndexError("a row number outside the body file")
        order = np.argsort(want, kind="stable")
        ordered = want[order]
        # Runs of rows whose bodies lie close together are read with one call each: rows
        # that come in file order (the usual case) are one read per slice.
        gaps = offsets[ordered[1:]] - offsets[ordered[:-1] + 1]
        breaks = np.nonzero(gaps > _GAP)[0] + 1
        pieces = []
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(ordered)], strict=True):
            first, last = int(ordered[lo]), int(ordered[hi - 1])
            base = int(offsets[first])
            self._file.seek(base)
            data = self._file.read(int(offsets[last + 1]) - base)
            window = pa.LargeStringArray.from_buffers(
                last - first + 1, pa.py_buffer(offsets[first:last + 2] - base),
                pa.py_buffer(data))
            # Every row of the window, in order (a full run reads whole slices so): no copy.
            whole = last - first + 1 == hi - lo and bool((np.diff(ordered[lo:hi]) == 1).all())
            pieces.append(window if whole else window.take(pa.array(ordered[lo:hi] - first)))
        got = pa.concat_arrays(pieces) if len(pieces) > 1 else pieces[0]
        if not (order[1:] > order[:-1]).all():
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
            got = got.take(pa.array(inverse))
        return got.cast(pa.string())

    def attach(self, batch: pa.RecordBatch, spool: str) -> pa.RecordBatch:
        """Stage rows with their ``_body`` from this file in place of ``_spool`` and ``_seq``.

        Rows that did not render (``_error``) get a NULL body; any other row must have been
        rendered into this file (``spool`` is its run id).
        """
        seq, spools = batch.column("_seq"), batch.column("_spool")
        sendable = batch.column("_error").is_null()
        mine = pc.and_(pc.equal(spools, spool).fill_null(False), seq.is_valid())
        if not pc.all(pc.or_(mine, pc.invert(sendable))).as_py():
            raise BatchsqlError("a pending row's request body was not rendered by this run "
                                "(a batchsql bug): run again to render it")
        rows = pc.and_(mine, sendable)
        bodies: pa.Array
        if pc.all(rows).as_py():
            bodies = self.read(seq)
        else:
            picked = pc.indices_nonzero(rows)
            bodies = pc.replace_with_mask(pa.nulls(batch.num_rows, pa.string()), rows,
                                          self.read(seq.take(picked)))
        names = [n for n in batch.schema.names if n not in ("_spool", "_seq")]
        columns = [batch.column(n) for n in names]
        return pa.RecordBatch.from_arrays([*columns, bodies], names=[*names, "_body"])

    def close(self) -> None:
        """Close the file (which deletes it)."""
        with contextlib.suppress(OSError):  # a failed write was reported, or is moot now
            self._appender.close()

    def _io(self, call: Callable[..., object], *args: object) -> None:
        try:
            call(*args)
        except OSError as e:  # disk full, say
            raise BatchsqlError(f"cannot write request bodies in {self.folder}: {e}") from e

    def _offsets(self) -> np.ndarray:
        if len(self._ends) > 1:
            self._ends = [np.concatenate(self._ends)]
        return self._ends[0]

    def __enter__(self) -> BodyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
