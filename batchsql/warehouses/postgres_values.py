"""Values between Arrow and PostgreSQL: result slices as record batches, Arrow columns as COPY
rows.

PostgreSQL text (and JSONB) cannot hold U+0000, which a model may well answer (JSON escapes it
as ``\\u0000``): it is written as U+FFFD, the replacement character, so that one such answer
does not stop its whole batch from being collected. The raw result line keeps the original.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from psycopg.postgres import types as pgtypes
from psycopg.types.json import Json, Jsonb

#: PostgreSQL type name -> Arrow type of its values in a streamed result.
_ARROW = {
    "bool": pa.bool_(), "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(),
    "oid": pa.int64(), "float4": pa.float32(), "float8": pa.float64(), "text": pa.string(),
    "varchar": pa.string(), "bpchar": pa.string(), "name": pa.string(), "json": pa.string(),
    "jsonb": pa.string(), "uuid": pa.string(), "date": pa.date32(),
    "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
    "bytea": pa.binary(),
}

#: Column types whose binary COPY format psycopg writes from the Python values Arrow gives;
#: a table with any other column type (numeric, uuid, enums...) is copied as text, which the
#: server parses with its own casts.
_BINARY_COPY = {"bool", "int2", "int4", "int8", "float4", "float8", "text", "varchar", "bpchar",
                "timestamp", "date", "bytea", "json", "jsonb"}

_NUL, _REPLACEMENT = "\x00", "\ufffd"


def arrow_type(oid: int) -> pa.DataType | None:
    """Arrow type of a result column's values; None: inferred from the values."""
    info = pgtypes.get(oid)
    if info is None:
        return None
    if oid == info.array_oid:
        item = _ARROW.get(info.name)
        return pa.list_(item) if item is not None else None
    return _ARROW.get(info.name)


def record_batch(names: list[str], kinds: list[pa.DataType | None],
                 rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    """Fetched rows as a record batch with the given column types."""
    arrays = []
    for i, kind in enumerate(kinds):
        values = [row[i] for row in rows]
        if kind == pa.string():  # uuid and other text-like values arrive as objects
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        try:
            arrays.append(pa.array(values, kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a type Arrow cannot take: its text
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def binary_copy(type_names: list[str]) -> bool:
    """Whether columns of these types (``typname``; arrays start with ``_``) take binary COPY."""
    return all(name.lstrip("_") in _BINARY_COPY for name in type_names)


def copy_values(column: pa.ChunkedArray | pa.Array, kind: str, binary: bool) -> list[Any]:
    """Python values of one Arrow column as COPY writes them into a column of type ``kind``."""
    values = column.to_pylist()
    if kind in ("json", "jsonb"):
        texts = [None if v is None else _json_text(v) for v in values]
        if not binary:
            return texts
        wrap = Jsonb if kind == "jsonb" else Json
        # The text is JSON already: passed through, not encoded again as a JSON string.
        return [None if t is None else wrap(t, dumps=_as_is) for t in texts]
    if _holds_text(column.type):
        return [without_nul(v) for v in values]
    return values


def _json_text(value: Any) -> str:
    """JSON text of an Arrow value (JSON text already, or a struct or list), without NUL."""
    if not isinstance(value, str):
        return json.dumps(without_nul(value), ensure_ascii=False)
    if "\\u0000" in value:  # rare: re-encode with the character replaced
        return json.dumps(without_nul(json.loads(value)), ensure_ascii=False)
    return value


def _holds_text(kind: pa.DataType) -> bool:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return True
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _holds_text(kind.value_type)
    return False


def without_nul(value: Any) -> Any:
    """A value with every NUL in its strings (nested too) replaced."""
    if isinstance(value, str):
        return value.replace(_NUL, _REPLACEMENT) if _NUL in value else value
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


def _as_is(text: str) -> str:
    return text
