"""JSON values that validate against a response_format JSON schema, derived from the request.

Handles what strict structured outputs use: objects (properties, required,
additionalProperties), strings (enum, const, format, minLength/maxLength), integers and numbers
(minimum/maximum, exclusive bounds, multipleOf), booleans, arrays (items, minItems/maxItems),
nullable unions (``["string", "null"]``, anyOf with null), ``$ref`` into ``$defs``, and
recursive schemas. Free strings say they come from the emulator.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

from .textmatch import (
    choose_enum,
    fallback_option,
    matcher,
    one_line,
    ranked_enum,
    seed_of,
    trim,
    words_of,
)

FIELD_TAG = "[emulator]"


class RequestError(Exception):
    """The request body itself is wrong: the line gets a 400 response, like the real endpoint."""

    def __init__(self, message: str, param: str | None = None,
                 code: str | None = "invalid_value") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


_SUMMARY_WORDS = ("summary", "description", "reason", "explanation", "rationale", "justification",
                  "comment", "note", "answer", "response", "text", "message", "content",
                  "detail", "analysis", "feedback", "reply", "body")
_TITLE_WORDS = ("title", "name", "subject", "headline", "label", "topic", "heading")
_LANGUAGE_NAMES = ("language", "lang", "language_code", "locale")
_FORMATS = {
    "date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z", "time": "00:00:00Z",
    "email": "emulator@example.invalid", "uri": "https://example.invalid/emulator",
    "hostname": "example.invalid", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
    "duration": "PT0S",
}


_MARK_THEN_SPACE = re.compile(r"[.!?]\s").search

_STOPWORDS = frozenset((
    "about", "after", "also", "been", "before", "being", "could", "does", "doing", "from",
    "have", "having", "here", "into", "just", "like", "more", "most", "much", "other", "over",
    "please", "should", "some", "such", "than", "that", "their", "them", "then", "there",
    "these", "they", "this", "those", "through", "very", "were", "what", "when", "where",
    "which", "while", "will", "with", "would", "your", "yours",
))


class TextContext:
    """The request text, with the derived forms the schema walker asks for (computed once)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._flat: str | None = None
        self._words: list[str] | None = None
        self._distinct: frozenset[str] | None = None

    @property
    def flat(self) -> str:
        """The text on one line, single-spaced."""
        if self._flat is None:
            self._flat = one_line(self.text)
        return self._flat

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words = words_of(self.text)
        return self._words

    @property
    def distinct(self) -> frozenset[str]:
        """The set of ``words``, made once for all the enums of a schema."""
        if self._distinct is None:
            self._distinct = frozenset(self.words)
        return self._distinct

    def first_sentence(self, limit: int = 100) -> str:
        """The first sentence of ``flat``, trimmed to ``limit`` characters."""
        # A mark followed by whitespace in the text is one followed by a space in ``flat``
        # (or its last character, when only whitespace follows), and the first stays the
        # first: when it comes early, flatten the words up to it alone. \s is str.split's
        # whitespace.
        end = _MARK_THEN_SPACE(self.text, 0, 2 * limit + 16)
        if end is not None:
            return trim(" ".join(self.text[:end.start() + 1].split()), limit)
        head = self._head(limit)
        # SENTENCE_END.split(head, maxsplit=1)[0], found faster: ``head`` is words joined by
        # single spaces (str.split's whitespace is re's \s), so a sentence ends at the first
        # ". ", "! " or "? ".
        end = len(head)
        for mark in (". ", "! ", "? "):
            i = head.find(mark, 0, end)
            if i >= 0:
                end = i + 1
        return trim(head[:end] or "(empty input)", limit)

    def _head(self, n: int) -> str:
        """``flat``, or a prefix of it longer than ``n``: enough to find a sentence trimmed to
        ``n`` (its end, if inside, is where it is in ``flat``; if not, it is cut before ``n``)
        without flattening a long text."""
        text = self.text
        k = 2 * n + 16
        while self._flat is None and k < len(text):
            words = text[:k].split()
            head = " ".join(words[:-1])  # the last word may go on past the cut
            if len(head) > n:
                return head
            k *= 4
        return self.flat

    def keywords(self, k: int) -> list[str]:
        """The first ``k`` distinct content words (for arrays of free strings like tags)."""
        seen: list[str] = []
        for w in self.words:
            if len(w) >= 4 and w not in _STOPWORDS and w not in seen:
                seen.append(w)
                if len(seen) == k:
                    break
        return seen


_DEEP = 8  # nesting past which recursive schemas are steered to their end (empty array, null)


class SchemaValues:
    """Builds a value that validates against a (strict-mode style) JSON schema."""

    def __init__(self, root: dict[str, Any], ctx: TextContext) -> None:
        self.root, self.ctx = root, ctx

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            ref, seen = schema["$ref"], seen + 1
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise RequestError(f"Unsupported $ref '{ref}' in response_format schema.",
                                   param="response_format")
            node: Any = self.root
            for part in ref[1:].split("/")[1:] if ref != "#" else []:
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or part not in node:
                    raise RequestError(f"Unresolvable $ref '{ref}' in response_format schema.",
                                       param="response_format")
                node = node[part]
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**node, **extra} if extra else node
        return schema

    def value(self, schema: Any, name: str, path: str, depth: int = 0) -> Any:
        if schema is True or not isinstance(schema, dict):
            return f"{FIELD_TAG} {name}"
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            # Like a nullable type, an enum that admits null gets a real value when it has one.
            options = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return choose_enum(options, self.ctx.words, lambda: seed_of(self.ctx.text, path),
                               self.ctx.distinct)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                # Prefer a real value over null (nullable fields get filled in), except deep in
                # a recursive schema, where null is how the recursion ends.
                real = [b for b in branches if self._type_of(b) != "null"]
                nulls = [b for b in branches if self._type_of(b) == "null"]
                pick = nulls[0] if (depth > _DEEP and nulls) else (real or branches)[0]
                return self.value(pick, name, path, depth + 1)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part) if isinstance(part, dict) else {})
            return self.value(merged, name, path, depth + 1)
        kind = self._type_of(schema)
        if depth > 4 * _DEEP:  # a recursive schema that has no way to end: give up here
            raise RequestError("response_format schema recursion is too deep.",
                               param="response_format")
        if kind == "object":
            return self._object(schema, path, depth)
        if kind == "array":
            return self._array(schema, name, path, depth)
        if kind == "string":
            return self._string(schema, name, path)
        if kind in ("integer", "number"):
            return self._number(schema, name, path, kind == "integer")
        if kind == "boolean":
            return self._boolean(name)
        if kind == "null":
            return None
        return f"{FIELD_TAG} {name}"

    def _type_of(self, schema: Any) -> str:
        if not isinstance(schema, dict):
            return "any"
        schema = self._resolve(schema)
        t = schema.get("type")
        if isinstance(t, list):
            non_null = [x for x in t if x != "null"]
            t = non_null[0] if non_null else "null"
        if t:
            return str(t)
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "any"

    def _object(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        props = schema.get("properties") or {}
        return {key: self.value(sub, key, f"{path}.{key}", depth + 1) for key, sub in props.items()}

    def _array(self, schema: dict[str, Any], name: str, path: str, depth: int) -> list[Any]:
        items = schema.get("items", {})
        lo = int(schema.get("minItems", 0) or 0)
        hi = schema.get("maxItems")
        resolved = self._resolve(items) if isinstance(items, dict) else {}
        if isinstance(resolved.get("enum"), list) and resolved["enum"]:
            chosen = ranked_enum(resolved["enum"], self.ctx.words)
            if not chosen:
                chosen = [fallback_option(resolved["enum"], seed_of(self.ctx.text, path))]
            pool = list(dict.fromkeys(chosen + list(resolved["enum"])))
            while len(chosen) < lo:
                chosen.append(pool[len(chosen) % len(pool)])
            return chosen[: hi if isinstance(hi, int) else None]
        n = max(lo, 0 if depth > _DEEP else 1)  # past _DEEP, arrays end recursive schemas
        if isinstance(hi, int):
            n = min(n, hi)
        single = name[:-1] if name.endswith("s") and len(name) > 3 else name
        if self._type_of(items) == "string" and not resolved.get("format"):
            words = self.ctx.keywords(max(n, 3))
            n = max(n, min(len(words), 3, hi if isinstance(hi, int) else 3))
            return [self._string(resolved, single, f"{path}[{i}]",
                                 hint=words[i] if i < len(words) else None) for i in range(n)]
        return [self.value(items, single, f"{path}[{i}]", depth + 1) for i in range(n)]

    def _string(self, schema: dict[str, Any], name: str, path: str,
                hint: str | None = None) -> str:
        return string_rule(schema, name, path, hint)(self.ctx)

    def _number(self, schema: dict[str, Any], name: str, path: str, integer: bool) -> int | float:
        lo, hi = schema.get("minimum"), schema.get("maximum")
        xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        step = 1 if integer else 0.01
        if isinstance(xlo, (int, float)) and not isinstance(xlo, bool):
            lo = xlo + step if lo is None else max(lo, xlo + step)
        if isinstance(xhi, (int, float)) and not isinstance(xhi, bool):
            hi = xhi - step if hi is None else min(hi, xhi - step)
        lname = name.lower()
        if lo is None and hi is None and not integer and any(
                w in lname for w in ("confidence", "probability", "likelihood", "ratio")):
            lo, hi = 0.0, 1.0
        if lo is None:
            lo = 0 if hi is None or hi >= 0 else hi - 10
        if hi is None:
            hi = lo + 10
        seed = seed_of(self.ctx.text, path)
        if integer:
            lo_i, hi_i = math.ceil(lo), math.floor(hi)
            value: int | float = lo_i + seed % (hi_i - lo_i + 1) if hi_i >= lo_i else lo_i
        else:
            value = round(lo + (seed % 1001) / 1000 * (hi - lo), 2)
            value = min(max(value, lo), hi)
        mult = schema.get("multipleOf")
        if isinstance(mult, (int, float)) and mult > 0:
            k_lo, k_hi = math.ceil(lo / mult), math.floor(hi / mult)
            if k_hi >= k_lo:
                k = k_lo + seed % (k_hi - k_lo + 1)
                value = int(k * mult) if integer else k * mult
        return value

    def _boolean(self, name: str) -> bool:
        words = [w for w in re.split(r"[_\-\s]+", name.lower())
                 if w and w not in ("is", "has", "should", "needs", "contains", "requires", "was")]
        if not words:
            return False
        # True when the field's own words (or their cues) occur in the text: is_urgent, refund.
        return any(s > 0 for s in matcher(tuple(words)).scores(self.ctx.words))


def string_rule(schema: dict[str, Any], name: str, path: str,
                hint: str | None = None) -> Callable[[TextContext], str]:
    """How ``SchemaValues._string`` makes a string from the request text: which rule applies
    depends on the schema, the name and the hint only, so a plan (``schema_plan.py``) picks
    it once for all requests."""
    lname = name.lower()
    fmt = schema.get("format")
    if fmt == "uuid":
        def make(ctx: TextContext) -> str:
            # surrogatepass: a request may carry a lone surrogate (JSON allows the escape).
            h = hashlib.sha256(f"{ctx.text}\x00{path}".encode("utf-8", "surrogatepass")
                               ).hexdigest()
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
    elif fmt in _FORMATS or lname in _LANGUAGE_NAMES or hint is not None:
        fixed = _FORMATS.get(fmt) or ("en" if lname in _LANGUAGE_NAMES else f"{FIELD_TAG} {hint}")

        def make(ctx: TextContext) -> str:
            return fixed
    elif any(w in lname for w in _SUMMARY_WORDS):
        def make(ctx: TextContext) -> str:
            return f"{FIELD_TAG} {ctx.first_sentence(100)}"
    elif any(w in lname for w in _TITLE_WORDS):
        def make(ctx: TextContext) -> str:
            return f"{FIELD_TAG} " + " ".join(ctx.flat.split()[:6])
    else:
        def make(ctx: TextContext) -> str:
            return f"{FIELD_TAG} {name}: {trim(ctx.flat, 40)}"
    lo = schema.get("minLength")
    hi = schema.get("maxLength")
    if not isinstance(lo, int) and not isinstance(hi, int):
        return make

    def sized(ctx: TextContext) -> str:
        value = make(ctx)
        if isinstance(hi, int) and len(value) > hi:
            value = value[:hi]
        if isinstance(lo, int) and len(value) < lo:
            value = value + "." * (lo - len(value))
        return value

    return sized
