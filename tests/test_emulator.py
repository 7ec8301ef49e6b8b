"""The emulator through the real ``openai`` SDK over HTTP: files, batches, faults, restarts."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types import Batch
from openai.types.chat import ChatCompletion

from batchsql.emulator import EmulatorServer, Faults
from tests.test_emulator_support import check, check_openapi

MODEL = "gpt-4o-mini"
CHAT = "/v1/chat/completions"


# -- helpers -------------------------------------------------------------------------------------

def chat_line(custom_id: str, text: str, model: str = MODEL, **body: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": CHAT,
            "body": {"model": model, "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": text}], **body}}


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((line if isinstance(line, str) else json.dumps(line)).encode() + b"\n"
                    for line in lines)


def client_for(srv: EmulatorServer, retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=retries)


def submit(client: openai.OpenAI, lines: list[Any], endpoint: str = CHAT,
           metadata: dict[str, str] | None = None) -> Batch:
    f = client.files.create(file=("input.jsonl", jsonl(lines)), purpose="batch")
    return client.batches.create(input_file_id=f.id, endpoint=endpoint,  # type: ignore[arg-type]
                                 completion_window="24h", metadata=metadata)


def run(client: openai.OpenAI, lines: list[Any], endpoint: str = CHAT) -> Batch:
    """Submit and read back once (with processing_seconds=0 that is the final state)."""
    return client.batches.retrieve(submit(client, lines, endpoint).id)


def read_jsonl(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines()]


def raw(srv: EmulatorServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A plain HTTP call (no SDK), for the exact JSON on the wire and the admin endpoints."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(srv.url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer x",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wire_batch(srv: EmulatorServer, batch_id: str, method: str = "GET",
               suffix: str = "") -> dict[str, Any]:
    """The Batch JSON exactly as sent, checked against the OpenAPI schema and the SDK type."""
    status, body = raw(srv, method, f"/v1/batches/{batch_id}{suffix}")
    assert status == 200, body
    check_openapi(body, "Batch")
    assert set(body) >= set(Batch.model_fields)  # every SDK field is present on the wire
    Batch.model_validate(body)
    return body


TICKETS = [
    ("t-billing", "I was charged twice on my invoice this month. Please refund the extra bill."),
    ("t-bug", "The app crashes with an error every time I open the settings page."),
    ("t-feature", "Please add a dark mode, it would be a great feature."),
    ("t-account", "I cannot login: my password reset email never arrives."),
    ("t-other", "Hello! Just saying hi."),
]
TICKET_SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string",
                     "enum": ["billing", "bug", "feature_request", "account", "other"]},
        "summary": {"type": "string"},
        "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "needs_refund": {"type": "boolean"},
        "language": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "customer": {"type": "object", "properties": {
            "name": {"type": "string"}, "tier": {"type": "string", "enum": ["free", "pro"]}},
            "required": ["name", "tier"], "additionalProperties": False},
    },
    "required": ["category", "summary", "urgency", "confidence", "needs_refund", "language",
                 "tags", "customer"],
    "additionalProperties": False,
}


# -- the happy path ------------------------------------------------------------------------------

def test_upload_create_poll_download(srv: EmulatorServer, client: openai.OpenAI) -> None:
    lines = [chat_line(f"row-{i}", f"Tell me about item {i}. It is blue.") for i in range(6)]
    created = submit(client, lines, metadata={"job": "demo", "run": "1"})
    assert created.status == "validating"
    assert created.metadata == {"job": "demo", "run": "1"}
    assert created.request_counts is not None and created.request_counts.total == 0

    batch = client.batches.retrieve(created.id)
    assert batch.status == "completed"
    assert batch.model == MODEL
    assert batch.request_counts and batch.request_counts.model_dump() == {
        "total": 6, "completed": 6, "failed": 0}
    assert batch.error_file_id is None and batch.output_file_id
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
    assert batch.expires_at == batch.created_at + 24 * 3600
    assert batch.usage and batch.usage.total_tokens == (
        batch.usage.input_tokens + batch.usage.output_tokens) > 0

    out = read_jsonl(client, batch.output_file_id)
    assert sorted(o["custom_id"] for o in out) == sorted(f"row-{i}" for i in range(6))
    for line in out:
        check_openapi(line, "BatchRequestOutput")
        assert line["id"].startswith("batch_req_") and line["error"] is None
        assert line["response"]["status_code"] == 200
        completion = ChatCompletion.model_validate(line["response"]["body"])
        assert completion.object == "chat.completion" and completion.model == MODEL
        assert completion.system_fingerprint == "batchsql-emulator"
        msg = completion.choices[0].message
        assert msg.role == "assistant" and msg.refusal is None
        assert completion.choices[0].finish_reason == "stop"
        assert msg.content and msg.content.startswith("[batchsql emulator]")
        assert completion.usage and completion.usage.prompt_tokens > 0
        assert completion.usage.total_tokens == (completion.usage.prompt_tokens
                                                 + completion.usage.completion_tokens)
    assert sum(o["response"]["body"]["usage"]["total_tokens"] for o in out) == (
        batch.usage.total_tokens)

    # The exact JSON on the wire validates against the OpenAPI schemas.
    wire_batch(srv, batch.id)
    _, listed = raw(srv, "GET", "/v1/batches")
    check_openapi(listed, "ListBatchesResponse")
    _, files = raw(srv, "GET", "/v1/files")
    check_openapi(files, "ListFilesResponse")
    for f in files["data"]:
        check_openapi(f, "OpenAIFile")
    output_meta = client.files.retrieve(batch.output_file_id)
    assert output_meta.purpose == "batch_output"
    assert output_meta.bytes == len(client.files.content(batch.output_file_id).content)
    assert srv.stats()["batches_by_status"] == {"completed": 1}
    assert srv.stats()["files_created"] == 1


def test_answers_are_deterministic_across_batches(client: openai.OpenAI) -> None:
    lines = [chat_line(f"r{i}", f"Same question number {i}?") for i in range(5)]
    first = {o["custom_id"]: o["response"]["body"]["choices"][0]["message"]["content"]
             for o in read_jsonl(client, run(client, lines).output_file_id)}
    again = {o["custom_id"]: o["response"]["body"]["choices"][0]["message"]["content"]
             for o in read_jsonl(client, run(client, lines).output_file_id)}
    assert first == again
    assert len(set(first.values())) == 5  # and different inputs get different answers


def test_list_paging_newest_first(srv: EmulatorServer, client: openai.OpenAI) -> None:
    ids = [submit(client, [chat_line("a", "hi")], metadata={"n": str(i)}).id for i in range(5)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2]
    assert page.has_more is True
    _, wire = raw(srv, "GET", "/v1/batches?limit=2")
    assert wire["first_id"] == ids[4] and wire["last_id"] == ids[3] and wire["has_more"]
    _, wire = raw(srv, "GET", f"/v1/batches?limit=2&after={ids[1]}")
    assert [b["id"] for b in wire["data"]] == [ids[0]] and wire["has_more"] is False
    assert [b.id for b in client.batches.list(limit=2)] == ids[::-1]  # SDK auto-paging
    assert raw(srv, "GET", "/v1/batches?limit=0")[0] == 400


def test_status_progression_follows_the_clock(srv: EmulatorServer,
                                              client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=100))
    batch_id = submit(client, [chat_line(f"r{i}", f"line {i}") for i in range(10)]).id
    b = client.batches.retrieve(batch_id)
    assert b.status == "validating" and b.in_progress_at is None
    assert wire_batch(srv, batch_id)["status"] == "validating"
    srv.advance_clock(45)  # 10 s validating, then 70 s in progress: 35/70 done
    b = client.batches.retrieve(batch_id)
    assert b.status == "in_progress" and b.in_progress_at == b.created_at + 10
    assert b.request_counts and b.request_counts.total == 10
    assert 4 <= b.request_counts.completed <= 5
    assert b.output_file_id is None
    assert wire_batch(srv, batch_id)["status"] == "in_progress"
    srv.advance_clock(40)
    b = client.batches.retrieve(batch_id)
    assert b.status == "finalizing" and b.finalizing_at == b.created_at + 80
    assert b.completed_at is None
    assert wire_batch(srv, batch_id)["status"] == "finalizing"
    srv.advance_clock(20)
    b = client.batches.retrieve(batch_id)
    assert b.status == "completed" and b.completed_at == b.created_at + 100
    assert b.in_progress_at == b.created_at + 10 and b.finalizing_at == b.created_at + 80
    assert len(read_jsonl(client, b.output_file_id)) == 10
    assert wire_batch(srv, batch_id)["status"] == "completed"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with EmulatorServer(state, faults=Faults(processing_seconds=600)) as first:
        client = client_for(first)
        batch_id = submit(client, [chat_line(f"r{i}", f"q{i}") for i in range(4)]).id
        assert client.batches.retrieve(batch_id).status == "validating"
        first.advance_clock(100)
    with EmulatorServer(state) as second:
        client = client_for(second)
        assert second.faults.processing_seconds == 600  # faults persisted
        assert client.batches.retrieve(batch_id).status == "in_progress"  # clock persisted
        second.advance_clock(600)
        batch = client.batches.retrieve(batch_id)
        assert batch.status == "completed"
        assert {o["custom_id"] for o in read_jsonl(client, batch.output_file_id)} == {
            "r0", "r1", "r2", "r3"}
        assert second.stats()["batches_created"] == 1


def test_two_servers_share_one_folder_concurrently(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with EmulatorServer(state) as a, EmulatorServer(state) as b:
        ca, cb = client_for(a), client_for(b)
        ids = [submit(ca, [chat_line(f"r{i}", f"q{i}") for i in range(20)]).id
               for _ in range(4)]
        results: list[Batch] = []
        errors: list[BaseException] = []

        def read(c: openai.OpenAI, batch_id: str) -> None:
            try:
                results.append(c.batches.retrieve(batch_id))
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=read, args=(c, i)) for i in ids for c in (ca, cb)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        by_id: dict[str, set[str | None]] = {}
        for r in results:
            assert r.status == "completed"
            by_id.setdefault(r.id, set()).add(r.output_file_id)
        assert all(len(v) == 1 for v in by_id.values())  # each batch answered exactly once
        assert a.stats()["batches_created"] == 4


# -- answers -------------------------------------------------------------------------------------

def test_output_is_shuffled_but_complete(srv: EmulatorServer, client: openai.OpenAI) -> None:
    lines = [chat_line(f"r{i:02d}", f"q{i}") for i in range(40)]
    batch = run(client, lines)
    ids = [o["custom_id"] for o in read_jsonl(client, batch.output_file_id)]
    assert ids != [x["custom_id"] for x in lines]
    assert sorted(ids) == [x["custom_id"] for x in lines]  # each exactly once
    assert ids == [o["custom_id"] for o in read_jsonl(client, batch.output_file_id)]

    srv.set_faults(Faults(shuffle=False))
    batch = run(client, lines)
    assert [o["custom_id"] for o in read_jsonl(client, batch.output_file_id)] == [
        x["custom_id"] for x in lines]


def test_json_schema_answers_validate_and_follow_the_text(client: openai.OpenAI) -> None:
    fmt = {"type": "json_schema",
           "json_schema": {"name": "ticket", "strict": True, "schema": TICKET_SCHEMA}}
    lines = [chat_line(cid, text, response_format=fmt) for cid, text in TICKETS]
    lines.append(chat_line("t-obj", "Give me JSON", response_format={"type": "json_object"}))
    batch = run(client, lines)
    out = {o["custom_id"]: o["response"]["body"]["choices"][0]["message"]["content"]
           for o in read_jsonl(client, batch.output_file_id)}
    answers = {cid: json.loads(content) for cid, content in out.items()}
    for cid, _ in TICKETS:
        check(answers[cid], TICKET_SCHEMA)
    assert {cid: answers[cid]["category"] for cid, _ in TICKETS} == {
        "t-billing": "billing", "t-bug": "bug", "t-feature": "feature_request",
        "t-account": "account", "t-other": "other"}
    assert answers["t-billing"]["summary"] == (
        "[emulator] I was charged twice on my invoice this month.")
    assert answers["t-billing"]["needs_refund"] is True
    assert answers["t-bug"]["needs_refund"] is False
    assert isinstance(answers["t-obj"], dict) and answers["t-obj"]["emulator"] == "batchsql"


def test_embeddings(client: openai.OpenAI) -> None:
    lines = [
        {"custom_id": "e1", "method": "POST", "url": "/v1/embeddings",
         "body": {"model": "text-embedding-3-small", "input": "hello world"}},
        {"custom_id": "e2", "method": "POST", "url": "/v1/embeddings",
         "body": {"model": "text-embedding-3-small", "input": ["hello world", "other"],
                  "dimensions": 8}},
    ]
    batch = run(client, lines, endpoint="/v1/embeddings")
    assert batch.status == "completed" and batch.endpoint == "/v1/embeddings"
    out = {o["custom_id"]: o["response"]["body"] for o in read_jsonl(client,
                                                                     batch.output_file_id)}
    v1 = out["e1"]["data"][0]["embedding"]
    assert len(v1) == 1536 and abs(sum(x * x for x in v1) - 1) < 1e-4
    small = [d["embedding"] for d in out["e2"]["data"]]
    assert [len(v) for v in small] == [8, 8] and small[0] != small[1]
    assert out["e2"]["object"] == "list" and out["e2"]["usage"]["prompt_tokens"] > 0
    again = read_jsonl(client, run(client, lines, endpoint="/v1/embeddings").output_file_id)
    assert {o["custom_id"]: o["response"]["body"]["data"] for o in again} == {
        k: v["data"] for k, v in out.items()}


# -- per-line faults -----------------------------------------------------------------------------

def test_fail_match_puts_lines_in_the_error_file(srv: EmulatorServer,
                                                 client: openai.OpenAI) -> None:
    srv.set_faults(Faults(fail_match="explode"))
    lines = [chat_line(f"r{i}", "please explode" if i in (2, 5) else f"fine {i}")
             for i in range(8)]
    batch = run(client, lines)
    assert batch.status == "completed"
    assert batch.request_counts and batch.request_counts.model_dump() == {
        "total": 8, "completed": 6, "failed": 2}
    errs = read_jsonl(client, batch.error_file_id)
    assert sorted(e["custom_id"] for e in errs) == ["r2", "r5"]
    for e in errs:
        check_openapi(e, "BatchRequestOutput")
        assert e["id"].startswith("batch_req_") and e["error"] is None
        assert e["response"]["status_code"] == 500 and e["response"]["request_id"]
        assert set(e["response"]["body"]["error"]) == {"message", "type", "param", "code"}
        assert e["response"]["body"]["error"]["type"] == "server_error"
    assert len(read_jsonl(client, batch.output_file_id)) == 6


def test_fail_status_4xx_gets_an_invalid_request_body(srv: EmulatorServer,
                                                      client: openai.OpenAI) -> None:
    srv.set_faults(Faults(fail_match="bad", fail_status=400))
    errs = read_jsonl(client, run(client, [chat_line("r0", "bad"), chat_line("r1", "ok")])
                      .error_file_id)
    assert len(errs) == 1 and errs[0]["response"]["status_code"] == 400
    assert errs[0]["response"]["body"]["error"]["type"] == "invalid_request_error"


def test_fail_rate_is_deterministic(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(fail_rate=0.5))
    lines = [chat_line(f"r{i}", f"question {i}") for i in range(40)]
    failed = [{e["custom_id"] for e in read_jsonl(client, run(client, lines).error_file_id)}
              for _ in range(2)]
    assert failed[0] == failed[1]
    assert 8 <= len(failed[0]) <= 32


def test_fail_times_fails_then_succeeds(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(fail_match="flaky", fail_times=1))
    lines = [chat_line("r0", "flaky request"), chat_line("r1", "steady request")]
    first = run(client, lines)
    assert [e["custom_id"] for e in read_jsonl(client, first.error_file_id)] == ["r0"]
    second = run(client, [chat_line("retry-r0", "flaky request")])  # same body, new batch
    assert second.error_file_id is None
    assert [o["custom_id"] for o in read_jsonl(client, second.output_file_id)] == ["retry-r0"]


def test_all_failed_completed_batch_has_no_output_file(srv: EmulatorServer,
                                                       client: openai.OpenAI) -> None:
    srv.set_faults(Faults(fail_rate=1.0))
    batch = run(client, [chat_line(f"r{i}", f"q{i}") for i in range(3)])
    assert batch.status == "completed"
    assert batch.output_file_id is None and batch.error_file_id
    assert batch.request_counts and batch.request_counts.failed == 3
    assert raw_batch_field(client, batch.id, "output_file_id") is None


def raw_batch_field(client: openai.OpenAI, batch_id: str, field: str) -> Any:
    return json.loads(client.batches.with_raw_response.retrieve(batch_id).text)[field]


def test_bad_request_body_is_a_400_line(client: openai.OpenAI) -> None:
    line = {"custom_id": "nomsg", "method": "POST", "url": CHAT, "body": {"model": MODEL}}
    batch = run(client, [line, chat_line("ok", "hi")])
    errs = read_jsonl(client, batch.error_file_id)
    assert errs[0]["response"]["status_code"] == 400
    assert errs[0]["response"]["body"]["error"]["param"] == "messages"


# -- whole-batch outcomes ------------------------------------------------------------------------

def test_validation_errors_name_their_lines(srv: EmulatorServer, client: openai.OpenAI) -> None:
    lines: list[Any] = [
        chat_line("ok-1", "fine"),
        "{not json",
        {"method": "POST", "url": CHAT, "body": {"model": MODEL, "messages": []}},
        {**chat_line("wrong-url", "x"), "url": "/v1/embeddings"},
        chat_line("ok-1", "duplicate id"),
        chat_line("other-model", "x", model="gpt-4o"),
        chat_line("streaming", "x", stream=True),
        chat_line("ok-2", "fine"),
    ]
    batch = run(client, lines)
    assert batch.status == "failed" and batch.failed_at is not None
    assert batch.in_progress_at is None and batch.output_file_id is None
    assert batch.errors and batch.errors.data
    found = {(e.code, e.line) for e in batch.errors.data}
    assert found == {("invalid_json_line", 2), ("missing_required_parameter", 3),
                     ("invalid_url", 4), ("duplicate_custom_id", 5), ("mismatched_model", 6),
                     ("streaming_unsupported", 7)}
    wire = wire_batch(srv, batch.id)
    assert wire["status"] == "failed" and wire["errors"]["object"] == "list"
    assert set(wire["errors"]["data"][0]) == {"code", "message", "param", "line"}


def test_invalid_match_and_fail_validation(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(invalid_match="POISON"))
    batch = run(client, [chat_line("a", "ok"), chat_line("b", "POISON here")])
    assert batch.status == "failed" and batch.errors and batch.errors.data
    assert [(e.code, e.line) for e in batch.errors.data] == [("invalid_request", 2)]

    srv.set_faults(Faults(fail_validation=True, processing_seconds=50))
    batch_id = submit(client, [chat_line("a", "ok")]).id
    assert client.batches.retrieve(batch_id).status == "validating"
    srv.advance_clock(6)
    batch = client.batches.retrieve(batch_id)
    assert batch.status == "failed" and batch.failed_at == batch.created_at + 5
    assert batch.errors and batch.errors.data[0].line is None


def test_too_many_lines_fails_validation(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(max_requests=3))
    batch = run(client, [chat_line(f"r{i}", "x") for i in range(4)])
    assert batch.status == "failed" and batch.errors and batch.errors.data[0].line == 4


def test_token_limit_fails_after_create(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(token_limit=10))
    created = submit(client, [chat_line("r0", "a fairly long question " * 5)])
    assert created.status == "validating"
    batch = client.batches.retrieve(created.id)
    assert batch.status == "failed" and batch.errors
    assert batch.errors.data[0].code == "token_limit_exceeded"


def test_expiry_keeps_partial_results(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(expire_after_lines=3, processing_seconds=100))
    lines = [chat_line(f"r{i}", f"q{i}") for i in range(10)]
    batch_id = submit(client, lines).id
    srv.advance_clock(95)
    b = client.batches.retrieve(batch_id)
    assert b.status == "in_progress" and b.request_counts and b.request_counts.completed == 3
    srv.advance_clock(10)
    b = client.batches.retrieve(batch_id)
    assert b.status == "expired" and b.expired_at == b.created_at + 100
    assert wire_batch(srv, batch_id)["status"] == "expired"
    assert b.completed_at is None and b.finalizing_at is None
    assert b.request_counts and b.request_counts.model_dump() == {
        "total": 10, "completed": 3, "failed": 7}
    done = read_jsonl(client, b.output_file_id)
    assert sorted(o["custom_id"] for o in done) == ["r0", "r1", "r2"]
    expired = read_jsonl(client, b.error_file_id)
    assert sorted(e["custom_id"] for e in expired) == [f"r{i}" for i in range(3, 10)]
    for e in expired:
        check_openapi(e, "BatchRequestOutput")
        assert e["response"] is None and e["error"]["code"] == "batch_expired"
        assert e["error"]["message"] == ("This request could not be executed before the "
                                         "completion window expired.")


def test_cancel_keeps_what_ran(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=100))
    lines = [chat_line(f"r{i}", f"q{i}") for i in range(10)]
    batch_id = submit(client, lines).id
    srv.advance_clock(45)  # half of the in_progress phase
    cancelling = client.batches.cancel(batch_id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    assert wire_batch(srv, batch_id, "POST", "/cancel")["status"] == "cancelling"  # idempotent
    srv.advance_clock(11)
    b = client.batches.retrieve(batch_id)
    assert b.status == "cancelled" and b.cancelled_at is not None
    assert wire_batch(srv, batch_id)["status"] == "cancelled"
    assert b.cancelled_at >= b.cancelling_at and b.completed_at is None
    assert b.request_counts and b.request_counts.total == 10
    done = read_jsonl(client, b.output_file_id)
    rest = read_jsonl(client, b.error_file_id)
    assert b.request_counts.completed == len(done) and 4 <= len(done) <= 5
    assert sorted(x["custom_id"] for x in done + rest) == sorted(x["custom_id"] for x in lines)
    assert all(e["response"] is None and e["error"]["code"] == "batch_cancelled" for e in rest)
    srv.set_faults(Faults())
    finished = run(client, [chat_line("x", "y")])
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(finished.id)


def test_cancel_while_validating_runs_nothing(srv: EmulatorServer,
                                              client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=100))
    batch_id = submit(client, [chat_line("r0", "q")]).id
    assert client.batches.cancel(batch_id).status == "cancelling"
    srv.advance_clock(20)
    b = client.batches.retrieve(batch_id)
    assert b.status == "cancelled" and b.in_progress_at is None
    assert b.output_file_id is None and b.error_file_id is None


def test_batch_keeps_the_faults_it_was_created_with(srv: EmulatorServer,
                                                    client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=10, fail_rate=1.0))
    batch_id = submit(client, [chat_line("r0", "q")]).id
    srv.set_faults(Faults())
    srv.advance_clock(11)
    b = client.batches.retrieve(batch_id)
    assert b.status == "completed" and b.request_counts and b.request_counts.failed == 1


# -- errors, files, admin, HTTP faults -----------------------------------------------------------

def test_not_found_and_bad_requests(srv: EmulatorServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.files.content("file-doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint=CHAT,
                              completion_window="24h")
    f = client.files.create(file=("in.jsonl", jsonl([chat_line("a", "b")])), purpose="batch")
    with pytest.raises(openai.BadRequestError) as e:
        client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h",
                              metadata={f"k{i}": "v" for i in range(17)})
    assert e.value.param == "metadata"
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=f.id, endpoint=CHAT,
                              completion_window="48h")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=f.id, endpoint="/v1/nope",  # type: ignore[arg-type]
                              completion_window="24h")
    status, body = raw(srv, "GET", "/v1/no/such/route")
    assert status == 404 and set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    status, body = raw(srv, "GET", "/v1/batches/batch_nope")
    assert status == 404 and body["error"]["message"]
    status, body = raw(srv, "POST", "/v1/batches", {"endpoint": CHAT})
    assert status == 400 and body["error"]["param"] == "input_file_id"


def test_files_list_retrieve_delete(srv: EmulatorServer, client: openai.OpenAI) -> None:
    data = jsonl([chat_line("a", "b")])
    f = client.files.create(file=("mine.jsonl", data), purpose="batch")
    assert (f.filename, f.bytes, f.purpose, f.object) == ("mine.jsonl", len(data), "batch",
                                                           "file")
    assert client.files.content(f.id).content == data
    other = client.files.create(file=("u.txt", b"hello"), purpose="user_data")
    assert {x.id for x in client.files.list(purpose="batch")} == {f.id}
    assert {x.id for x in client.files.list()} == {f.id, other.id}
    batch_id = client.batches.create(input_file_id=f.id, endpoint=CHAT,
                                     completion_window="24h").id
    deleted = client.files.delete(f.id)
    assert deleted.deleted and deleted.id == f.id
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(f.id)
    # The batch kept its own link to the input: deleting the file does not break it.
    assert client.batches.retrieve(batch_id).status == "completed"
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("x.jsonl", data), purpose="nonsense")  # type: ignore[arg-type]
    assert srv.stats()["files_deleted"] == 1


def test_admin_endpoints(srv: EmulatorServer, client: openai.OpenAI) -> None:
    status, faults = raw(srv, "POST", "/_emulator/faults",
                         {"processing_seconds": "30", "fail_rate": "0.25", "shuffle": "false"})
    assert status == 200 and faults["processing_seconds"] == 30.0 and faults["shuffle"] is False
    assert srv.faults == Faults(processing_seconds=30, fail_rate=0.25, shuffle=False)
    assert raw(srv, "POST", "/_emulator/faults", {"no_such_knob": 1})[0] == 400
    batch_id = submit(client, [chat_line("r", "q")]).id
    status, clock = raw(srv, "POST", "/_emulator/clock", {"advance": 31})
    assert status == 200 and clock["offset"] == 31
    assert client.batches.retrieve(batch_id).status == "completed"
    status, stats = raw(srv, "GET", "/_emulator/stats")
    assert stats["batches_created"] == 1 and stats["files_created"] == 1
    assert stats["batches_by_status"] == {"completed": 1}


def test_a_cut_download_sends_half_the_file_then_closes(srv: EmulatorServer) -> None:
    client = client_for(srv)
    data = jsonl([chat_line(f"r{i}", "q" * 100) for i in range(500)])
    f = client.files.create(file=("in.jsonl", data), purpose="batch")
    srv.set_faults(Faults(download_cut_times=1))
    with pytest.raises(openai.APIConnectionError):  # the SDK reading a body that stops short
        client.files.content(f.id).read()
    assert client.files.content(f.id).read() == data  # the next download is whole
    assert srv.stats()["downloads_cut"] == 1


def test_http_faults_and_duplicate_creates(srv: EmulatorServer) -> None:
    srv.set_faults(Faults(http_fail_times=1, http_fail_match="POST /v1/batches",
                          http_fail_status=503))
    client = client_for(srv)
    f = client.files.create(file=("in.jsonl", jsonl([chat_line("a", "b")])), purpose="batch")
    with pytest.raises(openai.InternalServerError):
        client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h")
    client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h")
    assert srv.stats()["batches_created"] == 1  # the failed create did nothing

    # A lost answer: the create happens, the SDK sees a 500 and retries -> a duplicate batch.
    srv.set_faults(Faults(http_fail_times=1, http_fail_match="POST /v1/batches",
                          http_fail_after=True))
    retrying = client_for(srv, retries=2)
    retrying.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h",
                            metadata={"run": "x"})
    stats = srv.stats()
    assert stats["batches_created"] == 3 and stats["duplicate_batches"] == 1
    assert stats["http_faults_injected"] == 2
