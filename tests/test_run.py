"""End to end: spec -> warehouse rows -> the openai SDK over HTTP -> emulator -> output table."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from batchsql import api
from batchsql.emulator import Faults
from batchsql.errors import ProviderError, SpecError
from batchsql.plan import Limits
from batchsql.providers import OpenAIProvider
from batchsql.runner import Runner
from batchsql.spec import load_spec

from .conftest import EVERYWHERE, SPEC, TICKETS, Project

N = len(TICKETS)


def batches_created(project: Project) -> int:
    return project.emulator.stats()["batches_created"]


@EVERYWHERE
def test_run_then_rerun_sends_nothing_twice(project: Project) -> None:
    first = project.run()
    assert (first.selected, first.submitted, first.batches_submitted) == (N, N, 1)
    assert first.succeeded == N and first.failed == 0
    assert first.input_tokens > 0 and first.output_tokens > 0
    assert first.cost_usd and first.realtime_cost_usd == pytest.approx(2 * first.cost_usd)

    rows = project.query("select ticket_id, label, _status, _attempt, _cost_usd "
                         "from analytics.labels order by ticket_id")
    assert [r[0] for r in rows] == [t[0] for t in TICKETS]
    assert all(r[2] == "succeeded" and r[3] == 1 and r[4] > 0 for r in rows)
    current = project.query("select count(*), count(distinct ticket_id) "
                            "from analytics.labels_current")
    assert current == [(N, N)]

    second = project.run()
    assert (second.selected, second.submitted, second.collected_batches) == (0, 0, 0)
    assert batches_created(project) == 1
    assert project.query("select count(*) from analytics.labels") == [(N,)]


def test_results_reach_the_right_rows_whatever_the_line_order(project: Project) -> None:
    project.run()
    # The emulator shuffles result lines; each answer must still land on the row that asked.
    rows = dict(project.query("select ticket_id, label from analytics.labels_current"))
    assert rows[1] == "billing" and rows[6] == "billing"
    assert rows[2] == "bug"
    assert rows[3] == "feature_request"
    assert rows[4] == "account"
    summaries = dict(project.query("select ticket_id, summary from analytics.labels_current"))
    for ticket_id, subject, _body in TICKETS:
        assert subject.split()[0] in summaries[ticket_id], (ticket_id, summaries[ticket_id])


@EVERYWHERE
def test_prompt_edit_makes_every_row_pending(project: Project) -> None:
    project.run()
    project.write_spec(SPEC.replace("You label tickets.", "You label support tickets."))
    again = project.run()
    assert again.selected == N and again.succeeded == N
    fingerprints = project.query("select count(distinct _fingerprint) from analytics.labels")
    assert fingerprints == [(2 * N,)]
    assert project.query("select count(*) from analytics.labels_current") == [(N,)]


@EVERYWHERE
def test_new_source_rows_only_are_sent(project: Project) -> None:
    project.run()
    project.write_tickets([*TICKETS, (9, "New one", "Another invoice question.")])
    again = project.run()
    assert (again.selected, again.submitted) == (1, 1)


@EVERYWHERE
def test_line_failures_retry_then_give_up(project: Project) -> None:
    # Ticket 2 always fails, ticket 7 fails once: retried on later runs, 2 given up after 3.
    project.emulator.set_faults(Faults(fail_match="crashes with an error", fail_status=500))
    first = project.run()
    assert first.outcomes == {"succeeded": N - 1, "failed": 1}
    second = project.run()
    assert (second.selected, second.outcomes) == (1, {"failed": 1})
    third = project.run()
    assert (third.selected, third.outcomes) == (1, {"failed": 1})
    fourth = project.run()
    assert (fourth.selected, fourth.submitted, fourth.given_up) == (0, 0, 1)
    attempts = project.query("select _attempt, _status, _error from analytics.labels "
                             "where ticket_id = 2 order by _attempt")
    assert [(a, s) for a, s, _ in attempts] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert "HTTP 500" in attempts[0][2]


@EVERYWHERE
def test_transient_line_failure_succeeds_on_the_next_run(project: Project) -> None:
    project.emulator.set_faults(Faults(fail_match="very slow", fail_status=429, fail_times=1))
    first = project.run()
    assert first.outcomes == {"succeeded": N - 1, "failed": 1}
    second = project.run()
    assert (second.selected, second.outcomes) == (1, {"succeeded": 1})
    assert project.query("select _attempt from analytics.labels_current where ticket_id = 7") \
        == [(2,)]


@EVERYWHERE
def test_no_wait_then_a_later_run_collects(project: Project) -> None:
    project.emulator.set_faults(Faults(processing_seconds=3600))
    first = project.run(wait=False)
    assert (first.submitted, first.in_flight, first.succeeded) == (N, 1, 0)
    status = api.status(project.spec, project_dir=project.dir, profiles_dir=project.dir)
    assert [b.provider_status for b in status.in_flight] == ["validating"]
    # Still running: a second run submits nothing (the rows are in flight) and collects nothing.
    second = project.run(wait=False)
    assert (second.selected, second.collected_batches, second.in_flight) == (0, 0, 1)
    project.emulator.advance_clock(3601)
    third = project.run(wait=False)
    assert (third.collected_batches, third.succeeded, third.selected) == (1, N, 0)
    assert batches_created(project) == 1


@EVERYWHERE
def test_whole_batch_validation_failure(project: Project) -> None:
    project.emulator.set_faults(Faults(fail_validation=True))
    first = project.run()
    assert first.outcomes == {"failed": N}
    errors = project.query("select distinct _error from analytics.labels")
    assert len(errors) == 1 and errors[0][0].startswith("batch failed:")
    project.emulator.set_faults(Faults())
    second = project.run()
    assert (second.selected, second.succeeded) == (N, N)


@EVERYWHERE
def test_expired_batch_keeps_finished_lines_and_resends_the_rest(project: Project) -> None:
    project.emulator.set_faults(Faults(expire_after_lines=3))
    first = project.run()
    assert first.outcomes == {"succeeded": 3, "expired": N - 3}
    project.emulator.set_faults(Faults())
    second = project.run()
    # Expired lines never ran: they are pending again and did not use up an attempt.
    assert (second.selected, second.succeeded) == (N - 3, N - 3)
    assert project.query("select max(_attempt) from analytics.labels_current") == [(1,)]


@EVERYWHERE
def test_chunking_and_collecting_twice_adds_nothing(project: Project) -> None:
    spec = load_spec(project.spec)

    class Small(OpenAIProvider):
        MAX_REQUESTS = 3

    wh = project.connect()
    provider = Small(api_key="x", base_url=project.emulator.base_url)
    runner = Runner(spec, wh, provider, work_dir=project.dir / ".batchsql", poll_interval=0.2)
    assert provider.limits() == Limits(3, 200 * 1024 * 1024)
    summary = runner.run()
    assert (summary.batches_submitted, summary.succeeded) == (3, N)
    # Collect one of the finished batches again, as a crash before the bookkeeping would.
    batch = runner.state.all_batches(spec.output.table)[0]
    info = provider.retrieve(batch["provider_batch_id"])
    runner.collector.collect_batch(summary, batch, info)
    count = wh.fetch("select count(*), count(distinct ticket_id) from analytics.labels")
    assert count == [(N, N)]
    provider.close()
    wh.close()


def test_a_failed_download_keeps_the_batches_before_it_and_a_rerun_collects_the_rest(
        project: Project) -> None:
    """Result files are read a batch ahead, in a thread: a failure there still stops the
    collection at that batch, after the batches before it are written."""
    spec = load_spec(project.spec)

    class Flaky(OpenAIProvider):
        MAX_REQUESTS = 3
        downloads = 0

        def file_chunks(self, file_id: str) -> Iterator[bytes]:
            Flaky.downloads += 1
            if Flaky.downloads == 2:
                raise ProviderError("provider unavailable: HTTP 503", transient=True)
            return super().file_chunks(file_id)

    wh = project.connect()
    provider = Flaky(api_key="x", base_url=project.emulator.base_url)
    runner = Runner(spec, wh, provider, work_dir=project.dir / ".batchsql", poll_interval=0.2)
    with pytest.raises(ProviderError, match="HTTP 503"):
        runner.run()
    assert wh.fetch("select status, count(*) from analytics._batchsql_batches "
                    "group by 1 order by 1") == [("collected", 1), ("submitted", 2)]
    assert wh.fetch("select count(*) from analytics.labels") == [(3,)]
    ours = ("batchsql-collect-reader", "batchsql-results-reader", "batchsql-appender")
    assert [t.name for t in threading.enumerate() if t.name in ours] == []
    provider.close()
    wh.close()
    again = project.run()
    assert (again.selected, again.submitted, again.collected_batches) == (0, 0, 2)
    assert project.query("select count(*), count(distinct ticket_id) from analytics.labels "
                         "where _status = 'succeeded'") == [(N, N)]


def test_batches_are_created_in_chunk_order_while_files_upload_ahead(project: Project) -> None:
    project.set_provider(max_requests_per_batch=2)
    summary = project.run()
    assert (summary.batches_submitted, summary.succeeded) == (4, N)
    rows = project.query("select chunk, provider_batch_id, status from analytics._batchsql_batches"
                         " order by chunk")
    assert [r[0] for r in rows] == [0, 1, 2, 3] and {r[2] for r in rows} == {"collected"}
    created = sorted(project.emulator.store.list_batches(), key=lambda b: b["seq"])
    assert [b["metadata"]["batchsql_chunk"] for b in created] == ["0", "1", "2", "3"]
    assert not list((project.dir / ".batchsql" / "spool").glob("*.jsonl"))


def test_a_failed_upload_stops_submitting_and_the_next_run_resumes_its_intents(
        project: Project) -> None:
    spec = load_spec(project.spec)

    class Flaky(OpenAIProvider):
        MAX_REQUESTS = 2
        uploads = 0

        def upload(self, path: Path) -> str:
            Flaky.uploads += 1
            if Flaky.uploads == 2:
                raise ProviderError("provider refused the request: HTTP 400: bad file")
            return super().upload(path)

    wh = project.connect()
    provider = Flaky(api_key="x", base_url=project.emulator.base_url)
    runner = Runner(spec, wh, provider, work_dir=project.dir / ".batchsql", poll_interval=0.2)
    with pytest.raises(ProviderError, match="bad file"):
        runner.run()
    # The first chunk's batch exists; the failed one and any recorded after it are intents.
    statuses = wh.fetch("select chunk, status from analytics._batchsql_batches order by chunk")
    assert statuses[0] == (0, "submitted") and statuses[1] == (1, "intent")
    assert {s for _, s in statuses[1:]} == {"intent"}
    assert [t.name for t in threading.enumerate() if t.name.startswith("batchsql-upload")] == []
    provider.close()
    wh.close()
    project.set_provider(max_requests_per_batch=2)
    again = project.run()
    assert again.succeeded == N
    per_intent = project.emulator.batches_with_metadata("batchsql_batch")
    assert set(per_intent.values()) == {1}  # one batch per intent: nothing paid twice
    assert project.query("select count(*), count(distinct ticket_id) from analytics.labels "
                         "where _status = 'succeeded'") == [(N, N)]


def test_template_naming_a_missing_column_is_refused_before_upload(project: Project) -> None:
    project.write_spec(SPEC.replace("{{ body }}", "{{ bdy }}"))
    with pytest.raises(SpecError) as info:
        project.run()
    assert f"{project.spec}:9:" in str(info.value)
    assert "did you mean 'body'?" in str(info.value)
    assert project.emulator.stats()["files_created"] == 0


def test_rows_that_cannot_render_fail_without_being_sent(project: Project) -> None:
    project.write_spec(SPEC.replace("{{ body }}", "{{ body }} {{ 1 // (ticket_id - 3) }}"))
    summary = project.run()
    assert summary.submitted == N - 1 and summary.outcomes["failed"] == 1
    error = project.query("select _error from analytics.labels where ticket_id = 3")
    assert "template error" in error[0][0]


def test_duplicate_keys_are_refused(project: Project) -> None:
    project.write_tickets([*TICKETS, TICKETS[0]])
    with pytest.raises(SpecError, match="duplicate or NULL keys such as 1"):
        project.run()
    assert project.emulator.stats()["files_created"] == 0


@EVERYWHERE
def test_null_keys_are_refused(project: Project) -> None:
    project.write_tickets([*TICKETS, (None, "No id", "A ticket without its id.")])
    with pytest.raises(SpecError, match="duplicate or NULL keys such as None"):
        project.run()
    assert project.emulator.stats()["files_created"] == 0


def test_text_answers_without_columns(project: Project) -> None:
    text = SPEC[: SPEC.index("  columns:")] + "max_attempts: 3\n"
    project.write_spec(text)
    project.run()
    answers = project.query("select answer from analytics.labels")
    assert len(answers) == N and all("emulator" in a[0] for a in answers)


def test_status_and_runs_table(project: Project) -> None:
    project.run()
    report = api.status(project.spec, project_dir=project.dir, profiles_dir=project.dir)
    assert report.outcomes == {"succeeded": N} and report.keys_with_result == N
    assert report.in_flight == [] and report.cost_usd and report.cost_usd > 0
    runs = project.query("select status, selected, submitted, succeeded from "
                         "analytics._batchsql_runs")
    assert runs == [("ok", N, N, N)]


def test_raw_result_lines_are_kept_for_failures_unless_told(project: Project) -> None:
    project.emulator.set_faults(Faults(fail_match="Refund"))
    project.run()
    rows = project.query("select _status, _raw from analytics.labels order by ticket_id")
    assert {status for status, _ in rows} == {"succeeded", "failed"}
    for status, raw in rows:  # the default, keep_raw: failures
        assert (raw is None) == (status == "succeeded")
    assert json.loads(next(raw for status, raw in rows if raw))["custom_id"]

    project.write_spec(project.spec.read_text().replace(
        "table: analytics.labels", "table: analytics.labels\n  keep_raw: all"))
    with project.connect() as wh:
        wh.execute("delete from analytics.labels")
    project.emulator.set_faults(Faults())
    project.run()
    raw = project.query("select _raw from analytics.labels where ticket_id = 1")[0][0]
    line = json.loads(raw)
    assert line["response"]["status_code"] == 200
    assert line["response"]["body"]["model"].startswith("gpt-4o-mini")


QUOTED = """\
name: quoted
source:
  table: '"Raw Data"."Order"'
  key: Ticket ID
prompt:
  user: "{{ Group }}: {{ select }}"
model: gpt-4o-mini
output:
  table: '"Out Put"."Select Labels"'
  columns:
    Label: {type: string, enum: [billing, bug, other]}
"""


def test_names_with_capitals_spaces_and_keywords(project: Project) -> None:
    project.load('"Raw Data"."Order"', pa.table({
        "Ticket ID": pa.array([1, 2], pa.int64()), "Group": pa.array(["billing", "bug"]),
        "select": pa.array(["Charged twice", "It crashes"])}))
    project.write_spec(QUOTED)
    assert project.run().succeeded == 2
    rows = project.query('select "Ticket ID", "Label" from "Out Put"."Select Labels_current" '
                         'order by "Ticket ID"')
    assert [r[0] for r in rows] == [1, 2] and all(r[1] in ("billing", "bug", "other")
                                                  for r in rows)
    assert project.run().selected == 0


def test_keys_of_other_types(project: Project) -> None:
    # (and a source whose SQL holds '%', which some drivers read as a placeholder)
    uid = "cast('00000000-0000-0000-0000-00000000000' || ticket_id as uuid)"
    project.write_spec(SPEC.replace(
        "sql: select ticket_id, subject, body from raw.tickets\n  key: ticket_id",
        f"sql: select {uid} as uid, cast(ticket_id as decimal(10, 2)) as amount, "
        "cast('2026-01-0' || ticket_id as date) as day, subject, body from raw.tickets "
        "where body like '%e%'\n"
        "  key: [uid, amount, day]"))
    project.write_tickets(TICKETS[:3])
    assert project.run().succeeded == 3
    rows = project.query("select cast(uid as varchar), amount, day, label "
                         "from analytics.labels_current order by day")
    assert [(r[0][-1], int(r[1]), r[2].day) for r in rows] == [("1", 1, 1), ("2", 2, 2),
                                                                ("3", 3, 3)]
    assert project.run().selected == 0
    project.write_tickets(TICKETS[:4])
    assert project.run().submitted == 1
