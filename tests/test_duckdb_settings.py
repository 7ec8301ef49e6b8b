"""DuckDB targets: dbt-duckdb's `settings`, and the memory cap batchsql sets by default."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from batchsql import sql
from batchsql.errors import WarehouseError
from batchsql.profiles import load_target
from batchsql.warehouses import connect
from batchsql.warehouses.duckdb import (
    DEFAULT_CHECKPOINT_THRESHOLD,
    DEFAULT_MEMORY_LIMIT,
    DuckDBWarehouse,
)


def target_with(tmp_path: Path, extra: str = "") -> object:
    (tmp_path / "profiles.yml").write_text(textwrap.dedent("""\
        batchsql:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: w.duckdb
        """) + textwrap.indent(textwrap.dedent(extra), " " * 6))
    return load_target(profiles_dir=tmp_path, project_dir=tmp_path)


def setting(tmp_path: Path, name: str, *, read_only: bool = False, extra: str = "") -> str:
    target = target_with(tmp_path, extra)
    with connect(target, base_dir=tmp_path, read_only=read_only) as wh:  # type: ignore[arg-type]
        return str(wh.fetch(f"select current_setting('{name}')")[0][0])


def megabytes(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"MiB": 1.048576, "MB": 1.0, "GiB": 1073.741824, "GB": 1000.0}[unit]


def test_memory_is_capped_unless_the_profile_says_otherwise(tmp_path: Path) -> None:
    default = megabytes(setting(tmp_path, "memory_limit"))
    assert default == pytest.approx(float(DEFAULT_MEMORY_LIMIT.removesuffix("MB")), rel=0.05)
    # A plan's read-only connection is capped the same way.
    assert megabytes(setting(tmp_path, "memory_limit", read_only=True)) == default


def test_checkpoints_wait_for_more_log_unless_the_profile_says_otherwise(tmp_path: Path) -> None:
    default = float(DEFAULT_CHECKPOINT_THRESHOLD.removesuffix("MB"))
    assert megabytes(setting(tmp_path, "checkpoint_threshold")) == pytest.approx(default,
                                                                               rel=0.05)
    extra = "settings: {checkpoint_threshold: 16MB}\n"
    assert megabytes(setting(tmp_path, "checkpoint_threshold", extra=extra)) == pytest.approx(
        16, rel=0.05)


def test_profile_settings_reach_duckdb(tmp_path: Path) -> None:
    extra = """\
        settings:
          memory_limit: 3GB
          threads: 1
        """
    assert megabytes(setting(tmp_path, "memory_limit", extra=extra)) == pytest.approx(3000,
                                                                                   rel=0.05)
    assert setting(tmp_path, "threads", extra=extra) == "1"


def test_settings_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="settings must be a mapping"):
        setting(tmp_path, "threads", extra="settings: [threads]\n")


def test_a_file_this_process_already_has_open_can_be_opened(tmp_path: Path) -> None:
    # dbt or a notebook may hold the file with DuckDB's defaults; a connect(config=...) with
    # other options would be refused, so settings are applied with SET.
    import duckdb

    first = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        assert megabytes(setting(tmp_path, "memory_limit")) == pytest.approx(
            float(DEFAULT_MEMORY_LIMIT.removesuffix("MB")), rel=0.05)
    finally:
        first.close()


def test_option_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not a DuckDB option name"):
        setting(tmp_path, "threads", extra="settings: {'threads; drop table x': 1}\n")


def test_snapshot_tables_are_private_to_each_warehouse_object(tmp_path: Path) -> None:
    """dbt's threads share one DuckDB database: each run gets its own scratch database for its
    pending-rows snapshot, which its cursors see and which is gone when the run closes."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first, second = DuckDBWarehouse(connection=con), DuckDBWarehouse(connection=con.cursor())
    table = sql.parse_table("analytics.out", "duckdb")
    mine, theirs = first.snapshot_table(table), second.snapshot_table(table)
    assert mine is not None and theirs is not None and mine.catalog != theirs.catalog
    assert first.snapshot_table(table) == mine  # one per warehouse object, made once
    first.execute(f"create table {mine.sql('duckdb')} as select 42 as answer")
    assert [b.to_pylist() for b in first.stream(f"select * from {mine.sql('duckdb')}")] == [
        [{"answer": 42}]]
    attached = "select database_name from duckdb_databases() where database_name like '_batch%'"
    first.close()
    assert con.execute(attached).fetchall() == [(theirs.catalog,)]
    second.close()
    assert con.execute(attached).fetchall() == []
    con.close()


def test_held_arrow_data_reads_as_the_transient_table_until_released(tmp_path: Path) -> None:
    """A batch's parsed results are read in place under the collect stage's name; released,
    the name is free for the temporary table a larger batch needs."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    collect = wh.transient_table(sql.parse_table("analytics._collect", "duckdb"))
    assert collect is not None
    assert wh.hold_arrow(collect, pa.table({"_custom_id": ["a", "b"]}))
    assert wh.fetch(f"select count(*) from {collect.sql('duckdb')}") == [(2,)]
    # Holding again replaces what was held.
    assert wh.hold_arrow(collect, pa.table({"_custom_id": ["c"]}))
    assert wh.fetch(f"select * from {collect.sql('duckdb')}") == [("c",)]
    wh.release_arrow(collect)
    wh.release_arrow(collect)  # harmless when nothing is held
    wh.execute(sql.drop_table(collect))
    wh.execute(f"create temporary table {collect.name} (x int)")
    assert wh.fetch(f"select count(*) from {collect.sql('duckdb')}") == [(0,)]
    # A table of the database itself is never shadowed by Arrow data.
    assert not wh.hold_arrow(sql.parse_table("analytics.out", "duckdb"), pa.table({"x": [1]}))
    wh.close()


def test_the_key_check_runs_under_the_memory_cap_at_millions_of_keys(tmp_path: Path) -> None:
    """Every run checks that the source's keys are unique and not NULL, a GROUP BY over all
    of them: at 3M keys a formulation of it ran DuckDB out of memory under the default cap."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    inputs = sql.parse_table("temp.main.inputs", "duckdb")
    wh.execute("create temporary table inputs as select range::bigint as ticket_id, "
               "cast(hash(range) as varchar) as _input from range(3000000)")
    assert wh.fetch(sql.duplicate_keys(inputs, ["ticket_id"])) == []
    wh.execute("insert into temp.main.inputs values (2999999, 'x'), (null, 'y')")
    found = sorted(wh.fetch(sql.duplicate_keys(inputs, ["ticket_id"])), key=str)
    assert found == [(2999999, 2), (None, 1)]
    wh.close()


def test_the_key_check_finds_a_null_in_any_key_column(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    inputs = sql.parse_table("main.inputs", "duckdb")
    wh.execute("create table main.inputs (a varchar, b bigint)")
    wh.execute("insert into main.inputs values ('x', 1), ('x', 2), ('y', 1)")
    assert wh.fetch(sql.duplicate_keys(inputs, ["a", "b"])) == []
    wh.execute("insert into main.inputs values ('x', null), (null, 3), ('y', 1)")
    found = sorted(wh.fetch(sql.duplicate_keys(inputs, ["a", "b"])), key=str)
    assert found == [("x", None, 1), ("y", 1, 2), (None, 3, 1)]
    wh.close()


#: A query no memory limit below a few hundred MB lets DuckDB finish (a list cannot spill).
TOO_BIG = "select list(range) from range(60000000)"


def test_running_out_of_memory_says_where_to_raise_the_limit(tmp_path: Path) -> None:
    target = target_with(tmp_path)
    with connect(target, base_dir=tmp_path) as wh:  # type: ignore[arg-type]
        with pytest.raises(WarehouseError) as caught:
            wh.fetch(TOO_BIG)
        wh.execute("select 1")  # the connection is usable after it
    message = str(caught.value)
    assert message.startswith("Out of Memory Error: ")
    assert f"batchsql's default memory_limit of {DEFAULT_MEMORY_LIMIT}" in message
    assert "settings: {memory_limit: 1GB}" in message and "profiles.yml" in message
    assert "SET " not in message  # DuckDB's own advice, which a batchsql user cannot follow


def test_running_out_of_memory_under_the_profiles_limit_says_so(tmp_path: Path) -> None:
    target = target_with(tmp_path, "settings: {memory_limit: 100MB}\n")
    with connect(target, base_dir=tmp_path) as wh:  # type: ignore[arg-type]
        with pytest.raises(WarehouseError, match=r"memory_limit of 100MB that the target's "
                                                 r"settings in profiles\.yml give it"):
            wh.fetch(TOO_BIG)
        # While a streamed result is read, too: DuckDB runs the query as batches are taken.
        with pytest.raises(WarehouseError, match=r"Out of Memory Error: .*raise it there"):
            list(wh.stream("select range % 3 as g, list(range) as l from range(60000000) "
                           "group by g"))


def test_running_out_of_memory_on_a_borrowed_connection_names_its_owner(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "dbt.duckdb"))
    con.execute("set memory_limit = '100MB'")
    wh = DuckDBWarehouse(connection=con)
    with pytest.raises(WarehouseError, match="on the connection batchsql was given"):
        wh.fetch(TOO_BIG)
    con.close()
