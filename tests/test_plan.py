"""`batchsql plan`: figures equal what is computed by hand, nothing is written, and the run
that follows sends exactly what the plan said."""

from __future__ import annotations

import hashlib
import json
import math

import bpe_openai
import pytest

from batchsql import api, sql
from batchsql.runner.planning import Plan

from .conftest import EVERYWHERE, SPEC, TICKETS, Project
from .test_budget import FREE_TEXT

N = len(TICKETS)
COPIES = [(9, *TICKETS[0][1:]), (10, *TICKETS[3][1:])]
ENC = bpe_openai.get_encoding("o200k_base")


def plan(project: Project, **options: object) -> Plan:
    return api.plan(project.spec, project_dir=project.dir, profiles_dir=project.dir, **options)


def chat_tokens(*contents: str) -> int:
    """OpenAI's count for user messages: 3 per message + role + content, + 3 for the reply."""
    return sum(3 + len(ENC.encode("user")) + len(ENC.encode(c)) for c in contents) + 3


def digest(project: Project) -> object:
    """What a plan must leave unchanged: DuckDB's file byte for byte; elsewhere every table
    batchsql keeps, row for row."""
    if project.warehouse == "duckdb":
        return hashlib.sha256(project.db.read_bytes()).hexdigest()
    names = ["labels", "_batchsql_batches", "_batchsql_runs", "_batchsql_labels_requests",
             "_batchsql_locks"]
    with project.connect() as wh:
        present = [n for n in names if wh.table_columns(sql.parse_table(f"analytics.{n}"))]
    return {n: sorted(map(repr, project.query(f"select * from analytics.{n}"))) for n in present}


def test_plan_figures_equal_a_hand_count(project: Project) -> None:
    project.write_spec(FREE_TEXT)
    project.write_tickets([*TICKETS, *COPIES])
    project.set_provider(max_requests_per_batch=3)
    before = digest(project)
    p = plan(project)
    assert digest(project) == before
    tokens_in = sum(chat_tokens(f"Label: {body}") for _, _, body in TICKETS)
    assert (p.source_rows, p.pending, p.answered, p.reused) == (N + 2, N + 2, 0, 0)
    assert (p.requests, p.shared, p.batches, p.not_sendable) == (N, 2, math.ceil(N / 3), 0)
    assert p.tokens_exact and p.input_tokens == tokens_in
    # Free text: no history yet, so the expectation is a guess, capped by max_tokens.
    assert (p.output.expected, p.output.maximum) == (50, 50)
    assert (p.output_tokens_expected, p.output_tokens_max) == (50 * N, 50 * N)
    batch = 0.5 * (tokens_in * 0.15 + 50 * N * 0.60) / 1e6
    assert p.cost(batch=True) == pytest.approx(batch)
    assert p.cost(batch=False) == pytest.approx(2 * batch)
    assert p.cost(batch=True, maximum=True) == pytest.approx(batch)
    copies_in = chat_tokens(f"Label: {TICKETS[0][2]}") + chat_tokens(f"Label: {TICKETS[3][2]}")
    assert p.saved_usd == pytest.approx(0.5 * (copies_in * 0.15 + 2 * 50 * 0.60) / 1e6)

    run = project.run()
    assert (run.submitted, run.shared, run.batches_submitted) == (p.requests, 2, p.batches)
    # The emulator bills with the same tokenizer the real API uses.
    assert run.input_tokens == p.input_tokens


def test_typed_outputs_expect_a_typical_answer(project: Project) -> None:
    p = plan(project)
    # The longest label plus a typical one-sentence summary, counted by the tokenizer.
    typical = {"label": "feature_request",
               "summary": "A typical short answer of a dozen words, used only for the "
                          "cost estimate."}
    assert p.output.expected == len(ENC.encode(json.dumps(typical)))
    assert p.output.maximum is None and p.output_tokens_max is None
    assert p.cost(maximum=True) is None  # unbounded without max_tokens
    assert "typical answer" in p.output.basis


@EVERYWHERE
def test_plan_writes_nothing_and_sees_what_is_done(project: Project) -> None:
    project.run()
    project.write_tickets([*TICKETS, (9, *TICKETS[0][1:]), (11, "New", "A brand new ticket.")])
    before = digest(project)
    p = plan(project, show=5)
    assert digest(project) == before
    assert (p.source_rows, p.answered, p.pending, p.reused, p.requests) == (N + 2, N, 2, 1, 1)
    # History now sets the expected output: the mean of the answers collected so far.
    mean = project.query("select avg(_output_tokens) from analytics.labels")[0][0]
    assert p.output.expected == math.ceil(mean) and "earlier answers" in p.output.basis
    # The sample is the request the run would send, whole.
    assert [s.key for s in p.samples] == [{"ticket_id": 11}]
    body = p.samples[0].body
    assert body["model"] == "gpt-4o-mini" and "A brand new ticket." in json.dumps(body)
    assert body["response_format"]["json_schema"]["strict"] is True

    run = project.run()
    assert (run.reused, run.submitted) == (1, 1)


def test_plan_reads_tables_an_older_batchsql_made(project: Project) -> None:
    project.run()
    with project.connect() as wh:
        wh.execute("drop view analytics.labels_current")
        for column in ("_dedup", "_saved_usd"):
            wh.execute(f"alter table analytics.labels drop column {column}")
        wh.execute("alter table analytics._batchsql_labels_requests drop column _primary")
    project.write_tickets([*TICKETS, (9, *TICKETS[0][1:])])
    before = digest(project)
    p = plan(project)
    assert (p.answered, p.pending, p.reused) == (N, 1, 1)
    assert digest(project) == before
    # The next run upgrades the tables and reuses the answer.
    assert project.run().reused == 1


def test_unknown_price_is_unknown_not_zero(project: Project) -> None:
    project.write_spec(SPEC.replace("gpt-4o-mini", "house-model"))
    p = plan(project)
    assert p.price is None and p.cost() is None and p.saved_usd is None
    assert not p.tokens_exact and p.input_tokens > 0
    project.set_provider(prices="{house-model: {input: 1.0, output: 2.0}}")
    priced = plan(project)
    assert priced.cost(batch=False) == pytest.approx(
        (priced.input_tokens * 1.0 + priced.output_tokens_expected * 2.0) / 1e6)


def test_plan_checks_the_budget(project: Project) -> None:
    project.write_spec(FREE_TEXT)
    one = 0.5 * (chat_tokens(f"Label: {TICKETS[0][2]}") * 0.15 + 50 * 0.60) / 1e6
    p = plan(project, max_cost=one * 1.01)
    assert (p.requests, p.fits, p.over_budget) == (N, 1, N - 1)
    assert p.budget_cost_usd == pytest.approx(one)
