"""The spec lock: two runs of one spec never hold it at once.

Two connections to one database stand in for two runs: on DuckDB (which lets one process open a
file several times) and on PostgreSQL, where the primary key is enforced by a server. A real
second process stands in for a run that holds a DuckDB file itself.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from batchsql import sql
from batchsql.errors import LockedError
from batchsql.lock import Holder, SpecLock, insert_lock
from batchsql.profiles import ProviderSettings, Target
from batchsql.warehouses import Warehouse, connect
from batchsql.warehouses.duckdb import DuckDBWarehouse

from .conftest import PG_PASSWORD_VAR, postgres_target

LOCKS = sql.parse_table("analytics._batchsql_locks")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "batchsql.duckdb"


@pytest.fixture(params=["duckdb", "postgres"])
def two(db: Path, request: pytest.FixtureRequest,
        tmp_path: Path) -> Iterator[tuple[Warehouse, Warehouse]]:
    """Two runs: two connections to one database."""
    if request.param == "duckdb":
        first, second = duckdb.connect(str(db)), duckdb.connect(str(db))
        yield DuckDBWarehouse(connection=first), DuckDBWarehouse(connection=second)
        first.close()
        second.close()
        return
    fields = postgres_target(request, tmp_path)
    target = Target("p", "t", "postgres", {**fields, "password": os.environ[PG_PASSWORD_VAR]},
                    ProviderSettings(), tmp_path / "profiles.yml")
    with connect(target) as first, connect(target) as second:
        yield first, second


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def plant(wh: Warehouse, spec: str, run_id: str, *, host: str, pid: int,
          seen: dt.datetime) -> None:
    """A holder's row as another run would have left it."""
    SpecLock(wh, LOCKS, "_", "_")._ensure_table()
    wh.execute(insert_lock(LOCKS), [spec, run_id, "bob", host, pid, seen, seen])


def rows(wh: Warehouse) -> list[tuple[str, str]]:
    return wh.fetch("select spec, run_id from analytics._batchsql_locks order by spec, run_id")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid names no process now
    return proc.pid


def test_acquire_release_reacquire(db: Path) -> None:
    wh = DuckDBWarehouse(db)
    lock = SpecLock(wh, LOCKS, "ticket_labels", "run-a")
    assert lock.holder() is None  # no lock table yet
    lock.acquire()
    holder = lock.holder()
    assert isinstance(holder, Holder)
    assert (holder.run_id, holder.user, holder.host, holder.pid) == (
        "run-a", getpass.getuser(), socket.gethostname(), os.getpid())
    assert abs((utcnow() - holder.acquired_at).total_seconds()) < 60
    lock.acquire()  # already held: nothing happens
    lock.release()
    assert lock.holder() is None
    with SpecLock(wh, LOCKS, "ticket_labels", "run-b") as again:
        assert again.held
        assert rows(wh) == [("ticket_labels", "run-b")]
    assert rows(wh) == []
    wh.close()


def test_second_run_is_refused_naming_the_holder(two: tuple[Warehouse, ...]) -> None:
    first, second = two
    with SpecLock(first, LOCKS, "ticket_labels", "3f2a9c0d11aa4b2c"):
        other = SpecLock(second, LOCKS, "ticket_labels", "run-two")
        started = time.monotonic()
        with pytest.raises(LockedError) as refused:
            other.acquire()
        assert time.monotonic() - started < 2  # no wait asked for: refused at once
        message = str(refused.value)
        assert message.startswith("another run of 'ticket_labels' holds the lock: "
                                  "run 3f2a9c0d11aa4b2c by ")
        assert f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()})" in message
        # "0 s" or, on a loaded machine, "0.1 s": the holder was seen a moment ago.
        assert re.search(r" UTC, last seen 0(\.\d)? s ago; wait for it, or pass --lock-wait "
                         r"SECONDS", message), message
        assert not other.held
        assert rows(second) == [("ticket_labels", "3f2a9c0d11aa4b2c")]


def test_waiting_run_gets_the_lock_once_released(two: tuple[Warehouse, ...]) -> None:
    first, second = two
    holder = SpecLock(first, LOCKS, "ticket_labels", "run-one")
    holder.acquire()
    releaser = threading.Timer(0.3, holder.release)
    waiter = SpecLock(second, LOCKS, "ticket_labels", "run-two", wait=10, poll=0.05)
    started = time.monotonic()
    releaser.start()
    try:
        waiter.acquire()
    finally:
        releaser.join()
    waited = time.monotonic() - started
    assert 0.25 <= waited < 5
    assert waiter.holder().run_id == "run-two"
    waiter.release()


def test_wait_runs_out(two: tuple[Warehouse, ...]) -> None:
    first, second = two
    with SpecLock(first, LOCKS, "ticket_labels", "run-one"):
        waiter = SpecLock(second, LOCKS, "ticket_labels", "run-two", wait=0.4, poll=0.05)
        started = time.monotonic()
        with pytest.raises(LockedError, match=r"still held after waiting 0.\d s; wait for it"):
            waiter.acquire()
        assert time.monotonic() - started >= 0.4
        assert rows(second) == [("ticket_labels", "run-one")]


def test_holder_whose_process_is_gone_is_taken_over(db: Path) -> None:
    wh = DuckDBWarehouse(db)
    plant(wh, "ticket_labels", "crashed", host=socket.gethostname(), pid=dead_pid(),
          seen=utcnow())
    with SpecLock(wh, LOCKS, "ticket_labels", "run-new") as lock:
        assert lock.holder().run_id == "run-new"
        assert rows(wh) == [("ticket_labels", "run-new")]
    wh.close()


def test_silent_holder_is_taken_over_and_a_live_one_is_not(db: Path) -> None:
    wh = DuckDBWarehouse(db)
    hour_ago = utcnow() - dt.timedelta(hours=1)
    plant(wh, "silent", "old-run", host="elsewhere", pid=1, seen=hour_ago)
    plant(wh, "busy", "live-run", host="elsewhere", pid=1, seen=utcnow())
    with SpecLock(wh, LOCKS, "silent", "run-new", stale_after=600):
        assert ("silent", "run-new") in rows(wh)
    with pytest.raises(LockedError, match=r"run live-run by bob@elsewhere \(pid 1\)"):
        SpecLock(wh, LOCKS, "busy", "run-new", stale_after=600).acquire()
    assert ("busy", "live-run") in rows(wh)
    wh.close()


def test_heartbeat_keeps_the_lock_and_notices_a_takeover(two: tuple[Warehouse, ...],
                                                         ) -> None:
    first, second = two
    slow = SpecLock(first, LOCKS, "ticket_labels", "run-slow", stale_after=0.2)
    slow.acquire()
    seen = slow.holder().heartbeat_at
    time.sleep(0.05)
    slow.heartbeat()
    assert slow.holder().heartbeat_at > seen
    time.sleep(0.3)  # silent for longer than stale_after
    fresh = SpecLock(second, LOCKS, "ticket_labels", "run-fresh", stale_after=0.2)
    fresh.acquire()
    with pytest.raises(LockedError, match=r"run-slow no longer holds the lock of "
                       r"'ticket_labels'.*; run run-fresh by .*pid"):
        slow.heartbeat()
    assert not slow.held
    slow.release()  # its row is gone; the new holder's row stays
    assert rows(first) == [("ticket_labels", "run-fresh")]
    fresh.release()


def test_different_specs_do_not_block_each_other(two: tuple[Warehouse, ...]) -> None:
    first, second = two
    with SpecLock(first, LOCKS, "ticket_labels", "run-one"), \
            SpecLock(second, LOCKS, "invoice_tags", "run-two"):
        assert rows(first) == [("invoice_tags", "run-two"), ("ticket_labels", "run-one")]


def test_release_never_deletes_another_holders_row(two: tuple[Warehouse, ...]) -> None:
    first, second = two
    with SpecLock(first, LOCKS, "ticket_labels", "run-one"):
        loser = SpecLock(second, LOCKS, "ticket_labels", "run-two")
        with pytest.raises(LockedError):
            loser.acquire()
        loser.release()
        SpecLock(second, LOCKS, "ticket_labels", "run-three").release()
        assert rows(second) == [("ticket_labels", "run-one")]


def test_unenforced_primary_key_still_keeps_runs_apart(two: tuple[Warehouse, ...]) -> None:
    """Snowflake, BigQuery and Databricks accept a primary key but do not enforce it."""
    first, second = two
    first.execute("create schema analytics")
    first.execute("create table analytics._batchsql_locks (spec varchar, run_id varchar, "
                  "user_name varchar, host varchar, pid bigint, acquired_at timestamp, "
                  "heartbeat_at timestamp)")
    with SpecLock(first, LOCKS, "ticket_labels", "run-one"):
        with pytest.raises(LockedError, match="run run-one by"):
            SpecLock(second, LOCKS, "ticket_labels", "run-two", poll=0.02).acquire()
        assert rows(second) == [("ticket_labels", "run-one")]


def test_values_are_bound_not_written_into_sql(db: Path) -> None:
    wh = DuckDBWarehouse(db)
    spec = "it's \"odd\"; drop table x --"
    with SpecLock(wh, LOCKS, spec, "run-'1'") as lock:
        assert lock.holder().run_id == "run-'1'"
        text = wh.render(insert_lock(LOCKS))
        assert "odd" not in text and text.count("?") == 7
    wh.close()


# --- DuckDB's own file lock, held by another process -------------------------------------------

HOLD_FILE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


Hold = Callable[[float], "subprocess.Popen[str]"]


@pytest.fixture
def other_process(db: Path) -> Iterator[Hold]:
    procs: list[subprocess.Popen[str]] = []

    def hold(seconds: float) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", HOLD_FILE, str(db), str(seconds)],
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def test_file_held_by_another_process(db: Path, other_process: Hold) -> None:
    proc = other_process(30)
    with pytest.raises(LockedError) as refused:
        DuckDBWarehouse(db)
    assert str(refused.value) == (
        f"another process (PID {proc.pid}) has {db} open — probably another batchsql run or a "
        "dbt run; DuckDB allows one writing process at a time")
    started = time.monotonic()
    with pytest.raises(LockedError, match=r"open \(still open after waiting 0.6 s\) — "):
        DuckDBWarehouse(db, open_wait=0.6)
    assert time.monotonic() - started >= 0.6


def test_open_wait_gets_the_file_once_the_other_process_exits(db: Path,
                                                              other_process: Hold) -> None:
    other_process(0.5)
    started = time.monotonic()
    wh = DuckDBWarehouse(db, open_wait=20)
    assert time.monotonic() - started >= 0.2
    assert wh.fetch("select 42") == [(42,)]
    wh.close()


def test_other_open_failures_stay_warehouse_errors(tmp_path: Path) -> None:
    from batchsql.errors import WarehouseError
    with pytest.raises(WarehouseError, match="cannot open DuckDB database") as failed:
        DuckDBWarehouse(tmp_path / "no" / "such" / "dir" / "x.duckdb")
    assert not isinstance(failed.value, LockedError)


def race(two: tuple[Warehouse, ...], table: Any) -> dict[str, object]:
    """Both runs try to take one spec's lock at the same instant: what each ended with."""
    barrier = threading.Barrier(len(two))
    outcome: dict[str, object] = {}

    def take(wh: Warehouse, run_id: str) -> None:
        lock = SpecLock(wh, table, "ticket_labels", run_id)
        barrier.wait()
        try:
            lock.acquire()
            outcome[run_id] = lock
        except Exception as e:  # anything but a clean refusal fails the test
            outcome[run_id] = e

    threads = [threading.Thread(target=take, args=(wh, f"run-{i}")) for i, wh in enumerate(two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def test_two_runs_racing_for_a_new_lock_table_never_both_hold_it(
        two: tuple[Warehouse, ...]) -> None:
    """Both start at once where the lock table (and its schema) do not exist yet."""
    for round_ in range(5):
        outcome = race(two, sql.parse_table(f"race{round_}._batchsql_locks"))
        held = [v for v in outcome.values() if isinstance(v, SpecLock)]
        refused = [v for v in outcome.values() if isinstance(v, LockedError)]
        assert (len(held), len(refused)) == (1, 1), outcome
        held[0].release()
