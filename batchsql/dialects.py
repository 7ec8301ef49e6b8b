"""Per-dialect adjustments of column types: what each warehouse stores a typed answer as.

Answer types are built once, dialect-neutral (see ``outputs``): STRUCT for objects, lists for
arrays, JSON, FLOAT lists for vectors. sqlglot renders most of them everywhere; where a
warehouse has no such type (PostgreSQL has no STRUCT), the mapper for its dialect replaces it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

Mapper = Callable[[exp.DataType], exp.DataType]

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


#: dialect -> how to adjust a dialect-neutral answer type; a dialect not listed keeps it.
_MAPPERS: dict[str, Mapper] = {
    "postgres": _postgres,
}


def column_type(kind: exp.DataType, dialect: str) -> exp.DataType:
    """The type an answer column of ``kind`` has in a warehouse of ``dialect``."""
    mapper = _MAPPERS.get(dialect)
    return mapper(kind.copy()) if mapper is not None else kind
