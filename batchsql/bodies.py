"""The request bodies a run rendered, kept in a local file instead of the warehouse.

A body (about 1.4 kB with a typed output's schema) is needed twice: its hash is the row's
fingerprint, computed when the row renders, and the body itself is sent once the pending rows
are known. Writing a million bodies into the warehouse and reading them back cost more than
everything else a run does (and, for a remote warehouse, an upload of every body). So the
stage keeps each row's fingerprint and where its body is: the id of the run that rendered it
(``_spool``) and its row number in that run's file (``_seq``). The file lives as long as the
run (an anonymous temporary file: a crash leaves nothing behind), so a row rendered by an
earlier run is rendered again before it is sent (see ``Runner.render_stage``).

The file holds each appended slice's bodies (UTF-8, end to end) as one zstd frame; their
offsets stay in memory (8 bytes a row). A thread compresses and writes them (see
``batchsql.appender``) while the next slice renders. A million 1.4 kB bodies of the
benchmark's job take about 50 MB instead of 1.4 GB (its synthetic tickets repeat more than real
ones; the prompt and schema around them compress as well anywhere). On this project's virtual
machine, putting a gigabyte in fresh page cache costs 3 CPU seconds and compressing it at
zstd's lowest level one; and a table of tens of millions of rows no longer needs tens of
gigabytes of local disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from batchsql.appender import Appender
from batchsql.errors import BatchsqlError

#: How bodies are compressed in the file. Most of a body is the same for every row (the
#: system prompt, the output's schema), so the file is a fraction of their size, and a run
#: writes tens of megabytes where it wrote a gigabyte and more.
_CODEC = pa.Codec("zstd", compression_level=1)


class BodyFile:
    """An append-only temporary file of request bodies, read back by row number."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # Deleted on close, and by the system if the process dies.
        self._file = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
            dir=folder, prefix="batchsql-bodies-", buffering=0)
        #: Byte offset of each row's body in the uncompressed bodies, and one past the last,
        #: as appended slices.
        self._ends: list[np.ndarray] = [np.zeros(1, np.int64)]
        #: Each frame's first row, and which of the appender's writes holds it (-1: none, its
        #: bodies are all NULL or empty). A frame is one append's bodies.
        self._firsts: list[int] = []
        self._frame_writes: list[int] = []
        self._writes = 0
        self._cache: tuple[int, pa.Buffer] | None = None
        self._appender = Appender(self._file, encode=_CODEC.compress)

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
        if n == 0:
            return pa.array([], pa.int64())
        offsets = np.frombuffer(bodies.buffers()[1], np.int64, n + 1, bodies.offset * 8)
        start, stop = int(offsets[0]), int(offsets[-1])
        base = self._appender.size  # bytes appended before this slice, uncompressed
        write = -1
        if stop > start:
            data = memoryview(bodies.buffers()[2])[start:stop]  # type: ignore[arg-type]
            self._io(self._appender.write, data)  # the view keeps the Arrow buffer alive
            write, self._writes = self._writes, self._writes + 1
        self._firsts.append(first)
        self._frame_writes.append(write)
        self._ends.append(offsets[1:] - start + base)
        seqs = pa.array(np.arange(first, first + n, dtype=np.int64))
        return seqs if bodies.null_count == 0 else pc.if_else(bodies.is_valid(), seqs, None)

    def read(self, seqs: pa.Array | pa.ChunkedArray | np.ndarray) -> pa.Array:
        """The bodies of these row numbers, in their order (a string array)."""
        want = np.asarray(seqs, dtype=np.int64)
        if self._file.closed:
            raise ValueError("the body file is closed")
        if len(want) == 0:
            return pa.array([], pa.string())
        self._io(self._appender.flush)
        offsets = self._offsets()
        if want.min() < 0 or want.max() >= len(offsets) - 1:
            raise IndexError("a row number outside the body file")
        order = np.argsort(want, kind="stable")
        ordered = want[order]
        firsts = np.array([*self._firsts, len(offsets) - 1], np.int64)
        frames = np.searchsorted(firsts, ordered, side="right") - 1
        breaks = np.nonzero(np.diff(frames))[0] + 1
        pieces = []
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(ordered)], strict=True):
            frame = int(frames[lo])
            top, end = int(firsts[frame]), int(firsts[frame + 1])
            window = pa.LargeStringArray.from_buffers(
                end - top, pa.py_buffer(offsets[top:end + 1] - offsets[top]),
                self._frame(frame, int(offsets[end] - offsets[top])))
            rows = ordered[lo:hi] - top
            # Consecutive rows (a full run reads slices of them) are a view: no copy.
            if (np.diff(rows) == 1).all():
                pieces.append(window.slice(int(rows[0]), len(rows)))
            else:
                pieces.append(window.take(pa.array(rows)))
        got = pa.concat_arrays(pieces) if len(pieces) > 1 else pieces[0]
        if not (order[1:] > order[:-1]).all():
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
            got = got.take(pa.array(inverse))
        return got.cast(pa.string())

    def _frame(self, frame: int, size: int) -> pa.Buffer:
        """A frame's bodies, uncompressed (``size`` bytes); the last one read is kept."""
        if self._cache is not None and self._cache[0] == frame:
            return self._cache[1]
        write = self._frame_writes[frame]
        if write < 0:
            return pa.py_buffer(b"")
        offset, length = self._appender.extents[write]
        data = _CODEC.decompress(os.pread(self._file.fileno(), length, offset),
                                 decompressed_size=size, asbytes=False)
        self._cache = (frame, data)
        return data

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
