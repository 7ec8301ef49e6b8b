"""Sandboxed Jinja templates: compile, check against source columns, render one row.

Every source column is a top-level template variable. Undefined names fail loudly
(StrictUndefined) and a template can reach nothing but the row it is given (sandbox).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.meta
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from batchsql.errors import SpecError
from batchsql.spec import Spec, line_of


def _finalize(value: Any) -> Any:
    # SQL NULL renders as nothing, not as the string "None".
    return "" if value is None else value


_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    finalize=_finalize,
)


@dataclass(frozen=True)
class Template:
    """One compiled message template and where it sits in the spec file."""

    role: str
    source: str
    compiled: jinja2.Template
    ast: nodes.Template
    path: tuple[str | int, ...]
    first_line: int | None

    def file_line(self, template_line: int) -> int | None:
        """File line of a line inside this template."""
        return None if self.first_line is None else self.first_line + template_line - 1


@dataclass(frozen=True)
class Prompt:
    """The compiled prompt of a spec: templates in message order."""

    templates: tuple[Template, ...]
    spec_path: str | None

    def variables(self) -> set[str]:
        """Every top-level name the templates read."""
        return set().union(*(_loaded_names(t.ast) for t in self.templates))

    def check_columns(self, columns: Sequence[str]) -> None:
        """Refuse a template that names a column the source does not have."""
        available = set(columns)
        for template in self.templates:
            for name, line in _name_lines(template.ast):
                if name in available:
                    continue
                close = difflib.get_close_matches(name, columns, n=1)
                hint = f"did you mean '{close[0]}'?" if close else None
                raise SpecError(
                    f"the {template.role} template uses '{name}', which is not a column of the"
                    f" source; columns are: {', '.join(columns)}",
                    path=self.spec_path, line=template.file_line(line), hint=hint,
                )

    def render(self, row: Mapping[str, Any]) -> list[dict[str, str]]:
        """The chat messages for one row. Raises jinja2 errors for a row that cannot render."""
        return [{"role": t.role, "content": t.compiled.render(row)} for t in self.templates]


def compile_prompt(spec: Spec) -> Prompt:
    """Compile every message template of a spec; syntax errors name the file line."""
    templates = []
    for index, message in enumerate(spec.prompt.templates()):
        if spec.prompt.messages is not None:
            path: tuple[str | int, ...] = ("prompt", "messages", index, "content")
        else:
            path = ("prompt", message.role)
        first_line = line_of(spec, *path)
        try:
            ast = _ENV.parse(message.content)
            compiled = _ENV.from_string(message.content)
        except jinja2.TemplateSyntaxError as e:
            line = None if first_line is None else first_line + (e.lineno or 1) - 1
            raise SpecError(f"template syntax error in the {message.role} message: {e.message}",
                            path=spec.path, line=line) from e
        templates.append(Template(message.role, message.content, compiled, ast, path, first_line))
    return Prompt(tuple(templates), spec.path)


def _loaded_names(ast: nodes.Template) -> set[str]:
    return {name for name, _ in _name_lines(ast)}


def _name_lines(ast: nodes.Template) -> list[tuple[str, int]]:
    """(name, template line) of every free variable the template reads, in order."""
    # jinja2.meta knows which names are free but not where they are; walk the tree for lines.
    free = jinja2.meta.find_undeclared_variables(ast) - set(_ENV.globals)
    seen: dict[str, int] = {}
    for node in ast.find_all(nodes.Name):
        if node.ctx == "load" and node.name in free and node.name not in seen:
            seen[node.name] = node.lineno
    return sorted(seen.items(), key=lambda item: item[1])
