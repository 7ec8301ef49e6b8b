"""One run of one spec: collect what finished, select what is pending, submit it, maybe wait.

This is the only module that talks to both the warehouse and the provider. Everything it decides
comes from the pure modules (plan, prompts, reconcile, sql); everything it remembers goes to the
warehouse (state), so a run killed at any point is resumed by the next one.
"""

from __future__ import annotations

import getpass
import itertools
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import SqlglotError

from batchsql import outputs, plan, sql
from batchsql.errors import BatchsqlError, ProviderError, SpecError
from batchsql.pricing import BATCH_DISCOUNT, price_of
from batchsql.prompts import Prompt, compile_prompt
from batchsql.providers.base import BatchInfo, Provider
from batchsql.reconcile import (
    CANCELLED,
    EXPIRED,
    FAILED,
    MISSING,
    parse_line,
)
from batchsql.spec import Spec, line_of, output_schema
from batchsql.spool import ChunkWriter
from batchsql.state import State, ensure_table, now
from batchsql.warehouses.base import Warehouse

Event = Callable[[str, dict[str, Any]], None]

#: Rows read, rendered and written per Arrow batch: bounds memory whatever the table size.
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
    given_up: int = 0
    in_flight: int = 0
    unknown_lines: int = 0
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
    """Runs one spec against one warehouse and one provider."""

    def __init__(self, spec: Spec, wh: Warehouse, provider: Provider, *, work_dir: Path,
                 target_name: str = "", poll_interval: float = 5.0,
                 on_event: Event = _ignore) -> None:
        self.spec = spec
        self.wh = wh
        self.provider = provider
        self.spool = work_dir / "spool"
        self.target_name = target_name
        self.poll_interval = poll_interval
        self.emit = on_event
        self.prompt: Prompt = compile_prompt(spec)
        self.output = sql.parse_table(spec.output.table, wh.dialect)
        self.state = State(wh, self.output)
        self.stage = sql.sibling(self.output, f"_batchsql_{self.output.name}_stage")
        self.collect_stage = sql.sibling(self.output, f"_batchsql_{self.output.name}_collect")
        self.view = sql.sibling(self.output, f"{self.output.name}_current")
        self.key = list(spec.source.key)
        self.price = price_of(spec.model)
        self.url = plan.CHAT_COMPLETIONS
        self.schema = output_schema(spec)
        self._key_types: list[tuple[str, exp.DataType]] = []
        self._source: exp.Query | None = None

    # -- the whole run -------------------------------------------------------------------

    def run(self, *, wait: bool = True, max_wait: float | None = None) -> RunSummary:
        """Collect, select, submit; with ``wait``, poll until nothing is in flight."""
        summary = RunSummary(run_id=uuid.uuid4().hex[:16], spec=self.spec.name)
        self.prepare()
        self.state.start_run({
            "run_id": summary.run_id, "spec": self.spec.name, "spec_path": self.spec.path,
            "target": self.target_name, "user_name": _user(), "host": socket.gethostname(),
        })
        try:
            self.collect(summary)
            self.submit(summary)
            if wait:
                self.wait(summary, max_wait=max_wait)
            summary.in_flight = len(self.state.open_batches(self.spec.name))
            summary.given_up = self.count_given_up()
        except BaseException as e:
            self.state.finish_run(summary.run_id, status="error", error=_safe(e),
                                  **self._run_figures(summary))
            raise
        self.state.finish_run(summary.run_id, status="ok", **self._run_figures(summary))
        self.emit("done", {"summary": summary})
        return summary

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
            *((n, sql.dtype(t, self.wh.dialect)) for n, t in
              (("_fingerprint", "varchar"), ("_body", "varchar"), ("_est_tokens", "bigint"),
               ("_error", "varchar"))),
        ]))
        for batch in self.wh.stream(query, batch_size=ROWS_PER_SLICE):
            self.wh.insert_arrow(self.stage, self._render_batch(batch))
        duplicates = self.wh.fetch(sql.duplicate_keys(self.stage, self.key))
        if duplicates:
            shown = ", ".join(str(row[:-1] if len(self.key) > 1 else row[0])
                              for row in duplicates)
            raise SpecError(
                f"source.key ({', '.join(self.key)}) does not identify rows: duplicate or NULL "
                f"keys such as {shown}", path=self.spec.path,
                line=line_of(self.spec, "source", "key"),
                hint="pick columns that are unique and never NULL")

    def _render_batch(self, batch: pa.RecordBatch) -> pa.Table:
        fingerprints, bodies, tokens, errors = [], [], [], []
        for row in batch.to_pylist():
            try:
                messages = self.prompt.render(row)
            except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as e:
                # A row that cannot render is an outcome, not a crash: it fails, and is retried
                # (and given up) like any other failure.
                message = f"template error: {e}"
                fingerprints.append(plan.fingerprint(self.url, message))
                bodies.append(None)
                tokens.append(0)
                errors.append(message)
                continue
            body = plan.canonical_json(plan.build_chat_body(
                self.spec.model, messages, self.spec.params, self.schema, self.spec.name))
            fingerprints.append(plan.fingerprint(self.url, body))
            bodies.append(body)
            tokens.append(plan.estimate_input_tokens(body))
            errors.append(None)
        return pa.table({
            **{k: batch.column(k) for k in self.key},
            "_fingerprint": pa.array(fingerprints, pa.string()),
            "_body": pa.array(bodies, pa.string()),
            "_est_tokens": pa.array(tokens, pa.int64()),
            "_error": pa.array(errors, pa.string()),
        })

    def pending_query(self) -> exp.Select:
        return sql.pending_rows(self.stage, self.output, self.state.requests, self.state.batches,
                                self.key, self.spec.max_attempts)

    def count_given_up(self) -> int:
        return int(self.wh.fetch(sql.given_up(self.stage, self.output, self.key,
                                              self.spec.max_attempts))[0][0])

    def submit(self, summary: RunSummary) -> None:
        """Render, select pending rows, and submit them in chunks under the provider's limits."""
        self.emit("rendering", {})
        self.render_stage()
        pending = self.pending_query()
        count = exp.select(exp.Count(this=exp.Star())).from_(pending.subquery("p"))
        summary.selected = int(self.wh.fetch(count)[0][0])
        self.emit("selected", {"rows": summary.selected})
        if not summary.selected:
            return
        writer = ChunkWriter(
            self.provider.limits(), self.spool, self.url, self.key,
            on_chunk=lambda *chunk: self.submit_chunk(summary, *chunk),
            on_not_sent=lambda rows: self.write_not_sent(summary, rows))
        for batch in self.wh.stream(pending, batch_size=ROWS_PER_SLICE):
            writer.add(batch)
        writer.finish()

    def submit_chunk(self, summary: RunSummary, batch_uuid: str, path: Path,
                     requests: pa.Table, size: int, est_tokens: int) -> None:
        """Record the intent, then upload and create one provider batch."""
        chunk = summary.batches_submitted
        self.state.record_intent({
            "batch_uuid": batch_uuid, "spec": self.spec.name,
            "output_table": self.spec.output.table, "run_id": summary.run_id, "chunk": chunk,
            "provider": self.provider.name,
            "endpoint": self.url, "model": self.spec.model, "request_count": requests.num_rows,
            "input_bytes": size, "est_input_tokens": est_tokens,
        }, requests)
        metadata = {"batchsql_spec": self.spec.name, "batchsql_run": summary.run_id,
                    "batchsql_batch": batch_uuid, "batchsql_chunk": str(chunk)}
        try:
            info = self.provider.submit(path, endpoint=self.url, metadata=metadata)
        except ProviderError as e:
            # Not submitted: its rows are pending again on the next run.
            self.state.update_batch(batch_uuid, status="abandoned", error=_safe(e))
            raise
        self.state.update_batch(batch_uuid, status=sql.SUBMITTED, provider_batch_id=info.id,
                                provider_status=info.status, input_file_id=info.input_file_id,
                                submitted_at=now())
        path.unlink(missing_ok=True)
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

    # -- collecting -----------------------------------------------------------------------

    def collect(self, summary: RunSummary) -> int:
        """Collect every batch of this spec that the provider has finished; returns how many."""
        finished = 0
        for batch in self.state.open_batches(self.spec.name):
            info = self._refresh(batch)
            if info is None or not info.terminal:
                continue
            self.collect_batch(summary, batch, info)
            finished += 1
        return finished

    def _refresh(self, batch: dict[str, Any]) -> BatchInfo | None:
        if batch["status"] == sql.INTENT:
            # Killed between recording the intent and learning the provider's batch id.
            self.state.update_batch(batch["batch_uuid"], status="abandoned",
                                    error="interrupted before the provider confirmed the batch")
            return None
        try:
            info = self.provider.retrieve(batch["provider_batch_id"])
        except ProviderError as e:
            if e.transient:
                self.emit("warning", {"message": f"could not poll {batch['provider_batch_id']}: "
                                                 f"{e}; will retry"})
                return None
            raise
        if info.status != batch["provider_status"]:
            self.state.update_batch(batch["batch_uuid"], provider_status=info.status)
            batch["provider_status"] = info.status
        self.emit("polled", {"batch": info.id, "status": info.status, "total": info.total,
                             "completed": info.completed, "failed": info.failed})
        return info

    def collect_batch(self, summary: RunSummary, batch: dict[str, Any], info: BatchInfo) -> None:
        """Download a finished batch's files and write one outcome row per request, once."""
        folder = self.spool / batch["batch_uuid"]
        files = [self.provider.download(fid, folder / f"{name}.jsonl")
                 for name, fid in (("output", info.output_file_id), ("errors", info.error_file_id))
                 if fid]
        self.wh.execute(sql.drop_table(self.collect_stage))
        self.wh.execute(sql.create_table(self.collect_stage,
                                         outputs.outcome_columns(self.spec, self.wh.dialect)))
        for lines in _slices(files):
            outcomes = [parse_line(line, self.spec.output.columns) for line in lines]
            self.wh.insert_arrow(self.collect_stage,
                                 outputs.outcome_table(self.spec, outcomes, self.price))
        missing_status, missing_error = _missing_reason(info)
        stamp = now()
        with self.wh.transaction():
            # Delete-then-insert inside one transaction: collecting a batch twice adds nothing.
            self.wh.execute(sql.delete_where(self.output, sql.col("_batch_id").eq(sql.param())),
                            [info.id])
            values = [n for n, _ in outputs.value_columns(self.spec)]
            self.wh.execute(
                sql.insert_outcomes(self.output, self.collect_stage, self.state.requests,
                                    self.key, values),
                [info.id, self.spec.model, summary.run_id, batch["submitted_at"], stamp,
                 batch["batch_uuid"]])
            self.wh.execute(
                sql.insert_missing(self.output, self.collect_stage, self.state.requests,
                                   self.key),
                [missing_status, missing_error, info.id, self.spec.model, summary.run_id,
                 batch["submitted_at"], stamp, batch["batch_uuid"]])
            figures = self._batch_figures(info.id)
            self.state.update_batch(batch["batch_uuid"], status=sql.COLLECTED,
                                    provider_status=info.status,
                                    output_file_id=info.output_file_id,
                                    error_file_id=info.error_file_id, collected_at=stamp,
                                    **figures["batch"])
        unknown = int(self.wh.fetch(sql.unknown_lines(self.collect_stage, self.state.requests),
                                    [batch["batch_uuid"]])[0][0])
        for path in files:
            path.unlink(missing_ok=True)
        if folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
        summary.collected_batches += 1
        summary.unknown_lines += unknown
        for status, n in figures["by_status"].items():
            summary.outcomes[status] = summary.outcomes.get(status, 0) + n
        summary.input_tokens += figures["batch"]["input_tokens"]
        summary.output_tokens += figures["batch"]["output_tokens"]
        self.emit("collected", {"batch": info.id, "status": info.status,
                                "outcomes": figures["by_status"], "unknown": unknown})

    def _batch_figures(self, provider_batch_id: str) -> dict[str, Any]:
        rows = self.wh.fetch(sql.outcome_figures(self.output, one_batch=True), [provider_batch_id])
        by_status = {r[0]: int(r[1]) for r in rows}
        input_tokens = sum(int(r[2] or 0) for r in rows)
        output_tokens = sum(int(r[3] or 0) for r in rows)
        cost = self.price.cost(input_tokens, output_tokens) if self.price else None
        return {"by_status": by_status, "batch": {
            "succeeded": by_status.get("succeeded", 0),
            "failed": sum(n for s, n in by_status.items() if s != "succeeded"),
            "input_tokens": input_tokens, "output_tokens": output_tokens, "cost_usd": cost}}

    # -- waiting --------------------------------------------------------------------------

    def wait(self, summary: RunSummary, *, max_wait: float | None = None) -> None:
        """Poll with backoff (0.5 s growing to ``poll_interval``) until nothing is in flight."""
        started = time.monotonic()
        delay = min(0.5, self.poll_interval)
        while self.state.open_batches(self.spec.name):
            if max_wait is not None and time.monotonic() - started >= max_wait:
                self.emit("warning", {"message": "stopped waiting; a later run will collect"})
                return
            time.sleep(delay)
            delay = min(delay * 1.5, self.poll_interval)
            self.collect(summary)

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


def source_query(spec: Spec, dialect: str | None) -> exp.Query:
    """The spec's source as a sqlglot query; a parse error names the spec line."""
    src = spec.source
    try:
        return sql.select_source(src.sql, src.table, dialect)
    except (SqlglotError, ValueError) as e:
        name = "sql" if src.sql is not None else "table"
        raise SpecError(f"source {name} does not parse: {e}", path=spec.path,
                        line=line_of(spec, "source", name)) from e


def check_source(spec: Spec, prompt: Prompt,
                 wh: Warehouse) -> tuple[exp.Query, list[tuple[str, str]]]:
    """Describe the source in the warehouse and check keys and template variables against it."""
    query = source_query(spec, wh.dialect)
    field_name = "sql" if spec.source.sql is not None else "table"
    try:
        described = wh.describe(query)
    except BatchsqlError as e:
        raise SpecError(f"the warehouse cannot run the source: {e}", path=spec.path,
                        line=line_of(spec, "source", field_name)) from e
    names = [n for n, _ in described]
    missing = [k for k in spec.source.key if k not in names]
    if missing:
        raise SpecError(
            f"key column '{missing[0]}' is not a column of the source; columns are: "
            f"{', '.join(names)}", path=spec.path, line=line_of(spec, "source", "key"))
    prompt.check_columns(names)
    return query, described


def _slices(paths: list[Path], size: int = ROWS_PER_SLICE) -> Iterator[list[bytes]]:
    """Non-empty lines of the files, a slice at a time."""
    for path in paths:
        with open(path, "rb") as handle:
            while True:
                lines = [line for line in itertools.islice(handle, size) if line.strip()]
                if not lines:
                    break
                yield lines


def _missing_reason(info: BatchInfo) -> tuple[str, str]:
    """Status and error for requests that came back with no line at all."""
    if info.status == "failed":
        detail = "; ".join(f"line {e.get('line')}: {e.get('code')}: {e.get('message')}"
                           if e.get("line") else f"{e.get('code')}: {e.get('message')}"
                           for e in info.errors[:5]) or "no reason given"
        return FAILED, f"batch failed: {detail}"
    if info.status == "expired":
        return EXPIRED, "batch expired before this request ran"
    if info.status == "cancelled":
        return CANCELLED, "batch was cancelled before this request ran"
    return MISSING, "the provider returned no result line for this request"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _safe(error: BaseException) -> str:
    """An error's text for the runs table; batchsql's own messages carry no secrets."""
    return str(error) if isinstance(error, BatchsqlError) else type(error).__name__
