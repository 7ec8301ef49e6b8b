"""The emulator's fast paths give what the plain ones give: one-pass validation and answering,
the remembered prompt frame, word splitting and enum scoring, streamed uploads, the worker.

Behaviour only: nothing here reads a clock. ``bench/emulator_micro.py`` measures the speed.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import openai
import pytest

from batchsql import tokens
from batchsql.emulator import EmulatorServer, Faults, answers, api
from batchsql.emulator.textmatch import matcher, words_of
from tests.test_emulator import CHAT, MODEL, chat_line, client_for, read_jsonl, submit

SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["label", "priority", "summary"],
    "properties": {
        "label": {"type": "string", "enum": ["billing", "bug", "feature_request", "other"]},
        "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
        "summary": {"type": "string"},
    },
}
TEXTS = [
    "I was charged twice this month, please refund the invoice. It is urgent!",
    "The export crashes with an error. Minor, whenever you have time.",
    "Would love a dark mode option.", "Hello there.", "",
    "Die Rechnung wurde doppelt abgebucht – bitte erstatten. 😊",
]


def ticket_line(i: int, text: str, system: str = "You label tickets.") -> dict[str, Any]:
    line = chat_line(f"t{i}", f"{text} (ticket {i})", max_tokens=200, temperature=0,
                     response_format={"type": "json_schema", "json_schema": {
                         "name": "batchsql_output", "strict": True, "schema": SCHEMA}})
    line["body"]["messages"][0]["content"] = system
    return line


def lines_of(n: int) -> list[dict[str, Any]]:
    return [ticket_line(i, TEXTS[i % len(TEXTS)]) for i in range(n)]


def answers_by_id(client: openai.OpenAI, file_id: str | None) -> list[tuple[str, Any]]:
    """(custom_id, response) per line, sorted, without what names the batch or its moment."""
    if file_id is None:
        return []
    out = []
    for text in client.files.content(file_id).text.splitlines():
        try:
            line = json.loads(text)
        except ValueError:  # malformed_match cuts lines short
            found = re.search(r'"custom_id": "([^"]+)"', text)
            out.append((found.group(1) if found else "?", "malformed"))
            continue
        body = dict(line["response"]["body"])
        body.pop("id", None)
        body.pop("created", None)
        out.append((line["custom_id"], (line["response"]["status_code"], body)))
    return sorted(out, key=lambda x: (x[0], json.dumps(x[1], sort_keys=True)))


# -- validating and answering in one pass ----------------------------------------------------------

@pytest.mark.parametrize("faults", [{}, {"fail_rate": 0.3, "duplicate_match": "ticket 3)",
                                         "malformed_match": "ticket 4)", "extra_lines": 2}])
def test_one_pass_gives_what_two_passes_give(tmp_path: Path, faults: dict[str, Any]) -> None:
    lines = [*lines_of(60), "", "   "]  # blank lines are skipped, not counted
    # Two passes: validation is due at 10 s, the end at 100 s; read in between.
    with EmulatorServer(tmp_path / "two", faults=Faults(processing_seconds=100, **faults)) as a:
        ca = client_for(a)
        slow_id = submit(ca, lines).id
        a.advance_clock(50)
        assert ca.batches.retrieve(slow_id).status == "in_progress"
        a.advance_clock(50)
        slow = ca.batches.retrieve(slow_id)
        slow_out = answers_by_id(ca, slow.output_file_id)
        slow_err = answers_by_id(ca, slow.error_file_id)
    # One pass: everything is due at once.
    with EmulatorServer(tmp_path / "one", faults=Faults(**faults)) as b:
        cb = client_for(b)
        fast = cb.batches.retrieve(submit(cb, lines).id)
        assert answers_by_id(cb, fast.output_file_id) == slow_out
        assert answers_by_id(cb, fast.error_file_id) == slow_err
    assert fast.status == slow.status == "completed"
    assert fast.request_counts == slow.request_counts
    assert fast.usage == slow.usage


def test_one_pass_that_finds_errors_leaves_no_files(srv: EmulatorServer,
                                                    client: openai.OpenAI) -> None:
    lines: list[Any] = [*lines_of(5), "{not json", ticket_line(1, "again"), *lines_of(3)]
    batch = client.batches.retrieve(submit(client, lines).id)
    assert batch.status == "failed"
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.errors and [(e.code, e.line) for e in batch.errors.data or []] == [
        ("invalid_json_line", 6), ("duplicate_custom_id", 7), ("duplicate_custom_id", 8),
        ("duplicate_custom_id", 9), ("duplicate_custom_id", 10)]
    assert [f.purpose for f in client.files.list()] == ["batch"]  # no output file was added
    assert list((srv.store.root / "tmp").iterdir()) == []


def test_fail_times_is_not_spent_by_a_batch_that_fails_validation(
        srv: EmulatorServer, client: openai.OpenAI) -> None:
    srv.set_faults(Faults(fail_match="flaky", fail_times=1))
    broken = client.batches.retrieve(submit(client, [chat_line("a", "flaky one"),
                                                     "{broken"]).id)
    assert broken.status == "failed"
    ok = client.batches.retrieve(submit(client, [chat_line("a", "flaky one")]).id)
    assert [e["custom_id"] for e in read_jsonl(client, ok.error_file_id)] == ["a"]


# -- prompt tokens: the frame of a request is counted once ---------------------------------------

def test_prompt_tokens_equal_the_full_count_whatever_changes_between_lines() -> None:
    base = ticket_line(0, TEXTS[0])["body"]
    bodies: list[dict[str, Any]] = []
    for i, text in enumerate(TEXTS * 2):
        bodies.append(ticket_line(i, text)["body"])  # same frame, new user text
    bodies.append(ticket_line(1, "x", system="Another instruction.")["body"])
    bodies.append({**base, "response_format": {"type": "json_object"}})
    bodies.append({**base, "tools": [{"type": "function", "function": {"name": "f"}}]})
    bodies.append({**base, "model": "gpt-4.1-mini"})
    bodies.append({**base, "messages": [
        {"role": "system", "content": "Rules."}, {"role": "user", "name": "ann", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "more text"}]})
    bodies.append({**base, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]}]})
    bodies.append({**base, "messages": [{"role": "system", "content": "only a system turn"}]})
    bodies.append(base)
    for body in bodies + bodies[::-1]:
        assert answers.prompt_tokens(CHAT, body) == tokens.count_input_tokens(CHAT, body)


# -- words and enum scores -----------------------------------------------------------------------

def test_words_are_the_regex_runs_of_the_lowered_text() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ019 _-.,!?\n\tÄéßİı\u212a日本\u00a0😊\ud800"
    texts = TEXTS + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
                     for _ in range(500)]
    texts += ["".join(chr(rng.randrange(128)) for _ in range(rng.randint(0, 60)))
              for _ in range(500)]  # ASCII only: lowered by words_of's table
    for text in texts:
        assert words_of(text) == re.findall(r"[a-z0-9]+", text.lower()), repr(text)


def test_enum_scores_add_up_every_occurrence() -> None:
    m = matcher(("billing", "bug", "feature_request", "account", "other"))
    vocabulary = [*words_of(" ".join(TEXTS)), "bills", "billing", "crashing", "feat", "x"]
    rng = random.Random(3)
    for _ in range(300):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 40))]
        expected = [0] * len(m.options)
        for word in words:
            for i, w in m._hits(word):
                expected[i] += w
        assert m.scores(words) == expected
        assert m.scores(words, frozenset(words)) == expected


# -- HTTP: uploads stream, the connection survives what a handler does not read -------------------

def _multipart(payload: bytes) -> tuple[bytes, str]:
    b = "b0und4ry"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
            '\r\n').encode() + payload + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def test_chunked_upload_round_trips(srv: EmulatorServer) -> None:
    payload = os.urandom(3 * 1024 * 1024) + b"\r\n--b0und4r" + os.urandom(1000)
    body, content_type = _multipart(payload)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    pieces = (body[i:i + 70_000] for i in range(0, len(body), 70_000))
    conn.request("POST", "/v1/files", body=pieces, encode_chunked=True,
                 headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"})
    response = conn.getresponse()
    meta = json.loads(response.read())
    assert response.status == 200 and meta["bytes"] == len(payload)
    conn.request("GET", f"/v1/files/{meta['id']}/content")  # same connection
    assert conn.getresponse().read() == payload
    assert list((srv.store.root / "tmp").iterdir()) == []


def test_unread_bodies_are_skipped(srv: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_UPLOAD_BYTES", 100_000)
    body, content_type = _multipart(b"x" * 200_000)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("POST", "/v1/files", body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    assert response.status == 400
    assert json.loads(response.read())["error"]["message"].startswith("File is too large")
    # A JSON endpoint still reads a multipart body as (bad) JSON.
    conn.request("POST", "/v1/batches", body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    assert response.status == 400 and "could not parse" in json.loads(response.read())[
        "error"]["message"]
    conn.request("GET", "/v1/files")  # the connection carries on
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read())["data"] == []
    assert list((srv.store.root / "tmp").iterdir()) == []


# -- the worker ------------------------------------------------------------------------------------

def _wait_for_result(srv: EmulatorServer, batch_id: str) -> dict[str, Any]:
    """The stored record once its work is done, without reading it through the API."""
    for _ in range(600):
        rec = srv.store.load_batch(batch_id)
        if rec is not None and rec.get("result") is not None:
            return rec
        time.sleep(0.05)
    raise AssertionError("the worker did not answer the batch")


def test_worker_answers_due_batches_before_anyone_reads_them(srv: EmulatorServer,
                                                             client: openai.OpenAI) -> None:
    first = submit(client, lines_of(20)).id
    assert _wait_for_result(srv, first)["result"]["completed"] == 20
    srv.set_faults(Faults(processing_seconds=600))
    later = submit(client, lines_of(5)).id
    srv.advance_clock(600)
    assert _wait_for_result(srv, later)["result"]["completed"] == 5
    batch = client.batches.retrieve(later)
    assert batch.status == "completed" and len(read_jsonl(client, batch.output_file_id)) == 5


def test_stopping_lets_the_worker_finish(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path / "state") as srv:
        batch_id = submit(client_for(srv), lines_of(300)).id
    rec = EmulatorServer(tmp_path / "state").store.load_batch(batch_id)
    assert rec is not None
    assert list((tmp_path / "state" / "tmp").iterdir()) == []  # no half-written file
    with EmulatorServer(tmp_path / "state") as again:  # a restart finds it done or does it
        batch = client_for(again).batches.retrieve(batch_id)
        assert batch.status == "completed" and batch.request_counts
        assert batch.request_counts.completed == 300


def test_lines_like_batchsql_sends_them_are_all_answered(srv: EmulatorServer,
                                                         client: openai.OpenAI) -> None:
    lines = lines_of(500)
    batch = client.batches.retrieve(submit(client, lines).id)
    out = read_jsonl(client, batch.output_file_id)
    assert sorted(o["custom_id"] for o in out) == sorted(x["custom_id"] for x in lines)
    prompt = sum(tokens.count_input_tokens(CHAT, x["body"]) for x in lines)
    assert batch.usage and batch.usage.input_tokens == prompt
    for o in out:
        value = json.loads(o["response"]["body"]["choices"][0]["message"]["content"])
        assert set(value) == {"label", "priority", "summary"}
        assert o["response"]["body"]["model"] == MODEL
