"""Per-dialect adjustments of column types: what each warehouse stores a typed answer as.

Answer types are built once, dialect-neutral (see ``outputs``): STRUCT for objects, lists for
arrays, JSON, FLOAT lists for vectors. sqlglot renders most of them everywhere; where a
warehouse has no such type (PostgreSQL has no STRUCT), the mapper for its dialect replaces it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

Mapper = Callable[[exp.DataType], exp.DataType]


def _spark(kind: exp.DataType) -> exp.DataType:
    """STRUCT and ARRAY as they are (vectors: ARRAY<FLOAT>); Spark has no JSON type, so a JSON
    answer is a STRING, read with ``get_json_object(answer, '$.path')``."""
    return exp.DataType.build("string") if kind.this == exp.DataType.Type.JSON else kind


#: dialect -> how to adjust a dialect-neutral answer type; a dialect not listed keeps it.
_MAPPERS: dict[str, Mapper] = {"spark": _spark}


def column_type(kind: exp.DataType, dialect: str) -> exp.DataType:
    """The type an answer column of ``kind`` has in a warehouse of ``dialect``."""
    mapper = _MAPPERS.get(dialect)
    return mapper(kind.copy()) if mapper is not None else kind
