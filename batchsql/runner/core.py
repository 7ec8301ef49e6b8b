"""The run itself: prepare tables, collect, select pending rows, submit passes, wait."""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql import outputs, plan, sql
from batchsql.errors import BatchsqlError, SpecError
from batchsql.lock import SpecLock
from batchsql.pricing import BATCH_DISCOUNT, price_of
from batchsql.prompts import Prompt, compile_prompt
from batchsql.providers.base import Provider
from batchsql.reconcile import FAILED
from batchsql.runner.collect import Collector
from batchsql.runner.source import STAGE_META, Renderer, check_source
from batchsql.runner.submit import Submitter
from batchsql.spec import Spec, line_of
from batchsql.spool import ChunkWriter
from batchsql.state import State, ensure_table, now
from batchsql.warehouses.base import Warehouse

Event = Callable[[str, dict[str, Any]], None]

#: Rows read, rendered and written per Arrow slice: bounds memory whatever the table size.
ROWS_PER_SLICE = 10_000


@dataclass
class RunSummary:
    """What one run did, for the CLI and for the runs table."""

    run_id: str
    spec: str
    collected_batches: int = 0
    selected: int = 0
    submitted: int = 0
    batches_submitted: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    not_sent: int = 0
    deferred: int = 0
    given_up: int = 0
    in_flight: int = 0
    unknown_lines: int = 0
    quota_hit: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0
    realtime_cost_usd: float | None = 0.0

    @property
    def succeeded(self) -> int:
        return self.outcomes.get("succeeded", 0)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.outcomes.items() if status != "succeeded")


def _ignore(kind: str, data: dict[str, Any]) -> None:
    """The default event sink: library callers get a summary, not a stream."""


class Runner:
    """Runs one spec against one warehouse and one provider.

    ``token_limit`` is the provider's enqueued-token quota for the spec's model, when known:
    submission is paced so that batches in flight never exceed it.
    """

    def __init__(self, spec: Spec, wh: Warehouse, provider: Provider, *, work_dir: Path,
                 target_name: str = "", poll_interval: float = 5.0,
                 max_requests: int | None = None, token_limit: int | None = None,
                 lock_wait: float = 0.0, on_event: Event = _ignore) -> None:
        self.spec = spec
        self.wh = wh
        self.provider = provider
        self.spool = work_dir / "spool"
        self.target_name = target_name
        self.poll_interval = poll_interval
        limits = provider.limits()
        self.limits = plan.Limits(
            max_requests=min(limits.max_requests, max_requests or limits.max_requests),
            max_bytes=limits.max_bytes, max_tokens=token_limit)
        self.lock_wait = lock_wait
        self.emit = on_event
        self.prompt: Prompt = compile_prompt(spec)
        self.output = sql.parse_table(spec.output.table, wh.dialect)
        self.state = State(wh, self.output)
        self.stage = sql.sibling(self.output, f"_batchsql_{self.output.name}_stage")
        self.collect_stage = sql.sibling(self.output, f"_batchsql_{self.output.name}_collect")
        self.view = sql.sibling(self.output, f"{self.output.name}_current")
        self.key = list(spec.source.key)
        self.price = price_of(spec.model)
        self.url = plan.request_url(spec)
        self.renderer = Renderer(spec, self.prompt, self.url)
        self.submitter = Submitter(self)
        self.collector = Collector(self)
        self._key_types: list[tuple[str, exp.DataType]] = []
        self._source: exp.Query | None = None
        self._lock: SpecLock | None = None

    # -- the whole run -------------------------------------------------------------------

    def run(self, *, wait: bool = True, max_wait: float | None = None) -> RunSummary:
        """Collect, select, submit; with ``wait``, poll until nothing is in flight."""
        summary = RunSummary(run_id=uuid.uuid4().hex[:16], spec=self.spec.name)
        with self._locked(summary.run_id):
            self.prepare()
            self.state.start_run({
                "run_id": summary.run_id, "spec": self.spec.name, "spec_path": self.spec.path,
                "target": self.target_name, "user_name": _user(), "host": socket.gethostname(),
            })
            try:
                self.collector.collect(summary)
                self.emit("rendering", {})
                self.render_stage()
                self.submit_pass(summary, first=True)
                if wait:
                    self.wait(summary, max_wait=max_wait)
                summary.in_flight = len(self.state.open_batches(self.spec.output.table))
                summary.given_up = self.count_given_up()
            except BaseException as e:
                self.state.finish_run(summary.run_id, status="error", error=_safe(e),
                                      **self._run_figures(summary))
                raise
            self.state.finish_run(summary.run_id, status="ok", **self._run_figures(summary))
        self.emit("done", {"summary": summary})
        return summary

    def heartbeat(self) -> None:
        """Refresh the spec lock (raises LockedError if another run took it over)."""
        if self._lock is not None:
            self._lock.heartbeat()

    def _locked(self, run_id: str) -> SpecLock:
        """The spec's lock: one run of a spec at a time, whatever machine it runs on."""
        self._lock = SpecLock(self.wh, sql.sibling(self.output, "_batchsql_locks"),
                              self.spec.name, run_id, wait=self.lock_wait)
        return self._lock

    def prepare(self) -> None:
        """Check the source against the spec and create the tables (idempotent)."""
        self._source, described = check_source(self.spec, self.prompt, self.wh)
        types = dict(described)
        self._key_types = [(k, sql.dtype(types[k], self.wh.dialect)) for k in self.key]
        self.state.ensure(self._key_types)
        ensure_table(self.wh, self.output,
                     outputs.output_columns(self.spec, self._key_types, self.wh.dialect))
        existing = self.wh.table_columns(self.output) or []
        self.wh.execute(sql.current_view(self.view, self.output, self.key, existing))

    def cancel(self, *, max_wait: float | None = None) -> RunSummary:
        """Cancel the spec's batches in flight and collect their partial results."""
        summary = RunSummary(run_id=uuid.uuid4().hex[:16], spec=self.spec.name)
        with self._locked(summary.run_id):
            self.prepare()
            for batch in self.state.open_batches(self.spec.output.table):
                info = self.collector.refresh(batch, adopt_only=True)
                if info is not None and not info.terminal:
                    self.provider.cancel(info.id)
                    self.emit("cancelling", {"batch": info.id})
            self.collector.collect(summary)
            self.wait(summary, max_wait=max_wait, submit=False)
            summary.in_flight = len(self.state.open_batches(self.spec.output.table))
        return summary

    # -- selecting and submitting -----------------------------------------------------------

    def render_stage(self) -> None:
        """Render every source row into the stage table: key, fingerprint, request body."""
        assert self._source is not None
        needed = list(dict.fromkeys([*self.key, *sorted(self.prompt.variables())]))
        query = (exp.select(*(sql.col(c) for c in needed))
                 .from_(self._source.subquery("_batchsql_source")))
        self.wh.execute(sql.drop_table(self.stage))
        self.wh.execute(sql.create_table(self.stage, [
            *self._key_types,
            *((n, sql.dtype(t, self.wh.dialect)) for n, t in STAGE_META)]))
        for batch in self.wh.stream(query, batch_size=ROWS_PER_SLICE):
            self.wh.insert_arrow(self.stage, self.renderer.render(batch))
        duplicates = self.wh.fetch(sql.duplicate_keys(self.stage, self.key))
        if duplicates:
            shown = ", ".join(str(row[:-1] if len(self.key) > 1 else row[0])
                              for row in duplicates)
            raise SpecError(
                f"source.key ({', '.join(self.key)}) does not identify rows: duplicate or NULL "
                f"keys such as {shown}", path=self.spec.path,
                line=line_of(self.spec, "source", "key"),
                hint="pick columns that are unique and never NULL")

    def count_given_up(self) -> int:
        return int(self.wh.fetch(sql.given_up(self.stage, self.output, self.key,
                                              self.spec.max_attempts))[0][0])

    def submit_pass(self, summary: RunSummary, *, first: bool) -> int:
        """Submit pending rows under the limits; returns how many rows were left for later.

        Later passes (while waiting, as the token quota frees up) skip rows that already have
        an outcome from this run: a row that failed is retried by the next run, not this one.
        """
        pending = sql.pending_rows(self.stage, self.output, self.state.requests,
                                   self.state.batches, self.key, self.spec.max_attempts,
                                   exclude_run=not first)
        params = [] if first else [summary.run_id]
        count = exp.select(exp.Count(this=exp.Star())).from_(pending.subquery("p"))
        rows = int(self.wh.fetch(count, params)[0][0])
        if first:
            summary.selected = rows
            self.emit("selected", {"rows": rows})
        if not rows:
            summary.deferred = 0
            return 0
        budget = self._token_budget()
        writer = ChunkWriter(
            self.limits, self.spool, self.url, self.key, token_budget=budget,
            on_chunk=lambda *chunk: self.submit_chunk(summary, *chunk),
            on_not_sent=lambda rows: self.write_not_sent(summary, rows))
        for batch in self.wh.stream(pending, params, batch_size=ROWS_PER_SLICE):
            writer.add(batch)
        writer.finish()
        summary.deferred = writer.deferred
        if writer.deferred:
            self.emit("deferred", {"rows": writer.deferred, "limit": self.limits.max_tokens})
        return writer.deferred

    def _token_budget(self) -> int | None:
        """Input tokens that may still be enqueued for this model, if its quota is known."""
        if self.limits.max_tokens is None:
            return None
        return max(0, self.limits.max_tokens - self.state.tokens_in_flight(self.spec.model))

    def submit_chunk(self, summary: RunSummary, batch_uuid: str, path: Path,
                     requests: pa.Table, size: int, est_tokens: int) -> None:
        """Record the intent (with its request map), then upload and create its batch."""
        batch = {
            "batch_uuid": batch_uuid, "spec": self.spec.name,
            "output_table": self.spec.output.table, "run_id": summary.run_id,
            "chunk": summary.batches_submitted, "provider": self.provider.name,
            "endpoint": self.url, "model": self.spec.model, "request_count": requests.num_rows,
            "input_bytes": size, "est_input_tokens": est_tokens,
        }
        self.heartbeat()  # stop here, before paying, if another run took the lock over
        self.state.record_intent(batch, requests)
        batch.update(status=sql.INTENT, created_at=now())
        info = self.submitter.send(batch)
        if info is None:
            return
        summary.batches_submitted += 1
        summary.submitted += requests.num_rows
        self.emit("submitted", {"batch": info.id, "requests": requests.num_rows})

    def write_not_sent(self, summary: RunSummary, rows: pa.Table) -> None:
        """Rows that cannot be sent (template error, too large) become failed outcomes now."""
        n = rows.num_rows
        stamp = now()
        data = {k: rows.column(k) for k in self.key}
        for name, kind in outputs.value_arrow_schema(self.spec):
            data[name] = pa.nulls(n, kind)
        meta = {
            "_status": pa.array([FAILED] * n, pa.string()), "_error": rows.column("_error"),
            "_attempt": rows.column("_attempt").cast(pa.int32()),
            "_fingerprint": rows.column("_fingerprint"), "_run_id": pa.array([summary.run_id] * n),
            "_model": pa.array([self.spec.model] * n),
            "_collected_at": pa.array([stamp] * n, pa.timestamp("us")),
        }
        self.wh.insert_arrow(self.output, pa.table({**data, **meta}))
        summary.not_sent += n
        summary.outcomes[FAILED] = summary.outcomes.get(FAILED, 0) + n

    # -- waiting --------------------------------------------------------------------------

    def wait(self, summary: RunSummary, *, max_wait: float | None = None,
             submit: bool = True) -> None:
        """Poll with backoff (0.5 s growing to ``poll_interval``) until nothing is in flight.

        Rows deferred by the token quota are submitted as batches finish and free it.
        """
        started = time.monotonic()
        delay = min(0.5, self.poll_interval)
        while True:
            if not self.state.open_batches(self.spec.output.table):
                if not (submit and summary.deferred):
                    return
                before = summary.batches_submitted
                if not summary.quota_hit:
                    self.submit_pass(summary, first=False)
                if summary.batches_submitted == before:
                    # Nothing of ours is in flight to free the quota: someone else holds it.
                    # Leave the rows for a later run rather than retry in a tight loop.
                    self.emit("warning", {"message": f"{summary.deferred:,} rows left pending: "
                                                     "the enqueued-token limit is in use"})
                    return
                continue
            if max_wait is not None and time.monotonic() - started >= max_wait:
                self.emit("warning", {"message": "stopped waiting; a later run will collect"})
                return
            time.sleep(delay)
            delay = min(delay * 1.5, self.poll_interval)
            self.heartbeat()
            if self.collector.collect(summary) and submit and summary.deferred:
                self.submit_pass(summary, first=False)

    def batch_figures(self, provider_batch_id: str) -> dict[str, Any]:
        """Outcome counts, tokens and cost of one collected batch."""
        rows = self.wh.fetch(sql.outcome_figures(self.output, one_batch=True), [provider_batch_id])
        by_status = {r[0]: int(r[1]) for r in rows}
        input_tokens = sum(int(r[2] or 0) for r in rows)
        output_tokens = sum(int(r[3] or 0) for r in rows)
        cost = self.price.cost(input_tokens, output_tokens) if self.price else None
        return {"by_status": by_status, "batch": {
            "succeeded": by_status.get("succeeded", 0),
            "failed": sum(n for s, n in by_status.items() if s != "succeeded"),
            "input_tokens": input_tokens, "output_tokens": output_tokens, "cost_usd": cost}}

    def _run_figures(self, summary: RunSummary) -> dict[str, Any]:
        cost = realtime = None
        if self.price:
            cost = self.price.cost(summary.input_tokens, summary.output_tokens)
            realtime = cost / BATCH_DISCOUNT
        summary.cost_usd, summary.realtime_cost_usd = cost, realtime
        return {
            "selected": summary.selected, "submitted": summary.submitted,
            "batches_submitted": summary.batches_submitted,
            "batches_collected": summary.collected_batches, "succeeded": summary.succeeded,
            "failed": summary.failed, "given_up": summary.given_up,
            "input_tokens": summary.input_tokens, "output_tokens": summary.output_tokens,
            "cost_usd": cost, "realtime_cost_usd": realtime,
        }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _safe(error: BaseException) -> str:
    """An error's text for the runs table; batchsql's own messages carry no secrets."""
    return str(error) if isinstance(error, BatchsqlError) else type(error).__name__
