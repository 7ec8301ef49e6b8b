"""Snowflake through the Arrow ADBC driver (``pip install 'batchsql[snowflake]'``).

Why ADBC rather than snowflake-connector-python: results stream as Arrow record batches and
``adbc_ingest`` bulk-loads Arrow (Parquet through a stage, then COPY) without pandas, and its
authentication types cover every dbt-snowflake ``authenticator`` (password, key pair, OAuth
token, external browser, Okta, MFA). Parameters are bound server-side as ``?``.

Not verified against a live Snowflake here; the SQL it issues is covered by golden tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.errors import ProfileError, WarehouseError
from batchsql.profiles import Target
from batchsql.warehouses.base import Statement, Warehouse, require
from batchsql.warehouses.shared import (
    ConnectArgs,
    as_table,
    bind_nulls,
    field,
    flag,
    flatten_nested,
    scrub,
    sql_type,
)

_OPT = "adbc.snowflake.sql."
#: dbt-snowflake ``authenticator`` -> ADBC auth type (an https:// URL means Okta).
_AUTH = {"snowflake": "auth_snowflake", "externalbrowser": "auth_ext_browser",
         "oauth": "auth_oauth", "jwt": "auth_jwt", "snowflake_jwt": "auth_jwt",
         "username_password_mfa": "auth_mfa", "programmatic_access_token": "auth_pat"}
_SECRET = ("password", f"{_OPT}client_option.auth_token",
           f"{_OPT}client_option.jwt_private_key_pkcs8_value",
           f"{_OPT}client_option.jwt_private_key_pkcs8_password")
#: Column types whose values are written as JSON text and parsed by Snowflake.
_SEMI = {"VARIANT": None, "OBJECT": exp.DataType.Type.OBJECT, "ARRAY": exp.DataType.Type.ARRAY}


def connect_args(target: Target) -> ConnectArgs:
    """ADBC ``db_kwargs`` from a dbt-snowflake target (its field names and defaults)."""
    account = field(target, "account", required=True)
    authenticator = str(field(target, "authenticator", default="")).strip()
    key_path = field(target, "private_key_path")
    key = field(target, "private_key")
    if authenticator.lower().startswith("https://"):
        auth = "auth_okta"
    elif authenticator:
        auth = _AUTH.get(authenticator.lower(), "")
        if not auth:
            raise ProfileError(f"target '{target.name}': authenticator '{authenticator}' is not "
                               f"one batchsql knows; use one of {', '.join(_AUTH)} or an Okta "
                               "URL")
    else:  # dbt uses key-pair authentication whenever a private key is given
        auth = "auth_jwt" if key_path or key else "auth_snowflake"
    if auth in ("auth_snowflake", "auth_mfa", "auth_okta") and not field(target, "password"):
        raise ProfileError(f"target '{target.name}' of type snowflake needs 'password' "
                           f"(or another authenticator: {', '.join(_AUTH)})")
    if auth == "auth_oauth" and not field(target, "token"):
        raise ProfileError(f"target '{target.name}': authenticator 'oauth' needs 'token' "
                           "(batchsql does not run dbt's OAuth refresh flow)")
    timeout = field(target, "connect_timeout")
    values = {
        f"{_OPT}account": account,
        "username": field(target, "user", required=auth != "auth_oauth"),
        "password": field(target, "password") if auth != "auth_jwt" else None,
        f"{_OPT}auth_type": auth,
        f"{_OPT}db": field(target, "database"),
        f"{_OPT}schema": field(target, "schema"),
        f"{_OPT}warehouse": field(target, "warehouse"),
        f"{_OPT}role": field(target, "role"),
        f"{_OPT}uri.host": field(target, "host"),
        f"{_OPT}uri.port": field(target, "port"),
        f"{_OPT}uri.protocol": field(target, "protocol"),
        f"{_OPT}client_option.okta_url": authenticator if auth == "auth_okta" else None,
        f"{_OPT}client_option.auth_token": field(target, "token") if auth in (
            "auth_oauth", "auth_pat") else None,
        f"{_OPT}client_option.jwt_private_key": str(Path(str(key_path)).expanduser())
        if key_path else None,
        f"{_OPT}client_option.jwt_private_key_pkcs8_value": key,
        f"{_OPT}client_option.jwt_private_key_pkcs8_password": field(
            target, "private_key_passphrase"),
        f"{_OPT}client_option.login_timeout": f"{int(timeout)}s" if timeout else None,
        f"{_OPT}client_option.keep_session_alive": "true" if flag(
            field(target, "client_session_keep_alive", default=False)) else None,
        f"{_OPT}client_option.tls_skip_verify": "true" if flag(
            field(target, "insecure_mode", default=False)) else None,
        f"{_OPT}client_option.app_name": "batchsql",
    }
    return ConnectArgs({k: (None if v is None else str(v)) for k, v in values.items()},
                       secret=_SECRET)


def column_types(table: exp.Table) -> exp.Select:
    """Name and type of a table's columns (parameters: table name, schema name or NULL)."""
    columns = exp.table_(exp.to_identifier("COLUMNS", quoted=True),
                         db=exp.to_identifier("INFORMATION_SCHEMA", quoted=True),
                         catalog=table.args.get("catalog"))
    schema = exp.Coalesce(this=sql.param(), expressions=[exp.CurrentSchema()])
    return (exp.select(sql.col("COLUMN_NAME"), sql.col("DATA_TYPE")).from_(columns)
            .where(sql.col("TABLE_NAME").eq(sql.param()))
            .where(sql.col("TABLE_SCHEMA").eq(schema))
            .order_by(sql.col("ORDINAL_POSITION")))


class SnowflakeWarehouse(Warehouse):
    """One ADBC connection to a Snowflake account, in autocommit mode."""

    dialect = "snowflake"

    def __init__(self, connection: Any, secrets: Sequence[str] = ()) -> None:
        self._con = connection
        self._secrets = list(secrets)

    @classmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> SnowflakeWarehouse:
        """dbt-snowflake's fields (``account``, ``user``, ``authenticator``, ...)."""
        args = connect_args(target)
        dbapi = require("adbc_driver_snowflake.dbapi", "snowflake")
        try:
            connection = dbapi.connect(db_kwargs=dict(args), autocommit=True)
        except Exception as e:  # the driver's errors carry no common base class we can name
            raise WarehouseError(f"cannot connect to Snowflake account "
                                 f"{args.get(_OPT + 'account')!r}: "
                                 f"{scrub(str(e), args.secrets())}") from None
        return cls(connection, args.secrets())

    def __repr__(self) -> str:
        return "SnowflakeWarehouse()"

    def _run(self, statement: Statement, params: Sequence[Any]) -> Any:
        if isinstance(statement, exp.Expression):
            statement, params = bind_nulls(statement, params)
        text = self.render(statement)
        cursor = self._con.cursor()
        try:
            cursor.execute(text, list(params) if params else None)
        except Exception as e:
            cursor.close()
            raise WarehouseError(scrub(str(e).strip(), self._secrets)) from None
        return cursor

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self._run(statement, params).close()

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._run(statement, params)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        cursor = self._run(statement, params)
        try:
            for batch in cursor.fetch_record_batch():
                for offset in range(0, batch.num_rows, batch_size):
                    yield batch.slice(offset, batch_size)
        finally:
            cursor.close()

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        query = statement if isinstance(statement, exp.Query) else exp.maybe_parse(
            statement, dialect=self.dialect)
        cursor = self._run(sql.no_rows(query), ())
        try:
            schema = cursor.fetch_arrow_table().schema
        finally:
            cursor.close()
        return [(f.name, sql_type(f.type).sql(dialect=self.dialect)) for f in schema]

    def _types(self, table: exp.Table) -> dict[str, str]:
        rows = self.fetch(column_types(table), [table.name, table.db or None])
        return {str(name): str(kind).upper() for name, kind in rows}

    def table_columns(self, table: exp.Table) -> list[str] | None:
        return list(self._types(table)) or None

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        """Bulk-load into a scratch table, then INSERT ... SELECT by name, parsing JSON text.

        Snowflake's COPY cannot turn text into VARIANT, OBJECT or ARRAY values, so nested
        columns travel as JSON text and are parsed by the INSERT.
        """
        if data.num_rows == 0:
            return 0
        flat, nested = flatten_nested(as_table(data))
        types = self._types(table)
        parse: dict[str, exp.DataType | None] = {}
        for name in flat.schema.names:
            declared = types.get(name, "")
            if declared in _SEMI:
                semi = _SEMI[declared]
                parse[name] = None if semi is None else exp.DataType(this=semi)
            elif name in nested:
                parse[name] = None
        # Upper case: the same name whether or not the driver quotes it.
        scratch = f"_BATCHSQL_IN_{uuid.uuid4().hex.upper()}"
        cursor = self._con.cursor()
        try:
            cursor.adbc_ingest(scratch, flat, mode="create")
        except Exception as e:
            raise WarehouseError(scrub(str(e).strip(), self._secrets)) from None
        finally:
            cursor.close()
        staged = exp.table_(exp.to_identifier(scratch, quoted=True))
        try:
            self.execute(sql.insert_parsed(table, staged, flat.schema.names, parse))
        finally:
            self.execute(sql.drop_table(staged))
        return data.num_rows

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Snowflake commits an open transaction before any DDL (insert_arrow's scratch table):
        # batchsql orders its writes so that this is safe (a request map before its intent).
        self.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        self._con.close()
