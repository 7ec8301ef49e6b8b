"""The emulator's per-batch fast paths give what the plain code gives, byte for byte: templated
line parsing (``lines.py``) against ``json.loads``, compiled schema plans (``schema_plan.py``)
against the schema walker, answers worked out once per template against each line's own, on
varied and broken inputs."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from batchsql.emulator import EmulatorServer, Faults, answers, processing, schema_values
from batchsql.emulator.answers import chat_completion_json, chat_content
from batchsql.emulator.lines import LineParser
from batchsql.emulator.schema_plan import _EnumScores, compile_plan
from batchsql.emulator.schema_values import RequestError, SchemaValues, TextContext
from batchsql.emulator.store import Store
from batchsql.emulator.textmatch import matcher
from batchsql.emulator.validation import Validator
from tests.test_emulator import client_for, submit
from tests.test_emulator_throughput import SCHEMA, TEXTS, answers_by_id

CHAT = "/v1/chat/completions"
STRINGS = [*TEXTS, 'quote " back \\ slash', "tab\tnew\nline", "\u2028\u00e9😊", "\ud800 lone",
           "x" * 500, "other"]


def _line(i: int, text: str, **body: Any) -> dict[str, Any]:
    return {"custom_id": f"row-{i}", "method": "POST", "url": CHAT, "body": {
        "model": "gpt-4o-mini", "temperature": 0, "messages": [
            {"role": "system", "content": "You label tickets."},
            {"role": "user", "content": text}],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "out", "strict": True, "schema": SCHEMA}}, **body}}


def _variants(rng: random.Random, i: int) -> bytes:
    """A line like the ones before it, most of the time; else changed or broken somehow."""
    text = rng.choice(STRINGS) + f" {i}"
    plain = json.dumps(_line(i, text), ensure_ascii=False, separators=(",", ":"))
    kind = rng.randrange(20)
    if "\ud800" in plain and kind < 14:
        plain = json.dumps(_line(i, text), separators=(",", ":"))  # encodable: escaped
    if kind == 0:
        return json.dumps(_line(i, text)).encode()  # other separators, ASCII escapes
    if kind == 1:
        return json.dumps(_line(i, text, temperature=1)).encode()  # a number changes
    if kind == 2:
        return plain.replace(f'"row-{i}"', str(i)).encode()  # the id is not a string
    if kind == 3:
        return plain.replace(f'"row-{i}"', f'"row-{i}\\x"').encode()  # bad escape
    if kind == 4:
        return plain.replace(f'"row-{i}"', f'"row-{i}\t"').encode()  # raw control character
    if kind == 5:
        return plain.encode()[:-7]  # cut short
    if kind == 6:
        return plain.encode() + b" trailing"
    if kind == 7:
        return b"\xef\xbb\xbf" + plain.encode()  # a BOM: json.loads of bytes accepts it
    if kind == 8:
        return plain.encode("utf-16")  # json.loads detects it
    if kind == 9:
        return plain.encode("utf-8", "surrogatepass").replace(b"row", b"r\xed\xa0\x80w")
    if kind == 10:
        return plain.replace('"custom_id":', '"custom_id":"dup","custom_id":').encode()
    if kind == 11:
        return f" \t{plain} \r\n".encode()
    if kind == 12:
        return plain.replace(f'"row-{i}"', f'"row-{i}\\ud83d\\ude0a\\ud800"').encode()
    if kind == 13:
        return b"\xff" + plain.encode()
    return plain.encode("utf-8", "surrogatepass") + b"\n"


def _outcome(load: Any, raw: bytes) -> Any:
    try:
        return ("ok", load(raw))
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        return ("error", type(e).__name__)


@pytest.mark.parametrize("seed", range(4))
def test_templated_parsing_is_json_loads(seed: int) -> None:
    rng = random.Random(seed)
    parser = LineParser()
    for i in range(600):
        raw = _variants(rng, i)
        got, expected = _outcome(parser.loads, raw), _outcome(json.loads, raw)
        assert got == expected, raw
        if got[0] == "ok":  # same key order too, all the way down
            assert json.dumps(got[1]) == json.dumps(expected[1])
    assert parser._matched > 200  # most of the well-formed lines (~40%) went by a template


def test_templates_follow_what_varies_and_ignore_duplicate_keys() -> None:
    parser = LineParser()
    lines = [json.dumps({"id": f"a{i}", "n": 1, "tags": ["x", f"t{i}"], "o": {"k": "v"}})
             for i in range(5)]
    assert [parser.loads(x.encode()) for x in lines] == [json.loads(x) for x in lines]
    assert parser._matched == 3
    dup = '{"a": "1", "a": "%d", "b": "%d"}'
    for i in range(5):
        raw = (dup % (i, i)).encode()
        assert parser.loads(raw) == json.loads(raw)
    results = [parser.loads(x.encode()) for x in lines]
    assert results == [json.loads(x) for x in lines]
    results[0]["tags"].append("changed")  # what varies is never shared between lines
    assert parser.loads(lines[1].encode())["tags"] == ["x", "t1"]


def test_templates_rebuild_values_at_every_depth() -> None:
    """Strings that vary in sibling and nested containers (lists too) land where they were,
    and the containers leading to them are new objects; the rest is the template's."""
    def line(i: int) -> dict[str, Any]:
        return {"a": f"a{i}", "b": {"c": [f"c{i}", 1, {"d": f"d{i}", "e": "e"}], "f": "f"},
                "g": {"h": {"i": f"i{i}"}, "j": [f"j{i}"]}, "k": f"k{i}", "l": {"m": "m"}}

    parser = LineParser()
    got = [parser.loads(json.dumps(line(i)).encode()) for i in range(6)]
    assert parser._matched == 4
    assert got == [line(i) for i in range(6)]
    assert [json.dumps(x) for x in got] == [json.dumps(line(i)) for i in range(6)]
    assert got[4]["b"]["c"] is not got[5]["b"]["c"] and got[4]["g"]["j"] is not got[5]["g"]["j"]
    assert got[4]["l"] is got[5]["l"]  # unchanged: shared with the template


def test_templates_rebuild_values_under_keys_of_any_text() -> None:
    """Keys with quotes, backslashes, line breaks, non-ASCII and lone surrogates (written into
    the template's compiled rebuild as literals) put the values where json.loads does."""
    keys = ["'", '"', "\\", "'''", "a\nb", "\u00e9\u65e5", "\ud800", "\x00", "{c0}", "values"]

    def line(i: int, keys: list[str]) -> dict[str, Any]:
        return {k: {k: [f"{k}{i}", {k: f"v{i}"}], "x": "x"} for k in keys}

    # Written as UTF-8, a lone surrogate is no line json.loads takes: escaped only.
    for ensure_ascii, some in ((True, keys), (False, [k for k in keys if k != "\ud800"])):
        parser = LineParser()
        texts = [json.dumps(line(i, some), ensure_ascii=ensure_ascii).encode() for i in range(5)]
        got = [parser.loads(t) for t in texts]
        assert parser._matched == 3
        assert got == [json.loads(t) for t in texts] == [line(i, some) for i in range(5)]


RECURSIVE = {
    "type": "object", "properties": {"root": {"$ref": "#/$defs/node"}},
    "$defs": {"node": {"type": "object", "properties": {
        "label": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "parent": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}}},
}
RICH = {
    "type": "object", "$defs": {"p": {"type": "object", "properties": {
        "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
        "age": {"anyOf": [{"type": "integer", "minimum": 18, "maximum": 99},
                          {"type": "null"}]}}}},
    "properties": {
        "owner": {"$ref": "#/$defs/p"},
        "people": {"type": "array", "items": {"$ref": "#/$defs/p"}, "minItems": 2},
        "labels": {"type": "array", "items": {"type": "string", "enum": ["billing", "bug"]}},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "kind": {"const": {"a": [1, 2.5, None, True]}}, "score": {"type": "number"},
        "confidence": {"type": "number"}, "step": {"type": "integer", "multipleOf": 5,
                                                    "minimum": 3, "maximum": 30},
        "code": {"type": "string", "minLength": 30}, "short": {"type": "string", "maxLength": 5},
        "title": {"type": "string"}, "language": {"type": "string"},
        "uid": {"type": "string", "format": "uuid"}, "note": {"type": ["string", "null"]},
        "is_urgent": {"type": "boolean"}, "has_refund": {"type": "boolean"},
        "mixed": {"enum": [None, 1, "two", 3.5]}, "nulls": {"enum": [None]},
        "numbers": {"enum": [1, 2, 3]}, "fallback": {"enum": ["x", "Neutral", "y"]},
        "café": {"enum": ["café", "naïve"]}, "anything": {}, "yes": True,
        "nothing": {"type": "null"},
        "both": {"allOf": [{"type": "object", "properties": {"x": {"type": "string"}}}]},
        "either": {"oneOf": [{"type": "null"}, {"type": "string", "enum": ["refund", "crash"]}]},
        "tree": {"$ref": "#/$defs/p"},
    },
}


@pytest.mark.parametrize("schema", [SCHEMA, RICH, RECURSIVE, {}, {"type": "string"},
                                    {"enum": ["other"]}, {"type": "array", "items": True}])
def test_plans_give_what_the_walker_gives(schema: dict[str, Any]) -> None:
    plan = compile_plan(schema)
    assert plan is not None
    for text in [*STRINGS, "I was billed twice, refund now! Urgent. Crash too.", ""]:
        if "\ud800" in text and "uid" in json.dumps(schema):
            continue  # the uuid format cannot hash a lone surrogate (either way)
        ctx = TextContext(text)
        walked = SchemaValues(schema, TextContext(text)).value(schema, "result", "$")
        assert plan.json(ctx) == json.dumps(walked, ensure_ascii=False)


@pytest.mark.parametrize("schema", [{"$ref": "#/nope"}, {"$ref": "http://x"},
                                    {"type": "object", "properties": {"a": {"$ref": "#"}}}])
def test_schemas_the_walker_refuses_get_no_plan(schema: dict[str, Any]) -> None:
    assert compile_plan(schema) is None
    with pytest.raises(RequestError):
        SchemaValues(schema, TextContext("x")).value(schema, "result", "$")


def test_plans_are_found_by_identity_not_equality() -> None:
    def ask(schema: dict[str, Any]) -> str:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                "response_format": {"type": "json_schema",
                                    "json_schema": {"name": "x", "schema": schema}}}
        return chat_content(body)[0]

    one, real = {"type": "object", "properties": {"k": {"const": 1}}}, {
        "type": "object", "properties": {"k": {"const": 1.0}}}
    assert one == real
    for _ in range(3):  # met once, then compiled, then planned
        assert (ask(one), ask(real)) == ('{"k": 1}', '{"k": 1.0}')


def test_first_sentence_from_the_head_of_a_text_is_that_of_the_whole() -> None:
    rng = random.Random(5)
    alphabet = "ab .!?\n\t\u2028\u00a0é\x1c\x85\u3000"
    texts = [*STRINGS, "One. Two", "a" * 99 + ". b", "a" * 100 + ". b", "a" * 101 + "! b",
             " Ends here.  ", "\n\t. x", "a b c.\u3000", "Why?\x85No.", "x" * 230 + ". y"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
              for _ in range(3000)]
    for text in texts:
        for limit in (1, 5, 40, 100):
            flat = " ".join(text.split())
            sentence = re.split(r"(?<=[.!?])\s", flat, maxsplit=1)[0] if flat else ""
            sentence = sentence or "(empty input)"
            expected = (sentence if len(sentence) <= limit
                        else sentence[:limit - 1].rstrip() + "…")
            assert TextContext(text).first_sentence(limit) == expected, (text, limit)


def test_enum_scores_survive_their_memo_starting_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_EnumScores, "MEMO_WORDS", 5)
    plan = compile_plan(RICH)
    assert plan is not None
    rng = random.Random(11)
    vocabulary = ["billing", "bills", "bug", "crashing", "refund", "urgent", "low", "other",
                  "two", "x", "y", "z"]
    for _ in range(200):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 30)))
        walked = SchemaValues(RICH, TextContext(text)).value(RICH, "result", "$")
        assert plan.json(TextContext(text)) == json.dumps(walked, ensure_ascii=False)


@pytest.mark.parametrize("memo_words", [0, 3, 200_000])
def test_enum_scores_match_each_matcher_over_repeated_and_new_words(
        monkeypatch: pytest.MonkeyPatch, memo_words: int) -> None:
    """Words met for the first time (twice in one text, or as the memo starts again midway)
    score what every matcher's own scores give."""
    monkeypatch.setattr(_EnumScores, "MEMO_WORDS", memo_words)
    enums = _EnumScores()
    option_sets = [("billing", "bug", "feature_request", "account", "other"),
                   ("low", "normal", "high", "urgent"), ("n/a", "ok", "v2", "x", "copy")]
    for options in option_sets:
        enums.add(matcher(options))
    rng = random.Random(8)
    vocabulary = ["billing", "bills", "charged", "bug", "crashing", "urgent", "asap", "low",
                  "ok", "v2", "x", "copy", "the", "a"]
    for n in range(400):
        words = [rng.choice(vocabulary) if rng.random() < 0.7 else f"new{n}w{rng.randint(0, 3)}"
                 for _ in range(rng.randint(0, 40))]
        ctx = TextContext(" ".join(words))
        expected = [matcher(options).scores(ctx.words) for options in option_sets]
        assert enums.scores(ctx) == expected, words


def test_enum_hits_ruled_out_by_their_first_letters_are_none() -> None:
    """The three-letter probe of _EnumScores only skips words that hit no option."""
    enums = _EnumScores()
    for options in [("billing", "bug", "feature_request", "account", "other"),
                    ("low", "normal", "high", "urgent"), ("n/a", "ok", "v2", "x", "copy"),
                    ("babies", "flies", "status-quo", "A_B", "éclair", "123", "")]:
        enums.add(matcher(options))
    rng = random.Random(3)
    vocabulary = [w for m in enums.matchers for t in m.exact for w in (
        t, t + "s", t + "ing", t + "ies", t[:-1] + "ies", t[:3], t[:4] + "x", t + "ations")]
    words = vocabulary + ["".join(rng.choice("abcilnoprsuy0123") for _ in range(rng.randint(
        1, 9))) for _ in range(20_000)]
    hitting = 0
    for word in words:
        everything = tuple((j, i, w) for j, m in enumerate(enums.matchers)
                           for i, w in m._hits(word))
        assert enums._hits(word) == everything, word
        hitting += bool(everything)
    assert hitting > 500


_OTHER_BODIES: list[dict[str, Any]] = [
    {"response_format": {"type": "json_object"}}, {"response_format": {"type": "text"}},
    {"n": 2}, {"n": 1.0}, {"n": True}, {"messages": []}, {"response_format": "json"},
    {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
    {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}}}},
    {"model": "my-model"}, {"tools": [{"type": "function", "name": "f"}]}]


def _shaped(rng: random.Random, i: int, shape: int) -> bytes:
    """A line of one of several batch shapes, its strings varying where the shape says."""
    text = rng.choice(STRINGS) + f" {i}"
    if shape == 0:  # the common one: only the id and the user's text differ
        line = _line(i, text)
    elif shape == 1:  # the instructions differ too
        line = _line(i, text)
        line["body"]["messages"][0]["content"] = f"Label ticket {i}."
    elif shape == 2:  # two user turns, one constant
        line = _line(i, text)
        line["body"]["messages"].insert(1, {"role": "user", "content": "Hello", "name": "bo"})
    elif shape == 3:  # the model differs (an estimated one among them)
        line = _line(i, text, model=rng.choice(["gpt-4o-mini", "gpt-4o", "my-model"]))
    else:  # other answers and failures: json_object, text, n, no messages, a bad format
        line = _line(i, text, **_OTHER_BODIES[shape - 4])
    if rng.random() < 0.1:  # now and then a line of another shape, or a broken one
        return _variants(rng, i)
    return json.dumps(line, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _answer_or_error(body: Any, **kw: Any) -> Any:
    try:
        return chat_completion_json(body, completion_id="chatcmpl-emu1", created=1, **kw)
    except RequestError as e:
        return ("error", e.message, e.param, e.code)


@pytest.mark.parametrize("shape", range(4 + len(_OTHER_BODIES)))
def test_templated_answers_are_the_plain_ones(shape: int) -> None:
    """What chat_completion_json works out once per template gives each line's own answer."""
    rng, parser, templated = random.Random(shape), LineParser(), 0
    for i in range(300):
        try:
            req = parser.loads(_shaped(rng, i, shape))
        except ValueError:
            continue
        body = req.get("body") if isinstance(req, dict) else None
        if not isinstance(body, dict):
            continue
        templated += parser.template is not None
        plain = _answer_or_error(body)
        assert _answer_or_error(body, template=parser.template) == plain, i
        # The user texts' tokens counted apart (as execute counts a chunk's) change nothing.
        counted = answers.templated_user_tokens(body, parser.template)
        assert _answer_or_error(body, template=parser.template, user_tokens=counted) == plain, i
    assert templated > 200


@pytest.mark.parametrize("faults", [{}, {"fail_rate": 0.2, "duplicate_match": "ticket 3",
                                         "wrong_answer_match": "ticket 5", "extra_lines": 1}])
def test_batches_answered_by_template_are_answered_as_line_by_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, faults: dict[str, Any]) -> None:
    """A whole batch of varied shapes (some lines answered 400) gives the same files, counts
    and usage with the answers' per-template work as without it."""
    rng = random.Random(7)
    lines = []
    for shape in range(4 + len(_OTHER_BODIES)):
        for i in range(shape * 100, shape * 100 + 12):
            try:
                line = json.loads(_shaped(rng, i, shape))
            except ValueError:
                continue
            # Valid requests only (an invalid one fails the batch), and one model a batch.
            if (isinstance(line.get("custom_id"), str) and "\\ud800" not in json.dumps(line)
                    and line["body"].get("model") == "gpt-4o-mini"):
                lines.append(line)
    lines = list({line["custom_id"]: line for line in lines}.values())
    shape_of = answers._chat_shape
    used = []
    monkeypatch.setattr(answers, "_chat_shape", lambda t: used.append(t) or shape_of(t))
    results = []
    for name in ("templated", "plain"):
        with EmulatorServer(tmp_path / name, faults=Faults(**faults), processes=1) as srv:
            client = client_for(srv)
            batch = client.batches.retrieve(submit(client, lines).id)
            assert batch.status == "completed", batch.errors
            results.append((answers_by_id(client, batch.output_file_id),
                            answers_by_id(client, batch.error_file_id),
                            batch.request_counts, batch.usage))
        assert used  # the templates were asked about, in this process
        monkeypatch.setattr(answers, "_chat_shape", lambda t: None)
    assert results[0] == results[1]
    assert results[0][1]  # some lines failed, as the plain path fails them


def _chunked_batch(store: Store, batch_id: str, broken: bool) -> int:
    """An input file of varied shapes with blank lines (and, if ``broken``, an invalid line)."""
    rng = random.Random(11)
    raws = []
    for i in range(60):
        try:
            line = json.loads(_shaped(rng, i, rng.choice([0, 0, 0, 2, 5])))
        except ValueError:
            continue
        if not isinstance(line, dict) or not isinstance(line.get("body"), dict):
            continue
        line["custom_id"] = f"row-{i}"  # valid requests, one model
        line["body"]["model"] = "gpt-4o-mini"
        raws.append(json.dumps(line).encode() + b"\n")
        if i % 17 == 3:
            raws.append(b"\n")
    if broken:
        raws.insert(45, b"{not json\n")
    path = store.batch_input_path(batch_id)
    path.write_bytes(b"".join(raws))
    return path.stat().st_size


@pytest.mark.parametrize(("k", "validate", "broken"), [
    (None, False, False), (None, True, False), (None, True, True), (0, False, False),
    (5, False, False), (41, False, False)])
def test_answers_in_chunks_are_those_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  k: int | None, validate: bool,
                                                  broken: bool) -> None:
    """execute reads lines ahead and counts their tokens together: whatever the chunk size,
    the same files, counts and usage (and, for a broken input, no files at all)."""
    store = Store(tmp_path)
    faults = Faults(fail_rate=0.1, duplicate_match="7")
    rec = {"id": "batch_chunks", "endpoint": CHAT, "faults": faults.model_dump()}
    size = _chunked_batch(store, rec["id"], broken)
    outcomes = []
    for chunk in (1, 3, 1024):
        monkeypatch.setattr(processing, "_CHUNK", chunk)
        validator = Validator(CHAT, faults, size, count_tokens=False) if validate else None
        result = processing.execute(store, rec, k, None if k is None else "expired", 1000.0,
                                    validator)
        if result is None:
            outcomes.append((None, validator and validator.result()))
            continue
        files = [store.file_path(result.pop(kind)).read_bytes() if result[kind] else None
                 for kind in ("output_file_id", "error_file_id")]
        outcomes.append((files, result))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert (outcomes[0][0] is None) == broken
    assert not list(store.tmp_path().parent.iterdir())  # no spool left behind


def test_validator_blank_and_missing_checks() -> None:
    """Blank means bytes.strip() leaves nothing (ASCII whitespace only); a missing field is
    named first in the order custom_id, method, url, body."""
    validator = Validator(CHAT, Faults(), 100, count_tokens=False)
    line = _line(1, "hi")
    raws = [b"\x0b\x0c \t\r\n", b"\n", b"\x1c\n", b"\xc2\xa0\n",
            json.dumps({"url": CHAT}).encode(), json.dumps({"custom_id": "a"}).encode(),
            json.dumps({k: v for k, v in line.items() if k != "body"}).encode(),
            json.dumps(line).encode()]
    got = [validator.check(n, raw) for n, raw in enumerate(raws, 1)]
    assert got[:7] == [None] * 7 and got[7] == line
    assert validator.total == 6  # the two blank lines are not requests
    assert [(e["code"], e["param"], e["line"]) for e in validator.errors] == [
        ("invalid_json_line", None, 3), ("invalid_json_line", None, 4),
        ("missing_required_parameter", "custom_id", 5),
        ("missing_required_parameter", "method", 6),
        ("missing_required_parameter", "body", 7)]
    assert validator.errors[2]["message"] == "Missing required parameter: 'custom_id'."


def _string_as_it_was(ctx: TextContext, schema: dict[str, Any], name: str, path: str,
                      hint: str | None = None) -> str:
    """SchemaValues._string before string_rule, verbatim: what the rules must still give."""
    lname = name.lower()
    fmt = schema.get("format")
    if fmt == "uuid":
        h = hashlib.sha256(f"{ctx.text}\x00{path}".encode("utf-8", "surrogatepass")
                           ).hexdigest()
        value = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
    elif fmt in schema_values._FORMATS:
        value = schema_values._FORMATS[fmt]
    elif lname in ("language", "lang", "language_code", "locale"):
        value = "en"
    elif hint is not None:
        value = f"{schema_values.FIELD_TAG} {hint}"
    elif any(w in lname for w in schema_values._SUMMARY_WORDS):
        value = f"{schema_values.FIELD_TAG} {ctx.first_sentence(100)}"
    elif any(w in lname for w in schema_values._TITLE_WORDS):
        value = f"{schema_values.FIELD_TAG} " + " ".join(ctx.flat.split()[:6])
    else:
        value = f"{schema_values.FIELD_TAG} {name}: {schema_values.trim(ctx.flat, 40)}"
    lo = schema.get("minLength")
    hi = schema.get("maxLength")
    if isinstance(hi, int) and len(value) > hi:
        value = value[:hi]
    if isinstance(lo, int) and len(value) < lo:
        value = value + "." * (lo - len(value))
    return value


def test_string_rules_give_what_the_string_walker_gave() -> None:
    names = ["summary", "Title", "language", "LOCALE", "code", "item", "reason_text", "x"]
    schemas: list[dict[str, Any]] = [
        {}, {"format": "uuid"}, {"format": "email"}, {"format": "date"}, {"format": "weird"},
        {"minLength": 30}, {"maxLength": 5}, {"minLength": 3, "maxLength": 4},
        {"maxLength": True}, {"minLength": 2.5}, {"format": "uuid", "maxLength": 8}]
    texts = [*STRINGS, "", "  One. Two!  three? four", "a" * 300]
    for schema, name, hint, text in itertools.product(schemas, names, [None, "tag"], texts):
        rule = schema_values.string_rule(schema, name, "$.p", hint)
        expected = _string_as_it_was(TextContext(text), schema, name, "$.p", hint)
        assert rule(TextContext(text)) == expected, (schema, name, hint, text)
    with pytest.raises(TypeError):  # an unhashable format fails as it did, per request
        schema_values.string_rule({"format": ["x"]}, "a", "$")


@pytest.mark.parametrize("seed", range(3))
def test_validating_templated_lines_finds_what_checking_each_line_finds(seed: int) -> None:
    """The validator checks only the custom_id of a line whose template passed every other
    check: the same requests, errors and token count as checking everything of every line."""
    rng = random.Random(seed)
    raws = []
    for i in range(400):
        line = _line(i, rng.choice(STRINGS[:6]) + f" {i}")
        line["custom_id"] = rng.choice([f"row-{i}"] * 12 + [f"row-{i // 2}", "", "row-0"])
        if rng.random() < 0.1:  # now and then a run of lines where a checked field varies
            key, values = rng.choice([("url", [CHAT, "/v1/embeddings"]),
                                      ("method", ["POST", "GET"]),
                                      ("model", ["gpt-4o-mini", "gpt-4o"])])
            for j in range(rng.randint(2, 5)):
                varied = json.loads(json.dumps(line))
                varied["custom_id"] = f"v-{i}-{j}"
                (varied["body"] if key == "model" else varied)[key] = rng.choice(values)
                raws.append(json.dumps(varied).encode())
        if rng.random() < 0.02:
            line["body"]["stream"] = True
        raws.append(json.dumps(line).encode())
    outcomes = []
    for learn in (True, False):
        validator = Validator(CHAT, Faults(max_requests=10_000), 100)
        if not learn:
            validator.parser._learn = lambda *_: None  # type: ignore[method-assign]
        got = [validator.check(n, raw) for n, raw in enumerate(raws, 1)]
        outcomes.append((got, validator.result()))
        assert validator.parser._matched > 200 if learn else not validator.parser._matched
    assert outcomes[0] == outcomes[1]
    codes = {e["code"] for e in outcomes[0][1]["errors"]}
    assert {"duplicate_custom_id", "invalid_request", "invalid_url", "mismatched_model",
            "streaming_unsupported"} <= codes
