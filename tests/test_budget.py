"""The budget: submission stops before the estimated cost would pass it, and says so."""

from __future__ import annotations

import bpe_openai
import pytest

from batchsql import api
from batchsql.errors import SpecError

from .conftest import TICKETS, Project

N = len(TICKETS)
FREE_TEXT = """\
name: labels
source:
  sql: select ticket_id, subject, body from raw.tickets
  key: ticket_id
prompt:
  user: "Label: {{ body }}"
model: gpt-4o-mini
params: {max_tokens: 50}
output:
  table: analytics.labels
"""
ENC = bpe_openai.get_encoding("o200k_base")


def request_cost(body: str) -> float:
    """One request at gpt-4o-mini batch prices, its answer at the max_tokens bound (50).

    Input: 3 tokens per message + the tokens of its role and content + 3 to prime the reply.
    Prices: $0.15 / $0.60 per million tokens in / out at realtime, half that in a batch.
    """
    tokens_in = 3 + len(ENC.encode("user")) + len(ENC.encode(f"Label: {body}")) + 3
    return 0.5 * (tokens_in * 0.15 + 50 * 0.60) / 1_000_000


def test_budget_stops_submission_at_the_right_row(project: Project) -> None:
    project.write_spec(FREE_TEXT)
    costs = [request_cost(body) for _, _, body in TICKETS]
    budget = sum(costs[:5]) + costs[5] / 2  # five fit; the sixth would pass the budget
    first = project.run(max_cost=budget)
    assert (first.selected, first.submitted, first.over_budget) == (N, 5, N - 5)
    assert first.est_cost_usd == pytest.approx(sum(costs[:5]))
    sent = project.query("select ticket_id from analytics.labels order by ticket_id")
    assert [r[0] for r in sent] == [1, 2, 3, 4, 5]
    # The estimate is an upper bound: the actual cost, from usage, is no more than it.
    assert first.cost_usd is not None and first.cost_usd <= first.est_cost_usd
    runs = project.query("select est_cost_usd, max_cost_usd, over_budget "
                         "from analytics._batchsql_runs")
    assert runs[0][0] == pytest.approx(sum(costs[:5]))
    assert runs[0][1:] == (pytest.approx(budget), N - 5)

    second = project.run(max_cost=budget)  # the rest fits in a second run's budget
    assert (second.selected, second.submitted, second.over_budget) == (N - 5, N - 5, 0)


def test_the_spec_budget_applies_and_the_flag_overrides_it(project: Project) -> None:
    cost = request_cost(TICKETS[0][2])
    project.write_spec(FREE_TEXT + f"max_cost_usd: {cost * 1.5!r}\n")
    first = project.run()
    assert (first.submitted, first.over_budget, first.max_cost_usd) == (1, N - 1, cost * 1.5)
    second = project.run(max_cost=1.0)
    assert (second.submitted, second.over_budget) == (N - 1, 0)


def test_status_shows_spent_against_the_budget(project: Project) -> None:
    project.write_spec(FREE_TEXT + "max_cost_usd: 0.0001\n")
    summary = project.run()
    report = api.status(project.spec, project_dir=project.dir, profiles_dir=project.dir)
    last = report.last_run
    assert report.max_cost_usd == 0.0001 and last is not None
    assert last.run_id == summary.run_id and last.max_cost_usd == 0.0001
    assert last.est_cost_usd == pytest.approx(summary.est_cost_usd)
    assert last.spent_usd == pytest.approx(summary.cost_usd) and last.open_batches == 0


def test_a_budget_needs_a_known_price(project: Project) -> None:
    project.write_spec(FREE_TEXT.replace("gpt-4o-mini", "house-model") + "max_cost_usd: 5\n")
    with pytest.raises(SpecError) as info:
        project.run()
    assert f"{project.spec}:11:" in str(info.value)
    assert "price of model 'house-model' is unknown" in str(info.value)
    assert "prices:" in str(info.value)
    assert project.emulator.stats()["files_created"] == 0
    # A price in the profile makes the budget usable.
    project.set_provider(prices="{house-model: {input: 1.0, output: 2.0}}")
    summary = project.run()
    assert summary.submitted == N and summary.cost_usd is not None
