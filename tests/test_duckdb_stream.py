"""DuckDB: reading a query's result while committing writes (``stream_while_writing``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlglot import exp

from batchsql.warehouses import duckdb as duckdb_warehouse
from batchsql.warehouses.duckdb import DuckDBWarehouse

SCRATCH = ("select count(*) from duckdb_tables() "
           "where table_name like '_batchsql_stream_%'")


def numbers(n: int) -> exp.Query:
    """n rows whose order only the ORDER BY gives (their scan order is another)."""
    return exp.maybe_parse(
        f"select i, md5(i::varchar) as h from range({n}) r(i) where i >= ? order by h",
        dialect="duckdb")


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(str(tmp_path / "w.duckdb"))
    yield warehouse
    warehouse.close()


def test_pages_keep_the_query_order_and_writes_commit_between_them(
        wh: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duckdb_warehouse, "STREAM_PAGE_ROWS", 7)
    wh.execute("create table log (n int)")
    got = []
    for batch in wh.stream_while_writing(numbers(100), [3], batch_size=5):
        assert batch.num_rows <= 5
        got += batch.to_pylist()
        with wh.transaction():
            wh.execute("insert into log values (?)", [len(got)])
    expected = wh.fetch(numbers(100), [3])
    assert [(r["i"], r["h"]) for r in got] == expected and len(expected) == 97
    assert wh.fetch("select count(*) from log")[0][0] >= 97 // 5
    assert wh.fetch(SCRATCH) == [(0,)]  # the result's table is gone


def test_an_abandoned_read_drops_its_table(wh: DuckDBWarehouse,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duckdb_warehouse, "STREAM_PAGE_ROWS", 10)
    rows = wh.stream_while_writing(numbers(50), [0], batch_size=4)
    next(rows)
    assert wh.fetch(SCRATCH) == [(1,)]
    rows.close()
    assert wh.fetch(SCRATCH) == [(0,)]


def test_commits_while_reading_do_not_pile_up_in_memory(wh: DuckDBWarehouse) -> None:
    """The reason for the method: an open result keeps every later commit's undo buffers in
    memory (256 kB each at least), and under batchsql's cap a run of many batches then spent
    its time evicting blocks. Reading from a written-down result, they are freed."""
    wh.execute("create table beat (n int, t timestamp)")
    wh.execute("insert into beat values (1, now())")
    memory = ("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory() "
              "where tag = 'TRANSACTION'")

    def held_after_commits(rows: object) -> int:
        for i, _ in enumerate(rows):  # type: ignore[call-overload]
            if i == 1:
                for _ in range(200):
                    wh.execute("update beat set t = now() where n = 1")
                return int(wh.fetch(memory)[0][0])
        raise AssertionError("too few batches")

    query = numbers(300_000)
    kept = held_after_commits(wh.stream(query, [0], batch_size=10_000))
    freed = held_after_commits(wh.stream_while_writing(query, [0], batch_size=10_000))
    assert kept > 20 * 2**20  # the plain stream holds them: the test can see the difference
    assert freed < 5 * 2**20


def test_a_column_named_rowid_does_not_hide_rows(wh: DuckDBWarehouse,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A source keyed by a column called rowid: it hides DuckDB's row numbers, which the pages
    are cut by, so the rows are streamed as they are, all of them, in order."""
    monkeypatch.setattr(duckdb_warehouse, "STREAM_PAGE_ROWS", 7)
    query = exp.maybe_parse(
        "select i * 10 + 1000 as RowId, md5(i::varchar) as h from range(30) r(i) "
        "where i >= ? order by h", dialect="duckdb")
    got = [row for b in wh.stream_while_writing(query, [2], batch_size=4)
           for row in b.to_pylist()]
    assert [(r["RowId"], r["h"]) for r in got] == wh.fetch(query, [2])
    assert len(got) == 28
    assert wh.fetch(SCRATCH) == [(0,)]
