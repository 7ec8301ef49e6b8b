"""The shape of a spec's output table: key columns, answer columns, bookkeeping columns.

Answer column types are sqlglot trees (rendered in the warehouse's dialect at the edge) with
matching Arrow types, so collected values reach the warehouse as Arrow, never as SQL text:

    string VARCHAR, integer BIGINT, number DOUBLE, boolean BOOLEAN,
    array  a list of its items' type (DuckDB `T[]`), object a STRUCT of its properties,
    `format: json` JSON, an embedding a list of FLOAT (4-byte, DuckDB `FLOAT[]`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from batchsql import dialects, sql
from batchsql.pricing import Price
from batchsql.reconcile import ANSWER_COLUMN, EMBEDDING_COLUMN, SUCCEEDED, Outcome
from batchsql.spec import Column, Spec, answer_kind

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

_T = exp.DataType.Type
_SCALARS = {"string": _T.VARCHAR, "integer": _T.BIGINT, "number": _T.DOUBLE,
            "boolean": _T.BOOLEAN}
_ARROW_SCALARS = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
                  "boolean": pa.bool_()}
_VECTOR = pa.list_(pa.float32())  # only embeddings have it: typed numbers are float64


def value_columns(spec: Spec) -> list[tuple[str, exp.DataType]]:
    """(name, type) of the answer columns: the declared ones, the answer, or the embedding."""
    kind = answer_kind(spec)
    if kind == "embedding":
        return [(EMBEDDING_COLUMN, _list_of(exp.DataType.build(_T.FLOAT)))]
    if kind == "json":
        return [(ANSWER_COLUMN, exp.DataType.build(_T.JSON))]
    if kind == "text":
        return [(ANSWER_COLUMN, exp.DataType.build(_T.VARCHAR))]
    return [(name, sql_type(c)) for name, c in (spec.output.columns or {}).items()]


def value_arrow_schema(spec: Spec) -> list[tuple[str, pa.DataType]]:
    """(name, Arrow type) of the answer columns, matching `value_columns`."""
    kind = answer_kind(spec)
    if kind == "embedding":
        return [(EMBEDDING_COLUMN, _VECTOR)]
    if kind in ("json", "text"):  # JSON travels as text; the warehouse parses it on insert
        return [(ANSWER_COLUMN, pa.string())]
    return [(name, arrow_type(c)) for name, c in (spec.output.columns or {}).items()]


def sql_type(column: Column) -> exp.DataType:
    """The warehouse type of a column's values (nested types for arrays and objects)."""
    if column.type == "array":
        assert column.items is not None
        return _list_of(sql_type(column.items))
    if column.type == "object":
        fields = [exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=sql_type(c))
                  for name, c in (column.properties or {}).items()]
        return exp.DataType(this=_T.STRUCT, expressions=fields, nested=True)
    return exp.DataType.build(_SCALARS[column.type])


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type of a column's values, matching `sql_type`."""
    if column.type == "array":
        assert column.items is not None
        return pa.list_(arrow_type(column.items))
    if column.type == "object":
        return pa.struct([(name, arrow_type(c)) for name, c in (column.properties or {}).items()])
    return _ARROW_SCALARS[column.type]


def _list_of(item: exp.DataType) -> exp.DataType:
    return exp.DataType(this=_T.ARRAY, expressions=[item], nested=True)


def output_columns(spec: Spec, keys: Sequence[tuple[str, exp.DataType]],
                   dialect: str) -> list[tuple[str, exp.DataType]]:
    """Every column of the output table, in order."""
    return [*keys, *_typed_values(spec, dialect),
            *((n, sql.dtype(t, dialect)) for n, t in META_COLUMNS)]


def outcome_columns(spec: Spec, dialect: str) -> list[tuple[str, exp.DataType]]:
    """Columns of the collect stage: answer columns plus what a result line tells."""
    return [*_typed_values(spec, dialect),
            *((n, sql.dtype(t, dialect)) for n, t in OUTCOME_META)]


def _typed_values(spec: Spec, dialect: str) -> list[tuple[str, exp.DataType]]:
    return [(name, dialects.column_type(kind, dialect)) for name, kind in value_columns(spec)]


def outcome_table(spec: Spec, outcomes: Sequence[Outcome], price: Price | None) -> pa.Table:
    """Parsed result lines as an Arrow table shaped like the collect stage."""
    columns: dict[str, pa.Array] = {}
    for name, kind in value_arrow_schema(spec):
        values = [o.values.get(name) for o in outcomes]
        columns[name] = _vectors(values) if kind == _VECTOR else pa.array(values, kind)
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
        "_raw": pa.array([o.raw if raw_kept(spec, o.status) else None for o in outcomes],
                         pa.string()),
    })
    return pa.table(columns)


def raw_kept(spec: Spec, status: str) -> bool:
    """Whether an outcome of this status keeps its raw result line (``output.keep_raw``)."""
    keep = spec.output.keep_raw
    return keep == "all" or (keep == "failures" and status != SUCCEEDED)


def kept_raw(spec: Spec, status: pa.Array | pa.ChunkedArray,
             raw: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``raw`` with NULL where ``output.keep_raw`` drops the line (see ``raw_kept``)."""
    keep = spec.output.keep_raw
    if keep == "all":
        return raw
    if keep == "none":
        return pa.nulls(len(raw), raw.type)
    succeeded = pc.equal(status, SUCCEEDED)
    if pc.all(succeeded).as_py():  # the usual slice: nothing to copy
        return pa.nulls(len(raw), raw.type)
    return pc.if_else(succeeded, pa.scalar(None, raw.type), raw)


def _vectors(vectors: Sequence[Any]) -> pa.Array:
    """Embedding vectors (``array('f')`` or None) as an Arrow list<float32>.

    Built from the vectors' bytes: converting value by value costs about 20 times more.
    """
    offsets, data, nulls = [0], bytearray(), []
    for vector in vectors:
        if vector is not None:
            data += (vector if isinstance(vector, array) else array("f", vector)).tobytes()
        offsets.append(len(data) // 4)
        nulls.append(vector is None)
    values = pa.Array.from_buffers(pa.float32(), len(data) // 4, [None, pa.py_buffer(data)])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=pa.array(nulls))
