"""YAML -> validated spec.

The models below are the contract the rest of batchsql reads; `load_spec` turns a YAML file into
one, and every error it raises names file:line and, where one applies, a fix.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from batchsql import yamlnodes
from batchsql.errors import SpecError
from batchsql.yamlnodes import rule as _rule

ColumnType = Literal["string", "integer", "number", "boolean"]
Role = Literal["system", "developer", "user", "assistant"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the rows come from: a table name or any SELECT the warehouse runs."""

    table: str | None = None
    sql: str | None = None
    key: tuple[str, ...] = Field(min_length=1)

    @field_validator("key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)):
            raise _rule(f"expected a column name or a list of them, got {yamlnodes.show(value)}",
                        "e.g. 'key: ticket_id' or 'key: [ticket_id]'")
        return value

    @model_validator(mode="after")
    def _table_xor_sql(self) -> Source:
        if self.table is not None and self.sql is not None:
            raise _rule("give either 'table' or 'sql', not both",
                        "keep 'sql' and put the table in its FROM clause, or drop 'sql'")
        if self.table is None and self.sql is None:
            raise _rule("give one of 'table' or 'sql'",
                        "e.g. 'table: raw.tickets' or 'sql: select ... from raw.tickets'")
        return self


class Message(_Strict):
    role: Role
    content: str


class Prompt(_Strict):
    """Either `system` + `user` templates, or a list of `messages` (each content a template)."""

    system: str | None = None
    user: str | None = None
    messages: tuple[Message, ...] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Prompt:
        if self.messages is not None and (self.system is not None or self.user is not None):
            raise _rule("use either 'system'/'user' or 'messages', not both",
                        "move the system and user text into 'messages' entries", ("messages",))
        if self.messages is None and self.user is None:
            raise _rule("'user' is required (or give 'messages')",
                        "e.g. 'user: Label this ticket: {{ body }}'")
        if self.messages is not None and not self.messages:
            raise _rule("'messages' must not be empty", "list at least one {role, content}",
                        ("messages",))
        return self

    def templates(self) -> tuple[Message, ...]:
        """The prompt as an ordered list of (role, template) messages."""
        if self.messages is not None:
            return self.messages
        out = []
        if self.system is not None:
            out.append(Message(role="system", content=self.system))
        out.append(Message(role="user", content=self.user or ""))
        return tuple(out)


class Column(_Strict):
    """One typed output column; `enum` restricts a string to fixed values."""

    type: ColumnType = "string"
    enum: tuple[str, ...] | None = None
    description: str | None = None
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> Column:
        if self.enum is not None:
            if self.type != "string":
                raise _rule("'enum' is only allowed on columns of type 'string'",
                            "use 'type: string', or drop 'enum'", ("enum",))
            if not self.enum:
                raise _rule("'enum' must list at least one value", None, ("enum",))
        for bound in ("minimum", "maximum"):
            if getattr(self, bound) is not None and self.type not in ("integer", "number"):
                raise _rule(f"'{bound}' is only allowed on columns of type 'integer' or 'number'",
                            None, (bound,))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise _rule("'minimum' is greater than 'maximum'", None, ("minimum",))
        return self


class Output(_Strict):
    table: str
    columns: dict[str, Column] | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `label: string` is shorthand for `label: {type: string}`.
        if isinstance(value, dict):
            return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _column_names(self) -> Output:
        # Names become warehouse columns; a leading underscore is kept for batchsql's own
        # (`_status`, `_error`, ...), so an output column can never shadow one.
        for name in self.columns or {}:
            if not isinstance(name, str) or not _COLUMN_NAME.match(name):
                raise _rule(f"column name {name!r} must start with a letter and use only letters,"
                            " digits and underscores", _suggest_name(str(name)),
                            ("columns", name))
        return self


class Spec(_Strict):
    """One AI model: rows from `source`, a request per row from `prompt`, answers to `output`."""

    name: str
    description: str | None = None
    source: Source
    prompt: Prompt
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    output: Output
    # strict: YAML reads `yes` as true, which lax pydantic would take for 1.
    max_attempts: int = Field(default=3, ge=1, le=100, strict=True)
    #: Per run: submission stops before the estimated cost of what it sent would pass this.
    max_cost_usd: float | None = Field(default=None, gt=0)
    #: Send identical requests once, and reuse answers collected earlier for the same request.
    dedup: bool = Field(default=True, strict=True)
    # Set by load_spec: the file the spec came from (for messages) and its folder (for paths).
    path: str | None = Field(default=None, exclude=True)
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise _rule(f"{value!r} is not a valid name: start with a letter or underscore, then"
                        " use only letters, digits and underscores", _suggest_name(value))
        return value

    @model_validator(mode="after")
    def _keys_not_outputs(self) -> Spec:
        for name in self.output.columns or {}:
            if name in self.source.key:
                raise _rule(f"output column {name!r} has the name of a key column",
                            "rename the output column; key columns are copied to the output"
                            " table as they are", ("output", "columns", name))
        return self


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read, parse and validate a spec file; every problem is a SpecError naming file:line."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SpecError(f"cannot read the spec: {exc.strerror}", path=shown) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError("the spec is not UTF-8 text", path=shown,
                        line=raw[: exc.start].count(b"\n") + 1) from None
    doc = yamlnodes.parse(text, shown)
    if doc.data is None:
        raise SpecError("the spec is empty", path=shown, line=doc.root_line,
                        hint=f"a spec is a mapping with at least {_required_keys()}")
    spec = _validate(doc.data, shown, doc)
    spec._lines = doc.lines
    return spec


def spec_from_dict(data: dict[str, Any], path: str | None = None) -> Spec:
    """Validate a spec given as Python data; errors read like load_spec's, without lines."""
    return _validate(data, path, yamlnodes.Document(data))


def line_of(spec: Spec, *path: str | int) -> int | None:
    """1-based file line where the value at `path` begins (a block scalar: its first text line).

    A nested mapping or list begins at its key. None when the value was not written in a file.
    """
    return spec._lines.get(path)


def output_schema(spec: Spec) -> dict[str, Any] | None:
    """Strict JSON Schema (OpenAI structured outputs) for the output columns, or None."""
    if not spec.output.columns:
        return None
    properties: dict[str, Any] = {}
    for name, column in spec.output.columns.items():
        # Strict mode wants every property required; an optional column may be null instead.
        prop: dict[str, Any] = {"type": column.type if column.required else [column.type, "null"]}
        if column.enum is not None:
            prop["enum"] = [*column.enum] if column.required else [*column.enum, None]
        if column.description is not None:
            prop["description"] = column.description
        for bound in ("minimum", "maximum"):
            value = getattr(column, bound)
            if value is not None:  # 1, not 1.0: the schema feeds the request fingerprint
                prop[bound] = int(value) if value.is_integer() else value
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


# What to suggest when a required key is missing.
_EXAMPLES = {
    "name": "name: ticket_labels", "source": "source: {table: raw.tickets, key: [id]}",
    "key": "key: [ticket_id]", "prompt": 'prompt: {user: "{{ body }}"}',
    "model": "model: gpt-4o-mini", "output": "output: {table: analytics.ticket_labels}",
    "table": "table: analytics.ticket_labels", "role": "role: user",
    "content": 'content: "{{ body }}"',
}


def _validate(data: Any, path: str | None, doc: yamlnodes.Document) -> Spec:
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a mapping of keys to values, got {yamlnodes.show(data)}",
                        path=path, line=doc.root_line, hint=f"start with {_required_keys()}")
    errors: list[Any] = []
    if "path" in data:  # filled in from the file name, never written in a spec
        errors.append({"type": "extra_forbidden", "loc": ("path",), "input": data["path"]})
    try:
        spec = Spec.model_validate({**data, "path": path})
    except ValidationError as exc:
        errors += exc.errors()
    if errors:
        raise yamlnodes.located_error(errors, doc, Spec, path, _EXAMPLES) from None
    return spec


def _required_keys() -> str:
    return ", ".join(n for n, f in Spec.model_fields.items() if f.is_required())


def _suggest_name(value: Any) -> str | None:
    fixed = re.sub(r"\W+", "_", str(value)).strip("_").lower()
    return f"e.g. {fixed!r}" if _COLUMN_NAME.match(fixed) else None
