"""``json.loads`` of batch input lines, faster for lines shaped like the ones before them.

The lines of a batch usually differ only in a few string values (the ``custom_id``, the user's
message) and are byte for byte the same elsewhere: model, instructions, schema. After two such
lines, ``LineParser`` keeps a template: the text around those strings, and the parsed object.
A line that is the template's text with other JSON strings in the same places parses, by the
grammar, to the template's object with those values replaced: its strings are decoded with
``json.decoder.scanstring`` (what ``json.loads`` uses), the rest is never parsed again. Any
other line goes to ``json.loads``.

The objects returned share everything but the replaced values (and the containers leading to
them) with the template, so callers must not modify them.
"""

from __future__ import annotations

import itertools
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

_WHITESPACE = " \t\n\r"  # JSON's, which json.loads skips around the value
_skip = re.compile(r"[ \t\n\r]*").match
_raw_decode = json.JSONDecoder().raw_decode

Path = tuple[str | int, ...]


class Template:
    """A line's text cut around some string values, and the object it parses to."""

    def __init__(self, text: str, obj: Any, spans: list[tuple[Path, int, int]]) -> None:
        self.obj = obj
        self.paths = [path for path, _, _ in spans]  # where the lines' strings differ
        # What callers work out once for all the lines of this template (answers.py,
        # validation.py).
        self.memo: dict[str, Any] = {}
        # The text before each value, its opening quote included.
        self.chunks = [text[:spans[0][1] + 1]]
        for (_, _, end), (_, start, _) in itertools.pairwise(spans):
            self.chunks.append(text[end:start + 1])
        self.tail = text[spans[-1][2]:]
        # How to rebuild the object with other values, as a flat list of steps in the order of
        # a depth-first walk: (container, key, slot) puts value ``slot`` at ``key`` of
        # container number ``container`` (0: the copy of ``obj``), or with a slot of -1 a copy
        # of what is there, which becomes the next container.
        tree: dict[Any, Any] = {}
        for slot, (path, _, _) in enumerate(spans):
            node = tree
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = slot
        self.steps: list[tuple[int, str | int, int]] = []
        _steps(tree, 0, self.steps)

    def match(self, text: str) -> Any:
        """The object ``text`` parses to, or None when it is not shaped like the template."""
        pos = 0
        values = []
        try:
            for chunk in self.chunks:
                if not text.startswith(chunk, pos):
                    return None
                value, pos = scanstring(text, pos + len(chunk), True)
                values.append(value)
        except ValueError:  # not a string there: json.loads decides
            return None
        if len(text) - pos != len(self.tail) or not text.endswith(self.tail):
            return None
        made = [self.obj.copy()]  # a dict keeps its key order, a list its length
        for container, key, slot in self.steps:
            if slot < 0:
                made.append(made[container][key].copy())
                made[container][key] = made[-1]
            else:
                made[container][key] = values[slot]
        return made[0]


def _steps(tree: dict[Any, Any], container: int, out: list[tuple[int, str | int, int]]
           ) -> int:
    """Appends ``Template.steps`` for the containers and values under ``tree``, whose own
    container is number ``container``, the newest; returns the number of containers so far."""
    made = container + 1
    for key, sub in tree.items():
        if isinstance(sub, int):
            out.append((container, key, sub))
        else:
            out.append((container, key, -1))
            made = _steps(sub, made, out)
    return made


class LineParser:
    """``loads(raw)`` returns what ``json.loads(raw)`` does, and raises what it raises."""

    def __init__(self) -> None:
        self._templates: list[Template] = []  # the newest first; two cover alternating shapes
        self._previous: tuple[bytes, Any] | None = None  # the last line json.loads parsed
        self._learned = self._matched = self._lines = 0
        #: The template the last ``loads`` matched, None when json.loads parsed the line: its
        #: object is the template's ``obj`` but for the strings at its ``paths``.
        self.template: Template | None = None

    def loads(self, raw: bytes) -> Any:
        self._lines += 1
        self.template = None
        if self._templates:
            try:
                # A text that matches starts with '{"' after JSON whitespace: no BOM, no NUL
                # in its first bytes, so json.loads would have decoded it as UTF-8 too.
                text = raw.decode("utf-8").strip(_WHITESPACE)
            except UnicodeDecodeError:
                text = ""
            for template in self._templates if text else ():
                obj = template.match(text)
                if obj is not None:
                    self._matched += 1
                    self.template = template
                    return obj
        obj = json.loads(raw)
        if isinstance(obj, dict):
            previous, self._previous = self._previous, (raw, obj)
            # Learning walks the line in Python, several times the cost of json.loads: at
            # most once in 32 lines past the first few, on files where it seldom pays.
            if previous is not None and self._learned < 4 + self._lines // 32:
                self._learned += 1
                self._learn(previous[1], raw, obj)
        return obj

    def _learn(self, previous: Any, raw: bytes, obj: dict[str, Any]) -> None:
        """A template from ``raw`` for lines that differ from it where it differs from
        ``previous`` (the line before), if only strings differ."""
        if json.detect_encoding(raw) != "utf-8":
            return
        differing: list[Path] = []
        if not _strings_differ(previous, obj, (), differing) or not differing:
            return
        text = raw.decode("utf-8", "surrogatepass").strip(_WHITESPACE)
        spans: list[tuple[Path, int, int]] = []
        try:
            _string_spans(text, 0, (), spans)
        except (ValueError, IndexError, RecursionError):  # duplicate keys, or too deep
            return
        wanted = set(differing)
        chosen = [s for s in spans if s[0] in wanted]
        if len(chosen) == len(wanted):
            self._templates = [Template(text, obj, chosen), *self._templates[:1]]


def _strings_differ(a: Any, b: Any, path: Path, out: list[Path]) -> bool:
    """Whether ``a`` and ``b`` have the same shape and differ only in string values (whose
    paths go to ``out``). Types count: 1, 1.0 and True are not the same here."""
    if type(a) is not type(b):
        return False
    if isinstance(a, str):
        if a != b:
            out.append(path)
        return True
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            _strings_differ(a[k], b[k], (*path, k), out) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_strings_differ(x, y, (*path, i), out)
                                        for i, (x, y) in enumerate(zip(a, b, strict=True)))
    return a == b or (a != a and b != b)  # NaN is NaN here


def _string_spans(text: str, i: int, path: Path, out: list[tuple[Path, int, int]]) -> int:
    """Appends (path, start, end) of every string value in the JSON value at ``text[i]`` (which
    json.loads accepted); returns where the value ends. ValueError on a duplicate key, whose
    later value would replace the earlier one in the object."""
    c = text[i]
    if c == '"':
        _, end = scanstring(text, i + 1, True)
        out.append((path, i, end))
        return end
    if c in "{[":
        close, keys = ("}" if c == "{" else "]"), set()
        i = _skip(text, i + 1).end()
        n = 0
        while text[i] != close:
            key: str | int = n
            if c == "{":
                key, i = scanstring(text, i + 1, True)
                if key in keys:
                    raise ValueError(f"duplicate key {key!r}")
                keys.add(key)
                i = _skip(text, _skip(text, i).end() + 1).end()  # past the colon
            i = _skip(text, _string_spans(text, i, (*path, key), out)).end()
            n += 1
            if text[i] == ",":
                i = _skip(text, i + 1).end()
        return i + 1
    return _raw_decode(text, i)[1]
