"""PostgreSQL: a dbt-postgres target connects as dbt would, the password never shows, and data
crosses as Arrow and COPY with its types (the rest of the suite runs on it through `project`)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

from batchsql import api, sql, stage_sql
from batchsql.errors import ProfileError, WarehouseError
from batchsql.profiles import ProviderSettings, Target, load_target
from batchsql.warehouses import Warehouse, connect
from batchsql.warehouses.postgres_profile import connect_args

from .conftest import PG_PASSWORD_VAR, SPEC, TICKETS, Project, postgres_target
from .pgserver import PgServer

# --- the profile -------------------------------------------------------------------------------


def test_dbt_fields_become_libpq_keywords() -> None:
    args = connect_args({"host": "db.internal", "user": "analyst", "pass": "s3cret",
                         "database": "warehouse", "port": "6543", "schema": "dbt_me",
                         "threads": 4, "keepalives_idle": 0, "retries": 2, "role": "reader",
                         "search_path": "analytics, public", "sslmode": "require"})
    assert args == {"host": "db.internal", "port": 6543, "user": "analyst",
                    "password": "s3cret", "dbname": "warehouse", "sslmode": "require",
                    "connect_timeout": 10, "application_name": "batchsql",
                    "options": "-c search_path=analytics,\\ public"}
    args = connect_args({"host": "h", "user": "u", "dbname": "d", "keepalives_idle": "30",
                         "connect_timeout": 3, "application_name": "nightly", "sslrootcert":
                         "/ca.pem"}, read_only=True)
    assert (args["keepalives_idle"], args["connect_timeout"]) == (30, 3)
    assert (args["application_name"], args["sslrootcert"]) == ("nightly", "/ca.pem")
    assert args["options"] == "-c default_transaction_read_only=on"
    assert "password" not in args


@pytest.mark.parametrize(("fields", "problem"), [
    ({"host": "h"}, "needs 'user', 'dbname'"),
    ({"host": "h", "user": "u", "dbname": "d", "port": "five"}, "'port' must be a whole number"),
])
def test_missing_or_malformed_fields_are_profile_errors(fields: dict[str, Any],
                                                        problem: str) -> None:
    with pytest.raises(ProfileError, match=problem):
        connect_args(fields)


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    monkeypatch.delitem(sys.modules, "batchsql.warehouses.postgres", raising=False)
    target = Target("p", "t", "postgres", {"host": "h", "user": "u", "dbname": "d"},
                    ProviderSettings(), Path("profiles.yml"))
    with pytest.raises(WarehouseError, match=r"pip install 'batchsql\[postgres\]'"):
        connect(target)


# --- connecting ------------------------------------------------------------------------------

@pytest.fixture
def folder(pg_server: PgServer, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A folder whose profiles.yml targets a fresh database; the password comes from env_var."""
    fields = postgres_target(request, tmp_path)
    lines = "".join(f"      {k}: {json.dumps(v)}\n" for k, v in fields.items())
    (tmp_path / "profiles.yml").write_text(
        f"batchsql:\n  target: dev\n  outputs:\n    dev:\n{lines}")
    return tmp_path


def open_wh(folder: Path, *, read_only: bool = False, **changes: Any) -> Warehouse:
    target = load_target(profiles_dir=folder)
    target.fields.update(changes)
    return connect(target, read_only=read_only)


def test_a_dbt_profile_connects(folder: Path, pg_server: PgServer) -> None:
    target = load_target(profiles_dir=folder)
    assert target.fields["password"] == pg_server.password  # rendered from env_var()
    assert pg_server.password not in repr(target)
    with connect(target) as wh:
        assert wh.fetch("select current_user, current_database()") \
            == [(pg_server.user, target.fields["dbname"])]
        assert pg_server.password not in repr(wh)


def test_errors_never_show_the_password(folder: Path, pg_server: PgServer) -> None:
    with pytest.raises(WarehouseError) as refused:
        open_wh(folder, password="not-" + pg_server.password)
    message = str(refused.value)
    assert "password authentication failed" in message
    assert f"{pg_server.user}@{pg_server.host}:{pg_server.port}/" in message
    assert pg_server.password not in message
    with open_wh(folder) as wh, pytest.raises(WarehouseError) as echoed:
        wh.fetch(f'select "{pg_server.password}"')  # the server quotes the unknown column
    assert "does not exist" in str(echoed.value) and pg_server.password not in str(echoed.value)


def test_role_and_search_path_apply(folder: Path) -> None:
    with open_wh(folder) as admin:
        admin.execute('create role "Batch Role"')
        admin.execute('create schema "Work Space"')
        admin.execute('grant usage, create on schema "Work Space" to "Batch Role"')
    with open_wh(folder, role="Batch Role", search_path='"Work Space"') as wh:
        assert wh.fetch("select current_user") == [("Batch Role",)]
        wh.execute("create table unqualified (a int)")
        assert wh.table_columns(sql.parse_table('"Work Space".unqualified')) == ["a"]
    with open_wh(folder) as admin:
        admin.execute('drop schema "Work Space" cascade')
        admin.execute('drop role "Batch Role"')


def test_read_only_writes_nothing_but_scratch_tables(folder: Path) -> None:
    with open_wh(folder) as wh:
        wh.execute("create table kept (a int)")
    with open_wh(folder, read_only=True) as wh:
        with pytest.raises(WarehouseError, match="read-only transaction"):
            wh.execute("insert into kept values (1)")
        with pytest.raises(WarehouseError, match="read-only transaction"):
            wh.execute(sql.create_table(sql.parse_table("other"), [("a", sql.dtype("int"))]))
        scratch = wh.scratch_table("_batchsql_plan_x")
        wh.execute(sql.create_table(scratch, [("a", sql.dtype("int"))]))
        wh.insert_arrow(scratch, pa.table({"a": pa.array([1, 2], pa.int32())}))
        assert wh.fetch(exp.select(exp.Count(this=exp.Star())).from_(scratch)) == [(2,)]
        assert wh.table_columns(scratch) == ["a"]
    with open_wh(folder) as wh:  # the scratch table went with its session
        assert wh.table_columns(scratch) is None
        assert wh.fetch("select count(*) from kept") == [(0,)]


# --- data as Arrow -----------------------------------------------------------------------------

ROWS = pa.table({
    "k": pa.array([1, 2, 3], pa.int64()),
    "s": pa.array(["a 'quoted' % text", "Überweisung 😊\0", None]),
    "tags": pa.array([["x", "y"], [], None], pa.list_(pa.string())),
    "obj": pa.array([{"city": "Lyon", "zip": 69001}, {"city": None, "zip": None}, None],
                    pa.struct([("city", pa.string()), ("zip", pa.int64())])),
    "steps": pa.array([[{"done": True}], [], None], pa.list_(pa.struct([("done", pa.bool_())]))),
    "answer": pa.array(['{"a": [1, {"b": null}]}', "{}", None]),
    "vec": pa.array([[0.5, -1.25], [], None], pa.list_(pa.float32())),
    "at": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5, 6), None, None], pa.timestamp("us")),
    "ok": pa.array([True, False, None]),
    "n": pa.array([1.5, None, 2.0]),
    "i": pa.array([7, None, 9], pa.int32()),
})
COLUMNS = [("k", "bigint"), ("s", "varchar"), ("tags", "varchar[]"), ("obj", "jsonb"),
           ("steps", "jsonb"), ("answer", "jsonb"), ("vec", "real[]"), ("at", "timestamp"),
           ("ok", "boolean"), ("n", "double precision"), ("i", "int")]


@pytest.fixture
def wh(folder: Path) -> Any:
    with open_wh(folder) as warehouse:
        table = sql.parse_table("analytics.Data")  # capitals: quoted everywhere
        warehouse.execute(sql.create_schema(table))
        warehouse.execute(sql.create_table(table, [(n, sql.dtype(t, "postgres"))
                                                   for n, t in COLUMNS]))
        yield warehouse


def test_arrow_goes_in_by_copy_with_json_and_arrays(wh: Warehouse) -> None:
    table = sql.parse_table("analytics.Data")
    assert wh.insert_arrow(table, ROWS) == 3
    rows = wh.fetch('select s, tags, jsonb_typeof(obj), obj->>\'city\', steps->0->\'done\', '
                    'answer->\'a\'->1, vec[2], at, ok, n, i from analytics."Data" order by k')
    assert rows[0] == ("a 'quoted' % text", ["x", "y"], "object", "Lyon", "true",
                       '{"b": null}', -1.25, dt.datetime(2026, 1, 2, 3, 4, 5, 6), True, 1.5, 7)
    # PostgreSQL text cannot hold NUL: it becomes U+FFFD, as in bound parameters.
    assert rows[1] == ("Überweisung 😊\ufffd", [], "object", None, None, None, None, None,
                       False, None, None)
    assert wh.fetch("select %s::text", ["a\0b"]) == [("a\ufffdb",)]
    assert rows[2] == (*(None,) * 9, 2.0, 9)


def test_results_stream_as_typed_arrow_slices(wh: Warehouse) -> None:
    table = sql.parse_table("analytics.Data")
    wh.insert_arrow(table, ROWS)
    query = sql.parse_table("analytics.Data")
    batches = list(wh.stream(exp.select("*").from_(query).order_by("k"), batch_size=2))
    assert [b.num_rows for b in batches] == [2, 1]
    schema = batches[0].schema
    assert [str(schema.field(n).type) for n, _ in COLUMNS] == [
        "int64", "string", "list<item: string>", "string", "string", "string",
        "list<item: float>", "timestamp[us]", "bool", "double", "int32"]
    assert batches[1].schema == schema  # a slice of NULLs keeps its types
    streamed = pa.Table.from_batches(batches)
    assert streamed.column("vec").to_pylist() == ROWS.column("vec").to_pylist()
    assert json.loads(streamed.column("obj")[0].as_py()) == {"city": "Lyon", "zip": 69001}
    assert streamed.column("at").to_pylist() == ROWS.column("at").to_pylist()
    params = list(wh.stream(exp.select("k").from_(query).where(sql.col("s").eq(sql.param())),
                            ["a 'quoted' % text"]))
    assert params[0].column("k").to_pylist() == [1]


def test_writes_go_on_while_a_result_streams(wh: Warehouse) -> None:
    table = sql.parse_table("analytics.Data")
    wh.insert_arrow(table, ROWS.select(["k"]))
    seen = []
    for batch in wh.stream(exp.select("k").from_(table.copy()).order_by("k"), batch_size=1):
        seen += batch.column("k").to_pylist()
        with wh.transaction():  # write and commit on the same connection mid-read
            wh.insert_arrow(table, pa.table({"k": pa.array([seen[-1] + 10], pa.int64())}))
    assert seen == [1, 2, 3]  # the result is as of the query: the new rows are not in it
    assert [r[0] for r in wh.fetch('select k from analytics."Data" order by k')] \
        == [1, 2, 3, 11, 12, 13]


def test_a_failed_transaction_writes_nothing(wh: Warehouse) -> None:
    table = sql.parse_table("analytics.Data")
    with pytest.raises(WarehouseError, match="division by zero"), wh.transaction():
        wh.insert_arrow(table, ROWS.select(["k"]))
        wh.fetch("select 1 / 0")
    assert wh.fetch('select count(*) from analytics."Data"') == [(0,)]


def test_describe_does_not_run_the_query(wh: Warehouse) -> None:
    wh.execute("create sequence counter")
    described = wh.describe("select nextval('counter') as n, 'x'::varchar(5) as v, "
                            "1.5::numeric(4, 1) as d, null::jsonb as j")
    assert described == [("n", "bigint"), ("v", "character varying(5)"),
                         ("d", "numeric(4,1)"), ("j", "jsonb")]
    assert wh.fetch("select is_called from counter") == [(False,)]
    with pytest.raises(WarehouseError, match=r'^relation "nowhere" does not exist'):
        wh.describe("select * from nowhere")


def test_other_column_types_are_copied_as_text(wh: Warehouse) -> None:
    wh.execute("create table odd (id uuid, amount numeric(10, 2), day date)")
    ids = [str(uuid.UUID(int=1)), None]
    wh.insert_arrow(sql.parse_table("odd"), pa.table({
        "id": pa.array(ids), "amount": pa.array([decimal.Decimal("12.30"), None]),
        "day": pa.array([dt.date(2026, 3, 1), None])}))
    assert wh.fetch("select id::text, amount, day from odd order by id") == [
        (ids[0], decimal.Decimal("12.30"), dt.date(2026, 3, 1)), (None, None, None)]


# --- names -----------------------------------------------------------------------------------

@pytest.mark.warehouses("postgres")
def test_a_name_postgresql_would_cut_is_refused_before_sending(project: Project) -> None:
    # Cut to 63 bytes, the stage and the request map would be one table.
    project.write_spec(SPEC.replace("analytics.labels", "analytics." + "x" * 45))
    with pytest.raises(WarehouseError, match=r"cuts names to 63 bytes and "
                                             r"'_batchsql_x{45}_requests' has 64"):
        project.run()
    assert project.emulator.stats()["files_created"] == 0


@pytest.mark.warehouses("postgres")
def test_the_longest_names_plan_and_run(project: Project) -> None:
    project.write_spec(SPEC.replace("analytics.labels", "analytics." + "x" * 44))
    # The plan's scratch tables add more than the run's tables do: their names are shortened.
    assert plan(project).pending == len(TICKETS)
    assert project.run().succeeded == len(TICKETS)
    project.write_tickets([*TICKETS, (99, "New", "A new ticket.")])
    assert plan(project).pending == 1


def plan(project: Project) -> Any:
    return api.plan(project.spec, project_dir=project.dir, profiles_dir=project.dir)


# --- privileges --------------------------------------------------------------------------------

@pytest.mark.warehouses("postgres")
def test_a_user_who_may_only_use_its_schemas_runs(project: Project, pg_server: PgServer) -> None:
    """The usual grant: create tables in one schema, read another; no right to create schemas
    (PostgreSQL checks that right even for CREATE SCHEMA IF NOT EXISTS of one that exists)."""
    role = f"analyst_{uuid.uuid4().hex[:8]}"
    with project.connect() as admin:
        database = admin.fetch("select current_database()")[0][0]
        for statement in (f"create role {role} login password 'analyst-pw'",
                          f"revoke create on database {database} from public",
                          "create schema analytics", f"grant usage, create on schema analytics "
                          f"to {role}", f"grant usage on schema raw to {role}",
                          f"grant select on raw.tickets to {role}"):
            admin.execute(statement)
    profiles = project.dir / "profiles.yml"
    text = profiles.read_text()
    profiles.write_text(text.replace(f'user: "{pg_server.user}"', f'user: "{role}"').replace(
        f"env_var('{PG_PASSWORD_VAR}')", "env_var('BATCHSQL_TEST_ANALYST', 'analyst-pw')"))
    try:
        assert project.run().succeeded == len(TICKETS)
        assert plan(project).pending == 0
        assert project.query("select current_user") == [(role,)]
    finally:
        profiles.write_text(text)
        with project.connect() as admin:
            admin.execute(f"drop owned by {role}")
            admin.execute(f"drop role {role}")


# --- query plans -------------------------------------------------------------------------------

@pytest.mark.warehouses("postgres")
def test_selection_queries_are_joins_not_per_row_subqueries(project: Project) -> None:
    """PostgreSQL runs a correlated subquery it cannot turn into a join once per row: the
    queries over the stage and the output must plan as joins, or they grow quadratically."""
    project.run()
    t = sql.parse_table
    stage, output = t("analytics._batchsql_labels_stage"), t("analytics.labels")
    requests, batches = t("analytics._batchsql_labels_requests"), t("analytics._batchsql_batches")
    key = ["ticket_id"]
    pending = sql.pending_rows(stage, output, requests, batches, key, 3)
    queries = {
        "pending": pending, "given_up": sql.given_up(stage, output, key, 3),
        "answered": sql.answered_rows(stage, output, key),
        "in_flight": sql.rows_in_flight(stage, requests, batches, key),
        "reusable": sql.reusable_figures(pending, output),
        "to_send": sql.pending_rows(stage, output, requests, batches, key, 3, exclude_run=True,
                                    skip_answered=True),
    }
    # The source rows a rerun renders, read by key (see render_stage).
    keys = exp.to_table("_batchsql_test_keys")
    queries["unrendered_by_key"] = stage_sql.unrendered_rows(
        sql.select_source(None, "raw.tickets", "postgres"), stage, key, ["body", "subject"],
        "sig", "postgres", keys=keys)
    with project.connect() as wh:
        wh.execute(f"create temporary table {keys.name} as select ticket_id from raw.tickets")
        for name, query in queries.items():
            # The one parameter (a run id) as a literal: EXPLAIN takes no bound values.
            text = query.transform(lambda n: exp.Literal.string("run")
                                   if isinstance(n, exp.Placeholder) else n)
            plan_text = "\n".join(r[0] for r in wh.fetch("explain " + wh.render(text)))
            assert "SubPlan" not in plan_text, f"{name}:\n{plan_text}"
