"""Real dbt (dbt-core 1.11 + dbt-duckdb) running a project that installs this repo as a package.

Each test builds its own project (tests/dbtproject.py), installs the package with `dbt deps`,
and runs dbt as a subprocess against the test's emulator. The emulator takes 30 s of its own
clock per batch, moved on by hand between dbt runs, so a first run sees its batch in flight.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from batchsql.emulator import EmulatorServer, Faults
from tests.conftest import TICKETS
from tests.dbtproject import batchsql_lines, dbt, run, write_project, write_staging

SUBMITTED = "ticket_labels: collected 0 batches; submitted 8 requests in 1 batch; 1 in flight"
COLLECTED = ("ticket_labels: collected 1 batch (8 succeeded); submitted 0 (nothing pending); "
             "0 in flight")
NOTHING = "ticket_labels: collected 0 batches; submitted 0 (nothing pending); 0 in flight"


@pytest.fixture
def slow(emulator: EmulatorServer) -> EmulatorServer:
    emulator.set_faults(Faults(processing_seconds=30))
    return emulator


def query(folder: Path, text: str) -> list[tuple]:
    """Read the project's database once dbt has let go of it."""
    con = duckdb.connect(str(folder / "shop.duckdb"), read_only=True)
    try:
        return con.execute(text).fetchall()
    finally:
        con.close()


def no_batch_twice(emulator: EmulatorServer, expected: int) -> None:
    stats = emulator.stats()
    assert stats["batches_created"] == expected and stats["duplicate_batches"] == 0
    per_intent = emulator.batches_with_metadata("batchsql_batch")
    assert len(per_intent) == expected and set(per_intent.values()) == {1}


def test_three_dbt_runs_submit_then_collect_then_nothing(tmp_path: Path,
                                                         slow: EmulatorServer) -> None:
    folder = write_project(tmp_path / "shop", slow.base_url)
    dbt(folder, "deps")
    labelled = ("select count(*), count(distinct ticket_id), count(label) "
                "from main.labelled_tickets")
    pending = "select count(*) from main.unlabelled_tickets"

    first = dbt(folder, "run")
    print(first.stdout)
    assert batchsql_lines(first.stdout) == [SUBMITTED]
    assert query(folder, labelled) == [(8, 8, 0)]
    assert query(folder, pending) == [(0,)]  # all of them are in flight

    slow.advance_clock(60)
    second = dbt(folder, "run")
    print(second.stdout)
    assert batchsql_lines(second.stdout) == [COLLECTED]
    assert query(folder, labelled) == [(8, 8, 8)]
    labels = {label for (label,) in query(folder, "select label from main.labelled_tickets")}
    assert labels <= {"billing", "bug", "feature_request", "account", "other"}
    assert query(folder, pending) == [(0,)]

    third = dbt(folder, "run")
    print(third.stdout)
    assert batchsql_lines(third.stdout) == [NOTHING]

    status = dbt(folder, "run-operation", "batchsql.status",
                 "--args", "{spec: ai/ticket_labels.yml}")
    [line] = batchsql_lines(status.stdout)
    assert line.startswith("ticket_labels: 8 keys with a result (8 succeeded); 0 in flight; $")
    again = dbt(folder, "run-operation", "batchsql.run_spec",
                "--args", "{spec: ai/ticket_labels.yml, wait: 30}")
    assert batchsql_lines(again.stdout) == [NOTHING]

    no_batch_twice(slow, 1)
    assert query(folder, "select count(*), count(distinct ticket_id) "
                         "from analytics.ticket_labels") == [(8, 8)]


def test_four_threads_several_hooked_models(tmp_path: Path, slow: EmulatorServer) -> None:
    hooked = {"labels": "ticket_labels", "labels_again": "ticket_labels",
              "moods": "ticket_moods", "moods_again": "ticket_moods"}
    folder = write_project(tmp_path / "shop", slow.base_url, hooked=hooked, threads=4)
    dbt(folder, "deps")
    once = " (run once for this invocation by another hook)"

    first = dbt(folder, "run", "--threads", "4")
    lines = sorted(batchsql_lines(first.stdout))
    moods = SUBMITTED.replace("ticket_labels", "ticket_moods")
    assert lines == [SUBMITTED, SUBMITTED + once, moods, moods + once], first.stdout
    no_batch_twice(slow, 2)

    slow.advance_clock(60)
    second = dbt(folder, "run", "--threads", "4")
    lines = sorted(batchsql_lines(second.stdout))
    moods = COLLECTED.replace("ticket_labels", "ticket_moods")
    assert lines == [COLLECTED, COLLECTED + once, moods, moods + once], second.stdout
    assert query(folder, "select count(*), count(mood) from main.moods_again") == [(8, 8)]
    assert query(folder, "select spec, count(*) from analytics._batchsql_runs "
                         "group by spec order by spec") == [("ticket_labels", 2),
                                                             ("ticket_moods", 2)]
    no_batch_twice(slow, 2)


def test_without_the_plugin_batchsql_runs_beside_dbt(tmp_path: Path,
                                                     slow: EmulatorServer) -> None:
    folder = write_project(tmp_path / "shop", slow.base_url, plugin=False)
    dbt(folder, "deps")
    missing = dbt(folder, "run", check=False)
    assert missing.returncode != 0
    assert "the function batchsql_run() is missing: declare batchsql's plugin" in missing.stdout

    # What other adapters get from batchsql.run, said when the model is compiled.
    sql_only = dbt(folder, "run-operation", "batchsql.default__run",
                   "--args", "{spec: ai/ticket_labels.yml}", check=False)
    assert sql_only.returncode != 0
    assert "can only run SQL" in sql_only.stdout
    assert "`batchsql run ai/ticket_labels.yml --no-wait && dbt build`" in sql_only.stdout

    skip = ["--", "run", "--vars", "{batchsql_skip_hooks: true}"]
    wrapper = ["-m", "batchsql", "dbt", "--spec", "ai/ticket_labels.yml", *skip]
    first = run(folder, *wrapper)
    assert first.stdout.startswith(SUBMITTED + "\n"), first.stdout
    assert "Completed successfully" in first.stdout
    slow.advance_clock(60)
    second = run(folder, *wrapper)
    assert second.stdout.startswith(COLLECTED + "\n"), second.stdout
    assert query(folder, "select count(label) from main.labelled_tickets") == [(8,)]

    # A new ticket: pending until batchsql runs again, whatever dbt builds meanwhile.
    write_staging(folder, [*TICKETS, (9, "Invoice copy", "Please send me a copy of my invoice.")])
    dbt(folder, "run", "--vars", "{batchsql_skip_hooks: true}")
    assert query(folder, "select ticket_id from main.unlabelled_tickets") == [(9,)]
    no_batch_twice(slow, 1)
