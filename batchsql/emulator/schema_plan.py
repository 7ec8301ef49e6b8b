"""A response_format schema compiled once into the JSON text of its answer, per request text.

``SchemaValues.value`` walks the schema for every request: resolving ``$ref``, finding each
node's type, building a dict that ``json.dumps`` then serialises. All of that depends on the
schema alone (the walk never branches on the text, only the leaves read it), and every line of
a batch usually carries the same schema. ``compile_plan`` does the walk once and keeps, per
node, the pieces of JSON text around the leaves; answering a request calls the leaves only.

A leaf is the same ``SchemaValues`` method the walk would call (strings, numbers, booleans,
arrays, anything rare), or an enum chosen like ``choose_enum`` does; its value is serialised as
``json.dumps(..., ensure_ascii=False)`` would inside the whole. So the plan's text is that of
``json.dumps(SchemaValues(root, ctx).value(root, "result", "$"), ensure_ascii=False)``;
tests/test_emulator_throughput.py checks it on varied schemas and texts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .schema_values import _DEEP, FIELD_TAG, SchemaValues, TextContext, string_rule
from .textmatch import FALLBACK_OPTIONS, _Matcher, matcher, seed_of

# A leaf gets the request's walker and the enum scores of its text (``_EnumScores``).
Leaf = Callable[[SchemaValues, list[list[int]]], str]

_dumps = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps(o, ensure_ascii=False) does
_MAX_NODES = 2000  # a schema that expands to more (deep recursion) is walked per request instead


class _TooBig(Exception):
    pass


class Plan:
    """The answer to a schema as constant JSON text around leaves that read the request text."""

    def __init__(self, root: dict[str, Any], parts: list[str | Leaf],
                 enums: _EnumScores) -> None:
        self.root, self.parts, self.enums = root, parts, enums
        # The constant text with the leaves' places empty, and the leaves with their places.
        self.texts = [p if isinstance(p, str) else "" for p in parts]
        self.leaves = [(i, p) for i, p in enumerate(parts) if not isinstance(p, str)]

    def json(self, ctx: TextContext) -> str:
        """The answer's JSON text: what the walker's value serialises to."""
        sv = SchemaValues(self.root, ctx)
        scores = self.enums.scores(ctx) if self.enums.matchers else []
        texts = self.texts.copy()
        for i, leaf in self.leaves:
            texts[i] = leaf(sv, scores)
        return "".join(texts)


def compile_plan(root: dict[str, Any]) -> Plan | None:
    """The plan of ``root``; None when the walk would fail (a bad ``$ref``, endless recursion)
    or is too big to unroll: then ``SchemaValues`` walks it per request, errors included."""
    builder = _Builder(root)
    try:
        builder.node(root, "result", "$", 0)
    except Exception:  # any failure of the walk is the walker's to raise, per request
        return None
    # Merge neighbouring constant pieces: fewer parts to join per request.
    parts: list[str | Leaf] = []
    for p in builder.parts:
        if isinstance(p, str) and parts and isinstance(parts[-1], str):
            parts[-1] += p
        else:
            parts.append(p)
    return Plan(root, parts, builder.enums)


class _Builder:
    """Mirrors ``SchemaValues.value`` branch for branch, emitting text and leaves."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.sv = SchemaValues(root, TextContext(""))  # for _resolve and _type_of only
        self.parts: list[str | Leaf] = []
        self.enums = _EnumScores()
        self.nodes = 0

    def node(self, schema: Any, name: str, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise _TooBig
        emit = self.parts.append
        if schema is True or not isinstance(schema, dict):
            emit(_dumps(f"{FIELD_TAG} {name}"))
            return
        schema = self.sv._resolve(schema)
        if "const" in schema:
            emit(_dumps(schema["const"]))
            return
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options = [v for v in schema["enum"] if v is not None] or schema["enum"]
            emit(_enum_leaf(options, path, self.enums))
            return
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                real = [b for b in branches if self.sv._type_of(b) != "null"]
                nulls = [b for b in branches if self.sv._type_of(b) == "null"]
                pick = nulls[0] if (depth > _DEEP and nulls) else (real or branches)[0]
                self.node(pick, name, path, depth + 1)
                return
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.sv._resolve(part) if isinstance(part, dict) else {})
            self.node(merged, name, path, depth + 1)
            return
        kind = self.sv._type_of(schema)
        if depth > 4 * _DEEP:
            raise _TooBig  # the walker raises its RequestError per request
        if kind == "object":
            props = schema.get("properties") or {}
            if not isinstance(props, dict):
                raise _TooBig  # whatever the walker does with it, it does per request
            emit("{")
            for i, (key, sub) in enumerate(props.items()):
                emit((", " if i else "") + _dumps(key) + ": ")
                self.node(sub, key, f"{path}.{key}", depth + 1)
            emit("}")
        elif kind == "array":
            # Arrays' lengths can depend on the text: the walker's own method, per request.
            emit(lambda sv, _, s=schema, n=name, p=path, d=depth: _dumps(sv._array(s, n, p, d)))
        elif kind == "string":
            rule = string_rule(schema, name, path)
            emit(lambda sv, _, rule=rule: _dumps(rule(sv.ctx)))
        elif kind in ("integer", "number"):
            emit(lambda sv, _, s=schema, n=name, p=path, i=kind == "integer":
                 _dumps(sv._number(s, n, p, i)))
        elif kind == "boolean":
            emit(lambda sv, _, n=name: "true" if sv._boolean(n) else "false")
        elif kind == "null":
            emit("null")
        else:
            emit(_dumps(f"{FIELD_TAG} {name}"))


def _enum_leaf(options: list[Any], path: str, enums: _EnumScores) -> Leaf:
    """``choose_enum(options, words, seed_of(text, path), distinct)``, serialised."""
    strings = tuple(o for o in options if isinstance(o, str))
    slot = enums.add(matcher(strings)) if strings else -1
    encoded = [_dumps(s) for s in strings]
    everything = [_dumps(o) for o in options]
    # fallback_option's answer when no option is named, unless it needs the seed.
    fixed = next((everything[i] for i, o in enumerate(options)
                  if isinstance(o, str) and o.lower() in FALLBACK_OPTIONS), None)

    def leaf(sv: SchemaValues, scores: list[list[int]]) -> str:
        if slot >= 0:
            mine = scores[slot]
            top = max(mine)
            if top > 0:
                return encoded[mine.index(top)]
        if fixed is not None:
            return fixed
        return everything[seed_of(sv.ctx.text, path) % len(options)]

    return leaf


class _EnumScores:
    """``_Matcher.scores`` for all the enums of a schema at once, in one pass over the text's
    words: each word's hits (in every enum) are looked up in a dict filled as words come."""

    MEMO_WORDS = 200_000  # past this many words the memo starts again (bounded memory)

    def __init__(self) -> None:
        self.matchers: list[_Matcher] = []
        # word -> (enum, option, weight) of its hits; () for most words. Replaced whole when
        # too big, so that a thread scoring meanwhile keeps a consistent one.
        self.memo: dict[str, tuple[tuple[int, int, int], ...]] = {}
        # The first three letters of every term: a word that hits one starts with them (its
        # stem keeps at least three letters of it, and a shorter term is the whole word).
        # Most new words of a text (numbers, names) are ruled out by this one probe.
        self.heads: set[str] = set()

    def add(self, m: _Matcher) -> int:
        self.matchers.append(m)
        self.heads.update(term[:3] for term in m.exact)
        return len(self.matchers) - 1

    def scores(self, ctx: TextContext) -> list[list[int]]:
        """Per enum added, per option: what ``matcher.scores(ctx.words)`` gives."""
        out = [[0] * len(m.options) for m in self.matchers]
        # A word's lookup gives its hits, () for most (left out by the filter), or the word
        # itself when never seen: one pass in C leaves the few words to look at here.
        words = ctx.words
        for hits in filter(None, map(self.memo.get, words, words)):
            if hits.__class__ is str:
                hits = self._learn(hits)
            for j, i, w in hits:
                out[j][i] += w
        return out

    def _learn(self, word: str) -> tuple[tuple[int, int, int], ...]:
        """The hits of a word ``scores`` had not seen (a line or two each), remembered."""
        memo = self.memo
        hits = memo.get(word)  # twice in a text, or a memo started again meanwhile
        if hits is None:
            if len(memo) > self.MEMO_WORDS:
                memo = self.memo = {}
            hits = memo[word] = self._hits(word)
        return hits

    def _hits(self, word: str) -> tuple[tuple[int, int, int], ...]:
        if word[:3] not in self.heads:
            return ()
        return tuple((j, i, w) for j, m in enumerate(self.matchers) for i, w in m._hits(word))
