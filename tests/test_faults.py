"""The fault matrix: every documented OpenAI Batch API fault, produced by the emulator.

Each case says what batchsql must do about it, and checks that every source row ends with
exactly one success (or a recorded, explained failure) and no batch was paid for twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from batchsql import api, results_fast
from batchsql.emulator import EmulatorServer, Faults
from batchsql.errors import BatchsqlError
from batchsql.plan import CHAT_COMPLETIONS, Limits
from batchsql.prompts import compile_prompt
from batchsql.providers import OpenAIProvider
from batchsql.runner import Runner, collect
from batchsql.runner.source import Renderer
from batchsql.spec import load_spec

from .conftest import EVERYWHERE, SPEC, TICKETS, Project

N = len(TICKETS)


def successes(project: Project) -> dict[int, int]:
    rows = project.query("select ticket_id, count(*) from analytics.labels "
                         "where _status = 'succeeded' group by 1")
    return dict(rows)


def assert_all_succeeded_once(project: Project) -> None:
    assert successes(project) == {t[0]: 1 for t in TICKETS}


def one_batch_per_intent(project: Project) -> None:
    per_intent = project.emulator.batches_with_metadata("batchsql_batch")
    assert per_intent and set(per_intent.values()) == {1}, per_intent


def max_estimated_tokens(project: Project) -> int:
    """batchsql's own input-token estimate of the largest test request."""
    spec = load_spec(project.spec)
    renderer = Renderer(spec, compile_prompt(spec), CHAT_COMPLETIONS, exact=True)
    rows = pa.RecordBatch.from_pylist([{**dict(zip(("ticket_id", "subject", "body"), t,
                                                   strict=True)), "_input": ""} for t in TICKETS])
    return max(renderer.render(rows).column("_est_tokens").to_pylist())


@pytest.fixture(params=["held", "copied", "overflowing"])
def collect_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Parsed results read in place (DuckDB, batches of up to HELD_BYTES), copied into the
    collect stage (larger batches, other warehouses) and ranked by custom_id there, or held
    slice by slice until one no longer fits, then copied with the ones held."""
    if request.param == "copied":
        monkeypatch.setattr(collect, "HELD_BYTES", 0)
    if request.param == "overflowing":
        monkeypatch.setattr(results_fast, "BLOCK_BYTES", 4096)  # slices of a few lines
        monkeypatch.setattr(collect, "HELD_BYTES", 1000)  # one slice of about 800 bytes
    return str(request.param)


@EVERYWHERE
def test_validation_errors_fail_their_lines_and_resubmit_the_rest(project: Project,
                                                                  collect_mode: str) -> None:
    project.emulator.set_faults(Faults(invalid_match="crashes with an error"))
    first = project.run()
    assert first.outcomes == {"failed": 1}
    error = project.query("select _error from analytics.labels where ticket_id = 2")[0][0]
    assert "batch validation failed at line 2" in error
    project.emulator.set_faults(Faults())
    second = project.run()
    # The other rows never ran: pending again, without spending an attempt.
    assert (second.selected, second.succeeded) == (N, N)
    assert project.query("select max(_attempt) from analytics.labels_current "
                         "where ticket_id <> 2") == [(1,)]


def test_token_limit_exceeded_rows_are_pending_again(project: Project) -> None:
    project.emulator.set_faults(Faults(token_limit=10))
    first = project.run()
    assert first.succeeded == 0 and first.failed == 0  # not an outcome: never ran
    assert first.quota_hit
    batches = project.query("select error from analytics._batchsql_batches")
    assert "token_limit_exceeded" in batches[0][0]
    project.emulator.set_faults(Faults())
    second = project.run()
    assert (second.selected, second.succeeded) == (N, N)
    assert project.query("select max(_attempt) from analytics.labels") == [(1,)]


def test_enqueued_token_limit_paces_submission(project: Project) -> None:
    # The provider enforces a quota that fits about three requests in flight at once; told
    # the quota, batchsql sizes chunks under it and submits more as batches finish.
    limit = 3 * max_estimated_tokens(project)
    project.emulator.set_faults(Faults(token_limit=limit, processing_seconds=1))
    project.set_provider(enqueued_token_limit=limit)
    summary = project.run()
    assert summary.succeeded == N and not summary.quota_hit
    assert summary.batches_submitted > 2
    failed = project.query("select count(*) from analytics._batchsql_batches "
                           "where provider_status = 'failed'")
    assert failed == [(0,)]
    assert_all_succeeded_once(project)


def test_all_lines_failed_batch_has_no_output_file(project: Project) -> None:
    project.emulator.set_faults(Faults(fail_match="Subject", fail_status=400))
    summary = project.run()
    assert summary.outcomes == {"failed": N}
    files = project.query("select output_file_id, error_file_id from analytics._batchsql_batches")
    assert files[0][0] is None and files[0][1] is not None


@pytest.mark.parametrize("endpoint", ["POST /v1/files", "POST /v1/batches", "GET /v1/batches",
                                      "GET /v1/files"])
@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_server_errors_are_retried(project: Project, endpoint: str,
                                                  status: int) -> None:
    project.emulator.set_faults(Faults(http_fail_times=2, http_fail_match=endpoint,
                                       http_fail_status=status))
    summary = project.run()
    assert summary.succeeded == N
    assert project.emulator.stats()["http_faults_injected"] == 2
    assert_all_succeeded_once(project)
    one_batch_per_intent(project)


def test_a_result_download_that_breaks_off_is_resumed(project: Project) -> None:
    # The connection closes half-way through an output file, for two downloads: each is asked
    # for again and read on from where it broke off, so every row is collected once.
    project.set_provider(max_requests_per_batch=4)  # several batches, a file each
    project.emulator.set_faults(Faults(download_cut_times=2))
    summary = project.run()
    assert (summary.succeeded, summary.unknown_lines) == (N, 0)
    assert summary.collected_batches == -(-N // 4)
    assert project.emulator.stats()["downloads_cut"] == 2
    assert_all_succeeded_once(project)
    one_batch_per_intent(project)


def test_timed_out_create_leaves_no_duplicate(project: Project) -> None:
    # The create happens but its answer is lost; the SDK retries and creates a second batch.
    project.emulator.set_faults(Faults(http_fail_times=1, http_fail_match="POST /v1/batches",
                                       http_fail_after=True, processing_seconds=2))
    summary = project.run()
    assert summary.succeeded == N
    assert project.emulator.stats()["duplicate_batches"] >= 1
    duplicates = project.query("select duplicates from analytics._batchsql_batches")
    assert duplicates[0][0]  # recorded, and cancelled at the provider
    cancelled = [b for b in project.emulator.list_batches() if b["id"] == duplicates[0][0]]
    assert cancelled[0]["status"] in ("cancelling", "cancelled")
    assert_all_succeeded_once(project)


@EVERYWHERE
def test_malformed_result_lines_become_failed_rows(project: Project) -> None:
    project.emulator.set_faults(Faults(malformed_match="Dark mode please"))
    summary = project.run()
    assert summary.outcomes == {"succeeded": N - 1, "failed": 1}
    error = project.query("select _error from analytics.labels where ticket_id = 3")[0][0]
    assert error.startswith("malformed result line")
    project.emulator.set_faults(Faults())
    assert project.run().succeeded == 1


def test_unknown_custom_ids_are_reported_and_ignored(project: Project, collect_mode: str) -> None:
    project.emulator.set_faults(Faults(extra_lines=2))
    summary = project.run()
    assert summary.unknown_lines == 2 and summary.succeeded == N
    assert project.query("select unknown_lines from analytics._batchsql_batches") == [(2,)]
    assert project.query("select count(*) from analytics.labels") == [(N,)]


@pytest.mark.parametrize("extra", [0, 2], ids=["no-extra-lines", "extra-lines"])
def test_a_request_the_provider_returned_no_line_for_is_missing(
        project: Project, collect_mode: str, monkeypatch: pytest.MonkeyPatch, extra: int) -> None:
    # A completed batch whose output file lacks one request's line (with or without lines
    # for requests never sent): that key is "missing" and the next run sends it again.
    file_chunks = OpenAIProvider.file_chunks

    def losing_a_line(self: OpenAIProvider, file_id: str) -> Iterator[bytes]:
        lines = b"".join(file_chunks(self, file_id)).splitlines(keepends=True)
        yield b"".join(line for line in lines if b"Dark mode please" not in line)

    monkeypatch.setattr(OpenAIProvider, "file_chunks", losing_a_line)
    project.emulator.set_faults(Faults(extra_lines=extra))
    summary = project.run()
    assert summary.outcomes == {"succeeded": N - 1, "missing": 1}
    assert summary.unknown_lines == extra
    assert project.query("select _status, _error from analytics.labels where ticket_id = 3") == [
        ("missing", "the provider returned no result line for this request")]
    assert project.query("select unknown_lines, succeeded, failed from "
                         "analytics._batchsql_batches") == [(extra, N - 1, 1)]
    monkeypatch.setattr(OpenAIProvider, "file_chunks", file_chunks)
    project.emulator.set_faults(Faults())
    again = project.run()
    assert again.submitted == 1 and again.succeeded == 1


def test_repeated_result_lines_count_once(project: Project, collect_mode: str) -> None:
    project.emulator.set_faults(Faults(duplicate_match="Password reset"))
    project.run()
    assert_all_succeeded_once(project)


def test_batch_stuck_in_finalizing_keeps_being_polled(project: Project) -> None:
    project.emulator.set_faults(Faults(processing_seconds=10, finalizing_seconds=7200))
    project.run(wait=False)
    project.emulator.advance_clock(60)
    again = project.run(wait=False)
    assert (again.collected_batches, again.in_flight) == (0, 1)
    status = api.status(project.spec, project_dir=project.dir, profiles_dir=project.dir)
    assert status.in_flight[0].provider_status == "finalizing"
    project.emulator.advance_clock(7200)
    done = project.run(wait=False)
    assert (done.collected_batches, done.succeeded) == (1, N)


@EVERYWHERE
def test_cancel_collects_partial_results(project: Project) -> None:
    project.emulator.set_faults(Faults(processing_seconds=100))
    project.run(wait=False)
    project.emulator.advance_clock(50)  # about half the lines have run
    summary = api.cancel(project.spec, project_dir=project.dir, profiles_dir=project.dir)
    assert summary.collected_batches == 1 and summary.in_flight == 0
    done = summary.outcomes.get("succeeded", 0)
    assert 0 < done < N and summary.outcomes["cancelled"] == N - done
    # Cancelled lines never ran: the next run sends exactly those.
    project.emulator.set_faults(Faults())
    again = project.run()
    assert (again.selected, again.succeeded) == (N - done, N - done)
    assert_all_succeeded_once(project)


def test_requests_over_any_limit_fail_without_being_sent(project: Project) -> None:
    project.write_tickets([*TICKETS, (99, "Huge", "x" * 2000)])
    spec = load_spec(project.spec)

    class Tiny(OpenAIProvider):
        MAX_BYTES = 1500

    wh = project.connect()
    provider = Tiny(api_key="x", base_url=project.emulator.base_url)
    runner = Runner(spec, wh, provider, work_dir=project.dir / ".batchsql", poll_interval=0.2,
                    token_limit=10_000)
    assert runner.limits == Limits(50_000, 1500, 10_000)
    summary = runner.run()
    assert summary.not_sent == 1 and summary.succeeded == N
    error = wh.fetch("select _error from analytics.labels where ticket_id = 99")[0][0]
    assert "over the provider's limit of 1,500 bytes" in error
    provider.close()
    wh.close()


def test_renamed_spec_still_collects_its_batches(project: Project) -> None:
    project.emulator.set_faults(Faults(processing_seconds=3600))
    project.run(wait=False)
    project.write_spec(SPEC.replace("name: labels", "name: labels_v2"))
    project.emulator.advance_clock(3601)
    again = project.run(wait=False)
    assert (again.collected_batches, again.succeeded, again.selected) == (1, N, 0)
    assert_all_succeeded_once(project)


def test_renaming_the_output_table_with_batches_in_flight_is_refused(project: Project) -> None:
    project.emulator.set_faults(Faults(processing_seconds=3600))
    project.run(wait=False)
    project.write_spec(SPEC.replace("table: analytics.labels", "table: analytics.labels2"))
    with pytest.raises(BatchsqlError, match=r"in flight for output table analytics\.labels"):
        project.run(wait=False)
    assert project.emulator.stats()["batches_created"] == 1


@EVERYWHERE
def test_batch_unknown_to_the_provider_is_lost_and_resent(project: Project,
                                                          tmp_path: Path) -> None:
    project.emulator.set_faults(Faults(processing_seconds=3600))
    project.run(wait=False)
    # A different account (or a wiped emulator) that never saw the batch.
    with EmulatorServer(state_dir=tmp_path / "other") as other:
        profiles = project.dir / "profiles.yml"
        profiles.write_text(profiles.read_text().replace(project.emulator.base_url,
                                                         other.base_url))
        summary = project.run()
        assert (summary.selected, summary.succeeded) == (N, N)
    assert project.query("select status from analytics._batchsql_batches "
                         "order by created_at limit 1") == [("lost",)]


def retried_create_behind_a_lagging_list(project: Project) -> None:
    """A run (not waiting) whose create's answer is lost, so the SDK creates a second batch,
    while the batch list that should show both lags behind and shows neither."""
    project.emulator.set_faults(Faults(http_fail_times=1, http_fail_match="POST /v1/batches",
                                       http_fail_after=True, processing_seconds=60))
    with pytest.MonkeyPatch.context() as lagging:
        lagging.setattr(OpenAIProvider, "find_batches", lambda *a, **k: [])
        project.run(wait=False)


def test_duplicate_hidden_at_submit_is_cancelled_at_collection(project: Project) -> None:
    # The next run's check finds the second batch.
    retried_create_behind_a_lagging_list(project)
    assert project.emulator.stats()["duplicate_batches"] == 1
    assert project.query("select sole_create from analytics._batchsql_batches") == [(None,)]
    kept = project.query("select provider_batch_id from analytics._batchsql_batches")[0][0]
    extra = [b["id"] for b in project.emulator.list_batches() if b["id"] != kept]
    project.emulator.set_faults(Faults())
    project.emulator.advance_clock(61)  # both are done: the duplicate was paid for, alas
    summary = project.run(wait=False)
    assert summary.collected_batches == 1
    assert project.query("select provider_batch_id, duplicates from "
                         "analytics._batchsql_batches") == [(kept, extra[0])]
    assert_all_succeeded_once(project)


def test_duplicate_made_late_is_cancelled_before_it_runs(project: Project) -> None:
    # As above, but another batch is still running when the next run looks: cancelled.
    retried_create_behind_a_lagging_list(project)
    kept = project.emulator.list_batches()[0]
    project.emulator.advance_clock(61)  # the batches so far are done
    sdk = OpenAIProvider(api_key="x", base_url=project.emulator.base_url)
    late = sdk.create(kept["input_file_id"], endpoint=kept["endpoint"],
                      metadata=kept["metadata"])
    sdk.close()
    summary = project.run(wait=False)
    assert summary.collected_batches == 1
    status = {b["id"]: b["status"] for b in project.emulator.list_batches()}
    assert status[late.id] in ("cancelling", "cancelled")
    assert late.id in project.query("select duplicates from analytics._batchsql_batches")[0][0]
    assert_all_succeeded_once(project)


def test_a_batch_created_in_one_request_is_never_looked_for(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # Listing the account's batches after every create, and before collecting each, made a run
    # of B batches list O(B^2) of them; a create that took one request can have no duplicate.
    lists: list[str] = []
    find_batches = OpenAIProvider.find_batches

    def counted(self: OpenAIProvider, key: str, value: str, *, since: int) -> list:
        lists.append(value)
        return find_batches(self, key, value, since=since)

    monkeypatch.setattr(OpenAIProvider, "find_batches", counted)
    project.set_provider(max_requests_per_batch=2)
    summary = project.run()
    assert summary.batches_submitted == -(-N // 2) and summary.succeeded == N
    assert lists == []
    assert project.query("select count(*), count(case when sole_create then 1 end) "
                         "from analytics._batchsql_batches") == [(-(-N // 2),) * 2]
    assert_all_succeeded_once(project)
