"""Names with capitals, spaces and reserved words work everywhere, end to end on DuckDB."""

from __future__ import annotations

import pyarrow as pa

from batchsql import api

from .conftest import TICKETS, Project

N = len(TICKETS)

SPEC = """\
name: awkward
source:
  table: '"Raw Data"."from"'
  key: [Order ID, group]
prompt:
  user: "Subject: {{ Subject }}"
model: gpt-4o-mini
output:
  table: '"My Schema"."select"'
  columns:
    Label: {type: string, enum: [billing, bug, feature_request, account, other]}
    order: {type: string}
"""


def test_awkward_names_run_and_the_current_view_is_queryable(project: Project) -> None:
    where = {"project_dir": project.dir, "profiles_dir": project.dir}
    project.load('"Raw Data"."from"', pa.table({
        "Order ID": pa.array([t[0] for t in TICKETS], pa.int64()),
        "group": pa.array([t[0] % 2 for t in TICKETS], pa.int64()),
        "Subject": pa.array([t[1] for t in TICKETS], pa.string())}))
    project.write_spec(SPEC)
    before = api.plan(project.spec, show=1, **where)
    assert (before.pending, before.requests) == (N, N)
    assert set(before.samples[0].key) == {"Order ID", "group"}
    first = project.run()
    assert (first.selected, first.succeeded, first.failed) == (N, N, 0)

    rows = project.query('select "Order ID", "group", "Label", "order" '
                         'from "My Schema"."select_current" order by "Order ID"')
    assert [(r[0], r[1]) for r in rows] == [(t[0], t[0] % 2) for t in TICKETS]
    assert all(r[2] and r[3] for r in rows)
    tables = {r[0] for r in project.query(
        "select table_name from information_schema.tables where table_schema = 'My Schema'")}
    assert {"select", "select_current", "_batchsql_batches", "_batchsql_runs",
            "_batchsql_locks", "_batchsql_select_requests"} <= tables

    again = project.run()  # the anti-join matched every key: nothing is pending
    assert (again.selected, again.submitted) == (0, 0)
    assert project.query('select count(*) from "My Schema"."select"') == [(N,)]
    assert api.plan(project.spec, **where).pending == 0
