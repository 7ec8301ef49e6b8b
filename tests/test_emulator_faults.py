"""The emulator's quota and output-file faults, and its listing helpers, through the real SDK."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion

from batchsql.emulator import EmulatorServer, Faults
from batchsql.tokens import count_input_tokens
from tests.test_emulator import (
    CHAT,
    MODEL,
    chat_line,
    raw,
    read_jsonl,
    submit,
    wire_batch,
)
from tests.test_emulator_support import check_openapi

EMBED = "/v1/embeddings"
OTHER_MODEL = "gpt-4.1-mini"


def big_lines(tag: str, model: str = MODEL) -> list[dict[str, Any]]:
    """Three requests of ~200 prompt tokens each (~600 for the batch)."""
    return [chat_line(f"{tag}-{i}", f"{tag} question {i}: " + "lorem ipsum " * 88, model=model)
            for i in range(3)]


def reported_prompt_tokens(client: openai.OpenAI, output_file_id: str | None) -> int:
    return sum(o["response"]["body"]["usage"]["prompt_tokens"]
               for o in read_jsonl(client, output_file_id))


def quota_error(model: str, limit: str) -> dict[str, Any]:
    return {"code": "token_limit_exceeded", "param": None, "line": None, "message":
            f"Enqueued token limit reached for {model} in organization org-emulator. Limit: "
            f"{limit} enqueued tokens. Please try again once some in_progress batches have "
            "been completed."}


# -- token_limit: a per-model quota over the batches in flight -----------------------------------

def test_token_limit_counts_earlier_batches_in_flight(srv: EmulatorServer,
                                                      client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=100, token_limit=1000))
    first = submit(client, big_lines("a"))
    second = submit(client, big_lines("b"))
    other = submit(client, big_lines("c", model=OTHER_MODEL))
    assert first.status == second.status == other.status == "validating"  # create succeeds
    srv.advance_clock(15)
    # Read the second first: deciding its fate settles the first (in_progress by then).
    b2 = client.batches.retrieve(second.id)
    assert b2.status == "failed" and b2.failed_at == b2.created_at + 10
    assert wire_batch(srv, second.id)["errors"]["data"] == [quota_error(MODEL, "1,000")]
    assert b2.output_file_id is None and b2.error_file_id is None
    # The first was created before the second, so the second never counts against it.
    assert client.batches.retrieve(first.id).status == "in_progress"
    assert client.batches.retrieve(other.id).status == "in_progress"  # another model's quota

    srv.advance_clock(100)  # the first completes and leaves the quota
    b1 = client.batches.retrieve(first.id)
    assert b1.status == "completed" and b1.usage is not None
    tokens = reported_prompt_tokens(client, b1.output_file_id)
    assert b1.usage.input_tokens == tokens == sum(
        count_input_tokens(CHAT, line["body"]) for line in big_lines("a"))
    assert 550 <= tokens <= 650
    third = submit(client, big_lines("d")).id
    srv.advance_clock(15)
    assert client.batches.retrieve(third).status == "in_progress"
    srv.advance_clock(100)
    assert client.batches.retrieve(third).status == "completed"
    assert srv.stats()["batches_by_status"] == {"completed": 3, "failed": 1}


@pytest.mark.parametrize("endpoint", [CHAT, EMBED])
def test_token_limit_counts_exactly_the_reported_prompt_tokens(
        srv: EmulatorServer, client: openai.OpenAI, endpoint: str) -> None:
    def lines(tag: str) -> list[dict[str, Any]]:
        if endpoint == CHAT:
            return [chat_line(f"{tag}{i}", f"{tag} as JSON {'x' * (37 * i)}",
                              response_format={"type": "json_object"}) for i in range(5)]
        return [{"custom_id": f"{tag}{i}", "method": "POST", "url": EMBED, "body": {
                 "model": "text-embedding-3-small", "input": [f"{tag} " * (i + 3), [1, 2, 3]]}}
                for i in range(5)]

    def tokens(tag: str) -> int:
        b = client.batches.retrieve(submit(client, lines(tag), endpoint).id)
        assert b.status == "completed"
        return reported_prompt_tokens(client, b.output_file_id)

    ta, tb = tokens("alpha"), tokens("beta")
    for limit, fate in ((ta + tb, "in_progress"), (ta + tb - 1, "failed")):
        srv.set_faults(Faults(processing_seconds=100, token_limit=limit))
        a = submit(client, lines("alpha"), endpoint).id
        b = submit(client, lines("beta"), endpoint).id
        srv.advance_clock(50)
        assert client.batches.retrieve(a).status == "in_progress"
        assert client.batches.retrieve(b).status == fate
        srv.advance_clock(100)  # both ended: they leave the quota before the next round


def test_token_limit_ignores_cancelled_and_failed_batches(srv: EmulatorServer,
                                                          client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=100, token_limit=1000))
    cancelled = submit(client, big_lines("a")).id
    srv.advance_clock(20)
    client.batches.cancel(cancelled)
    srv.advance_clock(20)
    srv.set_faults(Faults(processing_seconds=100, token_limit=1000, fail_validation=True))
    broken = submit(client, big_lines("b")).id  # fails validation at +10
    srv.set_faults(Faults(processing_seconds=100, token_limit=1000))
    srv.advance_clock(11)
    second = submit(client, big_lines("c")).id
    third = submit(client, big_lines("d")).id
    srv.advance_clock(20)
    assert client.batches.retrieve(cancelled).status == "cancelled"
    assert client.batches.retrieve(broken).status == "failed"
    assert client.batches.retrieve(second).status == "in_progress"  # neither counts against it
    b = client.batches.retrieve(third)  # but `second` does count against this one
    assert b.status == "failed" and b.errors and b.errors.data[0].code == "token_limit_exceeded"


# -- output-file faults --------------------------------------------------------------------------

def raw_output_lines(client: openai.OpenAI, file_id: str | None) -> list[bytes]:
    assert file_id is not None
    data = client.files.content(file_id).content
    assert data.endswith(b"\n")
    return data.splitlines(keepends=True)


def test_malformed_match_cuts_output_lines(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(malformed_match="BROKEN"))
    lines = [chat_line(f"r{i}", f"question {i}" + (" BROKEN" if i in (1, 3) else ""))
             for i in range(5)]
    batch = client.batches.retrieve(submit(client, lines).id)
    assert batch.status == "completed" and batch.request_counts
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 5, "failed": 0}
    good, bad = [], []
    for line in raw_output_lines(client, batch.output_file_id):
        assert line.endswith(b"\n")
        try:
            good.append(json.loads(line))
        except ValueError:
            bad.append(line.rstrip(b"\n"))
    assert sorted(o["custom_id"] for o in good) == ["r0", "r2", "r4"]
    assert len(bad) == 2
    for cut in bad:
        assert cut.startswith(b'{"id": "batch_req_') and not cut.endswith(b"}")
        assert 300 < len(cut) < len(json.dumps(good[0]))


def test_duplicate_match_repeats_output_lines(srv: EmulatorServer,
                                              client: openai.OpenAI) -> None:
    srv.set_faults(Faults(duplicate_match="TWICE"))
    lines = [chat_line(f"r{i}", f"q{i}" + (" TWICE" if i == 2 else "")) for i in range(5)]
    batch = client.batches.retrieve(submit(client, lines).id)
    assert batch.request_counts
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 5, "failed": 0}
    out = raw_output_lines(client, batch.output_file_id)
    assert len(out) == 6
    twice = [line for line in out if json.loads(line)["custom_id"] == "r2"]
    assert len(twice) == 2 and twice[0] == twice[1]


def test_extra_lines_name_requests_never_sent(srv: EmulatorServer,
                                              client: openai.OpenAI) -> None:
    srv.set_faults(Faults(extra_lines=3, shuffle=False))
    # An input custom_id that looks like an extra one must not be reused.
    lines = [chat_line("emulator-unknown-0", "q"), chat_line("r1", "q1")]
    batch_id = submit(client, lines).id
    srv.set_faults(Faults())  # captured at create: the batch still gets its extra lines
    batch = client.batches.retrieve(batch_id)
    assert batch.request_counts
    assert batch.request_counts.model_dump() == {"total": 2, "completed": 2, "failed": 0}
    out = read_jsonl(client, batch.output_file_id)
    assert [o["custom_id"] for o in out[:2]] == ["emulator-unknown-0", "r1"]
    extra = out[2:]
    assert len(extra) == 3
    assert len({o["custom_id"] for o in out}) == 5  # all distinct, none from the input
    for o in extra:
        check_openapi(o, "BatchRequestOutput")
        assert o["custom_id"].startswith("emulator-unknown-") and o["error"] is None
        assert o["response"]["status_code"] == 200
        assert ChatCompletion.model_validate(o["response"]["body"]).model == MODEL


def test_finalizing_seconds_keeps_a_batch_finalizing(srv: EmulatorServer,
                                                     client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=100, finalizing_seconds=500))
    lines = [chat_line(f"r{i}", f"q{i}") for i in range(4)]
    batch_id = submit(client, lines).id
    srv.advance_clock(85)
    b = client.batches.retrieve(batch_id)
    assert b.status == "finalizing" and b.finalizing_at == b.created_at + 80
    srv.advance_clock(400)  # long past processing_seconds: still finalizing
    b = client.batches.retrieve(batch_id)
    assert b.status == "finalizing" and b.completed_at is None and b.output_file_id is None
    assert b.request_counts and b.request_counts.completed == 4
    assert wire_batch(srv, batch_id)["status"] == "finalizing"
    srv.advance_clock(120)
    b = client.batches.retrieve(batch_id)
    assert b.status == "completed" and b.completed_at == b.created_at + 600
    assert b.finalizing_at == b.created_at + 80
    assert len(read_jsonl(client, b.output_file_id)) == 4

    srv.set_faults(Faults(finalizing_seconds=30))  # no processing time: straight to finalizing
    b = client.batches.retrieve(submit(client, lines).id)
    assert b.status == "finalizing" and b.finalizing_at == b.in_progress_at == b.created_at
    srv.advance_clock(31)
    assert client.batches.retrieve(b.id).status == "completed"


# -- knobs over the admin endpoint, listing and file helpers -------------------------------------

def test_new_knobs_over_the_admin_endpoint(srv: EmulatorServer) -> None:
    status, faults = raw(srv, "POST", "/_emulator/faults", {
        "token_limit": "5000", "malformed_match": "M", "duplicate_match": "D",
        "extra_lines": "2", "finalizing_seconds": "7.5"})
    assert status == 200 and faults["extra_lines"] == 2 and faults["finalizing_seconds"] == 7.5
    assert srv.faults == Faults(token_limit=5000, malformed_match="M", duplicate_match="D",
                                extra_lines=2, finalizing_seconds=7.5)
    assert raw(srv, "POST", "/_emulator/faults", {"extra_lines": -1})[0] == 400
    assert raw(srv, "GET", "/_emulator/stats")[1]["faults"]["duplicate_match"] == "D"


def test_list_pages_past_100_with_metadata(srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(processing_seconds=1000))
    f = client.files.create(file=("in.jsonl", json.dumps(chat_line("a", "b")).encode() + b"\n"),
                            purpose="batch")
    ids = [client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h",
                                 metadata={"batchsql_batch": f"chunk-{i}", "run": "r1"}).id
           for i in range(105)]
    ids.append(client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h",
                                     metadata={"batchsql_batch": "chunk-7"}).id)
    ids.append(client.batches.create(input_file_id=f.id, endpoint=CHAT,
                                     completion_window="24h").id)
    listed = list(client.batches.list(limit=100))  # the SDK follows `after` across pages
    assert [b.id for b in listed] == ids[::-1]
    assert listed[-1].metadata == {"batchsql_batch": "chunk-0", "run": "r1"}
    assert listed[0].metadata is None
    _, page = raw(srv, "GET", "/v1/batches?limit=100")
    assert len(page["data"]) == 100 and page["has_more"] is True
    assert page["data"][0]["metadata"] is None and page["data"][1]["metadata"] == {
        "batchsql_batch": "chunk-7"}
    _, rest = raw(srv, "GET", f"/v1/batches?limit=100&after={page['last_id']}")
    assert [b["id"] for b in rest["data"]] == ids[:7][::-1] and rest["has_more"] is False

    per_chunk = srv.batches_with_metadata("batchsql_batch")
    assert len(per_chunk) == 105 and per_chunk["chunk-7"] == 2
    assert {k: v for k, v in per_chunk.items() if v != 1} == {"chunk-7": 2}
    assert srv.batches_with_metadata("run") == {"r1": 105}
    assert srv.batches_with_metadata("nope") == {}
    stored = srv.list_batches()
    assert [b["id"] for b in stored] == ids  # oldest first
    assert all(b["status"] == "validating" and b["object"] == "batch" for b in stored)
    srv.advance_clock(1000)
    assert {b["status"] for b in srv.list_batches()} == {"completed"}  # refreshed to now


def test_files_filter_by_purpose_and_delete(srv: EmulatorServer, client: openai.OpenAI) -> None:
    batch = client.batches.retrieve(submit(client, [chat_line("a", "b")]).id)
    outputs = list(client.files.list(purpose="batch_output"))
    assert [(x.id, x.filename) for x in outputs] == [
        (batch.output_file_id, f"{batch.id}_output.jsonl")]
    _, wire = raw(srv, "GET", "/v1/files?purpose=batch")
    assert [(x["id"], x["filename"]) for x in wire["data"]] == [
        (batch.input_file_id, "input.jsonl")]
    for x in wire["data"]:
        check_openapi(x, "OpenAIFile")
    assert raw(srv, "GET", "/v1/files?purpose=fine-tune")[1]["data"] == []
    assert client.files.delete(batch.output_file_id or "").deleted
    assert client.files.delete(batch.input_file_id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.delete(batch.input_file_id)
    assert list(client.files.list()) == []
    assert srv.stats()["files_deleted"] == 2
