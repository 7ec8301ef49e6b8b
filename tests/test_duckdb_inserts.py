"""DuckDB inserts: large appends bypass the log, and inserted data is not held until commit."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from batchsql import sql
from batchsql.warehouses.duckdb import DuckDBWarehouse

#: More than one DuckDB row group (122,880 rows): what DuckDB writes past its log.
ROWS = 130_000
SLICE = 10_000


def slices(width: int = 20) -> list[pa.Table]:
    return [pa.table({"id": pa.array(range(start, start + SLICE), pa.int64()),
                      "name": pa.array([f"{i:0{width}d}" for i in range(start, start + SLICE)])})
            for start in range(0, ROWS, SLICE)]


def insert_all(tmp_path: Path, name: str, *, bulk: bool) -> tuple[int, list[tuple[int, ...]]]:
    """Insert ROWS rows slice by slice; the log's size after, and the table's counts."""
    path = tmp_path / f"{name}.duckdb"
    wh = DuckDBWarehouse(path)
    table = sql.parse_table("main.t", "duckdb")
    wh.execute("create table main.t (id bigint, name varchar)")
    if bulk:
        with wh.bulk_insert():
            for part in slices():
                wh.insert_arrow(table, part)
    else:
        for part in slices():
            wh.insert_arrow(table, part)
    wal = path.with_name(path.name + ".wal")
    logged = wal.stat().st_size if wal.exists() else 0
    counts = wh.fetch("select count(*), count(distinct id), max(id) from main.t")
    wh.close()
    return logged, counts


def test_a_bulk_insert_writes_row_groups_past_the_log(tmp_path: Path) -> None:
    """Slices inserted one by one go to the write-ahead log (and a checkpoint rewrites them);
    in one bulk insert DuckDB writes them compressed to the file as they come."""
    plain, plain_counts = insert_all(tmp_path, "plain", bulk=False)
    bulk, bulk_counts = insert_all(tmp_path, "bulk", bulk=True)
    assert plain_counts == bulk_counts == [(ROWS, ROWS, ROWS - 1)]
    assert plain > 2_000_000  # about 30 bytes a row
    assert bulk < plain / 20


def test_a_bulk_insert_that_fails_leaves_nothing(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    table = sql.parse_table("main.t", "duckdb")
    wh.execute("create table main.t (id bigint, name varchar)")
    try:
        with wh.bulk_insert():
            wh.insert_arrow(table, slices()[0])
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert wh.fetch("select count(*) from main.t") == [(0,)]
    wh.insert_arrow(table, slices()[1])  # the connection is usable after the rollback
    assert wh.fetch("select count(*) from main.t") == [(SLICE,)]
    wh.close()


def test_inserted_data_is_not_held_until_the_transaction_ends(tmp_path: Path) -> None:
    """DuckDB keeps a registered Python object alive until the transaction ends: a million
    rows rendered in one transaction held every slice (480 MB) until its commit."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    table = sql.parse_table("main.t", "duckdb")
    wh.execute("create table main.t (id bigint, name varchar)")
    before = pa.total_allocated_bytes()
    with wh.transaction():
        for part in slices(width=400):  # 13 slices of 4 MB
            wh.insert_arrow(table, part)
            del part
        held = pa.total_allocated_bytes() - before
    assert held < 12_000_000
    assert wh.fetch("select count(*), sum(length(name)) from main.t") == [(ROWS, ROWS * 400)]
    wh.close()


def test_tables_of_several_chunks_and_record_batches_insert_whole(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    table = sql.parse_table("main.t", "duckdb")
    wh.execute("create table main.t (name varchar, id bigint)")  # matched by name
    chunked = pa.concat_tables(slices()[:3])
    assert chunked.column("id").num_chunks == 3
    assert wh.insert_arrow(table, chunked) == 3 * SLICE
    assert wh.insert_arrow(table, slices()[3].to_batches()[0]) == SLICE
    assert wh.fetch("select count(*), count(distinct id), min(id), max(id) from main.t") == [
        (4 * SLICE, 4 * SLICE, 0, 4 * SLICE - 1)]
    assert wh.fetch("select name from main.t where id = 12345") == [(f"{12345:020d}",)]
    wh.close()
