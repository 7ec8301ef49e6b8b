"""One local SparkSession for the whole test run, and a fresh set of databases per test.

Starting Spark takes seconds, so the session is shared: small (two cores, one shuffle
partition, no code generation, no UI), with its warehouse and metastore in a temporary folder.
Each test that uses it starts from the empty ``default`` database and has every database it
made dropped.
Without pyspark (``pip install 'batchsql[spark]'``) the tests that need it are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SKIP_REASON = "pyspark is not installed: pip install 'batchsql[spark]'"


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("pyspark", reason=SKIP_REASON)
    from pyspark.sql import SparkSession

    home = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]").appName("batchsql-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "2")
        # Tests run hundreds of small queries over a few rows each: compiling code for every
        # one costs more than it saves (halves the Spark tests' time).
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .config("spark.sql.warehouse.dir", str(home / "warehouse"))
        # Hive's metastore, as a dbt-spark session has it (batchsql makes one the same way).
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home}")
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def drop_databases(session: Any) -> None:
    """Back to an empty ``default`` database: a test's tables must not leak into the next."""
    session.catalog.setCurrentDatabase("default")
    for database in session.catalog.listDatabases():
        if database.name != "default":
            session.sql(f"DROP DATABASE `{database.name}` CASCADE")
    for table in session.catalog.listTables("default"):
        kind = "VIEW" if table.tableType == "VIEW" or table.isTemporary else "TABLE"
        session.sql(f"DROP {kind} IF EXISTS `{table.name}`")


def spark_target(request: pytest.FixtureRequest, _folder: Path) -> dict[str, Any]:
    """A dbt-spark ``method: session`` target on the test run's session."""
    session = request.getfixturevalue("spark_session")
    drop_databases(session)
    request.addfinalizer(lambda: drop_databases(session))
    return {"type": "spark", "method": "session", "schema": "default", "host": "NA"}
