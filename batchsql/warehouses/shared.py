"""What the client-server warehouse adapters share: profile fields, secrets, NULL binding, Arrow.

Nothing here imports a driver, so connection arguments can be built and tested without one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql.errors import ProfileError
from batchsql.profiles import Target

_MASK = "***"


class ConnectArgs(dict):  # type: ignore[type-arg]
    """Keyword arguments for a driver's connect call; the ``secret`` keys never print."""

    def __init__(self, values: Mapping[str, Any], secret: Iterable[str]) -> None:
        super().__init__({k: v for k, v in values.items() if v is not None})
        self.secret = frozenset(secret)

    def __repr__(self) -> str:
        shown = {k: (_MASK if k in self.secret else v) for k, v in self.items()}
        return f"ConnectArgs({shown!r})"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        """The secret values themselves, to scrub them from a driver's error text."""
        return [str(v) for k, v in self.items() if k in self.secret and v not in (None, "")]


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret value replaced: drivers may quote what they were given."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, _MASK)
    return text


def field(target: Target, *names: str, required: bool = False, default: Any = None) -> Any:
    """The first of a target's dbt fields that is set (dbt accepts aliases, e.g. dataset/schema).

    A missing required field is a ProfileError naming it and the target.
    """
    for name in names:
        value = target.fields.get(name)
        if value not in (None, ""):
            return value
    if required:
        raise ProfileError(f"target '{target.name}' of type {target.type} needs '{names[0]}' "
                           "(the same field dbt reads)")
    return default


def flag(value: Any) -> bool:
    """A dbt boolean field, which profiles rendered by Jinja may hold as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def bind_nulls(statement: exp.Expression,
               params: Sequence[Any]) -> tuple[exp.Expression, list[Any]]:
    """Each placeholder whose value is None becomes a NULL literal.

    BigQuery needs a type for every parameter and a None has none; NULL is no data value, so
    writing it in the SQL text leaks nothing. Placeholders are taken in the order the rendered
    text shows them (the golden SQL tests check that this walk matches it).
    """
    if all(p is not None for p in params):
        return statement, list(params)
    tree = statement.copy()
    placeholders = list(tree.find_all(exp.Placeholder, bfs=False))
    if len(placeholders) != len(params):
        raise ValueError(f"{len(params)} parameters for {len(placeholders)} placeholders")
    kept = []
    for placeholder, value in zip(placeholders, params, strict=True):
        if value is None:
            placeholder.replace(exp.null())
        else:
            kept.append(value)
    return tree, kept


def utc(value: dt.datetime) -> dt.datetime:
    """A naive timestamp (batchsql stores naive UTC) as an aware UTC one."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


# --- Arrow ---------------------------------------------------------------------------------------

_T = exp.DataType.Type
_SCALARS: list[tuple[Any, _T]] = [
    (pa.types.is_boolean, _T.BOOLEAN), (pa.types.is_int8, _T.TINYINT),
    (pa.types.is_int16, _T.SMALLINT), (pa.types.is_int32, _T.INT),
    (pa.types.is_integer, _T.BIGINT), (pa.types.is_float32, _T.FLOAT),
    (pa.types.is_floating, _T.DOUBLE), (pa.types.is_date, _T.DATE),
    (pa.types.is_binary, _T.VARBINARY), (pa.types.is_large_binary, _T.VARBINARY),
    (pa.types.is_string, _T.VARCHAR), (pa.types.is_large_string, _T.VARCHAR),
]


def sql_type(kind: pa.DataType) -> exp.DataType:
    """The dialect-neutral SQL type of an Arrow type (how a result column is described)."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return exp.DataType(this=_T.ARRAY, expressions=[sql_type(kind.value_type)], nested=True)
    if pa.types.is_struct(kind):
        fields = [exp.ColumnDef(this=exp.to_identifier(kind.field(i).name, quoted=True),
                                kind=sql_type(kind.field(i).type))
                  for i in range(kind.num_fields)]
        return exp.DataType(this=_T.STRUCT, expressions=fields, nested=True)
    if pa.types.is_timestamp(kind):
        return exp.DataType.build(_T.TIMESTAMPTZ if kind.tz else _T.TIMESTAMP)
    if pa.types.is_decimal(kind):
        return exp.DataType.build(f"DECIMAL({kind.precision}, {kind.scale})")
    for test, sql_kind in _SCALARS:
        if test(kind):
            return exp.DataType.build(sql_kind)
    return exp.DataType.build(_T.VARCHAR)


def is_nested(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_struct(kind)


def json_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A nested column's values as JSON text, for warehouses that parse them on insert."""
    return pa.array([None if v is None else json.dumps(v, ensure_ascii=False)
                     for v in column.to_pylist()], pa.string())


def flatten_nested(data: pa.Table) -> tuple[pa.Table, list[str]]:
    """The table with list and struct columns as JSON text, and the names of those columns."""
    nested = [f.name for f in data.schema if is_nested(f.type)]
    for name in nested:
        i = data.schema.get_field_index(name)
        data = data.set_column(i, name, json_text(data.column(name)))
    return data, nested


def as_table(data: pa.Table | pa.RecordBatch) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
