"""YAML with line numbers, and pydantic validation errors placed on those lines.

PyYAML's loader forgets positions and silently keeps the last of two equal keys, so we compose
the node tree ourselves: it keeps the marks and lets us refuse duplicates. Any pydantic model can
then be validated from `Document.data` and its errors reported as `file:line: message (hint)`.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticCustomError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from batchsql.errors import SpecError

Loc = tuple[Any, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Document:
    """A parsed YAML document; `lines`/`key_lines` map a path (keys, indices) to a 1-based line."""

    data: Any
    root_line: int | None = None
    lines: dict[Loc, int] = field(default_factory=dict)  # where the value starts
    key_lines: dict[Loc, int] = field(default_factory=dict)  # where its mapping key stands

    def line(self, loc: Loc) -> int | None:
        """Line of the value at loc, or of its nearest ancestor written in the file."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return self.root_line


def parse(text: str, path: str | None = None) -> Document:
    """Parse one YAML document; SpecError for syntax errors, duplicate keys and odd keys."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(None)
        doc = Document(None, root_line=root.start_mark.line + 1)
        doc.data = _Converter(loader, path, doc).convert(root, (), set())
        return doc
    except yaml.MarkedYAMLError as exc:
        problem, mark = exc.problem or "invalid syntax", exc.problem_mark or exc.context_mark
        if "single document" in (exc.context or ""):
            raise SpecError("a second YAML document starts here; a spec is one document",
                            path=path, line=mark.line + 1 if mark else None,
                            hint="remove the '---' line, or split the file") from None
        if exc.context and exc.context_mark:
            problem += f" {exc.context} started on line {exc.context_mark.line + 1}"
            if mark is None or mark.index >= len(text.rstrip()):
                mark = exc.context_mark  # past the last line: the opening is what to fix
        raise SpecError(f"invalid YAML: {problem}", path=path,
                        line=mark.line + 1 if mark else None, hint=_syntax_hint(problem)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", path=path) from None
    finally:
        loader.dispose()


def _syntax_hint(problem: str) -> str | None:
    hints = {
        "'\\t'": "indent with spaces, not tabs",
        "mapping values are not allowed": "quote a value that contains ': ', or check the"
                                          " indentation",
        "quoted scalar": "close the quote",
        "flow sequence": "close the '[' with ']'",
        "flow mapping": "close the '{' with '}'",
        "<block end>": "check the indentation: the keys of one mapping must line up",
        "could not find expected ':'": "check the indentation, or close a quote opened above",
        "constructor for the tag": "remove the '!' tag, or quote the value",
    }
    return next((hint for text, hint in hints.items() if text in problem), None)


def _value_line(node: Node) -> int:
    # A block scalar's text starts on the line after its `|`/`>` indicator; pointing there lets
    # callers add a template's own line number to find a file line.
    block = isinstance(node, ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1 + block


class _Converter:
    def __init__(self, loader: yaml.SafeLoader, path: str | None, doc: Document) -> None:
        self.loader, self.path, self.doc = loader, path, doc

    def _error(self, message: str, node: Node, hint: str | None = None) -> SpecError:
        return SpecError(message, path=self.path, line=node.start_mark.line + 1, hint=hint)

    def convert(self, node: Node, loc: Loc, active: set[int]) -> Any:
        if isinstance(node, ScalarNode):
            return self.loader.construct_object(node)
        # An alias that refers to an enclosing node would make the value infinite.
        if id(node) in active:
            raise self._error("an alias refers to the node that contains it", node)
        active = active | {id(node)}
        if isinstance(node, SequenceNode):
            out = []
            for index, item in enumerate(node.value):
                self._record((*loc, index), item, None)
                out.append(self.convert(item, (*loc, index), active))
            return out
        assert isinstance(node, MappingNode)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise self._error("merge keys ('<<') are not supported in a spec", key_node,
                                  "write the keys out, or alias a whole value with *name")
            if not isinstance(key_node, ScalarNode):
                raise self._error("a key must be a plain value, not a list or mapping", key_node)
            key = self.loader.construct_object(key_node)
            key_line = key_node.start_mark.line + 1
            if key in first_seen:  # scalars construct to hashable values
                raise self._error(f"duplicate key {key!r} (first on line {first_seen[key]})",
                                  key_node, "remove one of them; YAML would keep only the last")
            first_seen[key] = key_line
            self._record((*loc, key), value_node, key_line)
            result[key] = self.convert(value_node, (*loc, key), active)
        return result

    def _record(self, loc: Loc, node: Node, key_line: int | None) -> None:
        # A nested block collection "begins" at its key: `source:` is where a reader looks for it.
        collection = isinstance(node, (MappingNode, SequenceNode))
        line = key_line if collection and key_line is not None else _value_line(node)
        self.doc.lines[loc] = line
        if key_line is not None:
            self.doc.key_lines[loc] = key_line


# --- validation errors -> file:line messages -----------------------------------------------

def rule(message: str, hint: str | None = None, at: Loc = ()) -> PydanticCustomError:
    """An error for a validator to raise: `hint` is the fix, `at` the offending key below it."""
    return PydanticCustomError("rule", message, {"hint": hint, "at": at})


class Problem(NamedTuple):
    line: int | None
    message: str
    hint: str | None = None
    missing: Loc | None = None  # for a missing key: where it should be
    suggested: Loc | None = None  # for an unknown key: the key it probably meant


_KIND = {
    "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "tuple_type": "a list",
    "list_type": "a list",
}
_BOUNDS = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
           "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}


def located_error(errors: Sequence[Mapping[str, Any]], doc: Document, root: type[BaseModel],
                  path: str | None, examples: Mapping[str, str] | None = None) -> SpecError:
    """One SpecError for pydantic `errors` (as from `ValidationError.errors()`), in file order.

    `examples` maps a field name to a line to suggest when it is missing. Several errors become
    one message, one `path:line: message` per line, so all can be fixed in one go.
    """
    explained = [_explain(err, doc, root, examples or {}) for err in errors]
    problems = [p for p in explained if p is not None]
    # `promt` (did you mean 'prompt'?) already says what a "missing 'prompt'" would.
    meant = {p.suggested for p in problems}
    problems = [p for p in problems if p.missing is None or p.missing not in meant]
    problems.sort(key=lambda p: p.line or 0)
    first, *rest = problems
    if not rest:
        return SpecError(first.message, path=path, line=first.line, hint=first.hint)
    lines = [first.message + (f" ({first.hint})" if first.hint else "")]
    lines += [str(SpecError(p.message, path=path, line=p.line, hint=p.hint)) for p in rest]
    return SpecError("\n".join(lines), path=path, line=first.line)


def _explain(err: Mapping[str, Any], doc: Document, root: type[BaseModel],
             examples: Mapping[str, str]) -> Problem | None:
    loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
    name, line = _name(loc), doc.line(loc)
    if kind == "invalid_key" or loc[-1:] == ("[key]",):  # a mapping key that is not text
        loc = loc[:-1] if loc[-1:] == ("[key]",) else loc
        within = f" in '{dotted(loc[:-1])}'" if loc[:-1] else ""
        return Problem(doc.key_lines.get(loc, line), f"key {show(value)}{within} must be text",
                       "quote it")
    within = f" in '{dotted(loc[:-1])}'" if loc[:-1] else ""
    if kind == "extra_forbidden":
        model = annotation_at(root, loc[:-1])
        allowed = _fields(model) if _is_model(model) else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (f"did you mean {close[0]!r}?" if close
                else f"allowed keys: {', '.join(allowed)}" if allowed else None)
        return Problem(doc.key_lines.get(loc, line), f"unknown key {str(loc[-1])!r}{within}",
                       hint, suggested=(*loc[:-1], close[0]) if close else None)
    if kind == "missing":
        example = examples.get(loc[-1])
        return Problem(doc.line(loc[:-1]), f"missing required key '{loc[-1]}'{within}",
                       f"add e.g. {example}" if example else None, missing=loc)
    if kind == "rule":
        at = (*loc, *err["ctx"]["at"])
        prefix = f"{dotted(loc)}: " if loc else ""
        return Problem(doc.line(at), prefix + err["msg"], err["ctx"]["hint"])
    if kind == "literal_error":
        choices = [str(c) for c in get_args(annotation_at(root, loc))]
        close = difflib.get_close_matches(str(value), choices, n=1)
        return Problem(line, f"{name} must be one of {', '.join(map(repr, choices))},"
                       f" got {show(value)}", f"did you mean {close[0]!r}?" if close else None)
    if kind in _KIND:
        hint = None
        if kind == "string_type" and not isinstance(value, (Mapping, list, type(None))):
            hint = "quote it if you meant text"  # YAML reads yes, 1.0, 2024-01-01 as non-text
        elif kind in ("model_type", "dict_type") and _is_model(model := annotation_at(root, loc)):
            hint = f"expected keys: {', '.join(_fields(model))}"
        return Problem(line, f"{name} must be {_KIND[kind]}, got {show(value)}", hint)
    if kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        return Problem(line, f"{name} must be {words} {err['ctx'][bound]}, got {show(value)}")
    if kind == "too_short":
        # pydantic also says "too short" after dropping bad items; those items are reported.
        return Problem(line, f"{name} must not be empty") if not value else None

    message = str(err["msg"]).removeprefix("Value error, ")
    return Problem(line, f"{name}: {message}" if loc else message)


def annotation_at(root: Any, loc: Loc) -> Any:
    """The type `root` expects at loc, or None if loc leads outside the models."""
    tp = root
    for part in loc:
        tp = _strip_optional(tp)
        if _is_model(tp) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        elif get_origin(tp) in (tuple, list) and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    return _strip_optional(tp)


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _is_model(tp: Any) -> bool:
    return get_origin(tp) is None and isinstance(tp, type) and issubclass(tp, BaseModel)


def _fields(model: type[BaseModel]) -> list[str]:
    # Excluded fields (a spec's `path`) are filled in by code, never written by a user.
    return [name for name, f in model.model_fields.items() if not f.exclude]


def _name(loc: Loc) -> str:
    """'max_attempts', 'key[0]': the loc from its last key on; the line places the rest."""
    start = max((i for i, p in enumerate(loc) if isinstance(p, str)), default=0)
    return f"'{dotted(loc[start:])}'" if loc else "the document"


def dotted(loc: Loc) -> str:
    """('prompt', 'messages', 1) -> 'prompt.messages[1]'."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def show(value: Any) -> str:
    """A value as the user wrote it in YAML, shortened."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return str(value)
