"""Snowflake, BigQuery and Databricks: connections built from dbt targets, and the adapters'
own logic against fake drivers (no live engine is reachable here; their SQL is golden-tested)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

from batchsql import sql, warehouses
from batchsql.errors import ProfileError, WarehouseError
from batchsql.profiles import ProviderSettings, Target, load_target
from batchsql.warehouses import base, bigquery, databricks, snowflake
from batchsql.warehouses.shared import bind_nulls, scrub

SECRET = "pa55-w0rd-s3cret"


def target(kind: str, **fields: Any) -> Target:
    return Target(profile="p", name="prod", type=kind, fields=fields,
                  provider=ProviderSettings(), profiles_path=Path("profiles.yml"))


# --- Snowflake -----------------------------------------------------------------------------------

def test_snowflake_password_target() -> None:
    args = snowflake.connect_args(target(
        "snowflake", account="xy12345.eu-west-1", user="ANALYST", password=SECRET,
        role="TRANSFORMER", database="ANALYTICS", warehouse="WH_XS", schema="DBT_ME",
        threads=8, client_session_keep_alive=False, connect_timeout=30))
    opt = "adbc.snowflake.sql."
    assert args == {
        f"{opt}account": "xy12345.eu-west-1", "username": "ANALYST", "password": SECRET,
        f"{opt}auth_type": "auth_snowflake", f"{opt}db": "ANALYTICS", f"{opt}schema": "DBT_ME",
        f"{opt}warehouse": "WH_XS", f"{opt}role": "TRANSFORMER",
        f"{opt}client_option.login_timeout": "30s",
        f"{opt}client_option.app_name": "batchsql"}
    assert SECRET not in repr(args) and SECRET not in str(args)
    assert args.secrets() == [SECRET]


def test_snowflake_key_pair_and_other_authenticators(tmp_path: Path) -> None:
    opt = "adbc.snowflake.sql."
    args = snowflake.connect_args(target(
        "snowflake", account="a", user="u", private_key_path="~/keys/rsa_key.p8",
        private_key_passphrase=SECRET, database="D", schema="S"))
    assert args[f"{opt}auth_type"] == "auth_jwt" and "password" not in args
    assert args[f"{opt}client_option.jwt_private_key"] == str(Path("~/keys/rsa_key.p8")
                                                             .expanduser())
    assert SECRET not in repr(args)

    browser = snowflake.connect_args(target("snowflake", account="a", user="u",
                                            authenticator="externalbrowser"))
    assert browser[f"{opt}auth_type"] == "auth_ext_browser"
    oauth = snowflake.connect_args(target("snowflake", account="a", authenticator="oauth",
                                          token=SECRET))
    assert oauth[f"{opt}auth_type"] == "auth_oauth"
    assert oauth[f"{opt}client_option.auth_token"] == SECRET and SECRET not in repr(oauth)
    okta = snowflake.connect_args(target("snowflake", account="a", user="u", password="p",
                                         authenticator="https://acme.okta.com"))
    assert okta[f"{opt}auth_type"] == "auth_okta"
    assert okta[f"{opt}client_option.okta_url"] == "https://acme.okta.com"


@pytest.mark.parametrize(("fields", "needs"), [
    ({"user": "u", "password": "p"}, "'account'"),
    ({"account": "a", "user": "u"}, "'password'"),
    ({"account": "a", "user": "u", "authenticator": "kerberos"}, "authenticator 'kerberos'"),
    ({"account": "a", "authenticator": "oauth"}, "'token'"),
])
def test_snowflake_target_errors_name_the_field(fields: dict[str, Any], needs: str) -> None:
    with pytest.raises(ProfileError, match=needs):
        snowflake.connect_args(target("snowflake", **fields))


class FakeCursor:
    def __init__(self, log: list[tuple[str, Any]], rows: list[tuple[Any, ...]]) -> None:
        self.log, self.rows = log, rows

    def execute(self, text: str, params: Any = None) -> None:
        if "fail" in text:
            raise RuntimeError(f"SQL compilation error near password {SECRET}")
        self.log.append((text, params))

    def adbc_ingest(self, name: str, data: pa.Table, mode: str) -> int:
        self.log.append((f"ingest {name} {mode}", data))
        return data.num_rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.log: list[tuple[str, Any]] = []
        self.rows = rows or []

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.log, self.rows)

    def close(self) -> None:
        pass


def test_snowflake_insert_arrow_parses_json_text_into_semi_structured_columns() -> None:
    con = FakeConnection(rows=[("id", "NUMBER"), ("tags", "ARRAY"), ("answer", "VARIANT")])
    wh = snowflake.SnowflakeWarehouse(con, [SECRET])
    data = pa.table({"id": [1, 2], "tags": pa.array([["a", "b"], None], pa.list_(pa.string())),
                     "answer": ['{"x": 1}', None]})
    assert wh.insert_arrow(sql.parse_table("analytics.t"), data) == 2
    texts = [text for text, _ in con.log]
    assert texts[0].startswith('SELECT "COLUMN_NAME", "DATA_TYPE" FROM "INFORMATION_SCHEMA"')
    ingest, loaded = con.log[1]
    scratch = ingest.split()[1]
    assert scratch == scratch.upper() and ingest.endswith(" create")
    assert loaded.column("tags").to_pylist() == ['["a", "b"]', None]
    assert texts[2] == (
        f'INSERT INTO "analytics"."t" ("id", "tags", "answer") SELECT "id", '
        f'CAST(PARSE_JSON("tags") AS ARRAY), PARSE_JSON("answer") FROM "{scratch}"')
    assert texts[3] == f'DROP TABLE IF EXISTS "{scratch}"'


def test_snowflake_binds_none_as_null_and_scrubs_secrets_from_errors() -> None:
    con = FakeConnection()
    wh = snowflake.SnowflakeWarehouse(con, [SECRET])
    wh.execute(sql.update(sql.parse_table("t"), {"a": sql.param(), "b": sql.param()},
                          sql.col("id").eq(sql.param())), [None, 2, "x"])
    assert con.log == [('UPDATE "t" SET "a" = NULL, "b" = ? WHERE "id" = ?', [2, "x"])]
    with pytest.raises(WarehouseError) as caught:
        wh.execute("select fail")
    assert SECRET not in str(caught.value) and "***" in str(caught.value)


# --- BigQuery ------------------------------------------------------------------------------------

def test_bigquery_targets(tmp_path: Path) -> None:
    oauth = bigquery.connect_args(target("bigquery", method="oauth", project="acme-prod",
                                         dataset="analytics", location="EU", threads=4))
    assert (oauth["method"], oauth["project"], oauth["execution_project"], oauth["dataset"],
            oauth["location"], oauth["priority"]) == (
        "oauth", "acme-prod", "acme-prod", "analytics", "EU", "INTERACTIVE")
    assert oauth["scopes"] == bigquery.SCOPES

    keyed = bigquery.connect_args(target("bigquery", method="service-account",
                                         database="acme", schema="dbt_me",
                                         keyfile="keys/sa.json", execution_project="billing",
                                         maximum_bytes_billed=10**9), base_dir=tmp_path)
    assert (keyed["project"], keyed["dataset"], keyed["execution_project"]) == (
        "acme", "dbt_me", "billing")
    assert keyed["keyfile"] == str(tmp_path / "keys" / "sa.json")

    key_json = {"type": "service_account", "private_key": SECRET, "client_email": "x@y"}
    inline = bigquery.connect_args(target("bigquery", method="service-account-json",
                                          project="p", dataset="d", keyfile_json=key_json))
    assert inline["keyfile_json"] == key_json and SECRET not in repr(inline)


@pytest.mark.parametrize(("fields", "needs"), [
    ({"method": "oauth", "dataset": "d"}, "'project'"),
    ({"method": "oauth", "project": "p"}, "'dataset'"),
    ({"method": "service-account", "project": "p", "dataset": "d"}, "'keyfile'"),
    ({"method": "gcloud", "project": "p", "dataset": "d"}, "method 'gcloud'"),
    ({"method": "oauth-secrets", "project": "p", "dataset": "d"}, "'token'"),
])
def test_bigquery_target_errors_name_the_field(fields: dict[str, Any], needs: str) -> None:
    with pytest.raises(ProfileError, match=needs):
        bigquery.connect_args(target("bigquery", **fields))


def test_bigquery_parameters_are_typed_and_timestamps_utc() -> None:
    fake = SimpleNamespace(ScalarQueryParameter=lambda name, kind, value: (name, kind, value))
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert [bigquery.query_parameter(fake, v) for v in (True, 3, 1.5, "x", naive)] == [
        (None, "BOOL", True), (None, "INT64", 3), (None, "FLOAT64", 1.5),
        (None, "STRING", "x"), (None, "TIMESTAMP", naive.replace(tzinfo=dt.timezone.utc))]


def test_bigquery_describes_result_fields_in_googlesql() -> None:
    def f(name: str, kind: str, mode: str = "NULLABLE", fields: tuple = ()) -> SimpleNamespace:
        return SimpleNamespace(name=name, field_type=kind, mode=mode, fields=fields)

    assert bigquery.field_type(f("id", "INTEGER")) == "INT64"
    assert bigquery.field_type(f("tags", "STRING", "REPEATED")) == "ARRAY<STRING>"
    nested = f("c", "RECORD", fields=(f("city", "STRING"), f("n", "FLOAT")))
    assert bigquery.field_type(nested) == "STRUCT<`city` STRING, `n` FLOAT64>"
    assert exp.DataType.build(bigquery.field_type(nested), dialect="bigquery").is_type("struct")


def test_bigquery_views_name_the_dataset_of_every_table() -> None:
    view = sql.current_view(sql.parse_table("ticket_labels_current"),
                            sql.parse_table("ticket_labels"), ["id"], ["id", "label"])
    text = bigquery.qualify_view(view, "dbt_me").sql(dialect="bigquery")
    assert text.startswith("CREATE OR REPLACE VIEW `dbt_me`.`ticket_labels_current` AS")
    assert "FROM `dbt_me`.`ticket_labels`" in text
    other = sql.parse_table("analytics.x")
    assert bigquery.qualify_view(sql.drop_table(other), "dbt_me").sql() == (
        'DROP TABLE IF EXISTS "analytics"."x"')


# --- Databricks ----------------------------------------------------------------------------------

def test_databricks_token_target() -> None:
    args = databricks.connect_args(target(
        "databricks", host="https://dbc-1234.cloud.databricks.com/", http_path="/sql/1.0/wh/1",
        token=SECRET, catalog="main", schema="analytics",
        session_properties={"ansi_mode": True}))
    assert args == {
        "server_hostname": "dbc-1234.cloud.databricks.com", "http_path": "/sql/1.0/wh/1",
        "access_token": SECRET, "catalog": "main", "schema": "analytics",
        "session_configuration": {"TIMEZONE": "UTC", "ansi_mode": "True"},
        "user_agent_entry": "batchsql"}
    assert SECRET not in repr(args)


def test_databricks_oauth_targets() -> None:
    browser = databricks.connect_args(target("databricks", host="h", http_path="p",
                                             schema="s", auth_type="oauth", client_id="c"))
    assert browser["auth_type"] == "databricks-oauth" and "access_token" not in browser
    machine = databricks.connect_args(target("databricks", host="h", http_path="p", schema="s",
                                             auth_type="oauth", client_id="c",
                                             client_secret=SECRET))
    assert "auth_type" not in machine and machine["client_secret"] == SECRET
    assert SECRET not in repr(machine)
    with pytest.raises(ProfileError, match="'token'"):
        databricks.connect_args(target("databricks", host="h", http_path="p", schema="s"))
    with pytest.raises(ProfileError, match="'http_path'"):
        databricks.connect_args(target("databricks", host="h", token="t", schema="s"))


def test_databricks_inserts_stay_under_the_parameter_limits() -> None:
    assert databricks.rows_per_insert(25, 500) == 10
    assert databricks.rows_per_insert(2, 400_000) == 2
    assert databricks.rows_per_insert(300, 10) == 1
    con = FakeConnection()
    wh = databricks.DatabricksWarehouse(con, databricks.connect_args(target(
        "databricks", host="h", http_path="p", token="t", schema="s")))
    n = 60
    data = pa.table({**{f"c{i}": list(range(n)) for i in range(20)},
                     "tags": pa.array([["a"]] * (n - 1) + [None], pa.list_(pa.string()))})
    assert wh.insert_arrow(sql.parse_table("s.t"), data) == n
    assert [len(params) for _, params in con.log] == [12 * 21] * 4 + [12 * 21 - 1]
    first, params = con.log[0]
    assert first.count("FROM_JSON(?, 'ARRAY<STRING>')") == 12
    assert params[20] == json.dumps(["a"])
    last, params = con.log[-1]
    assert "FROM_JSON(NULL, 'ARRAY<STRING>')" in last and len(params) == 12 * 21 - 1


# --- all three -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "fields"), [
    ("snowflake", {"account": "a", "user": "u", "password": SECRET}),
    ("bigquery", {"method": "oauth", "project": "p", "dataset": "d"}),
    ("databricks", {"host": "h", "http_path": "p", "token": SECRET, "schema": "s"}),
])
def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch, kind: str,
                                          fields: dict[str, Any]) -> None:
    real = importlib.import_module

    def without_drivers(name: str, package: str | None = None) -> Any:
        if name.split(".")[0] in ("adbc_driver_snowflake", "google", "databricks"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(base.importlib, "import_module", without_drivers)
    with pytest.raises(WarehouseError) as caught:
        warehouses.connect(target(kind, **fields))
    assert f"pip install 'batchsql[{kind}]'" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_require_names_the_extra_for_a_module_that_does_not_exist() -> None:
    with pytest.raises(WarehouseError, match=r"pip install 'batchsql\[snowflake\]'"):
        base.require("batchsql_no_such_driver", "snowflake")


@pytest.mark.parametrize(("module", "kind", "fields"), [
    (snowflake, "snowflake", {"account": "a", "user": "u", "password": SECRET}),
    (databricks, "databricks", {"host": "h", "http_path": "p", "token": SECRET, "schema": "s"}),
])
def test_a_refused_connection_never_shows_the_secret(monkeypatch: pytest.MonkeyPatch,
                                                     module: Any, kind: str,
                                                     fields: dict[str, Any]) -> None:
    def connect(**kwargs: Any) -> None:
        raise RuntimeError(f"login failed for {kwargs}")

    monkeypatch.setattr(module, "require", lambda name, extra: SimpleNamespace(connect=connect))
    with pytest.raises(WarehouseError, match="cannot connect") as caught:
        warehouses.connect(target(kind, **fields))
    assert SECRET not in str(caught.value)


def test_an_existing_dbt_profile_works_as_is(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "profiles.yml").write_text(textwrap.dedent("""\
        jaffle_shop:
          target: sf
          outputs:
            sf:
              type: snowflake
              account: xy12345
              user: "{{ env_var('SF_USER') }}"
              password: "{{ env_var('SF_PASSWORD') }}"
              role: transformer
              database: analytics
              warehouse: transforming
              schema: dbt_me
              threads: 8
            bq:
              type: bigquery
              method: service-account
              project: acme
              dataset: dbt_me
              keyfile: /secrets/sa.json
              threads: 4
              location: EU
            dbx:
              type: databricks
              host: dbc-1.cloud.databricks.com
              http_path: /sql/1.0/warehouses/abc
              token: "{{ env_var('DBX_TOKEN') }}"
              catalog: main
              schema: dbt_me
        """))
    monkeypatch.setenv("SF_USER", "me")
    monkeypatch.setenv("SF_PASSWORD", SECRET)
    monkeypatch.setenv("DBX_TOKEN", SECRET)
    load = lambda name: load_target(tmp_path, "jaffle_shop", name)  # noqa: E731
    sf = snowflake.connect_args(load("sf"))
    assert (sf["username"], sf["password"], sf["adbc.snowflake.sql.schema"]) == (
        "me", SECRET, "dbt_me")
    bq = bigquery.connect_args(load("bq"))
    assert (bq["keyfile"], bq["location"]) == ("/secrets/sa.json", "EU")
    assert databricks.connect_args(load("dbx"))["catalog"] == "main"


def test_bind_nulls() -> None:
    statement = sql.insert_select(sql.parse_table("t"), ["a", "b", "c"], exp.Values(
        expressions=[exp.Tuple(expressions=[sql.param(), sql.param(), sql.param()])]))
    tree, params = bind_nulls(statement, [1, None, "x"])
    assert tree.sql() == 'INSERT INTO "t" ("a", "b", "c") VALUES (?, NULL, ?)'
    assert params == [1, "x"]
    assert bind_nulls(statement, [1, 2, 3])[0] is statement
    with pytest.raises(ValueError, match="2 parameters for 3 placeholders"):
        bind_nulls(statement, [None, 1])


def test_scrub_replaces_every_secret() -> None:
    assert scrub(f"x {SECRET} y {SECRET}", [SECRET, "ab"]) == "x *** y ***"
