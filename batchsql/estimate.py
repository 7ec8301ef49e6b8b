"""What a request will cost before it is sent: expected and maximum output tokens, dollars.

Input tokens are counted exactly (``tokens``); output tokens are not known until the model
answers, so each spec gets an expectation and, where the request bounds it, a maximum:

- expected: the mean of earlier answers of the same output table when there are enough of
  them; else, for typed or JSON outputs, the tokens of a typical answer built from the schema;
  else a stated guess for free text;
- maximum: ``max_completion_tokens`` / ``max_tokens`` from the spec's params, when set.

The budget charges each request its maximum when there is one, else its expectation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from batchsql import tokens
from batchsql.spec import Spec, answer_kind, output_schema

#: Earlier answers needed before their mean replaces the schema-based expectation (real
#: answers, even a few, say more about length than a typical value made up from the schema).
MIN_HISTORY = 5
#: Expected answer length of free text when nothing better is known (stated as a guess).
FREE_TEXT_GUESS = 256
_TYPICAL_STRING = "A typical short answer of a dozen words, used only for the cost estimate."
_REASONING = ("o1", "o3", "o4", "gpt-5")


@dataclass(frozen=True)
class OutputEstimate:
    """Output tokens per request: expected value, maximum (None: unbounded), and why."""

    expected: int
    maximum: int | None
    basis: str

    @property
    def for_budget(self) -> int:
        """What the budget charges: the maximum when the request has one."""
        return self.maximum if self.maximum is not None else self.expected


def output_estimate(spec: Spec, history: tuple[int, float] | None = None) -> OutputEstimate:
    """Output tokens of one of the spec's requests; ``history`` is (answers, mean tokens)."""
    kind = answer_kind(spec)
    if kind == "embedding":
        return OutputEstimate(0, 0, "embeddings have no output tokens")
    bound = _bound(spec.params)
    reasoning = spec.model.startswith(_REASONING)
    note = "; reasoning tokens are billed as output too" if reasoning else ""
    if history is not None and history[0] >= MIN_HISTORY:
        expected = math.ceil(history[1])
        basis = f"mean of {history[0]:,} earlier answers{note}"
    elif kind == "columns":
        schema = output_schema(spec)
        assert schema is not None
        expected = tokens.count_text(spec.model, json.dumps(typical_value(schema)))
        basis = f"a typical answer for the output columns{note}"
    elif kind == "json":
        expected = tokens.count_text(spec.model, json.dumps({"answer": _TYPICAL_STRING}))
        basis = f"a typical small JSON object (a guess){note}"
    else:
        expected = FREE_TEXT_GUESS
        basis = f"a guess for free text ({FREE_TEXT_GUESS} tokens){note}"
    if bound is not None:
        expected = min(expected, bound)
    return OutputEstimate(expected, bound, basis)


def typical_value(schema: dict[str, Any]) -> Any:
    """A representative answer for a JSON schema: longest enum option, three array items..."""
    kind = schema.get("type")
    if isinstance(kind, list):  # [T, "null"]: estimate the value, not the null
        kind = next((k for k in kind if k != "null"), "null")
    if "enum" in schema:
        options = [o for o in schema["enum"] if o is not None]
        return max(options, key=lambda o: len(json.dumps(o))) if options else None
    if kind == "object":
        return {name: typical_value(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 0)), 3)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        return [typical_value(schema.get("items", {})) for _ in range(count)]
    return {"string": _TYPICAL_STRING, "integer": 1234, "number": 0.875,
            "boolean": False}.get(str(kind))


def _bound(params: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
