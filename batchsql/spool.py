"""Pending rows -> JSONL chunk files on local disk, each cut under the provider's limits.

Only one chunk's request map is held in memory (at most one batch's worth of keys); the
request lines themselves go straight to the spool file that is uploaded. A request's custom_id
ends in its 1-based line number in the file, so errors the provider reports by line map back.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from batchsql import plan, tokens
from batchsql.appender import Appender

#: Called with (batch_uuid, file path or None in a dry run, request map, file bytes,
#: estimated input tokens).
OnChunk = Callable[[str, "Path | None", pa.Table, int, int], None]
#: Called with pending rows that cannot be sent; their `_error` says why.
OnNotSent = Callable[[pa.Table], None]



class ChunkWriter:
    """Streams pending rows (stage columns plus `_attempt`) into chunk files.

    Rows arrive one per distinct request (see ``sql.requests_to_send``). ``shared`` holds the
    other pending rows (keys, `_fingerprint`, `_attempt`, `_error`) whose request one of them
    sends: they join the request map under its custom_id (``_primary`` false) and share its
    fate, so the answer is paid once and written for every key. With ``shared``, each row to
    send says in ``_copies`` how many pending rows its request answers (itself included).

    ``token_budget`` caps the input tokens of everything this writer hands over (what may be
    enqueued at the provider right now); rows past it are left pending (``deferred``).
    ``cost_budget`` caps the estimated dollars (``cost_of(input_tokens)`` per request): at the
    first request that would pass it, writing stops and every later row is left for a later run
    (``over_budget``). With ``folder`` None nothing is written: a dry run that only counts.
    With ``count_tokens`` (a function of a request body) every row's input tokens are counted
    exactly rather than taken from the stage's estimate: a budget or a quota decides by them.

    Runs of ordinary rows (rendered, within every limit) are written a whole run at a time with
    Arrow compute; only the rows where something happens (a template error, a chunk that is
    full, a limit reached) go through the row-at-a-time path. Both make the same decisions.
    """

    def __init__(self, limits: plan.Limits, folder: Path | None, url: str, key: Sequence[str],
                 *, on_chunk: OnChunk, on_not_sent: OnNotSent, token_budget: int | None = None,
                 shared: pa.Table | None = None, cost_of: Callable[[int], float] | None = None,
                 cost_budget: float | None = None,
                 count_tokens: Callable[[str], int] | None = None) -> None:
        self.limits = limits
        self.folder = folder
        self.url = url
        self.key = list(key)
        self.on_chunk = on_chunk
        self.on_not_sent = on_not_sent
        self.token_budget = token_budget
        self.cost_of = cost_of
        self.cost_budget = cost_budget
        self.count_tokens = count_tokens
        # A request's cost is linear in its input tokens; the run path needs it per array.
        self._cost0 = cost_of(0) if cost_of is not None else 0.0
        self._cost1 = (cost_of(1_000_000) - self._cost0) / 1e6 if cost_of is not None else 0.0
        self.shared_rows = shared
        self._sharing: dict[str, list[int]] = {}
        if shared is not None:
            for i, fp in enumerate(shared.column("_fingerprint").to_pylist()):
                self._sharing.setdefault(fp, []).append(i)
        self.tokens_sent = 0
        self.deferred = 0
        self.over_budget = 0
        self.shared = 0
        self.shared_tokens = 0
        self.requests = 0
        self.est_cost = 0.0
        self._stopped = False
        # A line around its custom_id and body (see plan.encode_line); JSON leaves "@" as is.
        self._parts = [p.decode() for p in plan.encode_line("@@", url, "@@").split(b"@@")]
        self._frame = sum(len(p.encode()) for p in self._parts)
        self._open()

    def _open(self) -> None:
        self.batch_uuid = plan.new_batch_uuid()
        self.handle: BinaryIO | Appender
        if self.folder is None:
            self.path: Path | None = None
            self.handle = open(os.devnull, "wb")  # noqa: SIM115 - closed in _flush
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / f"{self.batch_uuid}.jsonl"
            # Written by a thread while the next rows are encoded; closed (all written) in _flush.
            self.handle = Appender(open(self.path, "wb", buffering=0))  # noqa: SIM115
        self.chunk = plan.Chunk(self.limits)
        self.pieces: list[pa.Table] = []
        self.est_tokens = 0

    def cost(self, tokens: int) -> float:
        return self._cost0 + self._cost1 * tokens if self.cost_of is not None else 0.0

    def add(self, batch: pa.RecordBatch) -> None:
        """Write one slice of pending rows, cutting (and handing over) chunks as they fill."""
        if self.count_tokens is not None:
            batch = self._counted(batch)
        rows = _Slice(batch, sharing=bool(self._sharing))
        i = 0
        while i < rows.n:
            if self._stopped:  # over budget: every later row waits for a later run
                for k in range(i, rows.n):
                    if rows.error[k]:
                        self._not_sent(rows, k, None)
                    else:
                        self.over_budget += 1 + len(self._others(rows, k))
                break
            end = self._plain_run(rows, i)
            if end > i:
                self._write_run(rows, i, end)
                i = end
            else:
                self._add_row(rows, i)
                i += 1
        self._keep(rows)
        if rows.not_sent:
            picked = batch.take(pa.array(rows.not_sent, pa.int64()))
            errors = batch.column("_error")
            why = pa.array([rows.reasons.get(i, errors[i].as_py()) for i in rows.not_sent],
                           pa.string())
            table = pa.Table.from_batches([picked])
            self.on_not_sent(_with_error(table, why))
        if rows.others_not_sent:
            assert self.shared_rows is not None
            indices, why = zip(*rows.others_not_sent, strict=True)
            table = self.shared_rows.take(pa.array(indices, pa.int64()))
            self.on_not_sent(_with_error(table, pa.array(why, pa.string())))

    def finish(self) -> None:
        """Hand over the last, partly filled chunk."""
        self._flush()

    # -- runs of ordinary rows ----------------------------------------------------------------

    def _plain_run(self, rows: _Slice, i: int) -> int:
        """End of the run of rows from ``i`` that can be written in bulk (``i``: none can)."""
        limits = self.limits
        tokens = rows.tokens[i:]
        seq = self.chunk.requests + np.arange(1, tokens.size + 1)
        line = self._frame + len(self.batch_uuid) + 1 + _digits(seq) + rows.body_bytes[i:]
        stop = rows.error[i:] | (seq > limits.max_requests)
        stop |= self.chunk.bytes + np.cumsum(line) > limits.max_bytes
        if limits.max_tokens is not None:
            stop |= tokens > limits.max_tokens
        if self.token_budget is not None:
            stop |= self.tokens_sent + self.est_tokens + np.cumsum(tokens) > self.token_budget
        if self.cost_budget is not None:
            costs = self._cost0 + self._cost1 * tokens
            stop |= self.est_cost + np.cumsum(costs) > self.cost_budget
        first = np.nonzero(stop)[0]
        return i + int(first[0]) if first.size else rows.n

    def _write_run(self, rows: _Slice, i: int, end: int) -> None:
        n = end - i
        seq = self.chunk.requests + 1 + np.arange(n)
        big = pa.large_string()  # 64-bit offsets: a slice of huge bodies may pass 2 GB
        ids = pc.binary_join_element_wise(pa.scalar(f"{self.batch_uuid}-", big),
                                          pc.cast(pa.array(seq), big), pa.scalar("", big))
        before, middle, after = (pa.scalar(p, big) for p in self._parts)
        bodies = rows.batch.column("_body").slice(i, n).cast(big)
        lines = pc.binary_join_element_wise(before, ids, middle, bodies, after,
                                            pa.scalar("", big))
        size = _write_strings(self.handle, lines)
        tokens = int(rows.tokens[i:end].sum())
        self.chunk.requests += n
        self.chunk.bytes += size
        self.requests += n
        self.est_tokens += tokens
        self.est_cost += n * self._cost0 + self._cost1 * tokens
        ids = ids.cast(pa.string())
        self.pieces.append(self._map(rows.batch.slice(i, n), ids,
                                     pa.repeat(pa.scalar(True), n)))
        sharing = np.nonzero(rows.sharing[i:end])[0]
        if sharing.size:
            self._share_run(rows.batch.column("_fingerprint").slice(i, n), ids,
                            rows.tokens[i:end], sharing)

    # -- one row at a time ------------------------------------------------------------------

    def _add_row(self, rows: _Slice, i: int) -> None:
        if rows.error[i]:  # the row did not render
            self._not_sent(rows, i, None)
            return
        tokens = int(rows.tokens[i])
        body = rows.batch.column("_body")[i].as_py()
        cid = plan.custom_id(self.batch_uuid, self.chunk.requests + 1)
        line = plan.encode_line(cid, self.url, body)
        problem = self.chunk.never_fits(len(line), tokens)
        if problem:
            self._not_sent(rows, i, f"{problem}; not sent")
            return
        if self._over_token_budget(tokens):
            self.deferred += 1 + len(self._others(rows, i))
            return
        cost = self.cost(tokens)
        if self.cost_budget is not None and self.est_cost + cost > self.cost_budget:
            self._stopped = True
            self.over_budget += 1 + len(self._others(rows, i))
            return
        if not self.chunk.fits(len(line)):
            self._keep(rows)
            self._flush()
            self._open()
            cid = plan.custom_id(self.batch_uuid, 1)
            line = plan.encode_line(cid, self.url, body)
        self.handle.write(line)
        self.chunk.add(len(line))
        self.est_tokens += tokens
        self.est_cost += cost
        self.requests += 1
        rows.taken.append(i)
        rows.ids.append(cid)
        self._share(rows, i, cid)

    def _over_token_budget(self, tokens: int) -> bool:
        if self.token_budget is None:
            return False
        return self.tokens_sent + self.est_tokens + tokens > self.token_budget

    # -- rows sharing a request -------------------------------------------------------------

    def _others(self, rows: _Slice, i: int) -> list[int]:
        """Rows of ``shared`` whose request is row ``i``'s."""
        return self._sharing.get(rows.fingerprint(i), []) if rows.sharing[i] else []

    def _share(self, rows: _Slice, i: int, cid: str) -> None:
        """Map the rows sharing row ``i``'s request to its custom_id."""
        others = self._others(rows, i)
        if not others:
            return
        assert self.shared_rows is not None
        picked = self.shared_rows.take(pa.array(others, pa.int64()))
        self.pieces.append(self._map(picked, pa.repeat(pa.scalar(cid, pa.string()), len(others)),
                                     pa.repeat(pa.scalar(False), len(others))))
        self.shared += len(others)
        self.shared_tokens += int(rows.tokens[i]) * len(others)

    def _share_run(self, fingerprints: pa.Array, ids: pa.Array, tokens: np.ndarray,
                   sharing: np.ndarray) -> None:
        """``_share`` for the rows of a run at positions ``sharing``, at once.

        Looked up by fingerprint, not found by scanning ``shared``: with the search of each
        slice's fingerprints in ``shared``, the scans made encoding grow with rows times shared
        rows (80 s of a 10M-row run, 1 s of a 1M-row one).
        """
        assert self.shared_rows is not None
        others = [self._sharing.get(fp, []) for fp in
                  fingerprints.take(pa.array(sharing)).to_pylist()]
        counts = np.fromiter(map(len, others), np.int64, len(others))
        picked = self.shared_rows.take(pa.array(list(itertools.chain.from_iterable(others)),
                                                pa.int64()))
        n = picked.num_rows
        owners = ids.take(pa.array(np.repeat(sharing, counts)))
        self.pieces.append(self._map(picked, owners, pa.repeat(pa.scalar(False), n)))
        self.shared += n
        self.shared_tokens += int((tokens[sharing] * counts).sum())

    def _not_sent(self, rows: _Slice, i: int, reason: str | None) -> None:
        """Row ``i`` and the rows sharing its request cannot be sent (``reason``, or its error)."""
        rows.not_sent.append(i)
        if reason is not None:
            rows.reasons[i] = reason
        why = reason if reason is not None else rows.batch.column("_error")[i].as_py()
        rows.others_not_sent.extend((k, why) for k in self._others(rows, i))

    # -- request maps and chunks ------------------------------------------------------------

    def _counted(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The slice with exact input tokens for every row that rendered."""
        assert self.count_tokens is not None
        count = self.count_tokens
        exact = pa.array([count(body) if body is not None else 0
                          for body in batch.column("_body").to_pylist()], pa.int64())
        return batch.set_column(batch.schema.get_field_index("_est_tokens"), "_est_tokens",
                                exact)

    def _keep(self, rows: _Slice) -> None:
        """Move the rows taken one at a time into the current chunk's request map."""
        if not rows.taken:
            return
        picked = rows.batch.take(pa.array(rows.taken, pa.int64()))
        self.pieces.append(self._map(picked, pa.array(rows.ids, pa.string()),
                                     pa.repeat(pa.scalar(True), len(rows.taken))))
        rows.taken, rows.ids = [], []

    def _map(self, rows: pa.RecordBatch | pa.Table, ids: pa.Array,
             primary: pa.Array) -> pa.Table:
        n = rows.num_rows
        stamp = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        return pa.table({
            **{k: rows.column(k) for k in self.key},
            "_batch_uuid": pa.repeat(pa.scalar(self.batch_uuid, pa.string()), n),
            "_custom_id": ids,
            "_fingerprint": rows.column("_fingerprint"),
            "_attempt": rows.column("_attempt").cast(pa.int32()),
            "_created_at": pa.repeat(pa.scalar(stamp, pa.timestamp("us")), n),
            "_primary": primary,
        })

    def _flush(self) -> None:
        self.handle.close()
        if not self.pieces:
            if self.path is not None:
                self.path.unlink(missing_ok=True)
            return
        self.tokens_sent += self.est_tokens
        self.on_chunk(self.batch_uuid, self.path, pa.concat_tables(self.pieces),
                      self.chunk.bytes, self.est_tokens)


class _Slice:
    """One slice of rows to send as arrays, plus what the row-at-a-time path decided."""

    def __init__(self, batch: pa.RecordBatch, *, sharing: bool) -> None:
        self.batch = batch
        self.n = batch.num_rows
        self.error = batch.column("_error").is_valid().to_numpy(zero_copy_only=False)
        self.tokens = batch.column("_est_tokens").fill_null(0).to_numpy(zero_copy_only=False)
        self.body_bytes = (pc.binary_length(batch.column("_body")).fill_null(0)
                           .to_numpy(zero_copy_only=False))
        # Which rows' requests other pending rows share: the query counted them.
        self.sharing = np.zeros(self.n, dtype=bool)
        if sharing:
            copies = batch.column("_copies").fill_null(1)
            self.sharing = pc.greater(copies, 1).to_numpy(zero_copy_only=False)
        self.not_sent: list[int] = []
        self.reasons: dict[int, str] = {}
        self.others_not_sent: list[tuple[int, str]] = []
        self.taken: list[int] = []
        self.ids: list[str] = []

    def fingerprint(self, i: int) -> str:
        return str(self.batch.column("_fingerprint")[i].as_py())


def _with_error(table: pa.Table, why: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index("_error"), "_error", why)


def _digits(values: np.ndarray) -> np.ndarray:
    """Decimal digits of each positive integer."""
    digits = np.ones(values.shape, dtype=np.int64)
    for power in range(1, 19):
        digits += values >= 10 ** power
    return digits


def _write_strings(handle: object, lines: pa.Array) -> int:
    """Write a large_string array's values back to back, from its buffer; returns bytes."""
    _, offsets, data = lines.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=len(lines) + 1 + lines.offset)
    ends = ends[lines.offset:]
    start, stop = int(ends[0]), int(ends[-1])
    if data is not None and stop > start:
        handle.write(memoryview(data)[start:stop])  # type: ignore[attr-defined]
    return stop - start


def count_request_tokens(url: str) -> Callable[[str], int]:
    """Exact input tokens of a request given as its canonical JSON body."""
    return lambda body: tokens.count_input_tokens(url, json.loads(body))
