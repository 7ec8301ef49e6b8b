"""Every statement batchsql issues, built with representative arguments for one dialect.

The golden SQL tests render this catalogue for each warehouse dialect. Statements come from the
builders in ``batchsql.sql`` and ``batchsql.lock``, and from the real ``State`` and source code
run against a warehouse that only records what it is asked to run (no engine renders SQL for
Snowflake, BigQuery or Databricks here). The arguments are chosen to be awkward: a composite key
with a capitalised, spaced column name, a schema-qualified output table, nested answer columns
and an embedding vector.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql import lock, outputs, sql, stage_sql
from batchsql.runner.source import STAGE_META
from batchsql.spec import Spec, spec_from_dict
from batchsql.state import BATCH_COLUMNS, State, ensure_table
from batchsql.warehouses import snowflake
from batchsql.warehouses.base import Statement, Warehouse

DIALECTS = ("duckdb", "postgres", "spark", "snowflake", "bigquery", "databricks")

KEY = ["Region", "Order ID"]
KEY_TYPES = {"Region": "varchar", "Order ID": "bigint"}
OUTPUT = "analytics.ticket_labels"

#: The example ticket_labels spec, plus a nested array and object column.
LABELS = {
    "name": "ticket_labels",
    "source": {"table": "raw.Tickets", "key": KEY},
    "prompt": {"system": "You label tickets.", "user": "{{ subject }}: {{ body }}"},
    "model": "gpt-4o-mini",
    "output": {"table": OUTPUT, "columns": {
        "label": {"type": "string", "enum": ["billing", "bug", "other"]},
        "priority": {"type": "string", "enum": ["low", "high"]},
        "summary": "string",
        "confidence": "number",
        "urgent": "boolean",
        "tags": {"type": "array", "items": {"type": "string", "enum": ["refund", "crash"]}},
        "customer": {"type": "object", "properties": {
            "language": "string",
            "address": {"type": "object", "properties": {"city": "string", "zip": "string"}},
            "orders": {"type": "array", "items": "integer"}}},
    }},
}
VECTORS = {
    "name": "ticket_vectors", "endpoint": "embeddings",
    "source": {"table": "raw.Tickets", "key": KEY},
    "prompt": {"input": "{{ subject }}: {{ body }}"},
    "model": "text-embedding-3-small",
    "output": {"table": "analytics.ticket_vectors"},
}
ANSWERS = {
    "name": "ticket_answers",
    "source": {"table": "raw.Tickets", "key": KEY},
    "prompt": {"user": "Answer in JSON: {{ body }}"},
    "model": "gpt-4o-mini",
    "output": {"table": "analytics.ticket_answers", "format": "json"},
}


#: A source written in PostgreSQL (``source.dialect: postgres``), as each warehouse runs it.
FROM_POSTGRES = ("select ticket_id::text as ticket_id, subject, body from raw.tickets "
                 "where body ilike '%refund%' and created_at > now() - interval '7 days'")
#: Statements that hold SQL as a user wrote it: its names are quoted as the user quoted them.
USER_SQL = ("source_from_postgres",)


class RecordingWarehouse(Warehouse):
    """A warehouse that records the statements it is given and answers with canned rows."""

    def __init__(self, dialect: str, columns: dict[str, list[str] | None] | None = None) -> None:
        self.dialect = dialect
        self.columns = columns or {}
        self.statements: list[exp.Expression] = []

    @classmethod
    def from_target(cls, target: Any, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> RecordingWarehouse:
        raise AssertionError("a recording warehouse is built directly, never from a profile")

    def _record(self, statement: Statement) -> None:
        assert isinstance(statement, exp.Expression), statement
        self.statements.append(statement)

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self._record(statement)

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._record(statement)
        width = len(statement.selects) if isinstance(statement, exp.Query) else 1
        return [(0,) * width]

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        self._record(statement)
        return iter(())

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        # The catalogue passes source columns in; a describe here would be a catalogue bug.
        raise AssertionError(f"unexpected describe: {statement}")

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        return data.num_rows

    def table_columns(self, table: exp.Table) -> list[str] | None:
        return self.columns.get(table.name)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def close(self) -> None:
        pass


def _one(record: RecordingWarehouse, call: Any) -> exp.Expression:
    """The single statement a call issues."""
    before = len(record.statements)
    call()
    issued = record.statements[before:]
    assert len(issued) == 1, issued
    return issued[0]


def _spec(data: dict[str, Any]) -> Spec:
    return spec_from_dict(data)


def statements(dialect: str) -> dict[str, exp.Expression]:
    """name -> statement, as batchsql would issue it on a warehouse of ``dialect``."""
    labels, vectors, answers = _spec(LABELS), _spec(VECTORS), _spec(ANSWERS)
    output = sql.parse_table(OUTPUT, dialect)
    key_types = [(k, sql.dtype(t, dialect)) for k, t in KEY_TYPES.items()]
    wh = RecordingWarehouse(dialect)
    state = State(wh, output)
    stage = sql.sibling(output, "_batchsql_ticket_labels_stage")
    collect = sql.sibling(output, "_batchsql_ticket_labels_collect")
    view = sql.sibling(output, "ticket_labels_current")
    locks = sql.sibling(output, "_batchsql_locks")
    values = [n for n, _ in outputs.value_columns(labels)]
    out_columns = outputs.output_columns(labels, key_types, dialect)
    pending = sql.pending_rows(stage, output, state.requests, state.batches, KEY, 3)
    source = sql.select_source(None, "raw.Tickets", dialect)
    out: dict[str, exp.Expression] = {}

    # -- DDL: schema, system tables, output tables, stages, views -------------------------
    state.ensure(key_types)
    schema, batches, runs, requests = wh.statements[-4:]
    out.update(create_schema=schema, create_batches=batches, create_runs=runs,
               create_requests=requests)
    older = RecordingWarehouse(dialect, {
        "_batchsql_batches": [n for n, _ in BATCH_COLUMNS[:-1]]})
    out["add_column"] = _one(older, lambda: ensure_table(
        older, state.batches, [(n, sql.dtype(t, dialect)) for n, t in BATCH_COLUMNS]))
    out["create_output_table"] = sql.create_table(output, out_columns)
    out["create_vector_table"] = sql.create_table(
        sql.parse_table(VECTORS["output"]["table"], dialect),
        outputs.output_columns(vectors, key_types, dialect))
    out["create_json_table"] = sql.create_table(
        sql.parse_table(ANSWERS["output"]["table"], dialect),
        outputs.output_columns(answers, key_types, dialect))
    out["create_stage"] = sql.create_table(
        stage, [*key_types, *((n, sql.dtype(t, dialect)) for n, t in STAGE_META)])
    out["create_collect_stage"] = sql.create_table(collect,
                                                   outputs.outcome_columns(labels, dialect))
    if dialect in ("duckdb", "postgres"):  # the warehouses with temporary tables
        out["create_temporary_collect_stage"] = sql.create_table(
            collect, outputs.outcome_columns(labels, dialect), temporary=True)
    out["drop_stage"] = sql.drop_table(stage)
    out["current_view"] = sql.current_view(view, output, KEY,
                                           [n for n, _ in out_columns])
    existing = [n for n, _ in out_columns if n not in ("_dedup", "_saved_usd")]
    out["padded_view"] = sql.padded_view(
        sql.sibling(output, "_batchsql_plan_ticket_labels"), output, existing, out_columns)
    out["create_lock_table"] = lock.create_lock_table(locks, dialect)

    # -- the source and the stage ---------------------------------------------------------
    out["source_table"] = source
    out["source_from_postgres"] = sql.select_source(FROM_POSTGRES, None, "postgres")
    inputs = sql.sibling(output, "_batchsql_ticket_labels_input")
    variables = ["body", "subject"]
    out["create_inputs"] = stage_sql.create_inputs(inputs, source, KEY, variables, "sig",
                                                   dialect)
    out["duplicate_keys"] = sql.duplicate_keys(inputs, KEY)
    out["delete_stale_renders"] = stage_sql.delete_stale(stage, inputs, KEY)
    out["count_unrendered"] = stage_sql.count_unrendered(inputs, stage, KEY)
    out["unrendered_rows"] = stage_sql.unrendered_rows(source, stage, KEY, variables, "sig",
                                                       dialect)
    if dialect in ("duckdb", "postgres"):  # the warehouses with snapshot tables
        unrendered = sql.sibling(stage, "_batchsql_ticket_labels_stage_unrendered")
        out["create_unrendered_keys"] = sql.create_table_as(
            unrendered, stage_sql.unrendered_keys(inputs, stage, KEY))
        out["unrendered_rows_by_key"] = stage_sql.unrendered_rows(
            source, stage, KEY, variables, "sig", dialect, keys=unrendered)
    out["count_pending_and_unspooled"] = stage_sql.count_pending(pending)
    out["delete_unspooled"] = stage_sql.delete_unspooled(stage, pending, KEY)

    # -- selecting --------------------------------------------------------------------------
    out["pending_rows"] = pending
    out["pending_rows_later_pass"] = sql.pending_rows(
        stage, output, state.requests, state.batches, KEY, 3, exclude_run=True)
    out["pending_rows_to_send"] = sql.pending_rows(
        stage, output, state.requests, state.batches, KEY, 3, skip_answered=True)
    out["requests_to_send"] = sql.requests_to_send(pending, stage, KEY, dedup=True,
                                                   ordered=True)
    out["requests_to_send_without_dedup"] = sql.requests_to_send(pending, stage, KEY,
                                                                 dedup=False, ordered=False)
    out["requests_to_send_in_file_order"] = sql.requests_to_send(pending, stage, KEY,
                                                                 dedup=True, ordered=False)
    out["shared_rows"] = sql.shared_rows(pending, KEY)
    out["count_pending"] = sql.count_rows(pending)
    if dialect in ("duckdb", "postgres"):  # the warehouses with snapshot tables
        snapshot = sql.sibling(output, "_batchsql_ticket_labels_pending")
        snapshot_keys = sql.sibling(output, "_batchsql_ticket_labels_pkeys")
        keys = sql.pending_rows(stage, output, state.requests, state.batches, KEY, 3,
                                keys_only=True)
        out["create_pending_keys"] = sql.create_table_as(snapshot_keys, keys)
        out["create_pending_snapshot"] = sql.create_table_as(
            snapshot, sql.joined_back(stage, sql.select_all(snapshot_keys), KEY))
        out["read_pending_snapshot"] = sql.select_all(snapshot)
        out["drop_reused"] = sql.drop_reused(snapshot, output, KEY)
    out["count_stage"] = sql.count_rows(stage)
    out["sample_requests"] = sql.sample_requests(pending, KEY, 3)
    out["reuse_answers"] = sql.reuse_answers(pending, output, KEY, values)
    out["given_up"] = sql.given_up(stage, output, KEY, 3)
    out["any_given_up"] = sql.any_given_up(output, KEY, 3)
    out["answered_rows"] = sql.answered_rows(stage, output, KEY)
    out["rows_in_flight"] = sql.rows_in_flight(stage, state.requests, state.batches, KEY)
    out["reusable_figures"] = sql.reusable_figures(pending, output)

    # -- collecting -------------------------------------------------------------------------
    out["delete_batch_outcomes"] = sql.delete_where(output, sql.col("_batch_id").eq(sql.param()))
    out["insert_outcomes"] = sql.insert_outcomes(output, collect, state.requests, KEY, values)
    out["insert_unique_outcomes"] = sql.insert_outcomes(output, collect, state.requests, KEY,
                                                        values, unique=True)
    out["insert_missing"] = sql.insert_missing(output, collect, state.requests, KEY)
    out["unknown_lines"] = sql.unknown_lines(collect, state.requests)
    out["batch_requests"] = sql.batch_requests(state.requests)

    # -- figures ----------------------------------------------------------------------------
    out["outcome_figures"] = sql.outcome_figures(output)
    out["batch_figures"] = sql.outcome_figures(output, one_batch=True)
    out["answer_history"] = sql.answer_history(output)
    out["reused_figures"] = sql.reused_figures(output)
    out["saved_by_run"] = sql.saved_by_run(output)
    out["current_catalog"] = sql.current_catalog(dialect)

    # -- system tables through State ----------------------------------------------------------
    out["record_intent"] = _one(wh, lambda: state.record_intent(
        {"batch_uuid": "u", "spec": "s", "model": "m"}, pa.table({"x": [1]})))
    out["update_batch"] = _one(wh, lambda: state.update_batch("u", status="submitted",
                                                               provider_batch_id="b"))
    out["open_batches"] = _one(wh, lambda: state.open_batches(OUTPUT))
    out["open_batches_of_spec"] = _one(wh, lambda: state.open_batches_of_spec("s"))
    out["all_batches"] = _one(wh, lambda: state.all_batches(OUTPUT))
    out["tokens_in_flight"] = _one(wh, lambda: state.tokens_in_flight("gpt-4o-mini"))
    out["start_run"] = _one(wh, lambda: state.start_run({"run_id": "r", "spec": "s"}))
    out["finish_run"] = _one(wh, lambda: state.finish_run("r", status="ok", selected=1))
    out["last_run"] = _one(wh, lambda: state.last_run("s"))
    out["run_spend"] = _one(wh, lambda: state.run_spend("r"))

    # -- the warehouse adapters' own statements ----------------------------------------------
    out["describe"] = sql.no_rows(source)
    scratch = sql.sibling(output, "_batchsql_in_0123abcd")
    names = [*KEY, *values, "_status", "_collected_at"]
    if dialect == "snowflake":
        out["column_types"] = snowflake.column_types(output)
        semi = {"tags": exp.DataType(this=exp.DataType.Type.ARRAY),
                "customer": exp.DataType(this=exp.DataType.Type.OBJECT)}
        out["insert_arrow"] = sql.insert_parsed(output, scratch, names, semi)
    if dialect == "bigquery":
        out["insert_arrow"] = sql.insert_parsed(
            sql.parse_table(ANSWERS["output"]["table"], dialect), scratch,
            [*KEY, "answer", "_status"], {"answer": None})
    if dialect == "databricks":
        nested = {n: t for n, t in outputs.value_columns(labels) if n in ("tags", "customer")}
        out["insert_arrow"] = sql.insert_rows(output, names, 2, nested)

    # -- the spec lock ----------------------------------------------------------------------
    out["insert_lock"] = lock.insert_lock(locks)
    out["select_lock_holders"] = lock.select_holders(locks)
    out["delete_lock_holder"] = lock.delete_holder(locks)
    out["touch_lock_holder"] = lock.touch_holder(locks)
    return out
