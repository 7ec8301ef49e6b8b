"""System tables, read and written through a Warehouse.

They live beside the output table, so any machine with the same warehouse can resume any run:

- ``_batchsql_batches``: one row per provider batch; the intent is recorded *before* upload.
- ``_batchsql_runs``: one row per run: who, when, what was selected, submitted, collected, spent.
- ``_batchsql_<output>_requests``: custom_id -> key, fingerprint and attempt, per batch.

Columns are only ever added, never changed or dropped, so older rows stay readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.warehouses.base import Warehouse

BATCH_COLUMNS: list[tuple[str, str]] = [
    ("batch_uuid", "varchar"), ("spec", "varchar"), ("output_table", "varchar"),
    ("run_id", "varchar"), ("chunk", "int"), ("provider", "varchar"), ("endpoint", "varchar"),
    ("model", "varchar"), ("status", "varchar"), ("provider_batch_id", "varchar"),
    ("provider_status", "varchar"), ("input_file_id", "varchar"), ("output_file_id", "varchar"),
    ("error_file_id", "varchar"), ("request_count", "bigint"), ("input_bytes", "bigint"),
    ("est_input_tokens", "bigint"), ("succeeded", "bigint"), ("failed", "bigint"),
    ("input_tokens", "bigint"), ("output_tokens", "bigint"), ("cost_usd", "double"),
    ("error", "varchar"), ("created_at", "timestamp"), ("submitted_at", "timestamp"),
    ("collected_at", "timestamp"), ("unknown_lines", "bigint"), ("duplicates", "varchar"),
    # True: the batch came from its intent's only create, answered at the first request, so
    # no other batch can carry the intent (see runner/submit.py); NULL: it may.
    ("sole_create", "boolean"),
]

RUN_COLUMNS: list[tuple[str, str]] = [
    ("run_id", "varchar"), ("spec", "varchar"), ("spec_path", "varchar"), ("target", "varchar"),
    ("user_name", "varchar"), ("host", "varchar"), ("status", "varchar"),
    ("started_at", "timestamp"), ("finished_at", "timestamp"), ("selected", "bigint"),
    ("submitted", "bigint"), ("batches_submitted", "bigint"), ("batches_collected", "bigint"),
    ("succeeded", "bigint"), ("failed", "bigint"), ("given_up", "bigint"),
    ("input_tokens", "bigint"), ("output_tokens", "bigint"), ("cost_usd", "double"),
    ("realtime_cost_usd", "double"), ("error", "varchar"), ("shared", "bigint"),
    ("reused", "bigint"), ("saved_usd", "double"), ("est_cost_usd", "double"),
    ("max_cost_usd", "double"), ("over_budget", "bigint"),
]

REQUEST_META: list[tuple[str, str]] = [
    ("_batch_uuid", "varchar"), ("_custom_id", "varchar"), ("_fingerprint", "varchar"),
    ("_attempt", "int"), ("_created_at", "timestamp"),
    # False for keys that share another key's line (same fingerprint, sent once).
    ("_primary", "boolean"),
]


def now() -> dt.datetime:
    """Naive UTC: every timestamp batchsql stores is UTC."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def ensure_table(wh: Warehouse, table: exp.Table,
                 columns: Sequence[tuple[str, exp.DataType]]) -> None:
    """Create a table, or add the columns an older batchsql did not know about."""
    existing = wh.table_columns(table)
    if existing is None:
        wh.execute(sql.create_table(table, columns))
        return
    have = {c.lower() for c in existing}
    for name, kind in columns:
        if name.lower() not in have:
            wh.execute(sql.add_column(table, name, kind, wh.dialect))


def insert_row(wh: Warehouse, table: exp.Table, row: dict[str, Any]) -> None:
    """Insert one row, every value a bound parameter."""
    values = exp.Values(expressions=[exp.Tuple(expressions=[sql.param() for _ in row])])
    wh.execute(sql.insert_select(table, list(row), values), list(row.values()))


def update_row(wh: Warehouse, table: exp.Table, key: str, key_value: Any,
               values: dict[str, Any]) -> None:
    """UPDATE one row by its id column, every value a bound parameter."""
    statement = sql.update(table, {k: sql.param() for k in values},
                           sql.col(key).eq(sql.param()))
    wh.execute(statement, [*values.values(), key_value])


class State:
    """The system tables of one output table's schema."""

    def __init__(self, wh: Warehouse, output: exp.Table) -> None:
        self.wh = wh
        self.output = output
        self.batches = sql.sibling(output, "_batchsql_batches")
        self.runs = sql.sibling(output, "_batchsql_runs")
        self.requests = sql.sibling(output, f"_batchsql_{output.name}_requests")

    def ensure(self, key_columns: Sequence[tuple[str, exp.DataType]]) -> None:
        """Create the schema and system tables (idempotent)."""
        schema = sql.create_schema(self.output)
        if schema is not None:
            self.wh.execute(schema)
        d = self.wh.dialect
        ensure_table(self.wh, self.batches, [(n, sql.dtype(t, d)) for n, t in BATCH_COLUMNS])
        ensure_table(self.wh, self.runs, [(n, sql.dtype(t, d)) for n, t in RUN_COLUMNS])
        ensure_table(self.wh, self.requests,
                     [*key_columns, *((n, sql.dtype(t, d)) for n, t in REQUEST_META)])

    def record_intent(self, batch: dict[str, Any], requests: pa.Table) -> None:
        """Write a batch's intent and its request map together, before any upload.

        The map goes first: on a warehouse without transactions, a crash in between leaves a
        map no batch row points to (ignored), never an intent without its map.
        """
        with self.wh.transaction():
            self.wh.insert_arrow(self.requests, requests)
            insert_row(self.wh, self.batches, {**batch, "status": sql.INTENT,
                                               "created_at": now()})

    def update_batch(self, batch_uuid: str, **values: Any) -> None:
        update_row(self.wh, self.batches, "batch_uuid", batch_uuid, values)

    def open_batches(self, output_table: str) -> list[dict[str, Any]]:
        """Batches for an output table that were submitted (or intended), not yet collected.

        Keyed by output table, not spec name: the request map belongs to the output table, so
        renaming a spec must not strand the batches its earlier runs left in flight.
        """
        return self._batches("output_table", output_table, sql.col("status").isin(
            *(exp.Literal.string(s) for s in sql.OPEN_STATUSES)))

    def open_batches_of_spec(self, spec: str) -> list[dict[str, Any]]:
        """Open batches a spec submitted, whatever output table they were for."""
        return self._batches("spec", spec, sql.col("status").isin(
            *(exp.Literal.string(s) for s in sql.OPEN_STATUSES)))

    def all_batches(self, output_table: str) -> list[dict[str, Any]]:
        return self._batches("output_table", output_table, None)

    def _batches(self, by: str, value: str,
                 condition: exp.Expression | None) -> list[dict[str, Any]]:
        names = [n for n, _ in BATCH_COLUMNS]
        query = (exp.select(*(sql.col(n) for n in names)).from_(self.batches.copy())
                 .where(sql.col(by).eq(sql.param()))
                 .order_by(sql.col("created_at"), sql.col("chunk")))
        if condition is not None:
            query = query.where(condition)
        return [dict(zip(names, row, strict=True)) for row in self.wh.fetch(query, [value])]

    def tokens_in_flight(self, model: str) -> int:
        """Estimated input tokens of this schema's open batches for a model (all specs)."""
        query = (exp.select(exp.Coalesce(this=exp.Sum(this=sql.col("est_input_tokens")),
                                         expressions=[exp.Literal.number(0)]))
                 .from_(self.batches.copy())
                 .where(sql.col("model").eq(sql.param()))
                 .where(sql.col("status").isin(
                     *(exp.Literal.string(s) for s in sql.OPEN_STATUSES))))
        return int(self.wh.fetch(query, [model])[0][0])

    def start_run(self, run: dict[str, Any]) -> None:
        insert_row(self.wh, self.runs, {**run, "status": "running", "started_at": now()})

    def finish_run(self, run_id: str, **values: Any) -> None:
        update_row(self.wh, self.runs, "run_id", run_id, {**values, "finished_at": now()})

    def last_run(self, spec: str) -> dict[str, Any] | None:
        """The latest run of a spec that submitted or collected anything, or None."""
        names = [n for n, _ in RUN_COLUMNS]
        query = (exp.select(*(sql.col(n) for n in names)).from_(self.runs.copy())
                 .where(sql.col("spec").eq(sql.param()))
                 .where(exp.or_(sql.col("batches_submitted") > 0, sql.col("reused") > 0))
                 .order_by(exp.Ordered(this=sql.col("started_at"), desc=True)).limit(1))
        rows = self.wh.fetch(query, [spec])
        return dict(zip(names, rows[0], strict=True)) if rows else None

    def run_spend(self, run_id: str) -> tuple[float | None, int]:
        """Actual cost of the batches a run submitted (collected ones), and how many are open."""
        open_ = exp.Case(ifs=[exp.If(this=sql.col("status").isin(
            *(exp.Literal.string(s) for s in sql.OPEN_STATUSES)), true=exp.Literal.number(1))],
            default=exp.Literal.number(0))
        query = (exp.select(exp.Sum(this=sql.col("cost_usd")), exp.Sum(this=open_))
                 .from_(self.batches.copy()).where(sql.col("run_id").eq(sql.param())))
        cost, still_open = self.wh.fetch(query, [run_id])[0]
        return (None if cost is None else float(cost)), int(still_open or 0)
