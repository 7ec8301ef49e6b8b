"""The run itself: prepare tables, collect, select pending rows, submit passes, wait."""

from __future__ import annotations

import contextlib
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
import pyarrow.compute as pc
from sqlglot import exp

from batchsql import outputs, plan, sql, stage_sql
from batchsql.bodies import BodyFile
from batchsql.errors import BatchsqlError, SpecError
from batchsql.estimate import OutputEstimate, output_estimate
from batchsql.lock import SpecLock
from batchsql.pricing import Price, price_of
from batchsql.prompts import Prompt, compile_prompt
from batchsql.providers.base import Provider
from batchsql.reconcile import FAILED
from batchsql.runner.collect import Collector
from batchsql.runner.source import ROWS_PER_SLICE, Renderer, check_source, render_stage
from batchsql.runner.submit import Submitter
from batchsql.runner.uploads import Uploads
from batchsql.spec import Spec, line_of
from batchsql.spool import ChunkWriter, OnChunk, OnNotSent, count_request_tokens
from batchsql.state import State, ensure_table, now
from batchsql.timings import Phases
from batchsql.warehouses.base import Warehouse

Event = Callable[[str, dict[str, Any]], None]



@dataclass
class Pending:
    """A submit pass's pending rows: a query for them with its parameters, and how many."""

    query: exp.Select
    params: list[Any]
    rows: int = 0


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
    #: Rows that rode on another key's identical request in this run's batches.
    shared: int = 0
    #: Rows answered from an earlier answer to the same request, without a provider call.
    reused: int = 0
    #: Dollars not spent thanks to shared and reused requests (of the outcomes written so far).
    saved_usd: float | None = 0.0
    #: Estimated cost of what this run submitted (None: the model's price is unknown).
    est_cost_usd: float | None = 0.0
    max_cost_usd: float | None = None
    #: Rows left for a later run because the budget would have been passed.
    over_budget: int = 0
    #: Wall time and rows per pipeline phase.
    phases: Phases = field(default_factory=Phases)

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
    submission is paced so that batches in flight never exceed it. ``max_cost`` (else the
    spec's ``max_cost_usd``) caps the estimated dollars one run submits.
    """

    def __init__(self, spec: Spec, wh: Warehouse, provider: Provider | None, *, work_dir: Path,
                 target_name: str = "", poll_interval: float = 5.0,
                 max_requests: int | None = None, token_limit: int | None = None,
                 max_cost: float | None = None, prices: dict[str, Price] | None = None,
                 lock_wait: float = 0.0, on_event: Event = _ignore,
                 limits: plan.Limits | None = None) -> None:
        self.spec = spec
        self.wh = wh
        # None for a dry run (``batchsql plan``), which never calls the provider.
        self.provider: Provider = provider  # type: ignore[assignment]
        self.spool = work_dir / "spool"
        self.target_name = target_name
        self.poll_interval = poll_interval
        # Without a provider, the caller passes the limits the provider's class declares.
        limits = provider.limits() if provider is not None else limits
        if limits is None:
            raise ValueError("a Runner needs a provider or the provider's limits")
        self.limits = plan.Limits(
            max_requests=min(limits.max_requests, max_requests or limits.max_requests),
            max_bytes=limits.max_bytes, max_tokens=token_limit)
        self.lock_wait = lock_wait
        self.emit = on_event
        self.prompt: Prompt = compile_prompt(spec)
        self.output = sql.parse_table(spec.output.table, wh.dialect)
        self.state = State(wh, self.output)
        self.stage = sql.sibling(self.output, f"_batchsql_{self.output.name}_stage")
        # Both live for one step of the run: temporary where the warehouse has such tables.
        collect = sql.sibling(self.output, f"_batchsql_{self.output.name}_collect")
        inputs = sql.sibling(self.output, f"_batchsql_{self.output.name}_input")
        self.collect_stage = wh.transient_table(collect) or collect
        self.inputs = wh.transient_table(inputs) or inputs
        #: Where a submit pass keeps its pending rows (None: it queries them each time).
        self.snapshot = wh.snapshot_table(
            sql.sibling(self.output, f"_batchsql_{self.output.name}_pending"))
        #: The snapshot's keys, written down before the join that fetches their stage rows.
        self.snapshot_keys = wh.snapshot_table(
            sql.sibling(self.output, f"_batchsql_{self.output.name}_pkeys"))
        self.temporary = self.collect_stage is not collect
        self.view = sql.sibling(self.output, f"{self.output.name}_current")
        self.key = list(spec.source.key)
        self.price = price_of(spec.model, prices)
        self.max_cost = max_cost if max_cost is not None else spec.max_cost_usd
        self.url = plan.request_url(spec)
        self.renderer = Renderer(spec, self.prompt, self.url)
        self.submitter = Submitter(self)
        self.collector = Collector(self)
        self._key_types: list[tuple[str, exp.DataType]] = []
        self._described: list[tuple[str, str]] = []
        self._source: exp.Query | None = None
        self._lock: SpecLock | None = None
        self._last_beat = 0.0
        self.phases = Phases()
        #: Chunks this run has recorded an intent for (each one's number).
        self._chunks = 0
        #: This run's id, and the file of the request bodies it rendered (see bodies.py).
        self.run_id = ""
        self.bodies: BodyFile | None = None

    # -- the whole run -------------------------------------------------------------------

    def run(self, *, wait: bool = True, max_wait: float | None = None) -> RunSummary:
        """Collect, select, submit; with ``wait``, poll until nothing is in flight."""
        summary = RunSummary(run_id=uuid.uuid4().hex[:16], spec=self.spec.name,
                             max_cost_usd=self.max_cost, phases=self.phases)
        self.check_budget()
        self.run_id = summary.run_id
        with self._locked(summary.run_id), BodyFile(self.spool) as self.bodies:
            with self.phases("select"):
                self.prepare()
            self.state.start_run({
                "run_id": summary.run_id, "spec": self.spec.name, "spec_path": self.spec.path,
                "target": self.target_name, "user_name": _user(), "host": socket.gethostname(),
            })
            try:
                self.collector.collect(summary)
                self.emit("rendering", {})
                self.render_stage()
                pending = self.select_pending(exclude_run=False)
                if self.spec.dedup and pending.rows:
                    self.reuse_answers(summary, pending)
                self.submit_pass(summary, first=True, pending=pending)
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

    def heartbeat(self, *, force: bool = False) -> None:
        """Refresh the spec lock (raises LockedError if another run took it over).

        Polling calls this often; unless forced it touches the lock at most every 1/30 of the
        time after which a lock counts as stale (30 s of 15 min). Where an UPDATE is a job of
        its own (Spark rewrites the table), that is one statement saved per poll.
        """
        if self._lock is None:
            return
        if force or time.monotonic() - self._last_beat >= self._lock.stale_after / 30:
            self._lock.heartbeat()
            self._last_beat = time.monotonic()

    def _locked(self, run_id: str) -> SpecLock:
        """The spec's lock: one run of a spec at a time, whatever machine it runs on."""
        self._lock = SpecLock(self.wh, sql.sibling(self.output, "_batchsql_locks"),
                              self.spec.name, run_id, wait=self.lock_wait)
        self._last_beat = time.monotonic()  # acquiring writes a fresh heartbeat
        return self._lock

    def prepare(self) -> None:
        """Check the source against the spec and create the tables (idempotent)."""
        self._source, described = check_source(self.spec, self.prompt, self.wh)
        self._described = described
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

    def render_stage(self, *, redo: exp.Select | None = None,
                     params: list[Any] | None = None) -> None:
        """Bring the stage (each source row's rendered request) up to date with the source.

        ``redo``: a pending-rows query (with its ``params``) whose rows an earlier run
        rendered are rendered again, their bodies then being in this run's body file (see
        ``batchsql.bodies``).
        """
        assert self._source is not None and self.bodies is not None
        again = None
        if redo is not None:
            again = (stage_sql.delete_unspooled(self.stage, redo, self.key),
                     [*(params or []), self.run_id])
        render_stage(self.wh, self.spec, self.prompt, self.renderer, self._source, self.stage,
                     self.inputs, self._described, self._key_types, self.phases, self.bodies,
                     self.run_id, temporary=self.temporary, redo=again)

    def select_pending(self, *, exclude_run: bool) -> Pending:
        """This pass's pending rows: how many, and a query for them.

        Pending rows that an earlier run rendered are rendered again first (rows to retry, rows
        a budget or the token quota left for later): their bodies must be in this run's body
        file. One query counts both. ``exclude_run``: for a later submit pass.

        Where the warehouse has snapshot tables, the pending-rows query (an anti-join of the
        stage with every outcome: the costliest query of a rerun) runs once per pass, and the
        pass reads its result.
        """
        pending = self._snapshot(exclude_run)
        with self.phases("select"):
            total, unspooled = self.wh.fetch(stage_sql.count_pending(pending.query),
                                             [self.run_id, *pending.params])[0]
        if unspooled:
            self.render_stage(redo=pending.query, params=pending.params)
            pending = self._snapshot(exclude_run)
            total = self.count_pending(pending.query, pending.params)
        pending.rows = int(total)
        return pending

    def _snapshot(self, exclude_run: bool) -> Pending:
        params = [self.run_id] if exclude_run else []
        if self.snapshot is None:
            return Pending(self.pending(exclude_run=exclude_run), params)
        keys = self.pending(exclude_run=exclude_run, keys_only=True)
        assert self.snapshot_keys is not None  # the warehouse gives both or neither
        with self.phases("select"):
            self.wh.execute(sql.drop_table(self.snapshot))
            # The keys first, then their stage rows: as one statement (the join beside the
            # anti-joins) DuckDB ran out of memory under the 192MB cap on a 10M-row rerun; in
            # two it took 6.2 s and 0.0 s.
            self.wh.execute(sql.drop_table(self.snapshot_keys))
            self.wh.execute(sql.create_table_as(self.snapshot_keys, keys), params)
            self.wh.execute(sql.create_table_as(self.snapshot, sql.joined_back(
                self.stage, sql.select_all(self.snapshot_keys), self.key)))
            self.wh.execute(sql.drop_table(self.snapshot_keys))
        return Pending(sql.select_all(self.snapshot), [])

    def check_budget(self) -> None:
        """A budget needs a price: refuse to start rather than spend blind."""
        if self.max_cost is not None and self.price is None:
            raise SpecError(
                f"a budget of ${self.max_cost:g} is set but the price of model "
                f"'{self.spec.model}' is unknown", path=self.spec.path,
                line=line_of(self.spec, "max_cost_usd") or line_of(self.spec, "model"),
                hint="add it to the profile target's batchsql settings, e.g. prices: "
                     f"{{{self.spec.model}: {{input: 0.15, output: 0.60}}}} (USD per 1M tokens)")

    def output_estimate(self) -> OutputEstimate:
        """Expected output tokens per request, from earlier answers when there are enough."""
        row = self.wh.fetch(sql.answer_history(self.output))[0]
        history = (int(row[0]), float(row[1])) if row[0] else None
        return output_estimate(self.spec, history)

    def reuse_answers(self, summary: RunSummary, pending: Pending) -> None:
        """Pending rows whose exact request was answered before get that answer, for free.

        They are pending no more: ``pending`` is updated.
        """
        values = [n for n, _ in outputs.value_columns(self.spec)]
        stamp = now()
        with self.phases("write"), self.wh.transaction():
            self.wh.execute(sql.reuse_answers(pending.query, self.output, self.key, values),
                            [*pending.params, summary.run_id, stamp])
            row = self.wh.fetch(sql.reused_figures(self.output), [summary.run_id])[0]
        summary.reused = int(row[0])
        pending.rows -= summary.reused
        if summary.reused and self.snapshot is not None:
            with self.phases("select"):
                self.wh.execute(sql.drop_reused(self.snapshot, self.output, self.key),
                                [summary.run_id])
        if summary.reused:
            summary.outcomes["succeeded"] = summary.outcomes.get("succeeded", 0) + summary.reused
            self.emit("reused", {"rows": summary.reused,
                                 "saved_usd": None if row[1] is None else float(row[1])})

    def count_given_up(self) -> int:
        """Rows whose failures reached max_attempts (they are no longer retried)."""
        attempts = self.spec.max_attempts
        if not self.wh.fetch(sql.any_given_up(self.output, self.key, attempts)):
            return 0
        return int(self.wh.fetch(sql.given_up(self.stage, self.output, self.key,
                                              attempts))[0][0])

    def submit_pass(self, summary: RunSummary, *, first: bool,
                    pending: Pending | None = None) -> int:
        """Submit pending rows under the limits; returns how many rows were left for later.

        Later passes (while waiting, as the token quota frees up) skip rows that already have
        an outcome from this run: a row that failed is retried by the next run, not this one.
        ``pending``: the pass's pending rows, when the caller has just selected them.
        """
        if pending is None:
            pending = self.select_pending(exclude_run=not first)
        try:
            left = self._submit(summary, first, pending)
        except BaseException:
            with contextlib.suppress(BatchsqlError):  # the error to report is the first one
                self._drop_snapshot()
            raise
        self._drop_snapshot()
        return left

    def _drop_snapshot(self) -> None:
        if self.snapshot is not None:
            self.wh.execute(sql.drop_table(self.snapshot))

    def _submit(self, summary: RunSummary, first: bool, pending: Pending) -> int:
        query, params, rows = pending.query, pending.params, pending.rows
        if first:  # rows reused just before were pending too
            summary.selected = rows + summary.reused
            self.emit("selected", {"rows": summary.selected})
        if not rows:
            summary.deferred = 0
            return 0
        with self.phases("select"):
            shared = self.shared_rows(query, params)
        with Uploads(self, summary) as uploads:
            writer = self.writer(
                summary, on_chunk=lambda *chunk: self.submit_chunk(summary, uploads, *chunk),
                on_not_sent=lambda rows: self.write_not_sent(summary, rows), shared=shared)
            self._write_chunks(writer, query, params)
            uploads.finish()
        summary.deferred = writer.deferred
        summary.over_budget = writer.over_budget
        summary.shared += writer.shared
        if summary.est_cost_usd is not None and self.price is not None:
            summary.est_cost_usd += writer.est_cost
        else:
            summary.est_cost_usd = None
        if writer.deferred:
            self.emit("deferred", {"rows": writer.deferred, "limit": self.limits.max_tokens})
        if writer.over_budget:
            self.emit("over_budget", {"rows": writer.over_budget, "budget": self.max_cost,
                                      "committed": summary.est_cost_usd})
        return writer.deferred

    def _write_chunks(self, writer: ChunkWriter, pending: exp.Select,
                      params: list[Any]) -> None:
        """Stream the rows to send into the chunk writer, bodies attached."""
        phases, bodies = self.phases, self.bodies
        assert bodies is not None
        # A budget stops at a row: the same row on every run, so the rows go in key order.
        to_send = sql.requests_to_send(pending, self.stage, self.key, dedup=self.spec.dedup,
                                       ordered=self.max_cost is not None)
        # Each chunk's intent, file and batch are committed as the rows are read.
        rows = self.wh.stream_while_writing(to_send, params, batch_size=ROWS_PER_SLICE)
        with contextlib.closing(rows):  # after an error too, while the connection is open
            for batch in phases.iterate("select", rows):
                phases.count("select", batch.num_rows)
                with phases("encode"):
                    writer.add(bodies.attach(batch, self.run_id))
                phases.count("encode", batch.num_rows)
        with phases("encode"):
            writer.finish()

    def pending(self, *, exclude_run: bool = False, keys_only: bool = False) -> exp.Select:
        """The pending-rows query over this run's stage (see ``sql.pending_rows``)."""
        return sql.pending_rows(self.stage, self.output, self.state.requests, self.state.batches,
                                self.key, self.spec.max_attempts, exclude_run=exclude_run,
                                keys_only=keys_only)

    def count_pending(self, pending: exp.Select, params: list[Any]) -> int:
        """How many rows a pending-rows query selects."""
        with self.phases("select"):
            return int(self.wh.fetch(sql.count_rows(pending), params)[0][0])

    def shared_rows(self, pending: exp.Select, params: list[Any]) -> pa.Table | None:
        """Pending rows whose request another pending row sends (None without dedup)."""
        if not self.spec.dedup:
            return None
        slices = list(self.wh.stream(sql.shared_rows(pending, self.key), params))
        return pa.Table.from_batches(slices) if slices else None

    def writer(self, summary: RunSummary, *, on_chunk: OnChunk, on_not_sent: OnNotSent,
               dry: bool = False, shared: pa.Table | None = None) -> ChunkWriter:
        """A chunk writer with this run's limits, token quota, shared rows and remaining budget.

        ``dry``: write no files and ignore the quota (a plan counts every batch it would send).
        """
        price, out = self.price, self.output_estimate().for_budget
        cost_of = (lambda tokens: price.cost(tokens, out)) if price is not None else None
        budget = None
        if self.max_cost is not None:
            budget = max(0.0, self.max_cost - (summary.est_cost_usd or 0.0))
        # The stage's token counts are estimates (see Renderer); where a budget or a quota
        # decides by them, what is sent is counted exactly (a plan's stage already is).
        exact = not dry and (budget is not None or self.limits.max_tokens is not None)
        return ChunkWriter(self.limits, None if dry else self.spool, self.url, self.key,
                           token_budget=None if dry else self._token_budget(),
                           shared=shared, cost_of=cost_of, cost_budget=budget,
                           count_tokens=count_request_tokens(self.url) if exact else None,
                           on_chunk=on_chunk, on_not_sent=on_not_sent)

    def _token_budget(self) -> int | None:
        """Input tokens that may still be enqueued for this model, if its quota is known."""
        if self.limits.max_tokens is None:
            return None
        return max(0, self.limits.max_tokens - self.state.tokens_in_flight(self.spec.model))

    def submit_chunk(self, summary: RunSummary, uploads: Uploads, batch_uuid: str,
                     path: Path | None, requests: pa.Table, size: int, est_tokens: int) -> None:
        """Record the intent (with its request map), then upload and create its batch."""
        assert path is not None
        # Lines in the file; the request map may hold more rows (keys sharing a line).
        lines = int(pc.sum(requests.column("_primary")).as_py() or 0)
        batch = {
            "batch_uuid": batch_uuid, "spec": self.spec.name,
            "output_table": self.spec.output.table, "run_id": summary.run_id,
            "chunk": self._chunks, "provider": self.provider.name,
            "endpoint": self.url, "model": self.spec.model, "request_count": lines,
            "input_bytes": size, "est_input_tokens": est_tokens,
        }
        with self.phases("upload"):
            self.heartbeat(force=True)  # stop here, before recording, if another run took over
            self.state.record_intent(batch, requests)
            batch.update(status=sql.INTENT, created_at=now())
            self._chunks += 1
            uploads.add(batch, path, lines, requests.num_rows)

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
        with self.phases("write"):
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
            with self.phases("provider"):
                time.sleep(delay)
            delay = min(delay * 1.5, self.poll_interval)
            self.heartbeat()
            if self.collector.collect(summary) and submit and summary.deferred:
                self.submit_pass(summary, first=False)

    def batch_figures(self, provider_batch_id: str, batch_uuid: str) -> dict[str, Any]:
        """Outcome counts, tokens and cost of one collected batch."""
        rows = self.wh.fetch(sql.outcome_figures(self.output, one_batch=True),
                             [provider_batch_id, plan.custom_ids_like(batch_uuid)])
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
            realtime = self.price.cost(summary.input_tokens, summary.output_tokens, batch=False)
        summary.cost_usd, summary.realtime_cost_usd = cost, realtime
        saved = self.wh.fetch(sql.saved_by_run(self.output), [summary.run_id])[0][0]
        summary.saved_usd = None if saved is None and self.price is None else float(saved or 0)
        return {
            "selected": summary.selected, "submitted": summary.submitted,
            "batches_submitted": summary.batches_submitted,
            "batches_collected": summary.collected_batches, "succeeded": summary.succeeded,
            "failed": summary.failed, "given_up": summary.given_up,
            "input_tokens": summary.input_tokens, "output_tokens": summary.output_tokens,
            "cost_usd": cost, "realtime_cost_usd": realtime, "shared": summary.shared,
            "reused": summary.reused, "saved_usd": summary.saved_usd,
            "est_cost_usd": summary.est_cost_usd, "max_cost_usd": summary.max_cost_usd,
            "over_budget": summary.over_budget,
        }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _safe(error: BaseException) -> str:
    """An error's text for the runs table; batchsql's own messages carry no secrets."""
    return str(error) if isinstance(error, BatchsqlError) else type(error).__name__
