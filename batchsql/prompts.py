"""Sandboxed Jinja templates: compile, check against source columns, render one row.

A chat prompt renders to its messages, an embeddings prompt (`input`) to the text to embed.
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
    """One compiled template (a message's content, or the `input`) and where it sits."""

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
    """The compiled prompt of a spec: templates in message order, or the one `input`."""

    templates: tuple[Template, ...]
    spec_path: str | None
    embeddings: bool = False

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

    def render(self, row: Mapping[str, Any]) -> str | list[dict[str, str]]:
        """One row's chat messages, or its text to embed.

        Raises jinja2 errors for a row that cannot render, ValueError for empty text to embed
        (the provider refuses it, so the row fails without being sent).
        """
        if self.embeddings:
            text = self.templates[0].compiled.render(row)
            if not text.strip():
                raise ValueError("the input to embed is empty")
            return text
        return [{"role": t.role, "content": t.compiled.render(row)} for t in self.templates]


def compile_prompt(spec: Spec) -> Prompt:
    """Compile every template of a spec's prompt; syntax errors name the file line."""
    if spec.prompt.input is not None:
        input_path: tuple[str | int, ...] = ("prompt", "input")
        return Prompt((_compile(spec, "input", spec.prompt.input, input_path),), spec.path,
                      embeddings=True)
    templates = []
    for index, message in enumerate(spec.prompt.templates()):
        if spec.prompt.messages is not None:
            path: tuple[str | int, ...] = ("prompt", "messages", index, "content")
        else:
            path = ("prompt", message.role)
        templates.append(_compile(spec, message.role, message.content, path))
    return Prompt(tuple(templates), spec.path)


def _compile(spec: Spec, role: str, source: str, path: tuple[str | int, ...]) -> Template:
    first_line = line_of(spec, *path)
    try:
        ast = _ENV.parse(source)
        compiled = _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as e:
        line = None if first_line is None else first_line + (e.lineno or 1) - 1
        where = "input template" if role == "input" else f"{role} message"
        raise SpecError(f"template syntax error in the {where}: {e.message}",
                        path=spec.path, line=line) from e
    return Template(role, source, compiled, ast, path, first_line)


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
