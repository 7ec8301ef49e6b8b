"""The functional core: plan, reconcile, prompts, pricing (no warehouse, no provider)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from batchsql import plan, reconcile
from batchsql.errors import SpecError
from batchsql.pricing import Price, price_of
from batchsql.prompts import compile_prompt
from batchsql.spec import Column, load_spec, spec_from_dict

COLUMNS = {
    "label": Column(type="string", enum=("billing", "bug", "other")),
    "priority": Column(type="integer", minimum=1, maximum=4),
    "score": Column(type="number", required=False),
    "urgent": Column(type="boolean"),
}
_BASE = {"name": "s", "source": {"table": "t", "key": "id"}, "prompt": {"user": "hi"},
         "model": "gpt-4o-mini"}
SPEC = spec_from_dict({**_BASE, "output": {"table": "o", "columns": COLUMNS}})
TEXT_SPEC = spec_from_dict({**_BASE, "output": {"table": "o"}})


def test_pure_modules_import_no_io_libraries() -> None:
    code = textwrap.dedent("""
        import sys
        import batchsql.spec, batchsql.prompts, batchsql.sql, batchsql.plan, batchsql.reconcile
        bad = [m for m in ("duckdb", "openai", "click", "rich", "httpx2") if m in sys.modules]
        print(",".join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_canonical_json_is_sorted_compact_utf8() -> None:
    text = plan.canonical_json({"b": 1, "a": ["é", "\n", "\x01", "/"], "A": None})
    assert text == '{"A":null,"a":["é","\\n","\\u0001","/"],"b":1}'


def test_fingerprint_is_stable_across_releases() -> None:
    # A golden value: if this changes, every finished row of every user becomes pending again.
    body = plan.canonical_json(plan.build_chat_body(
        "gpt-4o-mini", [{"role": "user", "content": "Hello"}], {"temperature": 0}, None, "x"))
    assert body == ('{"messages":[{"content":"Hello","role":"user"}],'
                    '"model":"gpt-4o-mini","temperature":0}')
    assert plan.fingerprint(plan.CHAT_COMPLETIONS, body) == (
        "4e446cde994177f029d462c6258ea61856c2b4ba192fc03e7e2d26fcbe3c6451")


def test_request_line_round_trips() -> None:
    body = plan.canonical_json(plan.build_chat_body(
        "m", [{"role": "user", "content": 'say "hi"'}], {}, {"type": "object"}, "spec"))
    line = plan.encode_line("abc-7", plan.CHAT_COMPLETIONS, body)
    assert line.endswith(b"\n")
    record = json.loads(line)
    assert record["custom_id"] == "abc-7"
    assert record["method"] == "POST" and record["url"] == "/v1/chat/completions"
    assert record["body"]["response_format"]["json_schema"] == {
        "name": "spec", "strict": True, "schema": {"type": "object"}}


def test_custom_ids_fit_every_provider() -> None:
    cid = plan.custom_id(plan.new_batch_uuid(), 49_999)
    assert len(cid) <= 64 and all(c.isalnum() or c in "-_" for c in cid)


def test_batch_uuids_sort_in_the_order_they_were_made() -> None:
    made = []
    for _ in range(5):
        made.append(plan.new_batch_uuid())
        time.sleep(0.002)
    assert sorted(made) == made and len(set(made)) == 5
    assert all(len(u) == 20 and u.isalnum() and u == u.lower() for u in made)
    # They differ in their first 8 characters, which is all DuckDB's min/max statistics keep.
    assert len({u[:8] for u in made}) == 5


def test_chunk_limits() -> None:
    chunk = plan.Chunk(plan.Limits(max_requests=2, max_bytes=100))
    assert chunk.fits(60)
    chunk.add(60)
    assert not chunk.fits(41) and chunk.fits(40)
    chunk.add(40)
    assert not chunk.fits(0)  # request count reached
    assert "over the provider's limit of 100 bytes" in (chunk.never_fits(101, 1) or "")
    assert chunk.never_fits(100, 10**9) is None  # no token limit declared
    capped = plan.Chunk(plan.Limits(max_requests=2, max_bytes=100, max_tokens=50))
    assert "enqueued-token limit of 50" in (capped.never_fits(10, 51) or "")


def test_prices_match_snapshots_and_unknown_is_none() -> None:
    assert price_of("gpt-4o-mini-2024-07-18") == price_of("gpt-4o-mini")
    assert price_of("gpt-4o-2024-08-06") == price_of("gpt-4o")
    assert price_of("my-finetune") is None
    assert Price(1.0, 2.0).cost(1_000_000, 1_000_000) == pytest.approx(1.5)
    assert Price(1.0, 2.0).cost(1_000_000, 1_000_000, batch=False) == pytest.approx(3.0)


def _ok_line(content: str, finish: str = "stop", cid: str = "b-1") -> bytes:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}
    return json.dumps({"id": "batch_req_1", "custom_id": cid,
                       "response": {"status_code": 200, "request_id": "r", "body": body},
                       "error": None}).encode()


def test_success_line_typed_values() -> None:
    answer = json.dumps({"label": "bug", "priority": 3.0, "score": None, "urgent": False})
    out = reconcile.parse_line(_ok_line(answer), SPEC)
    assert out.status == "succeeded", out.error
    assert out.values == {"label": "bug", "priority": 3, "score": None, "urgent": False}
    assert (out.input_tokens, out.output_tokens, out.custom_id) == (12, 5, "b-1")


def test_text_answer_without_columns() -> None:
    out = reconcile.parse_line(_ok_line("just text"), TEXT_SPEC)
    assert out.status == "succeeded" and out.values == {"answer": "just text"}


@pytest.mark.parametrize(("answer", "problem"), [
    ('{"label": "sales", "priority": 1, "urgent": true}', "'label' is 'sales', not one of"),
    ('{"label": "bug", "priority": 9, "urgent": true}', "above the maximum 4"),
    ('{"label": "bug", "priority": 1.5, "urgent": true}', "not an integer"),
    ('{"label": "bug", "priority": true, "urgent": true}', "not a number"),
    ('{"label": "bug", "priority": 1}', "missing required 'urgent'"),
    ('{"label": "bug", "priority": 1, "urgent": "yes"}', "not a boolean"),
    ('{"label": "bug", "priority": 1, "urgent": true, "x": 1}', "undeclared keys: x"),
    ("[1, 2]", "JSON list, expected an object"),
    ("not json", "not valid JSON"),
])
def test_invalid_answers(answer: str, problem: str) -> None:
    out = reconcile.parse_line(_ok_line(answer), SPEC)
    assert out.status == "invalid_output"
    assert problem in (out.error or "")
    assert out.input_tokens == 12  # paid for, so counted


def test_cut_off_answer_is_invalid() -> None:
    out = reconcile.parse_line(_ok_line('{"label": "bu', finish="length"), SPEC)
    assert out.status == "invalid_output" and "max_tokens" in (out.error or "")


def test_error_and_expired_lines() -> None:
    failed = json.dumps({"id": "x", "custom_id": "b-2", "error": None, "response": {
        "status_code": 500, "request_id": "r",
        "body": {"error": {"message": "boom", "type": "server_error", "code": "server_error"}}}})
    out = reconcile.parse_line(failed.encode(), SPEC)
    assert (out.status, out.custom_id) == ("failed", "b-2")
    assert out.error == "HTTP 500 server_error: boom"
    expired = json.dumps({"id": "x", "custom_id": "b-3", "response": None,
                          "error": {"code": "batch_expired", "message": "too late"}})
    out = reconcile.parse_line(expired.encode(), SPEC)
    assert (out.status, out.error) == ("expired", "batch_expired: too late")


def test_truncated_line_keeps_its_custom_id() -> None:
    out = reconcile.parse_line(_ok_line('{"label": "bug"}', cid="b-42")[:60], SPEC)
    assert out.status == "failed" and out.custom_id == "b-42"
    assert "malformed result line" in (out.error or "")


def _spec(tmp_path, user: str):
    path = tmp_path / "s.yml"
    path.write_text(textwrap.dedent("""\
        name: s
        source:
          table: t
          key: id
        prompt:
          system: Be brief.
          user: |
        """) + textwrap.indent(user, "    ") + textwrap.dedent("""\
        model: gpt-4o-mini
        output:
          table: out
        """))
    return load_spec(path)


def test_template_missing_column_names_file_line(tmp_path) -> None:
    spec = _spec(tmp_path, "Subject: {{ subject }}\nBody: {{ bdy }}\n")
    prompt = compile_prompt(spec)
    with pytest.raises(SpecError) as info:
        prompt.check_columns(["id", "subject", "body"])
    assert info.value.line == 9
    assert "'bdy'" in str(info.value) and "did you mean 'body'?" in str(info.value)
    assert "columns are: id, subject, body" in str(info.value)


def test_template_syntax_error_names_file_line(tmp_path) -> None:
    spec = _spec(tmp_path, "Hello\n{{ subject }\n")
    with pytest.raises(SpecError) as info:
        compile_prompt(spec)
    assert str(info.value).startswith(f"{spec.path}:9: template syntax error")


def test_template_loops_and_filters_are_not_columns(tmp_path) -> None:
    spec = _spec(tmp_path,
                 "{% for w in body.split() %}{{ w|upper }}{% endfor %} {{ range(2)|list }}\n")
    prompt = compile_prompt(spec)
    assert prompt.variables() == {"body"}
    assert prompt.render({"body": "a b"})[1]["content"] == "AB [0, 1]"


def test_null_renders_empty_and_sandbox_blocks_internals() -> None:
    spec = spec_from_dict({"name": "s", "source": {"table": "t", "key": "id"},
                           "prompt": {"user": "[{{ x }}] {{ x.__class__ }}"}, "model": "m",
                           "output": {"table": "o"}})
    prompt = compile_prompt(spec)
    with pytest.raises(Exception, match=r"unsafe|not safely|access"):
        prompt.render({"x": None})
    spec = spec_from_dict({"name": "s", "source": {"table": "t", "key": "id"},
                           "prompt": {"user": "[{{ x }}]"}, "model": "m",
                           "output": {"table": "o"}})
    assert compile_prompt(spec).render({"x": None})[0]["content"] == "[]"
