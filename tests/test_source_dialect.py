"""source.dialect: source SQL written in another dialect is transpiled to the warehouse's."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from batchsql.errors import SpecError
from batchsql.runner.source import source_query
from batchsql.spec import load_spec

from .conftest import SPEC, TICKETS, Project

N = len(TICKETS)


def with_source(source: str) -> str:
    """The test spec with its source block replaced."""
    start = SPEC.index("source:")
    end = SPEC.index("prompt:")
    return SPEC[:start] + textwrap.dedent(source) + SPEC[end:]


@pytest.mark.parametrize("source", [
    pytest.param("""\
        source:
          dialect: postgres
          sql: |
            select ticket_id::bigint as ticket_id, subject::text as subject, body
            from raw.tickets
            where subject ~ '.' and body ilike '%%'
          key: ticket_id
        """, id="postgres"),
    pytest.param("""\
        source:
          dialect: snowflake
          sql: |
            select ticket_id, iff(length(subject) > 0, subject, 'none') as subject, body
            from raw.tickets
            qualify row_number() over (partition by ticket_id order by ticket_id) = 1
          key: ticket_id
        """, id="snowflake"),
])
def test_a_source_in_another_dialect_runs_on_duckdb(project: Project, source: str) -> None:
    project.write_spec(with_source(source))
    summary = project.run()
    assert (summary.selected, summary.succeeded, summary.failed) == (N, N, 0)
    rows = project.query("select ticket_id, label from analytics.labels_current "
                         "order by ticket_id")
    assert [r[0] for r in rows] == [t[0] for t in TICKETS]
    assert all(r[1] for r in rows)


def test_without_dialect_the_source_is_read_in_the_warehouses_dialect(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text(with_source("""\
        source:
          sql: select ticket_id, iff(body = '', subject, body) as body from raw.tickets
          key: ticket_id
        """))
    # IFF is Snowflake's: read as DuckDB SQL it stays an unknown function call.
    assert "IFF(" in source_query(load_spec(path), "duckdb").sql(dialect="duckdb")
    path.write_text(path.read_text().replace("  sql:", "  dialect: snowflake\n  sql:"))
    assert "CASE WHEN" in source_query(load_spec(path), "duckdb").sql(dialect="duckdb")


@pytest.mark.parametrize(("source", "line", "message"), [
    ("""\
        source:
          dialect: postgresql
          sql: select ticket_id, subject, body from raw.tickets
          key: ticket_id
        """, 3, "unknown SQL dialect 'postgresql' (did you mean 'postgres'?)"),
    ("""\
        source:
          dialect: snowflake
          sql: select ticket_id, subject, body from raw.tickets where (
          key: ticket_id
        """, 4, "source sql does not parse as snowflake SQL"),
    ("""\
        source:
          dialect: postgres
          sql: select ticket_id, subject, body from raw.tickets for update
          key: ticket_id
        """, 4, "source sql cannot be transpiled into duckdb: Locking reads"),
])
def test_source_dialect_errors_name_the_line(tmp_path: Path, source: str, line: int,
                                             message: str) -> None:
    path = tmp_path / "x.yml"
    path.write_text(with_source(source))
    with pytest.raises(SpecError) as caught:
        source_query(load_spec(path), "duckdb")
    assert f"x.yml:{line}:" in str(caught.value)
    assert message in str(caught.value)
