"""Identical requests are paid once: shared inside a run, reused across keys and runs."""

from __future__ import annotations

import pytest

from batchsql.emulator import Faults

from .conftest import EVERYWHERE, SPEC, TICKETS, Project

N = len(TICKETS)
# Tickets 9 and 10 ask exactly what ticket 1 asks; ticket 11 asks what ticket 2 asks.
COPIES = [(9, *TICKETS[0][1:]), (10, *TICKETS[0][1:]), (11, *TICKETS[1][1:])]


def lines_sent(project: Project) -> int:
    return int(project.query("select sum(request_count) from analytics._batchsql_batches")[0][0])


@EVERYWHERE
def test_identical_requests_in_one_run_are_sent_once(project: Project) -> None:
    project.write_tickets([*TICKETS, *COPIES])
    summary = project.run()
    assert (summary.selected, summary.submitted, summary.shared) == (N + 3, N, 3)
    assert lines_sent(project) == N
    assert project.emulator.stats()["batches_created"] == 1
    # Every key gets the answer, under the one custom_id that carried it.
    rows = project.query("select ticket_id, label, summary, _custom_id, _dedup, _cost_usd, "
                         "_saved_usd, _input_tokens from analytics.labels_current "
                         "where ticket_id in (1, 9, 10) order by ticket_id")
    assert {r[1:4] for r in rows} == {rows[0][1:4]}
    first, *copies = rows
    assert first[4] is None and first[5] > 0 and first[6] is None and first[7] > 0
    for copy in copies:
        assert copy[4] == "shared" and copy[5] == 0 and copy[7] == 0
        assert copy[6] == pytest.approx(first[5])
    # Paid once: the run's tokens and cost are those of the distinct requests.
    paid = project.query("select sum(_input_tokens), sum(_cost_usd), sum(_saved_usd) "
                         "from analytics.labels")[0]
    assert summary.input_tokens == paid[0]
    assert summary.cost_usd == pytest.approx(paid[1])
    assert summary.saved_usd == pytest.approx(paid[2]) and paid[2] > 0


@EVERYWHERE
def test_an_earlier_answer_is_reused_without_a_provider_call(project: Project) -> None:
    first = project.run()
    project.write_tickets([*TICKETS, (12, *TICKETS[2][1:])])
    second = project.run()
    assert (second.selected, second.reused, second.submitted) == (1, 1, 0)
    assert second.succeeded == 1 and second.batches_submitted == 0
    assert project.emulator.stats()["batches_created"] == 1
    original, reused = project.query(
        "select ticket_id, label, _custom_id, _cost_usd, _dedup, _saved_usd, _batch_id "
        "from analytics.labels_current where ticket_id in (3, 12) order by ticket_id")
    assert reused[1:3] == original[1:3]  # same answer, and the custom_id it came from
    assert reused[3:5] == (0, "reused") and reused[5] == pytest.approx(original[3])
    assert reused[6] is None
    assert second.saved_usd == pytest.approx(original[3])
    assert second.cost_usd == 0 and first.cost_usd
    runs = project.query("select reused, saved_usd from analytics._batchsql_runs "
                         "order by started_at")
    assert runs[1][0] == 1 and runs[1][1] == pytest.approx(original[3])
    # Nothing is left pending, and a third run does nothing at all.
    third = project.run()
    assert (third.selected, third.reused, third.submitted) == (0, 0, 0)


@EVERYWHERE
def test_a_rerun_reuses_some_pending_rows_and_sends_only_the_others(project: Project) -> None:
    project.run()
    new = (14, "A question nobody asked before", "Where is the fine print?")
    project.write_tickets([*TICKETS, (12, *TICKETS[2][1:]), new])
    again = project.run()
    # Where the pending rows are snapshot once per pass, the reused row leaves the snapshot.
    assert (again.selected, again.reused, again.submitted) == (2, 1, 1)
    assert project.emulator.stats()["batches_created"] == 2
    rows = project.query("select ticket_id, _status, _dedup, _batch_id is null "
                         "from analytics.labels where ticket_id in (12, 14) order by ticket_id")
    assert rows == [(12, "succeeded", "reused", True), (14, "succeeded", None, False)]
    assert project.run().selected == 0


def test_a_reused_copy_of_a_shared_answer_saves_what_the_request_cost(
        project: Project) -> None:
    project.write_tickets([*TICKETS, *COPIES])
    project.run()
    project.write_tickets([*TICKETS, *COPIES, (13, *TICKETS[0][1:])])
    again = project.run()
    assert again.reused == 1
    cost_1 = project.query("select _cost_usd from analytics.labels where ticket_id = 1")[0][0]
    saved = project.query("select _saved_usd from analytics.labels where ticket_id = 13")[0][0]
    assert saved == pytest.approx(cost_1)


def test_a_failed_shared_request_fails_every_key_and_is_retried_once(
        project: Project) -> None:
    project.write_tickets([*TICKETS, *COPIES])
    project.emulator.set_faults(Faults(fail_match="double charge", fail_status=500))
    first = project.run()
    assert first.outcomes == {"succeeded": N - 1 + 1, "failed": 3}
    failed = project.query("select ticket_id, _attempt from analytics.labels "
                           "where _status = 'failed' order by ticket_id")
    assert failed == [(1, 1), (9, 1), (10, 1)]
    project.emulator.set_faults(Faults())
    second = project.run()
    assert (second.selected, second.submitted, second.shared) == (3, 1, 2)
    assert second.succeeded == 3
    assert project.query("select count(*) from analytics.labels_current") == [(N + 3,)]


def test_dedup_can_be_turned_off(project: Project) -> None:
    project.write_spec(SPEC + "dedup: false\n")
    project.write_tickets([*TICKETS, *COPIES])
    summary = project.run()
    assert (summary.submitted, summary.shared, summary.reused) == (N + 3, 0, 0)
    project.write_tickets([*TICKETS, *COPIES, (12, *TICKETS[2][1:])])
    again = project.run()
    assert (again.submitted, again.reused) == (1, 0)
    assert project.query("select count(*) from analytics.labels where _dedup is not null") \
        == [(0,)]
