"""Typed output columns: their spec model, their strict JSON schema, OpenAI's schema limits.

A column is a string, integer, number or boolean, an array of `items` (itself a column) or an
object of `properties` (each a column), nested to any depth the provider allows. Its JSON schema
is what OpenAI structured outputs take in strict mode: every object closed
(`additionalProperties: false`) with all its properties required, an optional value written as a
union with null.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from batchsql.yamlnodes import rule as _rule

ColumnType = Literal["string", "integer", "number", "boolean", "array", "object"]
COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# OpenAI's limits on one strict schema ("Supported schemas" in the Structured Outputs guide, as
# of 2026; earlier they were 5 levels, 100 properties and 500 enum values). A schema past them
# fails the whole batch at validation, so the spec refuses it first.
MAX_NESTING = 10
MAX_PROPERTIES = 5_000
MAX_ENUM_VALUES = 1_000
MAX_SCHEMA_TEXT = 120_000  # characters of property names and enum values, all together
LARGE_ENUM = 250  # a string enum with more values than this ...
MAX_LARGE_ENUM_TEXT = 15_000  # ... may have at most this many characters of values

# Which column types each type-specific key belongs to.
_KEY_TYPES: dict[str, tuple[str, ...]] = {
    "enum": ("string",), "minimum": ("integer", "number"), "maximum": ("integer", "number"),
    "items": ("array",), "min_items": ("array",), "max_items": ("array",),
    "properties": ("object",),
}


class Strict(BaseModel):
    """A part of a spec: unknown keys are refused, and it does not change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def shorthand(value: Any) -> Any:
    """`label: string` is shorthand for `label: {type: string}`."""
    return {"type": value} if isinstance(value, str) else value


def shorthand_map(value: Any) -> Any:
    """A mapping of names to columns, each possibly in shorthand."""
    return {k: shorthand(v) for k, v in value.items()} if isinstance(value, dict) else value


class Column(Strict):
    """One typed answer value: a scalar (`enum`, bounds), an array of `items`, an object."""

    type: ColumnType = "string"
    enum: tuple[str, ...] | None = None
    description: str | None = None
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    items: Column | None = None
    # strict: YAML reads `yes` as true, which lax pydantic would take for 1.
    min_items: int | None = Field(default=None, ge=0, strict=True)
    max_items: int | None = Field(default=None, ge=0, strict=True)
    properties: dict[str, Column] | None = None

    _items = field_validator("items", mode="before")(shorthand)
    _properties = field_validator("properties", mode="before")(shorthand_map)

    @model_validator(mode="after")
    def _fits_type(self) -> Column:
        for key, types in _KEY_TYPES.items():
            if getattr(self, key) is not None and self.type not in types:
                allowed = " or ".join(f"'{t}'" for t in types)
                raise _rule(f"'{key}' is only allowed on columns of type {allowed}",
                            f"use 'type: {types[-1]}', or drop '{key}'", (key,))
        if self.enum is not None and not self.enum:
            raise _rule("'enum' must list at least one value", None, ("enum",))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise _rule("'minimum' is greater than 'maximum'", None, ("minimum",))
        if self.type == "array":
            self._check_array()
        if self.type == "object":
            if not self.properties:
                raise _rule("an object column needs 'properties', the keys it holds",
                            "e.g. 'properties: {city: string, country: string}'")
            check_names(self.properties, "properties")
        return self

    def _check_array(self) -> None:
        if self.items is None:
            raise _rule("an array column needs 'items', the type of its elements",
                        "e.g. 'items: string', or 'items: {type: object, properties: {...}}'")
        if not self.items.required:
            raise _rule("'required' does not apply to array items",
                        "to let the whole array be null, put 'required: false' beside 'items'",
                        ("items", "required"))
        if (self.min_items is not None and self.max_items is not None
                and self.min_items > self.max_items):
            raise _rule("'min_items' is greater than 'max_items'", None, ("min_items",))


def check_names(names: Iterable[Any], under: str) -> None:
    """Refuse names that cannot be warehouse columns or struct fields, or that clash."""
    # A leading underscore is kept for batchsql's own columns (`_status`, `_error`, ...), so an
    # output column can never shadow one; warehouses fold case, so `Label` and `label` clash.
    kind = "column" if under == "columns" else "property"
    seen: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str) or not COLUMN_NAME.match(name):
            raise _rule(f"{kind} name {name!r} must start with a letter and use only letters,"
                        " digits and underscores", suggest_name(name), (under, name))
        if name.lower() in seen:
            raise _rule(f"{kind} names {seen[name.lower()]!r} and {name!r} differ only in case,"
                        " which warehouses do not tell apart", "rename one of them",
                        (under, name))
        seen[name.lower()] = name


def suggest_name(value: Any) -> str | None:
    """A valid name close to an invalid one, as a hint."""
    fixed = re.sub(r"\W+", "_", str(value)).strip("_").lower()
    return f"e.g. {fixed!r}" if COLUMN_NAME.match(fixed) else None


# --- JSON schema ------------------------------------------------------------------------------

def object_schema(columns: Mapping[str, Column], nullable: bool = False) -> dict[str, Any]:
    """Strict JSON schema of an object holding these columns."""
    properties = {name: column_schema(column) for name, column in columns.items()}
    # Strict mode wants every property required; an optional one may be null instead.
    return {"type": ["object", "null"] if nullable else "object", "properties": properties,
            "required": list(properties), "additionalProperties": False}


def column_schema(column: Column) -> dict[str, Any]:
    """Strict JSON schema of one column's value."""
    nullable = not column.required
    if column.type == "object":
        prop = object_schema(column.properties or {}, nullable)
    else:
        prop = {"type": [column.type, "null"] if nullable else column.type}
    if column.enum is not None:
        prop["enum"] = [*column.enum, None] if nullable else [*column.enum]
    if column.description is not None:
        prop["description"] = column.description
    for bound in ("minimum", "maximum"):
        value = getattr(column, bound)
        if value is not None:  # 1, not 1.0: the schema feeds the request fingerprint
            prop[bound] = int(value) if value.is_integer() else value
    if column.items is not None:
        prop["items"] = column_schema(column.items)
    if column.min_items is not None:
        prop["minItems"] = column.min_items
    if column.max_items is not None:
        prop["maxItems"] = column.max_items
    return prop


# --- OpenAI's limits --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Node:
    column: Column
    loc: tuple[str, ...]  # from `columns` down, for the spec line
    name: str  # 'address.city', 'tags[]', for the message
    level: int  # nesting level of the value if it is an object or array (the answer is 1)


def _walk(columns: Mapping[str, Column], loc: tuple[str, ...], name: str,
          level: int) -> Iterator[_Node]:
    for key, column in columns.items():
        yield from _walk_column(column, (*loc, key), f"{name}.{key}" if name else key, level + 1)


def _walk_column(column: Column, loc: tuple[str, ...], name: str, level: int) -> Iterator[_Node]:
    yield _Node(column, loc, name, level)
    if column.items is not None:
        yield from _walk_column(column.items, (*loc, "items"), f"{name}[]", level + 1)
    if column.properties is not None:
        yield from _walk(column.properties, (*loc, "properties"), name, level)


def check_limits(columns: Mapping[str, Column]) -> None:
    """Refuse columns whose schema OpenAI's strict mode would refuse."""
    # Nesting counts objects and arrays alike, the answer object itself as level 1: OpenAI does
    # not say whether arrays count, and refusing here is cheaper than a failed batch.
    properties, enums, text = 0, 0, 0
    objects: list[tuple[tuple[str, ...], str, Mapping[str, Column]]] = [(("columns",), "", columns)]
    for node in _walk(columns, ("columns",), "", 1):
        column = node.column
        if column.type in ("array", "object") and node.level > MAX_NESTING:
            raise _rule(f"'{node.name}' is nested {node.level} levels deep (objects and arrays,"
                        f" the answer itself being level 1); OpenAI allows {MAX_NESTING}",
                        "flatten it: move inner values up a level", node.loc)
        if column.properties is not None:
            objects.append(((*node.loc, "properties"), node.name, column.properties))
        if column.enum is not None:
            enums += len(column.enum) + (not column.required)  # an optional enum adds null
            values = sum(len(value) for value in column.enum)
            text += values
            if enums > MAX_ENUM_VALUES:
                raise _rule(f"'{node.name}' brings the output past {MAX_ENUM_VALUES:,} enum"
                            " values in all (OpenAI's limit)", "use fewer values, or a free"
                            " string", (*node.loc, "enum"))
            if len(column.enum) > LARGE_ENUM and values > MAX_LARGE_ENUM_TEXT:
                raise _rule(f"'{node.name}' has {len(column.enum)} enum values of {values:,}"
                            f" characters; OpenAI allows {MAX_LARGE_ENUM_TEXT:,} characters in an"
                            f" enum of more than {LARGE_ENUM} values", "shorten the values",
                            (*node.loc, "enum"))
    for loc, name, members in objects:
        properties += len(members)
        text += sum(len(key) for key in members)
        if properties > MAX_PROPERTIES:
            where = f"'{name}' brings the output past" if name else "the output has more than"
            raise _rule(f"{where} {MAX_PROPERTIES:,} properties in all (OpenAI's limit)",
                        "split the output over several specs", loc)
    if text > MAX_SCHEMA_TEXT:
        raise _rule(f"the output's property names and enum values have {text:,} characters;"
                    f" OpenAI allows {MAX_SCHEMA_TEXT:,}", "use shorter names and values",
                    ("columns",))
