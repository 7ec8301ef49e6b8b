"""The shape of a spec's output table: key columns, answer columns, bookkeeping columns."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.reconcile import ANSWER_COLUMN
from batchsql.spec import Spec

#: Bookkeeping columns of every output table, in order.
META_COLUMNS: list[tuple[str, str]] = [
    ("_status", "varchar"), ("_error", "varchar"), ("_attempt", "int"),
    ("_fingerprint", "varchar"), ("_batch_id", "varchar"), ("_custom_id", "varchar"),
    ("_model", "varchar"), ("_input_tokens", "bigint"), ("_output_tokens", "bigint"),
    ("_cost_usd", "double"), ("_raw", "varchar"), ("_run_id", "varchar"),
    ("_submitted_at", "timestamp"), ("_collected_at", "timestamp"),
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
_ARROW_SQL = {"varchar": pa.string(), "bigint": pa.int64(), "int": pa.int32(),
              "double": pa.float64(), "timestamp": pa.timestamp("us")}


def value_columns(spec: Spec) -> list[tuple[str, str]]:
    """(name, SQL type) of the answer columns: the declared ones, or the answer text."""
    if spec.output.columns is None:
        return [(ANSWER_COLUMN, "varchar")]
    return [(name, _SQL_TYPES[c.type]) for name, c in spec.output.columns.items()]


def value_arrow_schema(spec: Spec) -> list[tuple[str, pa.DataType]]:
    if spec.output.columns is None:
        return [(ANSWER_COLUMN, pa.string())]
    return [(name, _ARROW_TYPES[c.type]) for name, c in spec.output.columns.items()]


def arrow_type(sql_type: str) -> pa.DataType:
    """Arrow type of one of batchsql's own bookkeeping column types."""
    return _ARROW_SQL[sql_type]


def output_columns(spec: Spec, keys: Sequence[tuple[str, exp.DataType]],
                   dialect: str) -> list[tuple[str, exp.DataType]]:
    """Every column of the output table, in order."""
    return [*keys, *((n, sql.dtype(t, dialect)) for n, t in value_columns(spec)),
            *((n, sql.dtype(t, dialect)) for n, t in META_COLUMNS)]
