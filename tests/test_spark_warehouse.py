"""SparkWarehouse on a real local SparkSession: types, streaming, DELETE/UPDATE on file tables,
odd identifiers, naive times, read-only plans and targets."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

from batchsql import dialects, sql
from batchsql.errors import ProfileError, WarehouseError
from batchsql.profiles import load_target
from batchsql.warehouses import connect
from batchsql.warehouses.spark import SparkWarehouse

from .sparksession import drop_databases

T = exp.DataType.Type


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def table(name: str, db: str = "lab") -> exp.Table:
    return exp.table_(ident(name), db=ident(db))


def dtype(text: str) -> exp.DataType:
    return exp.DataType.build(text, dialect="spark")


def make(wh: SparkWarehouse, target: exp.Table, columns: list[tuple[str, exp.DataType]],
         data: pa.Table | None = None) -> None:
    wh.execute(sql.create_schema(target))
    wh.execute(sql.create_table(target, columns))
    if data is not None:
        wh.insert_arrow(target, data)


def rows(wh: SparkWarehouse, target: exp.Table, *columns: str) -> list[tuple[Any, ...]]:
    return wh.fetch(exp.select(*(sql.col(c) for c in columns)).from_(target.copy())
                    .order_by(sql.col(columns[0])))


def folders(wh: SparkWarehouse, target: exp.Table) -> tuple[str, list[str]]:
    """The table's folder, and the folders of its database."""
    details = wh.fetch(f"describe table extended {wh.render(target)}")
    location = next(value for name, value, _ in details if name == "Location")
    return location, sorted(p.name for p in Path(location.removeprefix("file:")).parent.iterdir())


@pytest.fixture
def wh(spark_session: Any) -> Iterator[SparkWarehouse]:
    drop_databases(spark_session)
    warehouse = SparkWarehouse(spark_session)
    yield warehouse
    warehouse.close()
    drop_databases(spark_session)


# --- types ------------------------------------------------------------------------------------

NESTED = dtype("struct<language: string, address: struct<city: string, zip: bigint>>")
STEPS = dtype("array<struct<action: string, minutes: double, done: boolean>>")


def test_answer_types_round_trip_through_arrow(wh: SparkWarehouse) -> None:
    target = table("types")
    columns = [("id", dtype("bigint")), ("customer", NESTED), ("tags", dtype("array<string>")),
               ("steps", STEPS), ("embedding", dtype("array<float>")),
               ("answer", dialects.column_type(exp.DataType.build(T.JSON), "spark")),
               ("at", sql.dtype("timestamp", "spark")), ("ok", dtype("boolean"))]
    customer = {"language": "de", "address": {"city": "Basel", "zip": 4051}}
    steps = [{"action": "refund", "minutes": 2.5, "done": True}]
    when = dt.datetime(2024, 5, 1, 12, 30, 0, 123456)
    data = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "customer": pa.array([customer, None], pa.struct([
            ("language", pa.string()),
            ("address", pa.struct([("city", pa.string()), ("zip", pa.int64())]))])),
        "tags": pa.array([["crash", "ui"], []], pa.list_(pa.string())),
        "steps": pa.array([steps, None], pa.list_(pa.struct([
            ("action", pa.string()), ("minutes", pa.float64()), ("done", pa.bool_())]))),
        "embedding": pa.array([[0.5, -1.25], None], pa.list_(pa.float32())),
        "answer": pa.array(['{"a": [1, null]}', None], pa.string()),
        "at": pa.array([when, None], pa.timestamp("us")),
        "ok": pa.array([True, None], pa.bool_()),
    })
    make(wh, target, columns, data)
    types = dict(wh.describe(exp.select("*").from_(target.copy())))
    assert types == {
        "id": "bigint", "customer": "struct<language:string,address:struct<city:string,"
        "zip:bigint>>", "tags": "array<string>",
        "steps": "array<struct<action:string,minutes:double,done:boolean>>",
        "embedding": "array<float>", "answer": "string", "at": "timestamp_ntz",
        "ok": "boolean"}
    names = [n for n, _ in columns]
    assert rows(wh, target, *names) == [
        (1, customer, ["crash", "ui"], steps, [0.5, -1.25], '{"a": [1, null]}', when, True),
        (2, None, [], None, None, None, None, None)]
    streamed = pa.Table.from_batches(list(wh.stream(
        exp.select(*(sql.col(n) for n in names)).from_(target.copy()).order_by(sql.col("id")))))
    assert streamed.schema.equals(data.schema)
    assert streamed.to_pylist() == data.to_pylist()
    # Nested values are SQL, not text to parse.
    assert wh.fetch("select customer.address.zip, size(tags), steps[0].minutes, "
                    "get_json_object(answer, '$.a[0]') from lab.types where id = 1") \
        == [(4051, 2, 2.5, "1")]


def test_naive_times_are_stored_as_given_in_any_local_time_zone(
        wh: SparkWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    # 02:30 on 2024-03-10 does not exist in New York (the clocks jump from 2 to 3): a value
    # bound through the local zone would come back shifted.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        when = dt.datetime(2024, 3, 10, 2, 30)
        target = table("times")
        data = pa.table({"id": pa.array([1], pa.int64()),
                         "at": pa.array([when], pa.timestamp("us"))})
        make(wh, target, [("id", dtype("bigint")), ("at", sql.dtype("timestamp", "spark"))], data)
        values = exp.Values(expressions=[exp.Tuple(expressions=[sql.param(), sql.param()])])
        wh.execute(sql.insert_select(target, ["id", "at"], values), [2, when])
        wh.execute(sql.update(target, {"at": sql.param()}, sql.col("id").eq(sql.param())),
                   [when + dt.timedelta(hours=1), 1])
        assert rows(wh, target, "id", "at") == [(1, when + dt.timedelta(hours=1)), (2, when)]
        found = wh.fetch(exp.select(sql.col("id")).from_(target.copy())
                         .where(sql.col("at").eq(sql.param())), [when])
        assert found == [(2,)]
    finally:
        monkeypatch.undo()
        time.tzset()


# --- streaming --------------------------------------------------------------------------------

def test_stream_yields_ordered_slices_of_a_snapshot(wh: SparkWarehouse) -> None:
    target = table("numbers")
    make(wh, target, [("n", dtype("bigint"))], pa.table({"n": pa.array(range(25), pa.int64())}))
    batches = wh.stream(exp.select(sql.col("n")).from_(target.copy())
                        .order_by(exp.Ordered(this=sql.col("n"), desc=True)), batch_size=10)
    first = next(batches)
    # The runner writes to tables while it reads a result: here every row goes, and the
    # table's files with them, before the rest of the result is read.
    wh.execute(sql.delete_where(target, sql.col("n") >= sql.param()), [0])
    slices = [first, *batches]
    assert [b.num_rows for b in slices] == [10, 10, 5]
    assert [n for b in slices for n in b.column("n").to_pylist()] == list(range(24, -1, -1))
    assert wh.fetch(exp.select(exp.Count(this=exp.Star())).from_(target.copy())) == [(0,)]


# --- DELETE and UPDATE on file tables -----------------------------------------------------------

def test_delete_rewrites_only_when_a_row_matches(wh: SparkWarehouse) -> None:
    target = table("outcomes")
    make(wh, target, [("id", dtype("bigint")), ("batch", dtype("string"))],
         pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                   "batch": pa.array(["a", None, "b"], pa.string())}))
    before = folders(wh, target)
    wh.execute(sql.delete_where(target, sql.col("batch").eq(sql.param())), ["zzz"])
    assert folders(wh, target) == before  # nothing matched: the files were not touched
    # A row whose condition is NULL is not deleted, as in SQL.
    wh.execute(sql.delete_where(target, sql.col("batch").eq(sql.param())), ["a"])
    assert rows(wh, target, "id", "batch") == [(2, None), (3, "b")]
    location, siblings = folders(wh, target)
    assert location != before[0] and siblings == [Path(location).name]  # old folder removed
    wh.execute(sql.delete_where(target, exp.true()))
    assert rows(wh, target, "id") == []


def test_update_changes_matching_rows_and_keeps_column_types(wh: SparkWarehouse) -> None:
    target = table("batches")
    columns = [("uuid", dtype("string")), ("status", dtype("string")), ("n", dtype("int")),
               ("cost", dtype("double")), ("at", sql.dtype("timestamp", "spark"))]
    make(wh, target, columns)
    values = exp.Values(expressions=[exp.Tuple(expressions=[sql.param(), sql.param()])])
    for uuid in ("u1", "u2", "u3"):
        wh.execute(sql.insert_select(target, ["uuid", "status"], values), [uuid, "intent"])
    when = dt.datetime(2024, 1, 2, 3, 4, 5)
    wh.execute(sql.update(target, {"status": sql.param(), "n": sql.param(), "cost": sql.param(),
                                   "at": sql.param()}, sql.col("uuid").eq(sql.param())),
               ["collected", 7, None, when, "u2"])
    wh.execute(sql.update(target, {"cost": sql.param()}, sql.col("uuid").isin("u1", "u2")), [1])
    assert rows(wh, target, "uuid", "status", "n", "cost", "at") == [
        ("u1", "intent", None, 1.0, None), ("u2", "collected", 7, 1.0, when),
        ("u3", "intent", None, None, None)]
    assert [t for _, t in wh.describe(exp.select("*").from_(target.copy()))] \
        == ["string", "string", "int", "double", "timestamp_ntz"]
    with pytest.raises(WarehouseError, match="has no column 'nope'"):
        wh.execute(sql.update(target, {"nope": sql.param()}, exp.true()), [1])


def test_hive_serde_tables_are_refused_with_the_reason(wh: SparkWarehouse) -> None:
    wh.execute("create database lab")
    wh.execute("create table lab.legacy (a int) stored as textfile")
    with pytest.raises(WarehouseError, match="Hive SerDe table"):
        wh.execute(sql.delete_where(table("legacy"), exp.true()))


# --- identifiers ------------------------------------------------------------------------------

def test_odd_identifiers_survive_every_statement(wh: SparkWarehouse) -> None:
    # Spark's catalog takes letters, digits and _ in database and table names (and folds their
    # case); column names may hold anything.
    target = table("Order", db="select")
    names = ["group", "We ird`col", "a.b c"]
    make(wh, target, [(names[0], dtype("bigint")), (names[1], dtype("string")),
                      (names[2], dtype("double"))])
    assert wh.table_columns(target) == names
    assert wh.table_columns(table("order", db="select")) == names
    assert wh.table_columns(table("absent", db="select")) is None
    # Arrow columns are matched by name, not position.
    wh.insert_arrow(target, pa.table({names[2]: [1.5, 2.5], names[0]: [1, 2],
                                      names[1]: ["x", None]}))
    wh.execute(sql.update(target, {names[1]: sql.param()}, sql.col(names[0]).eq(sql.param())),
               ["y", 2])
    wh.execute(sql.delete_where(target, sql.col(names[2]).eq(sql.param())), [1.5])
    assert rows(wh, target, *names) == [(2, "y", 2.5)]
    assert [n for n, _ in wh.describe(exp.select("*").from_(target.copy()))] == names


# --- read-only plans and targets --------------------------------------------------------------

def test_read_only_writes_nothing_but_its_scratch_database(spark_session: Any) -> None:
    drop_databases(spark_session)
    wh = SparkWarehouse(spark_session, schema="lab", read_only=True)
    assert not spark_session.catalog.databaseExists("lab")  # not created by a read-only run
    scratch = wh.scratch_table("_stage")
    wh.execute(sql.create_table(scratch, [("a", dtype("bigint"))]))
    wh.insert_arrow(scratch, pa.table({"a": pa.array([1, 2], pa.int64())}))
    assert wh.fetch(exp.select(exp.Count(this=exp.Star())).from_(scratch.copy())) == [(2,)]
    for statement in (sql.create_schema(table("t")), sql.drop_table(table("t", "default")),
                      sql.create_table(table("t", "default"), [("a", dtype("int"))])):
        with pytest.raises(WarehouseError, match="read-only connection"):
            wh.execute(statement)
    wh.close()
    assert not spark_session.catalog.databaseExists(scratch.db)
    assert [d.name for d in spark_session.catalog.listDatabases()] == ["default"]


def write_profile(folder: Path, **fields: Any) -> Path:
    lines = "".join(f"      {k}: {v}\n" for k, v in fields.items())
    (folder / "profiles.yml").write_text(
        "batchsql:\n  target: dev\n  outputs:\n    dev:\n      type: spark\n" + lines)
    return folder


def test_target_schema_and_settings_apply_to_the_session(spark_session: Any,
                                                         tmp_path: Path) -> None:
    drop_databases(spark_session)
    folder = write_profile(tmp_path, method="session", schema="sandbox", host="NA",
                           server_side_parameters="{spark.batchsql.test.flag: true}")
    target = load_target(profiles_dir=folder, project_dir=folder)
    try:
        with connect(target, base_dir=folder) as wh:
            assert isinstance(wh, SparkWarehouse) and wh.session is spark_session
            assert spark_session.catalog.currentDatabase() == "sandbox"
            assert spark_session.conf.get("spark.batchsql.test.flag") == "true"
            wh.execute(sql.create_table(exp.table_(ident("t")), [("a", dtype("int"))]))
            assert wh.table_columns(table("t", "sandbox")) == ["a"]
        assert spark_session.catalog.currentDatabase() == "default"  # restored on close
    finally:
        spark_session.conf.unset("spark.batchsql.test.flag")
        drop_databases(spark_session)


def test_only_the_session_method_is_supported(tmp_path: Path) -> None:
    folder = write_profile(tmp_path, method="thrift", host="spark.example.com", schema="x")
    with pytest.raises(ProfileError, match="method: session"):
        connect(load_target(profiles_dir=folder, project_dir=folder))


def test_a_missing_pyspark_names_the_extra_to_install(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    folder = write_profile(tmp_path, method="session", schema="x")
    with pytest.raises(WarehouseError, match=r"pip install 'batchsql\[spark\]'"):
        connect(load_target(profiles_dir=folder, project_dir=folder))
