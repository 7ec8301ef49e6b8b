"""Collecting a finished batch: every result line becomes one outcome row, exactly once.

Result files are read as they download, straight into the parser: nothing of them is written
locally (they were: a gigabyte per million results, written to the spool and read back).
A batch's outcomes are written in one transaction, after all its lines are read, that first
deletes whatever an interrupted attempt left for it: a crash or a failed download before the
commit leaves the batch to collect, and the next run downloads it again.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from batchsql import outputs, plan, sql
from batchsql.ahead import read_ahead
from batchsql.errors import BatchsqlError, ProviderError
from batchsql.providers.base import BatchInfo
from batchsql.reconcile import CANCELLED, EXPIRED, FAILED, MISSING, Outcome
from batchsql.results_fast import outcome_slices, parsing_connection
from batchsql.state import now

if TYPE_CHECKING:
    from batchsql.runner.core import Runner, RunSummary

TOKEN_LIMIT = "token_limit_exceeded"

#: A batch's parsed outcomes up to this size are read in place (``Warehouse.hold_arrow``),
#: not copied into the collect stage: a batch of 50,000 short answers takes about 20 MB.
HELD_BYTES = 64 * 1024 * 1024
#: How far the collect reader may run ahead of the writing: results (a batch's files, each
#: slice of its outcomes, its end), and the parsed outcomes' bytes among them.
AHEAD_ITEMS = 16
AHEAD_BYTES = 64 * 1024 * 1024


class Collector:
    """Polls a spec's open batches and writes the outcomes of finished ones."""

    def __init__(self, runner: Runner) -> None:
        self.r = runner

    def collect(self, summary: RunSummary) -> int:
        """Collect every batch of the spec the provider has finished.

        Returns how many of them ran (so freed enqueued tokens): a batch refused for the
        token quota does not count, which keeps a waiting run from resubmitting in a loop.
        """
        renamed = [b for b in self.r.state.open_batches_of_spec(self.r.spec.name)
                   if b["output_table"] != self.r.spec.output.table]
        if renamed:
            raise BatchsqlError(
                f"spec '{self.r.spec.name}' has {len(renamed)} batch(es) in flight for output "
                f"table {renamed[0]['output_table']}; collect them (run with the old "
                "output.table) or `batchsql cancel` them before renaming output.table")
        finished = []
        for batch in self.r.state.open_batches(self.r.spec.output.table):
            self.r.heartbeat()
            with self.r.phases("provider"):
                info = self.refresh(batch)
            if info is not None and info.terminal:
                finished.append((batch, info))
        if not finished:
            return 0
        # A thread downloads and parses the next batches' results while this one's outcomes
        # are written; the writing stays in this thread, in the order of the batches. It may
        # run a few batches ahead (parsed outcomes up to AHEAD_BYTES), so that it keeps going
        # while a commit here checkpoints (seconds, at times) instead of waiting for it.
        results = read_ahead(self.results(finished), depth=AHEAD_ITEMS, budget=AHEAD_BYTES,
                             weight=_weight, name="batchsql-collect-reader")
        try:
            for batch, info in finished:
                self.r.heartbeat()
                self.collect_batch(summary, batch, info, results)
        finally:
            results.close()
        return sum(not _quota_refused(info) for _, info in finished)

    def refresh(self, batch: dict[str, Any], *, adopt_only: bool = False) -> BatchInfo | None:
        """The provider's view of an open batch (resolving an unfinished intent first)."""
        try:
            if batch["status"] == sql.INTENT:
                return self.r.submitter.resolve(batch, adopt_only=adopt_only)
            info = self.r.provider.retrieve(batch["provider_batch_id"])
        except ProviderError as e:
            if e.not_found and batch["status"] != sql.INTENT:
                # The provider forgot the batch (another account, a wiped emulator): its rows
                # are pending again rather than in flight forever.
                self.r.state.update_batch(batch["batch_uuid"], status="lost", error=str(e))
                self.r.emit("warning", {"message": f"batch {batch['provider_batch_id']} is "
                                                   "unknown to the provider; its rows are "
                                                   "pending again"})
                return None
            if not e.transient:
                raise
            self.r.emit("warning", {"message": f"{e}; will retry"})
            return None
        if info.status != batch["provider_status"]:
            # A write like any other: DuckDB may checkpoint earlier writes on it.
            with self.r.phases("write"):
                self.r.state.update_batch(batch["batch_uuid"], provider_status=info.status)
            batch["provider_status"] = info.status
        self.r.emit("polled", {"batch": info.id, "status": info.status, "total": info.total,
                               "completed": info.completed, "failed": info.failed})
        return info

    def results(self, finished: list[tuple[dict[str, Any], BatchInfo]]) -> Iterator[Result]:
        """Each finished batch's results: its outcome tables, as its files download.

        Per batch: a ``Result`` with no table once its first file has begun to arrive, one per
        slice of outcomes, then one with no table again: the batch's last.
        """
        with parsing_connection() as con:  # one for every batch: each new one costs 20 ms
            for _, info in finished:
                sources = [self.r.provider.file_chunks(fid)
                           for fid in (info.output_file_id, info.error_file_id) if fid]
                if sources:
                    sources[0] = _begun(sources[0])
                yield Result()
                for table in outcome_slices(sources, self.r.spec, self.r.price, con=con):
                    yield Result(table=table)
                yield Result()

    def collect_batch(self, summary: RunSummary, batch: dict[str, Any], info: BatchInfo,
                      results: Iterator[Result] | None = None) -> None:
        """Download a finished batch's files and write one outcome row per request, once.

        ``results``: where ``results([(batch, info), ...])`` is being read, at this batch.
        """
        r = self.r
        batch_uuid = batch["batch_uuid"]
        r.submitter.recheck(batch, info)
        if results is None:
            results = self.results([(batch, info)])
        phases = r.phases
        with phases("download"):
            next(results)
        line_errors = validation_outcomes(batch_uuid, info)
        with phases("reconcile"):
            staged = self.read_results(
                results, outputs.outcome_table(r.spec, line_errors, None) if line_errors else None)
        missing = missing_reason(info)
        if _quota_refused(info):
            # Refused for the enqueued-token quota: its rows are pending again, and this run
            # resubmits them when its own batches finish and free the quota.
            summary.quota_hit = True
            summary.deferred += int(batch["request_count"] or 0)  # lines, not shared rows
        stamp = now()
        batch_error = _batch_error(info) if info.status == "failed" else None
        values = [n for n, _ in outputs.value_columns(r.spec)]
        with phases("write"), r.wh.transaction():
            # Delete-then-insert in one transaction: collecting a batch twice adds nothing.
            # One batch per transaction, although DuckDB writes a transaction's row group or
            # more (bulk_insert) straight into the file instead of its log: grouping batches
            # so made a 1M-row run no faster (bench/ab.py, 3 pairs: writing 1.7 s shorter,
            # closing 2.1 s longer, peak memory 30-50 MB higher).
            r.wh.execute(sql.delete_where(r.output, sql.of_batch()),
                         [info.id, plan.custom_ids_like(batch_uuid)])
            r.wh.execute(
                sql.insert_outcomes(r.output, r.collect_stage, r.state.requests, r.key, values,
                                    unique=staged.unique),
                [info.id, r.spec.model, summary.run_id, batch["submitted_at"], stamp,
                 batch_uuid])
            figures = r.batch_figures(info.id, batch_uuid)
            # Usually every request has its line and every line its request, which the counts
            # show: the anti-joins that would find the exceptions are run only when they may.
            rows, lines = (int(n) for n in r.wh.fetch(sql.batch_requests(r.state.requests),
                                                      [batch_uuid])[0])
            written = sum(figures["by_status"].values())
            if missing is not None and written < rows:
                r.wh.execute(
                    sql.insert_missing(r.output, r.collect_stage, r.state.requests, r.key),
                    [missing[0], missing[1], info.id, r.spec.model, summary.run_id,
                     batch["submitted_at"], stamp, batch_uuid])
                figures = r.batch_figures(info.id, batch_uuid)
            if staged.unique and written == rows and lines == batch["request_count"]:
                # Each request row has its line, one line per custom_id: the lines that
                # matched are the batch's lines, and the rest are unknown. (A map whose
                # primary rows do not add up to the file's lines, say one written before
                # `_primary` existed, is searched instead.)
                unknown = staged.rows - lines
            else:
                unknown = int(r.wh.fetch(sql.unknown_lines(r.collect_stage, r.state.requests),
                                         [batch_uuid])[0][0])
            r.state.update_batch(batch_uuid, status=sql.COLLECTED,
                                 provider_status=info.status,
                                 output_file_id=info.output_file_id,
                                 error_file_id=info.error_file_id, collected_at=stamp,
                                 unknown_lines=unknown, error=batch_error,
                                 **figures["batch"])
        # Committed: the parsed lines have done their job. (Earlier versions kept the result
        # files in the spool until here: any that an interrupted collection left go now.)
        r.wh.release_arrow(r.collect_stage)
        legacy = r.spool / batch_uuid
        if legacy.is_dir():
            shutil.rmtree(legacy, ignore_errors=True)
        phases.count("write", sum(figures["by_status"].values()))
        summary.collected_batches += 1
        summary.unknown_lines += unknown
        for status, n in figures["by_status"].items():
            summary.outcomes[status] = summary.outcomes.get(status, 0) + n
        summary.input_tokens += figures["batch"]["input_tokens"]
        summary.output_tokens += figures["batch"]["output_tokens"]
        r.emit("collected", {"batch": info.id, "status": info.status,
                             "outcomes": figures["by_status"], "unknown": unknown,
                             "error": batch_error})

    def read_results(self, results: Iterator[Result], extra: pa.Table | None = None) -> Staged:
        """Make a batch's outcome tables (and ``extra`` outcomes) the collect stage.

        While they total at most ``HELD_BYTES`` and the warehouse can, they are read where
        they are (``hold_arrow``); otherwise they are copied into the collect stage a slice at
        a time.
        """
        r = self.r
        r.wh.release_arrow(r.collect_stage)
        r.wh.execute(sql.drop_table(r.collect_stage))
        held: list[pa.Table] = []
        copying = False
        rows = 0
        for table in iter(lambda: next(results).table, None):
            self._count(table)
            rows += table.num_rows
            if copying or not self._hold(held, table):
                copying = self._copy(held, table, created=copying)
        if extra is not None:
            rows += extra.num_rows
            extra = extra.cast(held[0].schema) if held else extra
            if copying or not self._hold(held, extra):
                copying = self._copy(held, extra, created=copying)
        if copying:
            return Staged(rows, unique=False)
        if not held:
            self._copy(held, None, created=False)  # an empty collect stage
            return Staged(rows, unique=False)
        return Staged(rows, unique=_unique(pa.concat_tables(held).column("_custom_id")))

    def _hold(self, held: list[pa.Table], table: pa.Table) -> bool:
        """Hold ``table`` with the tables ``held``, if they fit and the warehouse can."""
        if sum(t.nbytes for t in held) + table.nbytes > HELD_BYTES:
            return False
        if not self.r.wh.hold_arrow(self.r.collect_stage, pa.concat_tables([*held, table])):
            return False
        held.append(table)
        return True

    def _copy(self, held: list[pa.Table], table: pa.Table | None, *, created: bool) -> bool:
        """Insert ``table`` into the collect stage, first creating it (from what was held)
        unless it is ``created``; returns True: the stage is created now."""
        r = self.r
        if not created:
            r.wh.release_arrow(r.collect_stage)
            r.wh.execute(sql.create_table(r.collect_stage,
                                          outputs.outcome_columns(r.spec, r.wh.dialect),
                                          temporary=r.temporary))
            for earlier in held:
                r.wh.insert_arrow(r.collect_stage, earlier)
            held.clear()
        if table is not None:
            r.wh.insert_arrow(r.collect_stage, table)
        return True

    def _count(self, table: pa.Table) -> None:
        # Not "download" too: its time is the wait for a batch's first bytes (the lines are
        # read as they arrive), over which a rate of rows would mean nothing.
        self.r.phases.count("reconcile", table.num_rows)


@dataclass(frozen=True)
class Staged:
    """What ``read_results`` put in the collect stage: how many rows, and whether they are
    held with no custom_id repeated (so writing them needs no ranking)."""

    rows: int
    unique: bool


@dataclass
class Result:
    """One step of reading a batch's results: a slice of its outcomes (DuckDB reads the
    lines; Python only those SQL cannot vouch for, see results_fast), or none: its files
    have begun to arrive, or (the second time) the batch is read."""

    table: pa.Table | None = None


def _begun(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` with its first chunk already asked for: the download has begun (or its
    error is raised here)."""
    first = next(chunks, None)

    def rest() -> Iterator[bytes]:
        try:
            if first is not None:
                yield first
            yield from chunks
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    return rest()


def _weight(result: Result) -> int:
    return result.table.nbytes if result.table is not None else 0


def _unique(custom_ids: pa.ChunkedArray) -> bool:
    """No custom_id repeats (NULLs aside: they match no request)."""
    valid = len(custom_ids) - custom_ids.null_count
    return pc.count_distinct(custom_ids, mode="only_valid").as_py() == valid


def validation_outcomes(batch_uuid: str, info: BatchInfo) -> list[Outcome]:
    """Failed outcomes for the lines a failed batch's validation errors name."""
    if info.status != "failed":
        return []
    out = []
    for error in info.errors:
        line = error.get("line")
        if isinstance(line, int) and line > 0:
            out.append(Outcome(f"{batch_uuid}-{line}", FAILED,
                               f"batch validation failed at line {line}: "
                               f"{error.get('code')}: {error.get('message')}"))
    return out


def missing_reason(info: BatchInfo) -> tuple[str, str] | None:
    """Status and error for requests that came back with no line; None: leave them pending.

    A batch that failed validation because of particular lines, or the enqueued-token quota,
    never ran the other requests: they are pending again without spending an attempt.
    """
    if info.status == "failed":
        if any(isinstance(e.get("line"), int) for e in info.errors) or _quota_refused(info):
            return None
        return FAILED, _batch_error(info)
    if info.status == "expired":
        return EXPIRED, "batch expired before this request ran"
    if info.status == "cancelled":
        return CANCELLED, "batch was cancelled before this request ran"
    return MISSING, "the provider returned no result line for this request"


def _quota_refused(info: BatchInfo) -> bool:
    return info.status == "failed" and any(e.get("code") == TOKEN_LIMIT for e in info.errors)


def _batch_error(info: BatchInfo) -> str:
    detail = "; ".join(f"line {e.get('line')}: {e.get('code')}: {e.get('message')}"
                       if e.get("line") else f"{e.get('code')}: {e.get('message')}"
                       for e in info.errors[:5]) or "no reason given"
    more = f" (+{len(info.errors) - 5} more)" if len(info.errors) > 5 else ""
    return f"batch failed: {detail}{more}"
