"""The stage as a render cache: a rerun renders only rows whose template inputs changed."""

from __future__ import annotations

import threading

import duckdb
import pytest
from sqlglot import exp

from batchsql import stage_sql
from batchsql.emulator import Faults
from batchsql.errors import SpecError, WarehouseError
from batchsql.runner import source
from batchsql.warehouses.duckdb import DuckDBWarehouse

from .conftest import EVERYWHERE, SPEC, TICKETS, Project

N = len(TICKETS)


def rendered(summary: object) -> int:
    return summary.phases.rows["render"]  # type: ignore[attr-defined]


@EVERYWHERE
def test_a_rerun_renders_nothing_and_a_changed_row_alone(project: Project) -> None:
    first = project.run()
    assert rendered(first) == N
    assert rendered(project.run()) == 0

    changed = [(t[0], t[1], t[2] + " (edited)") if t[0] == 3 else t for t in TICKETS]
    project.write_tickets(changed)
    again = project.run()
    assert rendered(again) == 1
    assert (again.selected, again.submitted) == (1, 1)
    bodies = project.query("select count(distinct _fingerprint) from analytics.labels "
                           "where ticket_id = 3")
    assert bodies == [(2,)]


@EVERYWHERE
def test_new_rows_alone_are_rendered_whether_few_or_most(project: Project) -> None:
    """A few new rows are read from the source by key, most of the source is read whole
    (source.render_stage): either way exactly the new rows render and are sent."""
    project.write_tickets(TICKETS[:3])
    assert rendered(project.run()) == 3
    project.write_tickets(TICKETS[:4])  # one new row of four: read by key
    few = project.run()
    assert (rendered(few), few.selected) == (1, 1)
    project.write_tickets([*TICKETS, (99, "New", "One more ticket.")])  # five new of nine
    most = project.run()
    assert (rendered(most), most.selected) == (N - 3, N - 3)
    assert project.query("select count(distinct ticket_id) from analytics.labels "
                         "where _status = 'succeeded'") == [(N + 1,)]


def test_reading_by_key_gives_the_rows_the_whole_read_gives() -> None:
    key = ["a", "b"]
    table = exp.to_table
    con = duckdb.connect()
    con.execute("create table src as select i % 7 as a, 'k' || i as b, 'text ' || i as body, "
                "i as n from range(100) t(i)")
    con.execute("create table stage as select a, b from src where n % 3 = 0")
    con.execute("create table inputs as select a, b from src")
    keys = stage_sql.unrendered_keys(table("inputs"), table("stage"), key)
    con.execute(f"create table keys as {keys.sql('duckdb')}")

    def rows(**by: exp.Table) -> list[tuple[object, ...]]:
        query = stage_sql.unrendered_rows(exp.select("*").from_("src"), table("stage"), key,
                                          ["body"], "sig", "duckdb", **by)
        return sorted(con.execute(query.sql("duckdb")).fetchall())

    whole = rows()
    assert len(whole) == 66 and rows(keys=table("keys")) == whole
    con.close()


@EVERYWHERE
def test_rows_to_retry_are_rendered_again_and_send_the_same_request(project: Project) -> None:
    """Bodies live in one run's file: a failed row is rendered again by the run that retries
    it (alone), and sends the request it sent before."""
    project.emulator.set_faults(Faults(fail_match="Refund"))
    first = project.run()
    failed = first.outcomes.get("failed", 0)
    assert rendered(first) == N and 0 < failed < N
    project.emulator.set_faults(Faults())
    again = project.run()
    assert rendered(again) == failed
    assert (again.selected, again.submitted, again.outcomes) == (failed, failed,
                                                                  {"succeeded": failed})
    requests = project.query("select ticket_id, count(distinct _fingerprint), count(*) "
                             "from analytics.labels group by ticket_id")
    assert len(requests) == N and all(fps == 1 for _, fps, _ in requests)
    assert sum(n for _, _, n in requests) == N + failed
    assert not list((project.dir / ".batchsql").rglob("batchsql-bodies-*"))


def test_a_prompt_edit_re_renders_every_row(project: Project) -> None:
    project.run()
    project.write_spec(SPEC.replace("You label tickets.", "You label support tickets."))
    again = project.run()
    assert rendered(again) == N and again.selected == N


def test_a_column_the_templates_do_not_read_changes_nothing(project: Project) -> None:
    project.run()
    project.write_spec(SPEC.replace("select ticket_id, subject, body from raw.tickets",
                                    "select ticket_id, subject, body, 1 as n from raw.tickets"))
    assert rendered(project.run()) == 0


def test_null_and_empty_values_are_different_inputs(project: Project) -> None:
    rows = [(1, "Subject", None), (2, "Subject", "")]
    project.write_tickets(rows)
    project.run()
    project.write_tickets([(1, "Subject", ""), (2, "Subject", None)])
    again = project.run()
    assert rendered(again) == 2


def test_removed_rows_leave_the_stage(project: Project) -> None:
    project.run()
    project.write_tickets(TICKETS[:-2])
    assert rendered(project.run()) == 0
    project.write_tickets(TICKETS)
    again = project.run()
    # They come back rendered afresh, and are answered already: nothing to send.
    assert rendered(again) == 2 and again.submitted == 0


def test_duplicate_keys_are_refused_even_when_rows_are_cached(project: Project) -> None:
    project.run()
    project.write_tickets([*TICKETS, TICKETS[0]])
    with pytest.raises(SpecError, match="duplicate or NULL keys"):
        project.run()


def test_a_stage_from_an_older_batchsql_is_rebuilt(project: Project) -> None:
    project.run()
    with project.connect() as wh:
        wh.execute("drop table analytics._batchsql_labels_stage")
        wh.execute("create table analytics._batchsql_labels_stage (ticket_id bigint, "
                   "_fingerprint varchar, _body varchar, _est_tokens bigint, _error varchar)")
    again = project.run()
    assert rendered(again) == N and again.submitted == 0


def test_estimated_tokens_are_close_to_the_exact_count(project: Project) -> None:
    summary = project.run()
    estimate = project.query("select sum(est_input_tokens) from analytics._batchsql_batches")
    assert estimate[0][0] == pytest.approx(summary.input_tokens, rel=0.05)


def test_a_render_cut_short_is_finished_by_the_next_run(
        project: Project, monkeypatch: pytest.MonkeyPatch, warehouse: str) -> None:
    """A render that stops part way (a crash, an interrupt) loses nothing: the next run
    renders and sends every row. DuckDB's stage is filled in one bulk insert, of which none
    is left; elsewhere the slices stored stay (and are rendered again: their bodies were in
    the stopped run's file)."""
    monkeypatch.setattr(source, "ROWS_PER_SLICE", 3)
    finish = source.Renderer.finish
    calls = []

    def crash_on_the_second_slice(self: source.Renderer, prepared: source.Prepared) -> object:
        calls.append(prepared.batch.num_rows)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return finish(self, prepared)

    monkeypatch.setattr(source.Renderer, "finish", crash_on_the_second_slice)
    with pytest.raises(KeyboardInterrupt):
        project.run()
    assert calls == [3, 3]
    kept = 0 if warehouse == "duckdb" else 3
    assert project.query("select count(*) from analytics._batchsql_labels_stage") == [(kept,)]
    monkeypatch.setattr(source.Renderer, "finish", finish)
    again = project.run()
    assert rendered(again) == N  # the bodies of rows kept were in the dead run's file
    assert (again.selected, again.submitted, again.outcomes) == (N, N, {"succeeded": N})


@pytest.mark.warehouses("duckdb")
def test_a_stage_insert_failing_on_its_thread_fails_the_run_and_loses_nothing(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's stage slices are inserted by a thread of their own while the next slice is
    finished: an insert's error is the run's, none of the render's inserts stays, and the
    next run renders and sends every row, its slices all inserted."""
    monkeypatch.setattr(source, "ROWS_PER_SLICE", 2)
    insert = DuckDBWarehouse.insert_arrow
    threads: list[str] = []

    def failing_third(self: DuckDBWarehouse, table: exp.Table, data: object) -> int:
        if table.name.endswith("_stage"):
            threads.append(threading.current_thread().name)
            if len(threads) == 3:
                raise WarehouseError("disk full (injected)")
        return insert(self, table, data)  # type: ignore[arg-type]

    monkeypatch.setattr(DuckDBWarehouse, "insert_arrow", failing_third)
    with pytest.raises(WarehouseError, match="injected"):
        project.run()
    assert len(threads) >= 3 and all(t.startswith("batchsql-stage") for t in threads)
    assert project.query("select count(*) from analytics._batchsql_labels_stage") == [(0,)]
    monkeypatch.setattr(DuckDBWarehouse, "insert_arrow", insert)
    again = project.run()
    assert rendered(again) == N
    assert project.query("select count(*) from analytics._batchsql_labels_stage") == [(N,)]
    assert (again.selected, again.submitted, again.outcomes) == (N, N, {"succeeded": N})
