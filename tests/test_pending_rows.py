"""The pending-rows query's anti-joins, where what they exclude matches more than once."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from batchsql import sql

STAGE, OUTPUT = sql.parse_table("stage"), sql.parse_table("output")
REQUESTS, BATCHES = sql.parse_table("requests"), sql.parse_table("batches")


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("create table stage (k int, _fingerprint varchar, _error varchar)")
    con.execute("create table output (k int, _fingerprint varchar, _status varchar, "
                "_run_id varchar)")
    con.execute("create table requests (k int, _batch_uuid varchar)")
    con.execute("create table batches (batch_uuid varchar, status varchar)")
    con.execute("insert into stage select i, 'fp' || i, null from range(1, 9) t(i)")
    con.execute("""insert into output values
        (1, 'fp1', 'succeeded', 'r1'), (1, 'fp1', 'succeeded', 'r2'),  -- answered twice
        (2, 'old', 'succeeded', 'r1'),                                 -- answered, then changed
        (3, 'fp3', 'failed', 'r1'), (3, 'fp3', 'failed', 'r2'),        -- two failures
        (4, 'fp4', 'failed', 'r1'), (4, 'fp4', 'failed', 'r1'), (4, 'fp4', 'failed', 'r2'),
        (7, 'fp7', 'failed', 'r3')""")
    con.execute("""insert into requests values
        (5, 'b-open'), (5, 'b-open'), (5, 'b-intent'),   -- in flight, mapped three times
        (6, 'b-done'), (6, 'b-done')""")
    con.execute("insert into batches values ('b-open', 'submitted'), ('b-intent', 'intent'), "
                "('b-done', 'collected')")
    yield con
    con.close()


def pending(con: duckdb.DuckDBPyConnection, **flags: bool) -> list[tuple[int, int]]:
    query = sql.pending_rows(STAGE, OUTPUT, REQUESTS, BATCHES, ["k"], 3, keys_only=True,
                             **flags)
    params = ["r3"] if flags.get("exclude_run") else []
    return sorted(con.execute(query.sql("duckdb"), params).fetchall())


def test_each_pending_row_comes_once_however_often_its_exclusions_match(
        con: duckdb.DuckDBPyConnection) -> None:
    # 1: answered (twice); 4: three failures spent; 5: in flight (three map rows).
    # 2 changed since its answer; 3 failed twice; 6's batch is collected; 7 failed once.
    assert pending(con) == [(2, 1), (3, 3), (6, 1), (7, 2), (8, 1)]


def test_later_passes_and_answered_fingerprints_exclude_once_too(
        con: duckdb.DuckDBPyConnection) -> None:
    con.execute("insert into output values (8, 'fp8', 'failed', 'r3'), (8, 'fp8', 'failed', "
                "'r3'), (99, 'fp6', 'succeeded', 'r1'), (98, 'fp6', 'succeeded', 'r2')")
    # A later pass of run r3 leaves out 7 and 8 (outcomes of r3); 6's request was answered for
    # other keys (twice), so it is reused, not sent.
    assert pending(con, exclude_run=True, skip_answered=True) == [(2, 1), (3, 3)]
