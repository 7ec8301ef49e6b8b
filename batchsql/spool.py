"""Pending rows -> JSONL chunk files on local disk, each cut under the provider's limits.

Only one chunk's request map is held in memory (at most one batch's worth of keys); the
request lines themselves go straight to the spool file that is uploaded. A request's custom_id
ends in its 1-based line number in the file, so errors the provider reports by line map back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa

from batchsql import plan

#: Called with (batch_uuid, file path, request map, file bytes, estimated input tokens).
OnChunk = Callable[[str, Path, pa.Table, int, int], None]
#: Called with pending rows that cannot be sent; their `_error` says why.
OnNotSent = Callable[[pa.Table], None]


class ChunkWriter:
    """Streams pending rows (stage columns plus `_attempt`) into chunk files.

    ``token_budget`` caps the input tokens of everything this writer hands over (what may be
    enqueued at the provider right now); rows past it are left pending (``deferred``).
    """

    def __init__(self, limits: plan.Limits, folder: Path, url: str, key: Sequence[str], *,
                 on_chunk: OnChunk, on_not_sent: OnNotSent,
                 token_budget: int | None = None) -> None:
        self.limits = limits
        self.folder = folder
        self.url = url
        self.key = list(key)
        self.on_chunk = on_chunk
        self.on_not_sent = on_not_sent
        self.token_budget = token_budget
        self.tokens_sent = 0
        self.deferred = 0
        self._open()

    def _open(self) -> None:
        self.batch_uuid = plan.new_batch_uuid()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{self.batch_uuid}.jsonl"
        self.handle = open(self.path, "wb")  # noqa: SIM115 - closed in _flush
        self.chunk = plan.Chunk(self.limits)
        self.pieces: list[pa.Table] = []
        self.est_tokens = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Write one slice of pending rows, cutting (and handing over) chunks as they fill."""
        bodies = batch.column("_body").to_pylist()
        reasons = batch.column("_error").to_pylist()
        tokens = batch.column("_est_tokens").to_pylist()
        take: list[int] = []
        ids: list[str] = []
        not_sent: list[int] = []
        for i, body in enumerate(bodies):
            if reasons[i] is not None:  # the row did not render
                not_sent.append(i)
                continue
            cid = plan.custom_id(self.batch_uuid, self.chunk.requests + 1)
            line = plan.encode_line(cid, self.url, body)
            problem = self.chunk.never_fits(len(line), tokens[i])
            if problem:
                reasons[i] = f"{problem}; not sent"
                not_sent.append(i)
                continue
            if self._over_budget(tokens[i]):
                self.deferred += 1
                continue
            if not self.chunk.fits(len(line)):
                self._keep(batch, take, ids)
                self._flush()
                self._open()
                take, ids = [], []
                cid = plan.custom_id(self.batch_uuid, 1)
                line = plan.encode_line(cid, self.url, body)
            self.handle.write(line)
            self.chunk.add(len(line))
            self.est_tokens += tokens[i]
            take.append(i)
            ids.append(cid)
        self._keep(batch, take, ids)
        if not_sent:
            rows = pa.Table.from_batches([batch.take(pa.array(not_sent, pa.int64()))])
            why = pa.array([reasons[i] for i in not_sent], pa.string())
            self.on_not_sent(rows.set_column(rows.schema.get_field_index("_error"), "_error",
                                             why))

    def finish(self) -> None:
        """Hand over the last, partly filled chunk."""
        self._flush()

    def _over_budget(self, tokens: int) -> bool:
        if self.token_budget is None:
            return False
        return self.tokens_sent + self.est_tokens + tokens > self.token_budget

    def _keep(self, batch: pa.RecordBatch, take: list[int], ids: list[str]) -> None:
        if not take:
            return
        picked = batch.take(pa.array(take, pa.int64()))
        n = len(take)
        stamp = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.pieces.append(pa.table({
            **{k: picked.column(k) for k in self.key},
            "_batch_uuid": pa.array([self.batch_uuid] * n, pa.string()),
            "_custom_id": pa.array(ids, pa.string()),
            "_fingerprint": picked.column("_fingerprint"),
            "_attempt": picked.column("_attempt").cast(pa.int32()),
            "_created_at": pa.array([stamp] * n, pa.timestamp("us")),
        }))

    def _flush(self) -> None:
        self.handle.close()
        if not self.pieces:
            self.path.unlink(missing_ok=True)
            return
        self.tokens_sent += self.est_tokens
        self.on_chunk(self.batch_uuid, self.path, pa.concat_tables(self.pieces),
                      self.chunk.bytes, self.est_tokens)
