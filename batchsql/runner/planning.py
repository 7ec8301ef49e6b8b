"""A dry run: what `batchsql run` would send and what it would cost, with nothing written.

The warehouse is opened read-only; the rendered rows are staged in scratch tables outside it,
and the chunking and budget are the run's own code with files and the provider left out.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from batchsql import outputs, sql, tokens
from batchsql.bodies import BodyFile
from batchsql.estimate import OutputEstimate
from batchsql.pricing import Price
from batchsql.runner.source import ROWS_PER_SLICE, Renderer, check_source, render_stage
from batchsql.spool import ChunkWriter
from batchsql.state import BATCH_COLUMNS, REQUEST_META, State, ensure_table

if TYPE_CHECKING:
    from batchsql.runner.core import Runner


@dataclass
class Sample:
    """One request as it would be sent: the row's key and the request body."""

    key: dict[str, Any]
    body: dict[str, Any]


@dataclass
class Plan:
    """The figures of a dry run. Costs are None when the model's price is unknown."""

    spec: str
    model: str
    endpoint: str
    output_table: str
    source_rows: int = 0
    answered: int = 0
    in_flight: int = 0
    given_up: int = 0
    pending: int = 0
    reused: int = 0
    reused_tokens: int = 0
    requests: int = 0
    shared: int = 0
    shared_tokens: int = 0
    not_sendable: int = 0
    batches: int = 0
    input_bytes: int = 0
    input_tokens: int = 0
    tokens_exact: bool = False
    output: OutputEstimate = field(default_factory=lambda: OutputEstimate(0, None, ""))
    price: Price | None = None
    max_cost_usd: float | None = None
    #: With a budget: requests that fit in it, and rows left for a later run.
    fits: int = 0
    over_budget: int = 0
    budget_cost_usd: float | None = None
    token_limit: int | None = None
    samples: list[Sample] = field(default_factory=list)

    @property
    def output_tokens_expected(self) -> int:
        return self.requests * self.output.expected

    @property
    def output_tokens_max(self) -> int | None:
        return None if self.output.maximum is None else self.requests * self.output.maximum

    def cost(self, *, batch: bool = True, maximum: bool = False) -> float | None:
        """Dollars for the requests to send: expected, or the maximum (None: unbounded)."""
        out = self.output_tokens_max if maximum else self.output_tokens_expected
        if self.price is None or out is None:
            return None
        return self.price.cost(self.input_tokens, out, batch=batch)

    @property
    def saved_usd(self) -> float | None:
        """What the shared and reused rows would have cost as requests of their own."""
        if self.price is None:
            return None
        rows = self.shared + self.reused
        return self.price.cost(self.shared_tokens + self.reused_tokens,
                               rows * self.output.expected)


def make_plan(r: Runner, *, show: int = 0) -> Plan:
    """Render the spec's rows, select what is pending, and count what a run would send."""
    wh = r.wh
    result = Plan(spec=r.spec.name, model=r.spec.model, endpoint=r.url,
                  output_table=r.spec.output.table, price=r.price, max_cost_usd=r.max_cost,
                  tokens_exact=tokens.is_exact(r.spec.model), token_limit=r.limits.max_tokens)
    source, described = check_source(r.spec, r.prompt, wh)
    types = dict(described)
    key_types = [(k, sql.dtype(types[k], wh.dialect)) for k in r.key]
    _read_through_scratch(r, key_types)
    r.stage = wh.scratch_table(f"_batchsql_plan_{r.output.name}_stage")
    inputs = wh.scratch_table(f"_batchsql_plan_{r.output.name}_input")
    # A plan's figures are exact: it counts every row's tokens (a run samples them).
    renderer = Renderer(r.spec, r.prompt, r.url, exact=True)
    wh.execute(sql.drop_table(r.stage))  # a stale one from an interrupted plan
    r.run_id = "plan"
    # The bodies go to a temporary file outside the project: a plan writes nothing there.
    with BodyFile(Path(tempfile.gettempdir())) as r.bodies:
        render_stage(wh, r.spec, r.prompt, renderer, source, r.stage, inputs, described,
                     key_types, r.phases, r.bodies, r.run_id)
        try:
            _count(r, result, show)
        finally:
            wh.execute(sql.drop_table(r.stage))
    return result


def _count(r: Runner, result: Plan, show: int) -> None:
    wh = r.wh
    result.source_rows = _one(wh, sql.count_rows(r.stage))
    result.answered = _one(wh, sql.answered_rows(r.stage, r.output, r.key))
    result.in_flight = _one(wh, sql.rows_in_flight(r.stage, r.state.requests, r.state.batches,
                                                   r.key))
    result.given_up = r.count_given_up()
    pending = sql.pending_rows(r.stage, r.output, r.state.requests, r.state.batches, r.key,
                               r.spec.max_attempts)
    result.pending = _one(wh, sql.count_rows(pending))
    if r.spec.dedup:
        reusable = wh.fetch(sql.reusable_figures(pending, r.output))[0]
        result.reused, result.reused_tokens = int(reusable[0]), int(reusable[1] or 0)
    to_send = sql.pending_rows(r.stage, r.output, r.state.requests, r.state.batches, r.key,
                               r.spec.max_attempts, skip_answered=r.spec.dedup)
    result.output = r.output_estimate()

    def on_chunk(_uuid: str, _path: object, _requests: pa.Table, size: int, _tokens: int) -> None:
        result.batches += 1
        result.input_bytes += size

    def on_not_sent(rows: pa.Table) -> None:
        result.not_sendable += rows.num_rows

    # The figures are for everything pending; a budget is then checked in a second pass.
    budget, r.max_cost = r.max_cost, None
    writer = _dry_pass(r, to_send, on_chunk, on_not_sent)
    result.requests, result.shared = writer.requests, writer.shared
    result.shared_tokens = writer.shared_tokens
    result.input_tokens = writer.tokens_sent
    r.max_cost = budget
    if budget is not None and r.price is not None:
        within = _dry_pass(r, to_send, lambda *_: None, lambda _: None)
        result.fits, result.over_budget = within.requests, within.over_budget
        result.budget_cost_usd = within.est_cost
    if show > 0:
        assert r.bodies is not None
        query = sql.sample_requests(
            sql.requests_to_send(to_send, r.stage, r.key, dedup=r.spec.dedup, ordered=True),
            r.key, show)
        for batch in wh.stream(query):
            rows = r.bodies.attach(batch, r.run_id).to_pylist()
            result.samples += [Sample({k: row[k] for k in r.key}, json.loads(row["_body"]))
                               for row in rows]


def _dry_pass(r: Runner, pending: exp.Select, on_chunk: Any, on_not_sent: Any) -> ChunkWriter:
    """Chunk the pending rows as a run would, writing nothing."""
    from batchsql.runner.core import RunSummary

    writer = r.writer(RunSummary(run_id="plan", spec=r.spec.name), on_chunk=on_chunk,
                      on_not_sent=on_not_sent, dry=True, shared=r.shared_rows(pending, []))
    query = sql.requests_to_send(pending, r.stage, r.key, dedup=r.spec.dedup,
                                 ordered=r.max_cost is not None)
    assert r.bodies is not None
    for batch in r.wh.stream(query, batch_size=ROWS_PER_SLICE):
        writer.add(r.bodies.attach(batch, r.run_id))
    writer.finish()
    return writer


def _read_through_scratch(r: Runner, key_types: list[tuple[str, exp.DataType]]) -> None:
    """Point the runner at tables a read-only plan can query, whatever exists yet.

    A table that does not exist becomes an empty scratch table; one an older batchsql made,
    without some of today's columns, is read through a scratch view that adds them as NULLs.
    """
    wh, d = r.wh, r.wh.dialect
    state = State(wh, r.output)
    wanted = {
        "output": (r.output, outputs.output_columns(r.spec, key_types, d)),
        "requests": (state.requests,
                     [*key_types, *((n, sql.dtype(t, d)) for n, t in REQUEST_META)]),
        "batches": (state.batches, [(n, sql.dtype(t, d)) for n, t in BATCH_COLUMNS]),
    }
    readable: dict[str, exp.Table] = {}
    for role, (table, columns) in wanted.items():
        existing = wh.table_columns(table)
        if existing is not None and {c.lower() for c in existing} >= {
                n.lower() for n, _ in columns}:
            readable[role] = table
            continue
        scratch = wh.scratch_table(f"_batchsql_plan_{table.name}")
        if existing is None:
            ensure_table(wh, scratch, columns)
        else:
            # Qualified in full: the view lives in another database than the table.
            source = table.copy()
            if not source.catalog:
                current = wh.fetch(sql.current_catalog(d))[0][0]
                source.set("catalog", exp.to_identifier(current, quoted=True))
            wh.execute(sql.padded_view(scratch, source, existing, columns))
        readable[role] = scratch
    r.output = readable["output"]
    r.state.requests, r.state.batches = readable["requests"], readable["batches"]


def _one(wh: Any, query: exp.Expression) -> int:
    return int(wh.fetch(query)[0][0] or 0)
