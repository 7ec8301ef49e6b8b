"""Pending rows -> JSONL chunk files on local disk, each cut under the provider's limits.

Only one chunk's request map is held in memory (at most one batch's worth of keys); the
request lines themselves go straight to the spool file that is uploaded. A request's custom_id
ends in its 1-based line number in the file, so errors the provider reports by line map back.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa

from batchsql import plan

#: Called with (batch_uuid, file path or None in a dry run, request map, file bytes,
#: estimated input tokens).
OnChunk = Callable[[str, "Path | None", pa.Table, int, int], None]
#: Called with pending rows that cannot be sent; their `_error` says why.
OnNotSent = Callable[[pa.Table], None]

#: What became of a group of rows with one fingerprint (its first row decided it).
_SENT, _DEFERRED, _OVER_BUDGET = "sent", "deferred", "over budget"


class ChunkWriter:
    """Streams pending rows (stage columns plus `_attempt`) into chunk files.

    Rows arrive with equal fingerprints next to each other (see ``sql.pending_rows``); with
    ``dedup`` only the first of them is written, and the others join the request map under the
    same custom_id (``_primary`` false), so the answer is paid once and written for every key.

    ``token_budget`` caps the input tokens of everything this writer hands over (what may be
    enqueued at the provider right now); rows past it are left pending (``deferred``).
    ``cost_budget`` caps the estimated dollars (``cost_of(input_tokens)`` per request): at the
    first request that would pass it, writing stops and every later row is left for a later run
    (``over_budget``). With ``folder`` None nothing is written: a dry run that only counts.
    """

    def __init__(self, limits: plan.Limits, folder: Path | None, url: str, key: Sequence[str],
                 *, on_chunk: OnChunk, on_not_sent: OnNotSent, token_budget: int | None = None,
                 dedup: bool = True, cost_of: Callable[[int], float] | None = None,
                 cost_budget: float | None = None) -> None:
        self.limits = limits
        self.folder = folder
        self.url = url
        self.key = list(key)
        self.on_chunk = on_chunk
        self.on_not_sent = on_not_sent
        self.token_budget = token_budget
        self.dedup = dedup
        self.cost_of = cost_of
        self.cost_budget = cost_budget
        self.tokens_sent = 0
        self.deferred = 0
        self.over_budget = 0
        self.shared = 0
        self.shared_tokens = 0
        self.requests = 0
        self.est_cost = 0.0
        self._group: tuple[str, str | None, str | None] | None = None  # (fp, cid, verdict)
        self._stopped = False
        self._open()

    def _open(self) -> None:
        self.batch_uuid = plan.new_batch_uuid()
        if self.folder is None:
            self.path: Path | None = None
            self.handle = open(os.devnull, "wb")  # noqa: SIM115 - closed in _flush
        else:
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
        fingerprints = batch.column("_fingerprint").to_pylist()
        take: list[int] = []
        ids: list[str] = []
        primary: list[bool] = []
        not_sent: list[int] = []
        for i, body in enumerate(bodies):
            if reasons[i] is not None:  # the row did not render
                not_sent.append(i)
                continue
            if self._stopped:
                self.over_budget += 1
                continue
            group = self._group
            if self.dedup and group is not None and group[0] == fingerprints[i]:
                # The same request as the row before: it shares that row's fate.
                _, cid, verdict = group
                if verdict == _SENT and cid is not None:
                    take.append(i)
                    ids.append(cid)
                    primary.append(False)
                    self.shared += 1
                    self.shared_tokens += tokens[i]
                elif verdict == _DEFERRED:
                    self.deferred += 1
                else:
                    reasons[i] = verdict
                    not_sent.append(i)
                continue
            cid = plan.custom_id(self.batch_uuid, self.chunk.requests + 1)
            line = plan.encode_line(cid, self.url, body)
            problem = self.chunk.never_fits(len(line), tokens[i])
            if problem:
                reasons[i] = f"{problem}; not sent"
                not_sent.append(i)
                self._group = (fingerprints[i], None, reasons[i])
                continue
            if self._over_budget(tokens[i]):
                self.deferred += 1
                self._group = (fingerprints[i], None, _DEFERRED)
                continue
            cost = self.cost_of(tokens[i]) if self.cost_of is not None else 0.0
            if self.cost_budget is not None and self.est_cost + cost > self.cost_budget:
                self._stopped = True
                self.over_budget += 1
                continue
            if not self.chunk.fits(len(line)):
                self._keep(batch, take, ids, primary)
                self._flush()
                self._open()
                take, ids, primary = [], [], []
                cid = plan.custom_id(self.batch_uuid, 1)
                line = plan.encode_line(cid, self.url, body)
            self.handle.write(line)
            self.chunk.add(len(line))
            self.est_tokens += tokens[i]
            self.est_cost += cost
            self.requests += 1
            self._group = (fingerprints[i], cid, _SENT)
            take.append(i)
            ids.append(cid)
            primary.append(True)
        self._keep(batch, take, ids, primary)
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

    def _keep(self, batch: pa.RecordBatch, take: list[int], ids: list[str],
              primary: list[bool]) -> None:
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
            "_primary": pa.array(primary, pa.bool_()),
        }))

    def _flush(self) -> None:
        self.handle.close()
        if not self.pieces:
            if self.path is not None:
                self.path.unlink(missing_ok=True)
            return
        self.tokens_sent += self.est_tokens
        self.on_chunk(self.batch_uuid, self.path, pa.concat_tables(self.pieces),
                      self.chunk.bytes, self.est_tokens)
