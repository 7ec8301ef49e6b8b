"""Per-dialect adjustments of column types: what each warehouse stores a typed answer as.

Answer types are built once, dialect-neutral (see ``outputs``): STRUCT for objects, lists for
arrays, JSON, FLOAT lists for vectors. sqlglot renders most of them everywhere; where a
warehouse has no such type (PostgreSQL has no STRUCT), the mapper for its dialect replaces it.
``sql.dtype`` applies the same mappers to the bookkeeping columns' types (timestamps).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

Mapper = Callable[[exp.DataType], exp.DataType]
_T = exp.DataType.Type


def _plain(kind: _T) -> exp.DataType:
    return exp.DataType(this=kind, nested=False)


def _snowflake(kind: exp.DataType) -> exp.DataType:
    """Semi-structured OBJECT, ARRAY and VARIANT; naive timestamps as TIMESTAMP_NTZ.

    Structured ``ARRAY(T)`` / ``OBJECT(...)`` columns exist only on Iceberg tables (and newer
    accounts), while the semi-structured types work on every table and are queried with the
    same paths (``customer:address.city``). A vector is an ARRAY as well: ``VECTOR`` needs its
    dimension in the DDL, which a spec need not state. A bare TIMESTAMP follows the account's
    TIMESTAMP_TYPE_MAPPING; batchsql stores naive UTC, so it says NTZ.
    """
    if kind.this == _T.STRUCT:
        return _plain(_T.OBJECT)
    if kind.this == _T.ARRAY:
        return _plain(_T.ARRAY)
    if kind.this == _T.JSON:
        return _plain(_T.VARIANT)
    if kind.this in (_T.TIMESTAMP, _T.DATETIME):
        return exp.DataType(this=_T.TIMESTAMPNTZ)
    return kind


def _bigquery(kind: exp.DataType) -> exp.DataType:
    """STRUCT<...> and ARRAY<...> natively, JSON as JSON, vectors as ARRAY<FLOAT64>.

    BigQuery has no array of arrays: such a column is stored as JSON. (BigQuery arrays also
    cannot hold NULL elements, and a NULL array reads back as an empty one.)
    """
    if _array_of_array(kind):
        return _plain(_T.JSON)
    for inner in list(kind.find_all(exp.DataType)):
        if inner is not kind and _array_of_array(inner):
            inner.replace(_plain(_T.JSON))
    return kind


def _array_of_array(kind: exp.DataType) -> bool:
    items = kind.expressions
    return (kind.this == _T.ARRAY and len(items) == 1 and isinstance(items[0], exp.DataType)
            and items[0].this == _T.ARRAY)


def _databricks(kind: exp.DataType) -> exp.DataType:
    """STRUCT and ARRAY natively; JSON as STRING.

    VARIANT needs Databricks Runtime 15.3 or later and a Delta table feature older readers
    lack, while a JSON string is queried with the same ``answer:path`` syntax on any runtime.
    """
    if kind.this == _T.JSON:
        return _plain(_T.VARCHAR)
    for inner in list(kind.find_all(exp.DataType)):
        if inner is not kind and inner.this == _T.JSON:
            inner.replace(_plain(_T.VARCHAR))
    return kind


_T = exp.DataType.Type
#: Types that hold other values: PostgreSQL has native arrays only of scalars.
_NESTED = {_T.ARRAY, _T.STRUCT, _T.MAP, _T.JSON, _T.JSONB}


def _postgres(kind: exp.DataType) -> exp.DataType:
    """PostgreSQL: objects, arrays of anything but scalars, and JSON become JSONB.

    Arrays of scalars stay native (``VARCHAR[]``, embeddings ``REAL[]``): PostgreSQL arrays
    of arrays must be rectangular, which answers need not be, and it has no STRUCT.
    """
    if kind.this == _T.ARRAY and kind.expressions and kind.expressions[0].this not in _NESTED:
        return kind
    if kind.this in _NESTED:
        return exp.DataType.build(_T.JSONB)
    return kind



def _spark(kind: exp.DataType) -> exp.DataType:
    """STRUCT and ARRAY as they are (vectors: ARRAY<FLOAT>); Spark has no JSON type, so a JSON
    answer is a STRING, read with ``get_json_object(answer, '$.path')``."""
    return exp.DataType.build("string") if kind.this == exp.DataType.Type.JSON else kind


#: dialect -> how to adjust a dialect-neutral answer type; a dialect not listed keeps it.
_MAPPERS: dict[str, Mapper] = {
    "postgres": _postgres,
    "snowflake": _snowflake,
    "bigquery": _bigquery,
    "databricks": _databricks,
    "spark": _spark,
}


def column_type(kind: exp.DataType, dialect: str | None) -> exp.DataType:
    """The type an answer column of ``kind`` has in a warehouse of ``dialect``."""
    mapper = _MAPPERS.get(dialect or "")
    return mapper(kind.copy()) if mapper is not None else kind
