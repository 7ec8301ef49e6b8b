"""YAML -> validated spec.

The models below are the contract the rest of batchsql reads; `load_spec` turns a YAML file into
one, and every error it raises names file:line and, where one applies, a fix.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ColumnType = Literal["string", "integer", "number", "boolean"]
Role = Literal["system", "developer", "user", "assistant"]


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
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _table_xor_sql(self) -> Source:
        if (self.table is None) == (self.sql is None):
            raise ValueError("give exactly one of 'table' or 'sql'")
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
            raise ValueError("use either 'system'/'user' or 'messages', not both")
        if self.messages is None and self.user is None:
            raise ValueError("'user' is required (or give 'messages')")
        if self.messages is not None and not self.messages:
            raise ValueError("'messages' must not be empty")
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
    def _enum_is_string(self) -> Column:
        if self.enum is not None:
            if self.type != "string":
                raise ValueError("'enum' is only allowed on columns of type 'string'")
            if not self.enum:
                raise ValueError("'enum' must list at least one value")
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


class Spec(_Strict):
    """One AI model: rows from `source`, a request per row from `prompt`, answers to `output`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str | None = None
    source: Source
    prompt: Prompt
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    output: Output
    max_attempts: int = Field(default=3, ge=1, le=100)
    # Set by load_spec: the file the spec came from (for messages) and its folder (for paths).
    path: str | None = Field(default=None, exclude=True)
