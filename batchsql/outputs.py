"""The shape of a spec's output table: key columns, answer columns, bookkeeping columns."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.pricing import Price
from batchsql.reconcile import ANSWER_COLUMN, Outcome
from batchsql.spec import Spec

#: Bookkeeping columns of every output table, in order.
META_COLUMNS: list[tuple[str, str]] = [
    ("_status", "varchar"), ("_error", "varchar"), ("_attempt", "int"),
    ("_fingerprint", "varchar"), ("_batch_id", "varchar"), ("_custom_id", "varchar"),
    ("_model", "varchar"), ("_input_tokens", "bigint"), ("_output_tokens", "bigint"),
    ("_cost_usd", "double"), ("_raw", "varchar"), ("_run_id", "varchar"),
    ("_submitted_at", "timestamp"), ("_collected_at", "timestamp"),
    # NULL when the row paid for its own request; else sql.SHARED or sql.REUSED, and
    # _saved_usd holds what the request it did not send cost.
    ("_dedup", "varchar"), ("_saved_usd", "double"),
]

#: Columns of a collected outcome before it is joined back to its key.
OUTCOME_META: list[tuple[str, str]] = [
    ("_custom_id", "varchar"), ("_status", "varchar"), ("_error", "varchar"),
    ("_model", "varchar"), ("_input_tokens", "bigint"), ("_output_tokens", "bigint"),
    ("_cost_usd", "double"), ("_raw", "varchar"),
]

_SQL_TYPES = {"string": "varchar", "integer": "bigint", "number": "double", "boolean": "boolean"}
_ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
                "boolean": pa.bool_()}


def value_columns(spec: Spec) -> list[tuple[str, str]]:
    """(name, SQL type) of the answer columns: the declared ones, or the answer text."""
    if spec.output.columns is None:
        return [(ANSWER_COLUMN, "varchar")]
    return [(name, _SQL_TYPES[c.type]) for name, c in spec.output.columns.items()]


def value_arrow_schema(spec: Spec) -> list[tuple[str, pa.DataType]]:
    if spec.output.columns is None:
        return [(ANSWER_COLUMN, pa.string())]
    return [(name, _ARROW_TYPES[c.type]) for name, c in spec.output.columns.items()]


def output_columns(spec: Spec, keys: Sequence[tuple[str, exp.DataType]],
                   dialect: str) -> list[tuple[str, exp.DataType]]:
    """Every column of the output table, in order."""
    return [*keys, *((n, sql.dtype(t, dialect)) for n, t in value_columns(spec)),
            *((n, sql.dtype(t, dialect)) for n, t in META_COLUMNS)]


def outcome_columns(spec: Spec, dialect: str) -> list[tuple[str, exp.DataType]]:
    """Columns of the collect stage: answer columns plus what a result line tells."""
    return [*((n, sql.dtype(t, dialect)) for n, t in value_columns(spec)),
            *((n, sql.dtype(t, dialect)) for n, t in OUTCOME_META)]


def outcome_table(spec: Spec, outcomes: Sequence[Outcome], price: Price | None) -> pa.Table:
    """Parsed result lines as an Arrow table shaped like the collect stage."""
    columns: dict[str, pa.Array] = {
        name: pa.array([o.values.get(name) for o in outcomes], kind)
        for name, kind in value_arrow_schema(spec)
    }
    costs = [price.cost(o.input_tokens, o.output_tokens or 0)
             if price is not None and o.input_tokens is not None else None for o in outcomes]
    columns.update({
        "_custom_id": pa.array([o.custom_id for o in outcomes], pa.string()),
        "_status": pa.array([o.status for o in outcomes], pa.string()),
        "_error": pa.array([o.error for o in outcomes], pa.string()),
        "_model": pa.array([o.model for o in outcomes], pa.string()),
        "_input_tokens": pa.array([o.input_tokens for o in outcomes], pa.int64()),
        "_output_tokens": pa.array([o.output_tokens for o in outcomes], pa.int64()),
        "_cost_usd": pa.array(costs, pa.float64()),
        "_raw": pa.array([o.raw for o in outcomes], pa.string()),
    })
    return pa.table(columns)
