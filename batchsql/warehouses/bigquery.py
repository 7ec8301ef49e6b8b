"""BigQuery through Google's client library (``pip install 'batchsql[bigquery]'``).

Why google-cloud-bigquery rather than ADBC: it is what dbt-bigquery uses, so every dbt ``method``
(oauth, service-account, service-account-json, oauth-secrets, impersonation) maps onto the same
google-auth credentials; results stream as Arrow (``to_arrow_iterable``) and Arrow data is
loaded as Parquet by a load job, without pandas. Parameters are positional ``?``.

Not verified against a live BigQuery here; the SQL it issues is covered by golden tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
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
    is_nested,
    json_text,
    scrub,
    utc,
)

METHODS = ("oauth", "service-account", "service-account-json", "oauth-secrets")
#: dbt-bigquery's default scopes.
SCOPES = ("https://www.googleapis.com/auth/bigquery",
          "https://www.googleapis.com/auth/cloud-platform",
          "https://www.googleapis.com/auth/drive")
_SECRET = ("keyfile_json", "token", "refresh_token", "client_secret")
_SCALAR_NAMES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def connect_args(target: Target, base_dir: Path | None = None) -> ConnectArgs:
    """Client settings and credentials from a dbt-bigquery target (its field names)."""
    method = str(field(target, "method", default="oauth")).strip().lower()
    if method not in METHODS:
        raise ProfileError(f"target '{target.name}': method '{method}' is not one batchsql "
                           f"supports; use one of {', '.join(METHODS)}")
    project = field(target, "project", "database", required=True)
    keyfile = field(target, "keyfile", required=method == "service-account")
    if keyfile and base_dir is not None and not Path(str(keyfile)).expanduser().is_absolute():
        keyfile = str(base_dir / str(keyfile))
    values = {
        "method": method,
        "project": str(project),
        "execution_project": str(field(target, "execution_project", default=project)),
        "dataset": str(field(target, "dataset", "schema", required=True)),
        "location": field(target, "location"),
        "keyfile": str(Path(str(keyfile)).expanduser()) if keyfile else None,
        "keyfile_json": field(target, "keyfile_json",
                              required=method == "service-account-json"),
        "token": field(target, "token"),
        "refresh_token": field(target, "refresh_token"),
        "client_id": field(target, "client_id"),
        "client_secret": field(target, "client_secret"),
        "token_uri": field(target, "token_uri"),
        "scopes": tuple(field(target, "scopes", default=SCOPES)),
        "impersonate_service_account": field(target, "impersonate_service_account"),
        "maximum_bytes_billed": field(target, "maximum_bytes_billed"),
        "priority": str(field(target, "priority", default="interactive")).upper(),
        "job_timeout": field(target, "job_execution_timeout_seconds"),
    }
    if method == "oauth-secrets" and not (values["token"] or values["refresh_token"]):
        raise ProfileError(f"target '{target.name}': method 'oauth-secrets' needs 'token', or "
                           "'refresh_token' with 'client_id', 'client_secret' and 'token_uri'")
    return ConnectArgs(values, secret=_SECRET)


def credentials(args: ConnectArgs) -> Any:
    """google-auth credentials for a dbt ``method`` (imports google-auth, a client dependency)."""
    scopes = list(args["scopes"])
    method = args["method"]
    if method == "service-account":
        sa = require("google.oauth2.service_account", "bigquery")
        creds = sa.Credentials.from_service_account_file(args["keyfile"], scopes=scopes)
    elif method == "service-account-json":
        sa = require("google.oauth2.service_account", "bigquery")
        creds = sa.Credentials.from_service_account_info(args["keyfile_json"], scopes=scopes)
    elif method == "oauth-secrets":
        oauth = require("google.oauth2.credentials", "bigquery")
        creds = oauth.Credentials(args.get("token"), refresh_token=args.get("refresh_token"),
                                  client_id=args.get("client_id"),
                                  client_secret=args.get("client_secret"),
                                  token_uri=args.get("token_uri"), scopes=scopes)
    else:
        creds, _ = require("google.auth", "bigquery").default(scopes=scopes)
    if args.get("impersonate_service_account"):
        impersonated = require("google.auth.impersonated_credentials", "bigquery")
        creds = impersonated.Credentials(source_credentials=creds, target_scopes=scopes,
                                         target_principal=args["impersonate_service_account"])
    return creds


def query_parameter(bigquery: Any, value: Any) -> Any:
    """A positional query parameter with the BigQuery type of a Python value."""
    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, decimal.Decimal):
        kind = "BIGNUMERIC"
    elif isinstance(value, dt.datetime):
        kind, value = "TIMESTAMP", utc(value)  # batchsql's naive timestamps are UTC
    elif isinstance(value, dt.date):
        kind = "DATE"
    elif isinstance(value, bytes):
        kind = "BYTES"
    else:
        kind, value = "STRING", str(value)
    return bigquery.ScalarQueryParameter(None, kind, value)


def field_type(schema_field: Any) -> str:
    """A result column's type in GoogleSQL spelling, from the API's schema field."""
    kind = str(schema_field.field_type).upper()
    kind = _SCALAR_NAMES.get(kind, kind)
    if kind == "STRUCT":
        inner = ", ".join(f"`{f.name}` {field_type(f)}" for f in schema_field.fields)
        kind = f"STRUCT<{inner}>"
    return f"ARRAY<{kind}>" if schema_field.mode == "REPEATED" else kind


def qualify_view(statement: exp.Expression, dataset: str) -> exp.Expression:
    """A CREATE VIEW whose tables all name their dataset.

    A query job resolves bare table names in its default dataset, but a view is stored
    without one: BigQuery refuses a view body that names a table without its dataset.
    """
    if not (isinstance(statement, exp.Create) and statement.kind == "VIEW"):
        return statement
    tree = statement.copy()
    for table in tree.find_all(exp.Table):
        if not table.db:
            table.set("db", exp.to_identifier(dataset, quoted=True))
    return tree


class BigQueryWarehouse(Warehouse):
    """A BigQuery client for one project; unqualified tables are in the target's dataset."""

    dialect = "bigquery"

    def __init__(self, client: Any, args: ConnectArgs) -> None:
        self._bq = require("google.cloud.bigquery", "bigquery")
        self._client = client
        self._args = args
        self._session: str | None = None

    @classmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> BigQueryWarehouse:
        """dbt-bigquery's fields (``method``, ``project``, ``dataset``, ``keyfile``, ...)."""
        args = connect_args(target, base_dir)
        bigquery = require("google.cloud.bigquery", "bigquery")
        try:
            client = bigquery.Client(project=args["execution_project"],
                                     credentials=credentials(args),
                                     location=args.get("location"))
        except WarehouseError:
            raise
        except Exception as e:
            raise WarehouseError(f"cannot open BigQuery project {args['project']!r}: "
                                 f"{scrub(str(e), args.secrets())}") from None
        return cls(client, args)

    def __repr__(self) -> str:
        return f"BigQueryWarehouse(project={self._args['project']!r})"

    def _config(self, params: Sequence[Any] = (), **options: Any) -> Any:
        config = self._bq.QueryJobConfig(
            query_parameters=[query_parameter(self._bq, p) for p in params],
            default_dataset=f"{self._args['project']}.{self._args['dataset']}",
            priority=self._args["priority"], **options)
        if self._args.get("maximum_bytes_billed"):
            config.maximum_bytes_billed = int(self._args["maximum_bytes_billed"])
        if self._session is not None:
            config.connection_properties = [
                self._bq.ConnectionProperty("session_id", self._session)]
        return config

    def _job(self, statement: Statement, params: Sequence[Any], **options: Any) -> Any:
        if isinstance(statement, exp.Expression):
            statement, params = bind_nulls(statement, params)
            statement = qualify_view(statement, self._args["dataset"])
        text = self.render(statement)
        timeout = self._args.get("job_timeout")
        try:
            job = self._client.query(text, job_config=self._config(params, **options))
            if not options.get("dry_run"):
                job.result(timeout=float(timeout) if timeout else None)
            return job
        except Exception as e:
            raise WarehouseError(scrub(str(e).strip(), self._args.secrets())) from None

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self._job(statement, params)

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self._job(statement, params).result()]

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        rows = self._job(statement, params).result(page_size=batch_size)
        yield from rows.to_arrow_iterable()

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        """The result's columns from a dry run: nothing is read or billed."""
        job = self._job(statement, (), dry_run=True, use_query_cache=False)
        return [(f.name, field_type(f)) for f in job.schema or []]

    def _ref(self, table: exp.Table) -> str:
        return ".".join([table.catalog or self._args["project"],
                         table.db or self._args["dataset"], table.name])

    def _schema(self, table: exp.Table) -> list[Any] | None:
        try:
            return list(self._client.get_table(self._ref(table)).schema)
        except Exception as e:
            if type(e).__name__ == "NotFound":
                return None
            raise WarehouseError(scrub(str(e).strip(), self._args.secrets())) from None

    def table_columns(self, table: exp.Table) -> list[str] | None:
        schema = self._schema(table)
        return None if schema is None else [f.name for f in schema]

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        """Load the data as Parquet into a scratch table, then INSERT ... SELECT by name.

        A load job cannot fill JSON columns from text, so those are parsed by the INSERT.
        """
        if data.num_rows == 0:
            return 0
        data = as_table(data)
        declared = {f.name: str(f.field_type).upper() for f in self._schema(table) or []}
        parse: dict[str, exp.DataType | None] = {}
        for i, f in enumerate(data.schema):
            if declared.get(f.name) == "JSON":
                parse[f.name] = None
                if is_nested(f.type):
                    data = data.set_column(i, f.name, json_text(data.column(i)))
            elif pa.types.is_timestamp(f.type) and f.type.tz is None:
                # Parquet marks naive timestamps as local: BigQuery would read DATETIME.
                data = data.set_column(i, f.name, data.column(i).cast(pa.timestamp(
                    f.type.unit, tz="UTC")))
        scratch = exp.table_(exp.to_identifier(f"_batchsql_in_{uuid.uuid4().hex}", quoted=True),
                             db=exp.to_identifier(table.db or self._args["dataset"],
                                                  quoted=True),
                             catalog=table.args.get("catalog"))
        buffer = io.BytesIO()
        pq.write_table(data, buffer)
        buffer.seek(0)
        config = self._bq.LoadJobConfig(
            source_format="PARQUET", write_disposition="WRITE_TRUNCATE",
            parquet_options=self._parquet_options())
        try:
            try:
                self._client.load_table_from_file(buffer, self._ref(scratch),
                                                  job_config=config).result()
            except Exception as e:
                raise WarehouseError(scrub(str(e).strip(), self._args.secrets())) from None
            self.execute(sql.insert_parsed(table, scratch, data.schema.names, parse))
        finally:
            self._client.delete_table(self._ref(scratch), not_found_ok=True)
        return data.num_rows

    def _parquet_options(self) -> Any:
        options = self._bq.ParquetOptions()
        options.enable_list_inference = True  # list<T> is ARRAY<T>, not STRUCT<list ARRAY<...>>
        return options

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A multi-statement transaction, which BigQuery runs only inside a session."""
        if self._session is not None:
            yield
            return
        job = self._job("BEGIN TRANSACTION", (), create_session=True)
        self._session = job.session_info.session_id
        try:
            yield
        except BaseException:
            with contextlib.suppress(WarehouseError):  # the original error is the one to see
                self._end("ROLLBACK TRANSACTION")
            raise
        self._end("COMMIT TRANSACTION")

    def _end(self, statement: str) -> None:
        try:
            self._job(statement, ())
            self._job("CALL BQ.ABORT_SESSION()", ())
        finally:
            self._session = None

    def close(self) -> None:
        self._client.close()
