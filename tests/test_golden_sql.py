"""Golden SQL: every statement batchsql issues, rendered for every warehouse dialect.

``tests/golden/<dialect>/<statement>.sql`` holds the expected rendering, with a header that
says what an engine needs to know about it. A change to a builder shows up as a readable diff;
after reviewing it against the engines' SQL references, regenerate with
``BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py``.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from tests.sql_catalogue import DIALECTS, USER_SQL, statements

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BATCHSQL_UPDATE_GOLDEN") == "1"

#: Facts an engine's reader of a golden file needs, by dialect (all its files) or
#: (dialect, statement). Every one was checked against that engine's SQL reference.
NOTES: dict[str | tuple[str, str], str] = {
    "postgres": "Placeholders are %s (psycopg). A view can only gain columns at its end on "
                "CREATE OR REPLACE VIEW: the output table only ever gains columns, at its end.",
    "spark": "UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); "
             "plain Parquet or Hive tables cannot run them.",
    "snowflake": "Every identifier and alias is quoted: Snowflake folds unquoted names to upper "
                 "case, so names keep their spec spelling and must be quoted when queried. "
                 "Placeholders are ? (qmark binding).",
    "bigquery": "CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders "
                "are positional ?; NULL values are bound as NULL literals, since BigQuery needs "
                "a type for every parameter.",
    "databricks": "Placeholders are native positional ? (Databricks Runtime 14.2 or later, at "
                  "most 255 per statement).",
    ("postgres", "source_from_postgres"): "A % in source SQL is safe because the source runs "
                                          "without parameters: psycopg reads % as a placeholder "
                                          "only when parameters are passed (pass None, not []).",
    ("bigquery", "create_output_table"): "BigQuery cannot store a NULL element inside an ARRAY "
                                         "(loading such an answer fails) and reads a NULL array "
                                         "back as an empty one.",
    ("bigquery", "current_view"): "A view is stored without a default dataset: the adapter "
                                  "names the target's dataset for any table given without one.",
    ("databricks", "insert_arrow"): "Rows are written by INSERTs of at most 255 bound values "
                                    "(the server's limit); nested values arrive as JSON text.",
    ("snowflake", "insert_arrow"): "The scratch table is bulk-loaded by ADBC (Parquet, PUT, "
                                   "COPY); COPY cannot fill ARRAY, OBJECT or VARIANT from text, "
                                   "so the INSERT parses it.",
    ("spark", "create_lock_table"): "No PRIMARY KEY: Spark has no table constraints; the lock "
                                    "reads its rows back, which keeps two runs apart.",
    ("databricks", "create_lock_table"): "No PRIMARY KEY: Databricks accepts one only on Unity "
                                         "Catalog tables and never enforces it; the lock reads "
                                         "its rows back, which keeps two runs apart.",
    ("snowflake", "create_lock_table"): "Snowflake records the PRIMARY KEY but does not enforce "
                                        "it; the lock reads its rows back, which keeps two runs "
                                        "apart.",
    ("bigquery", "create_lock_table"): "BigQuery accepts only an unenforced PRIMARY KEY; the lock "
                                       "reads its rows back, which keeps two runs apart.",
}


def header(dialect: str, name: str) -> str:
    lines = [f"-- batchsql golden SQL: {name}, {dialect} dialect.",
             "-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py"]
    for note in (NOTES.get(dialect), NOTES.get((dialect, name))):
        if note:
            words, line = note.split(), "--"
            for word in words:
                if len(line) + len(word) + 1 > 99:
                    lines.append(line)
                    line = "--"
                line += " " + word
            lines.append(line)
    return "\n".join(lines) + "\n"


def golden_text(dialect: str, name: str, statement: exp.Expression) -> str:
    return header(dialect, name) + statement.sql(dialect=dialect, pretty=True) + ";\n"


CASES = [(d, name) for d in DIALECTS for name in statements(d)]


@pytest.fixture(scope="module")
def catalogue() -> dict[str, dict[str, exp.Expression]]:
    return {d: statements(d) for d in DIALECTS}


@pytest.mark.parametrize(("dialect", "name"), CASES, ids=[f"{d}-{n}" for d, n in CASES])
def test_golden(catalogue: dict[str, dict[str, exp.Expression]], dialect: str,
                name: str) -> None:
    path = GOLDEN / dialect / f"{name}.sql"
    actual = golden_text(dialect, name, catalogue[dialect][name])
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run with BATCHSQL_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            f"golden/{dialect}/{name}.sql", "rendered now"))
        pytest.fail(f"the {dialect} rendering of {name} changed:\n{diff}\nIf the change is "
                    "intended, regenerate with BATCHSQL_UPDATE_GOLDEN=1", pytrace=False)


def test_no_stray_golden_files() -> None:
    """A golden file whose statement is gone would silently stop being checked."""
    expected = {f"{d}/{n}.sql" for d, n in CASES}
    found = {f"{p.parent.name}/{p.name}" for p in GOLDEN.glob("*/*.sql")}
    assert found - expected == set()
    assert {p.name for p in GOLDEN.iterdir()} == set(DIALECTS)


#: Renderings sqlglot reads back in another spelling of the same statement, and why ours stands.
SPELLED_OTHERWISE = {
    ("spark", "current_catalog"): "sqlglot re-renders current_catalog() as the bare keyword "
                                  "CURRENT_CATALOG; Spark documents the call with parentheses",
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_statement_parses_back_in_its_dialect(
        catalogue: dict[str, dict[str, exp.Expression]], dialect: str) -> None:
    """Each rendering is SQL its dialect reads, and reads as the same statement."""
    for name, statement in catalogue[dialect].items():
        text = statement.sql(dialect=dialect)
        parsed = sqlglot.parse(text, read=dialect)
        assert len(parsed) == 1 and parsed[0] is not None, name
        assert type(parsed[0]) is type(statement), name
        again = parsed[0].sql(dialect=dialect)
        if (dialect, name) in SPELLED_OTHERWISE:
            assert again != text, f"{name} now round-trips: drop it from SPELLED_OTHERWISE"
            assert sqlglot.parse_one(again, read=dialect).sql(dialect=dialect) == again
        else:
            assert again == text, name


_FORBIDDEN = re.compile(r"\bMERGE\b|\bON\s+CONFLICT\b|\bINSERT\s+OR\s+REPLACE\b|\bREPLACE\s+INTO\b"
                        r"|\bCREATE\s+OR\s+REPLACE\s+TABLE\b|\bTRY_CAST\b|\bUPSERT\b",
                        re.IGNORECASE)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_statement_uses_constructs_that_do_not_transpile(
        catalogue: dict[str, dict[str, exp.Expression]], dialect: str) -> None:
    """MERGE, ON CONFLICT and friends mean different things (or nothing) across engines."""
    for name, statement in catalogue[dialect].items():
        assert not list(statement.find_all(exp.Merge, exp.OnConflict, exp.TryCast)), name
        text = statement.sql(dialect=dialect)
        assert not _FORBIDDEN.search(text), (name, text)
        if isinstance(statement, exp.Create):
            assert not (statement.args.get("replace") and statement.kind == "TABLE"), name


def test_forbidden_pattern_catches_what_it_should() -> None:
    for text in ("MERGE INTO t USING s ON 1 = 1", "insert into t values (1) on conflict do "
                 "nothing", "INSERT OR REPLACE INTO t VALUES (1)",
                 "create or replace table t (a int)", "select try_cast(a as int)"):
        assert _FORBIDDEN.search(text), text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_name_is_quoted(catalogue: dict[str, dict[str, exp.Expression]],
                              dialect: str) -> None:
    """Capitals, spaces and reserved words survive: every identifier is quoted, aliases too."""
    for name, statement in catalogue[dialect].items():
        if name in USER_SQL:
            continue
        bare = [i.name for i in statement.find_all(exp.Identifier)
                if not i.quoted and not isinstance(i.parent, exp.Var)]
        assert bare == [], (name, bare)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_placeholders_follow_the_text(catalogue: dict[str, dict[str, exp.Expression]],
                                      dialect: str) -> None:
    """Parameters are bound by position, so the tree's order of placeholders (which adapters
    walk to bind NULLs) must be the order they appear in the rendered text."""
    for name, statement in catalogue[dialect].items():
        tree = statement.copy()
        for i, placeholder in enumerate(tree.find_all(exp.Placeholder, bfs=False)):
            placeholder.replace(exp.Literal.string(f"param-{i:03d}"))
        seen = re.findall(r"param-(\d{3})", tree.sql(dialect=dialect))
        assert seen == sorted(seen), name
