"""Shared fixtures: a real emulator over HTTP, real warehouses, a small example project.

Tests that take the ``project`` fixture run once per warehouse in ``WAREHOUSES`` (DuckDB, and
the others whose servers the suite can start), unless marked ``@pytest.mark.warehouses(...)``
with the ones they apply to (e.g. a test of DuckDB's file lock). Warehouses in ``OPT_IN`` run
only the tests whose marker names them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pyarrow as pa
import pytest
from sqlglot import exp

from batchsql import api, sql
from batchsql.emulator import EmulatorServer, Faults
from batchsql.profiles import load_target
from batchsql.runner import RunSummary
from batchsql.warehouses import Warehouse, connect

from . import pgserver
from .sparksession import spark_session, spark_target  # noqa: F401  (spark_session: a fixture)

_SQL_OF_ARROW = {pa.int64(): "bigint", pa.string(): "varchar", pa.float64(): "double",
                 pa.bool_(): "boolean"}

TICKETS = [
    (1, "Charged twice", "My invoice shows a double charge on the card. Please refund."),
    (2, "App crashes", "The app crashes with an error every time I export a report."),
    (3, "Dark mode please", "Feature request: it would be great to have a dark mode."),
    (4, "Password reset", "I cannot log in to my account, the password reset email never came."),
    (5, "Hello", "Just wanted to say thanks for the great support last week."),
    (6, "Refund for VAT", "The invoice VAT is wrong, I was billed the wrong amount."),
    (7, "Slow page", "The dashboard page is very slow and shows an error 502 sometimes."),
    (8, "Überweisung", "Die Rechnung wurde doppelt abgebucht – bitte erstatten. 😊"),
]

SPEC = """\
name: labels
source:
  sql: select ticket_id, subject, body from raw.tickets
  key: ticket_id
prompt:
  system: You label tickets.
  user: |
    Subject: {{ subject }}
    {{ body }}
model: gpt-4o-mini
params: {temperature: 0}
output:
  table: analytics.labels
  columns:
    label: {type: string, enum: [billing, bug, feature_request, account, other]}
    summary: {type: string}
max_attempts: 3
"""


#: Profile target fields (dbt's names) of a fresh warehouse for one test's project folder.
TargetFor = Callable[[pytest.FixtureRequest, Path], dict[str, Any]]


def duckdb_target(_request: pytest.FixtureRequest, folder: Path) -> dict[str, Any]:
    return {"type": "duckdb", "path": "warehouse.duckdb"}


#: The test server's password reaches profiles through env_var(), as a user's would.
PG_PASSWORD_VAR = "BATCHSQL_TEST_PG_PASSWORD"


def postgres_target(request: pytest.FixtureRequest, folder: Path) -> dict[str, Any]:
    """A fresh database on the suite's PostgreSQL server, dropped after the test."""
    server: pgserver.PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    request.addfinalizer(lambda: server.drop_database(name))
    return {"type": "postgres", "host": server.host, "port": server.port, "user": server.user,
            "password": f"{{{{ env_var('{PG_PASSWORD_VAR}') }}}}", "dbname": name,
            "schema": "public"}


#: The warehouses a ``project`` test can run on.
WAREHOUSES: dict[str, TargetFor] = {"duckdb": duckdb_target, "postgres": postgres_target,
                                    "spark": spark_target}
#: Warehouses only tests that name them in the marker run on: a Spark statement takes a
#: Spark job, so Spark runs the end-to-end tests the marker picks, not the whole suite.
OPT_IN = ("spark",)
#: The marker of a test that runs on Spark as well as on every other warehouse.
EVERYWHERE = pytest.mark.warehouses("duckdb", "postgres", "spark")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "warehouse" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("warehouses")
        wanted = marker.args if marker else tuple(w for w in WAREHOUSES if w not in OPT_IN)
        metafunc.parametrize("warehouse", [w for w in wanted if w in WAREHOUSES])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    """The suite's PostgreSQL server, started once from the installed binaries.

    Without binaries (or the driver) PostgreSQL tests are skipped, except on CI (``CI`` set),
    where .ci/run installs them and a skip would hide that they did not run.
    """
    bindir = pgserver.find_bindir()
    missing = None
    if bindir is None:
        missing = ("no PostgreSQL binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin,"
                   " $BATCHSQL_PG_BINDIR or PATH; install the Debian package 'postgresql'")
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            missing = "the PostgreSQL driver is missing: pip install -e '.[test]'"
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    assert bindir is not None
    server = pgserver.start(bindir)
    os.environ[PG_PASSWORD_VAR] = server.password  # subprocess CLIs inherit it
    try:
        yield server
    finally:
        server.stop()
        os.environ.pop(PG_PASSWORD_VAR, None)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(state_dir=tmp_path / "emulator", faults=Faults()) as server:
        yield server


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulator with no faults, for tests that drive it with the SDK directly."""
    with EmulatorServer(tmp_path / "state") as server:
        yield server


@pytest.fixture
def client(srv: EmulatorServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)


@dataclass
class Project:
    """A project folder with tickets, a spec and a profile pointing at the test's emulator."""

    dir: Path
    emulator: EmulatorServer
    warehouse: str = "duckdb"

    @property
    def spec(self) -> Path:
        return self.dir / "models" / "labels.yml"

    @property
    def db(self) -> Path:
        return self.dir / "warehouse.duckdb"

    def write_spec(self, text: str) -> Path:
        self.spec.write_text(text)
        return self.spec

    def write_tickets(self, rows: list[tuple[Any, ...]]) -> None:
        """Replace the source table ``raw.tickets`` with these (ticket_id, subject, body)."""
        ids, subjects, bodies = (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 3
        self.load("raw.tickets", pa.table({
            "ticket_id": pa.array(ids, pa.int64()), "subject": pa.array(subjects, pa.string()),
            "body": pa.array(bodies, pa.string())}))

    def load(self, name: str, data: pa.Table) -> None:
        """Replace a table of the project's warehouse with Arrow data, through batchsql."""
        table = sql.parse_table(name)
        with self.connect() as wh:
            if table.db:
                wh.execute(sql.create_schema(table))
            wh.execute(sql.drop_table(table))
            wh.execute(sql.create_table(table, [
                (f.name, exp.DataType.build(_SQL_OF_ARROW[f.type])) for f in data.schema]))
            wh.insert_arrow(table, data)

    def connect(self) -> Warehouse:
        """The project's warehouse, as batchsql opens it."""
        target = load_target(profiles_dir=self.dir, project_dir=self.dir)
        return connect(target, base_dir=self.dir)

    def set_provider(self, **settings: Any) -> None:
        """Add keys to the test target's batchsql mapping in profiles.yml."""
        lines = "".join(f"        {k}: {v}\n" for k, v in settings.items())
        profiles = self.dir / "profiles.yml"
        profiles.write_text(profiles.read_text() + lines)

    def run(self, **options: Any) -> RunSummary:
        return api.run(self.spec, project_dir=self.dir, profiles_dir=self.dir, **options)

    def query(self, text: str) -> list[tuple[Any, ...]]:
        """Rows of a query in the warehouse's own SQL (written portably where possible)."""
        with self.connect() as wh:
            return wh.fetch(text)


@pytest.fixture
def project(tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch,
            request: pytest.FixtureRequest, warehouse: str) -> Project:
    folder = tmp_path / "project"
    (folder / "models").mkdir(parents=True)
    fields = "".join(f"      {k}: {json.dumps(v)}\n"
                     for k, v in WAREHOUSES[warehouse](request, folder).items())
    (folder / "profiles.yml").write_text(
        "batchsql:\n  target: test\n  outputs:\n    test:\n" + fields
        + "      batchsql:\n"
        + "        provider: emulator\n"
        + f"        base_url: {emulator.base_url}\n"
        + "        poll_interval: 0.2\n")
    # Relative paths in specs and profiles resolve against the working folder, as for a user.
    monkeypatch.chdir(folder)
    proj = Project(folder, emulator, warehouse)
    proj.write_tickets(TICKETS)
    proj.write_spec(SPEC)
    return proj
