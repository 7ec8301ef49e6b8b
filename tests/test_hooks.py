"""batchsql_run() and batchsql_status() on a plain DuckDB connection, as a dbt hook calls them.

The connection stands in for dbt's: the functions run inside the caller's query and write through
cursors of that connection. tests/test_dbt.py runs the same through real dbt.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest

from batchsql import sql
from batchsql.emulator import Faults
from batchsql.errors import BatchsqlError, WarehouseError
from batchsql.hooks import HookRunner, Mode, SharedDuckDB, parse_mode, run_line
from batchsql.lock import SpecLock
from batchsql.runner import RunSummary
from batchsql.warehouses.duckdb import DuckDBWarehouse
from tests.conftest import SPEC, TICKETS, Project

pytestmark = pytest.mark.warehouses("duckdb")

LABELS = "models/labels.yml"


@dataclass
class Hooked:
    """A connection with batchsql's functions, and the invocation the runner believes in."""

    con: duckdb.DuckDBPyConnection
    runner: HookRunner
    invocation: list[str]

    def call(self, query: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
        return (con or self.con).execute(query).fetchone()[0]

    def next_invocation(self) -> None:
        self.invocation[0] += "+"


@pytest.fixture
def hooked(project: Project) -> Iterator[Hooked]:
    con = duckdb.connect(str(project.db))
    invocation = ["dbt-1"]
    runner = HookRunner(lambda: {"project_dir": project.dir, "profiles_dir": project.dir},
                        lambda: invocation[0], default_max_wait=30)
    runner.register(con)
    yield Hooked(con, runner, invocation)
    con.close()


def runs(hooked: Hooked, spec: str = "labels") -> int:
    return hooked.call(f"select count(*) from analytics._batchsql_runs where spec = '{spec}'")


def test_submit_then_collect_then_nothing(hooked: Hooked, project: Project) -> None:
    first = hooked.call(f"select batchsql_run('{LABELS}')")
    assert first == "labels: collected 0 batches; submitted 8 requests in 1 batch; 1 in flight"
    # Same invocation (another model hooking the same spec): the first run's answer, no run.
    again = hooked.call(f"select batchsql_run('{LABELS}')")
    assert again == first + " (run once for this invocation by another hook)"
    assert runs(hooked) == 1

    hooked.next_invocation()
    second = hooked.call(f"select batchsql_run('{LABELS}')")
    assert second == ("labels: collected 1 batch (8 succeeded); submitted 0 (nothing pending); "
                      "0 in flight")
    # What the hook wrote is visible to the caller's next statement.
    assert hooked.call("select count(*)::varchar from analytics.labels_current") == "8"

    hooked.next_invocation()
    third = hooked.call(f"select batchsql_run('{LABELS}')")
    assert third == "labels: collected 0 batches; submitted 0 (nothing pending); 0 in flight"
    status = hooked.call(f"select batchsql_status('{LABELS}')")
    assert status.startswith("labels: 8 keys with a result (8 succeeded); 0 in flight; $")
    assert project.emulator.stats()["batches_created"] == 1


def test_wait_mode_collects_in_the_same_call_within_its_limit(hooked: Hooked,
                                                              project: Project) -> None:
    line = hooked.call(f"select batchsql_run('{LABELS}', 'wait:30')")
    assert line == ("labels: collected 1 batch (8 succeeded); submitted 8 requests in 1 batch; "
                    "0 in flight")
    project.write_tickets([(9, "New", "A new ticket arrived.")])
    project.emulator.set_faults(Faults(processing_seconds=3600))
    hooked.next_invocation()
    started = time.monotonic()
    line = hooked.call(f"select batchsql_run('{LABELS}', 'wait:0.5')")
    assert time.monotonic() - started < 10
    assert line == "labels: collected 0 batches; submitted 1 requests in 1 batch; 1 in flight"


def test_same_spec_from_two_threads_runs_once(hooked: Hooked, project: Project) -> None:
    lines = _in_threads(hooked, [LABELS, LABELS])
    assert sorted(lines) == [
        "labels: collected 0 batches; submitted 8 requests in 1 batch; 1 in flight",
        "labels: collected 0 batches; submitted 8 requests in 1 batch; 1 in flight"
        " (run once for this invocation by another hook)"]
    assert runs(hooked) == 1
    assert project.emulator.stats()["batches_created"] == 1


def test_different_specs_in_parallel_on_a_fresh_database(hooked: Hooked,
                                                         project: Project) -> None:
    # Both runs create the schema and the shared system tables at the same moment.
    (project.dir / "models" / "moods.yml").write_text(
        SPEC.replace("name: labels", "name: moods")
        .replace("analytics.labels", "analytics.moods"))
    lines = _in_threads(hooked, [LABELS, "models/moods.yml"] * 2)
    ran = sorted(line for line in lines if "by another hook" not in line)
    assert [line.split(":")[0] for line in ran] == ["labels", "moods"]
    assert all("submitted 8 requests in 1 batch" in line for line in ran)
    assert runs(hooked, "labels") == runs(hooked, "moods") == 1
    stats = project.emulator.stats()
    assert stats["batches_created"] == 2 and stats["duplicate_batches"] == 0


def _in_threads(hooked: Hooked, specs: list[str]) -> list[str]:
    """Each spec's hook on its own thread and cursor, all released at once."""
    start = threading.Barrier(len(specs))
    lines: list[str] = []
    failures: list[BaseException] = []

    def hook(spec: str) -> None:
        cursor = hooked.con.cursor()
        try:
            start.wait()
            lines.append(hooked.call(f"select batchsql_run('{spec}')", cursor))
        except BaseException as e:
            failures.append(e)
        finally:
            cursor.close()

    threads = [threading.Thread(target=hook, args=(s,)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    return lines


def test_a_conflict_inside_a_transaction_runs_the_spec_again(hooked: Hooked,
                                                             project: Project) -> None:
    hooked.call(f"select batchsql_run('{LABELS}')")
    project.write_tickets([*TICKETS, (9, "New", "A new ticket arrived.")])
    # Another transaction changes the request map's table and does not commit: the run's intent
    # (map rows and batch row, one transaction) conflicts, and the run fails. The other
    # transaction rolls back once it sees the failed run, so the next attempt gets through.
    other = hooked.con.cursor()
    other.execute("begin")
    other.execute("alter table analytics._batchsql_labels_requests add column probe int")

    def roll_back_after_a_failed_run() -> None:
        watch = hooked.con.cursor()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not watch.execute(
                "select count(*) from analytics._batchsql_runs where status = 'error'"
        ).fetchone()[0]:
            time.sleep(0.02)
        other.rollback()
        watch.close()

    rollback = threading.Thread(target=roll_back_after_a_failed_run)
    rollback.start()
    hooked.next_invocation()
    line = hooked.call(f"select batchsql_run('{LABELS}')")
    rollback.join()
    # The failed attempt collected the first batch before it failed; the last one sent the row.
    assert re.fullmatch(r"labels: collected 0 batches; submitted 1 requests in 1 batch; "
                        r"1 in flight \(run [2-5] times: write-write conflicts\)", line), line
    assert hooked.call("select count(*)::varchar from analytics.labels_current") == "8"
    statuses = hooked.con.execute("select status from analytics._batchsql_runs "
                                  "order by started_at").fetchall()
    assert statuses[0] == statuses[-1] == ("ok",) and ("error",) in statuses
    assert project.emulator.stats()["batches_created"] == 2


def test_a_spec_another_run_holds_is_skipped(hooked: Hooked) -> None:
    hooked.call(f"select batchsql_run('{LABELS}')")
    other = DuckDBWarehouse(connection=hooked.con.cursor())
    SpecLock(other, sql.parse_table("analytics._batchsql_locks"), "labels", "cron-run").acquire()
    hooked.next_invocation()
    line = hooked.call(f"select batchsql_run('{LABELS}')")
    assert line.startswith("labels: skipped: another run of 'labels' holds the lock: run cron-run")
    assert str(os.getpid()) in line


def test_errors_reach_the_caller_and_a_failed_run_is_not_retried(hooked: Hooked) -> None:
    with pytest.raises(duckdb.Error, match="unknown batchsql_run mode 'later'"):
        hooked.call(f"select batchsql_run('{LABELS}', 'later')")
    with pytest.raises(duckdb.Error, match=r"batchsql_status\(spec\) takes text arguments"):
        hooked.call(f"select batchsql_status('{LABELS}', 'wait')")
    with pytest.raises(duckdb.Error, match=r"missing\.yml"):
        hooked.call("select batchsql_run('models/missing.yml')")
    with pytest.raises(duckdb.Error, match="another hook started in this invocation failed"):
        hooked.call("select batchsql_run('models/missing.yml')")


def test_a_conflicting_statement_is_retried_outside_transactions_only() -> None:
    con = duckdb.connect(":memory:")
    other = con.cursor()
    other.execute("begin")
    other.execute("create schema s")  # not committed yet: a concurrent create conflicts
    wh = SharedDuckDB(con.cursor())
    with pytest.raises(WarehouseError, match="onflict"), wh.transaction():
        wh.execute("create schema if not exists s")
    assert wh.conflicts == 0
    commit = threading.Timer(0.3, other.commit)
    commit.start()
    wh.execute("create schema if not exists s")
    commit.join()
    assert wh.conflicts >= 1
    assert wh.fetch("select count(*) from duckdb_schemas() where schema_name = 's'") == [(1,)]


def test_modes() -> None:
    assert parse_mode(None) == parse_mode("submit") == Mode()
    assert parse_mode("wait", default_max_wait=60) == Mode(wait=True, max_wait=60)
    assert parse_mode(" WAIT:90 ") == Mode(wait=True, max_wait=90)
    for bad in ("wait:0", "wait:soon", "block"):
        with pytest.raises(BatchsqlError, match=r"'submit' .*'wait'.*'wait:SECONDS'"):
            parse_mode(bad)


def test_run_line_names_everything_a_run_did() -> None:
    s = RunSummary(run_id="r", spec="labels", collected_batches=2, submitted=5,
                   batches_submitted=1, selected=9, reused=3, not_sent=1, over_budget=2,
                   in_flight=1, given_up=4,
                   outcomes={"succeeded": 10, "failed": 3, "expired": 1})
    assert run_line(s) == (
        "labels: collected 2 batches (7 succeeded, 1 expired, 2 failed); reused 3 earlier "
        "answers; submitted 5 requests in 1 batch; 1 rows could not be sent; 2 rows over "
        "budget; 4 rows gave up; 1 in flight")
