"""Deterministic answers (no HTTP): schema-valid JSON, enums from the text, embeddings, Faults."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest
from pydantic import ValidationError

from batchsql.emulator import Faults
from batchsql.emulator.answers import (
    RequestError,
    chat_completion,
    chat_completion_json,
    chat_content,
    embeddings,
)
from batchsql.emulator.textmatch import choose_enum, words_of
from tests.test_emulator_support import check

LABELS = ["billing", "bug", "feature_request", "account", "other"]


def ask(text: str, schema: dict[str, Any] | None = None, **body: Any) -> Any:
    req: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": text}], **body}
    if schema is not None:
        req["response_format"] = {"type": "json_schema",
                                  "json_schema": {"name": "x", "strict": True, "schema": schema}}
    content, _ = chat_content(req)
    return json.loads(content) if schema is not None else content


@pytest.mark.parametrize(("text", "label"), [
    ("My invoice shows a double charge on the card. Please refund.", "billing"),
    ("I was billed the wrong amount", "billing"),
    ("The app crashes with an error every time I export.", "bug"),
    ("Feature request: it would be great to have a dark mode.", "feature_request"),
    ("I cannot log in to my account, the password reset never came.", "account"),
    ("Just wanted to say thanks for the great support.", "other"),
    ("Die Rechnung wurde doppelt abgebucht.", "other"),
])
def test_enum_is_chosen_from_the_text(text: str, label: str) -> None:
    assert choose_enum(LABELS, words_of(text), seed=0) == label


def test_enum_fallback_and_non_string_enums() -> None:
    # No match and no "other"-like option: a hash-chosen option, stable for the same seed.
    options = ["alpha", "beta", "gamma"]
    picks = {choose_enum(options, words_of("nothing relevant"), seed=s) for s in range(12)}
    assert picks <= set(options) and len(picks) > 1
    assert choose_enum(options, [], 5) == choose_enum(options, [], 5)
    assert choose_enum(["positive", "negative", "neutral"], words_of("I love it, great!"),
                       0) == "positive"
    assert choose_enum(["positive", "negative", "neutral"], words_of("the sky"), 0) == "neutral"
    assert choose_enum([1, 2, 3], words_of("two"), 7) in (1, 2, 3)


def test_plain_text_says_it_is_the_emulator_and_is_deterministic() -> None:
    a = ask("What is the capital of France? Answer briefly.")
    assert a.startswith("[batchsql emulator]") and "capital of France" in a
    assert a == ask("What is the capital of France? Answer briefly.")
    assert a != ask("What is the capital of Spain?")


def test_rich_schema_validates() -> None:
    schema = {
        "type": "object",
        "$defs": {"person": {"type": "object", "properties": {
            "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
            "age": {"anyOf": [{"type": "integer", "minimum": 18, "maximum": 99},
                              {"type": "null"}]}},
            "required": ["name", "email", "age"], "additionalProperties": False}},
        "properties": {
            "owner": {"$ref": "#/$defs/person"},
            "people": {"type": "array", "items": {"$ref": "#/$defs/person"}, "minItems": 2,
                       "maxItems": 4},
            "labels": {"type": "array", "items": {"type": "string", "enum": LABELS}},
            "kind": {"const": "ticket"},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "step": {"type": "integer", "minimum": 3, "maximum": 30, "multipleOf": 5},
            "code": {"type": "string", "minLength": 30, "maxLength": 40},
            "short": {"type": "string", "maxLength": 5},
            "when": {"type": "string", "format": "date-time"},
            "uid": {"type": "string", "format": "uuid"},
            "note": {"type": ["string", "null"]},
            "flags": {"type": "object", "properties": {}, "additionalProperties": False},
            "matrix": {"type": "array", "items": {"type": "array",
                                                  "items": {"type": "boolean"}}},
        },
        "required": ["owner", "people", "labels", "kind", "score", "step", "code", "short",
                     "when", "uid", "note", "flags", "matrix"],
        "additionalProperties": False,
    }
    value = ask("Refund please: I was charged twice and the app crashes.", schema)
    check(value, schema)
    assert value["kind"] == "ticket" and value["step"] in (5, 10, 15, 20, 25, 30)
    assert 0 < value["score"] < 1
    assert value["labels"] == ["billing", "bug"]  # the matching labels, best first
    assert value["owner"]["name"].startswith("[emulator]")
    assert isinstance(value["note"], str) and value["note"].startswith("[emulator]")
    assert value == ask("Refund please: I was charged twice and the app crashes.", schema)


def test_a_uuid_from_text_with_a_lone_surrogate() -> None:
    """JSON lets a request escape a lone surrogate (\\ud800): the answer is still made."""
    schema = {"type": "object", "properties": {"uid": {"type": "string", "format": "uuid"}},
              "required": ["uid"], "additionalProperties": False}
    value = ask("broken \ud800 text", schema)
    check(value, schema)
    assert value == ask("broken \ud800 text", schema) != ask("broken text", schema)


def test_recursive_schema_terminates_and_validates() -> None:
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/node"}},
        "required": ["root"], "additionalProperties": False,
        "$defs": {"node": {"type": "object", "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            "parent": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
            "required": ["label", "children", "parent"], "additionalProperties": False}},
    }
    check(ask("a tree", schema), schema)


def test_summary_tags_and_json_object() -> None:
    schema = {"type": "object", "properties": {
        "summary": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
        "is_urgent": {"type": "boolean"}}, "required": ["summary", "tags", "is_urgent"],
        "additionalProperties": False}
    text = ("Our production database is down and customers cannot check out. This started "
            "an hour ago after the deploy, and it keeps getting worse for everyone.")
    value = ask(text, schema)
    assert value["summary"].startswith("[emulator] Our production database is down")
    assert len(value["summary"]) <= len("[emulator] ") + 100
    assert value["is_urgent"] is True
    assert all(t.startswith("[emulator] ") for t in value["tags"]) and value["tags"]
    obj = json.loads(chat_content({"model": "m", "messages": [
        {"role": "user", "content": "hi, in JSON"}],
        "response_format": {"type": "json_object"}})[0])
    assert obj["emulator"] == "batchsql"


def test_fast_serialisation_matches_the_dict() -> None:
    bodies = [
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "héllo \"quoted\" 😊"}]},
        {"model": "m", "messages": [{"role": "system", "content": "s"},
                                    {"role": "user", "content": [{"type": "text", "text": "x"}]}],
         "response_format": {"type": "json_schema", "json_schema": {
             "name": "x", "schema": {"type": "object", "properties": {
                 "a": {"type": "string"}}, "required": ["a"]}}}},
        {"model": "m", "n": 2, "messages": [{"role": "user", "content": "two choices"}]},
    ]
    for body in bodies:
        fast, pt, ct = chat_completion_json(body, completion_id="chatcmpl-1", created=123)
        slow, pt2, ct2 = chat_completion(body, completion_id="chatcmpl-1", created=123)
        assert fast == json.dumps(slow) and (pt, ct) == (pt2, ct2)
    assert len(slow["choices"]) == 2


def test_bad_bodies_raise_request_errors() -> None:
    with pytest.raises(RequestError) as e:
        chat_content({"model": "m"})
    assert e.value.param == "messages"
    with pytest.raises(RequestError):
        chat_content({"model": "m", "messages": [{"role": "user", "content": "x"}],
                      "response_format": {"type": "xml"}})
    with pytest.raises(RequestError):
        embeddings({"model": "m"})


def test_embeddings_are_deterministic_unit_vectors() -> None:
    body, tokens = embeddings({"model": "text-embedding-3-large", "input": "hello"})
    vec = body["data"][0]["embedding"]
    assert len(vec) == 3072 and abs(sum(x * x for x in vec) - 1) < 1e-4 and tokens > 0
    b64, _ = embeddings({"model": "text-embedding-3-small", "input": ["hello", [1, 2, 3]],
                         "dimensions": 16, "encoding_format": "base64"})
    floats, _ = embeddings({"model": "text-embedding-3-small", "input": ["hello", [1, 2, 3]],
                            "dimensions": 16})
    for packed, plain in zip(b64["data"], floats["data"], strict=True):
        decoded = struct.unpack("<16f", base64.b64decode(packed["embedding"]))
        assert all(abs(a - b) < 1e-6 for a, b in zip(decoded, plain["embedding"], strict=True))


def test_faults_are_lax_but_refuse_unknown_knobs() -> None:
    f = Faults.model_validate({"processing_seconds": "1.5", "fail_rate": "0.1",
                               "fail_validation": "true", "expire_after_lines": "3"})
    assert (f.processing_seconds, f.fail_rate, f.fail_validation, f.expire_after_lines) == (
        1.5, 0.1, True, 3)
    with pytest.raises(ValidationError):
        Faults.model_validate({"fail_rat": 0.1})
    with pytest.raises(ValidationError):
        Faults(fail_rate=2)


def test_json_mode_without_the_word_json_is_refused_like_openai() -> None:
    body = {"model": "gpt-4o-mini", "response_format": {"type": "json_object"},
            "messages": [{"role": "user", "content": "Label this ticket."}]}
    with pytest.raises(RequestError, match="must contain the word 'json'"):
        chat_content(body)
    body["messages"][0]["content"] = "Label this ticket; answer in Json."
    assert json.loads(chat_content(body)[0])["emulator"] == "batchsql"
