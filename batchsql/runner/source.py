"""The source side of a run: check it against the spec, render its rows into the stage."""

from __future__ import annotations

import jinja2
import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

from batchsql import plan, sql, tokens
from batchsql.errors import BatchsqlError, SpecError
from batchsql.prompts import Prompt
from batchsql.spec import Spec, line_of
from batchsql.timings import Phases
from batchsql.warehouses.base import Warehouse

#: Rows read, rendered and written per Arrow slice: bounds memory whatever the table size.
ROWS_PER_SLICE = 10_000

#: Columns the stage adds to the key: what each row's request is and whether it rendered.
STAGE_META = (("_fingerprint", "varchar"), ("_body", "varchar"), ("_est_tokens", "bigint"),
              ("_error", "varchar"))


def source_query(spec: Spec, dialect: str | None) -> exp.Query:
    """The spec's source as a sqlglot query for a warehouse of ``dialect``.

    Written in ``source.dialect`` (when given), it is parsed in that dialect and so transpiled:
    the tree renders in the warehouse's dialect at the edge. A source that does not parse, or
    uses what the warehouse's dialect cannot express, is a SpecError naming the spec line.
    """
    src = spec.source
    name = "sql" if src.sql is not None else "table"
    written = src.dialect or dialect
    try:
        query = sql.select_source(src.sql, src.table, written)
        if src.dialect is not None and src.dialect != dialect:
            query.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except (SqlglotError, ValueError) as e:
        detail = f" as {written} SQL" if written else ""
        target = f" into {dialect}" if src.dialect is not None and dialect else ""
        problem = ("cannot be transpiled" + target if isinstance(e, UnsupportedError)
                   else "does not parse" + detail)
        raise SpecError(f"source {name} {problem}: {_first_line(e)}", path=spec.path,
                        line=line_of(spec, "source", name)) from e
    return query


def _first_line(error: Exception) -> str:
    """sqlglot's message without the highlighted copy of the whole query it may append."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def source_columns(source: exp.Query, columns: list[str]) -> exp.Select:
    """The columns a run reads from the source (each once, in order)."""
    return (exp.select(*(sql.col(c) for c in dict.fromkeys(columns)))
            .from_(source.subquery(sql.alias("_batchsql_source"))))


def check_source(spec: Spec, prompt: Prompt,
                 wh: Warehouse) -> tuple[exp.Query, list[tuple[str, str]]]:
    """Describe the source in the warehouse and check keys and template variables against it."""
    query = source_query(spec, wh.dialect)
    field_name = "sql" if spec.source.sql is not None else "table"
    try:
        described = wh.describe(query)
    except BatchsqlError as e:
        raise SpecError(f"the warehouse cannot run the source: {e}", path=spec.path,
                        line=line_of(spec, "source", field_name)) from e
    names = [n for n, _ in described]
    missing = [k for k in spec.source.key if k not in names]
    if missing:
        raise SpecError(
            f"key column '{missing[0]}' is not a column of the source; columns are: "
            f"{', '.join(names)}", path=spec.path, line=line_of(spec, "source", "key"))
    prompt.check_columns(names)
    return query, described


class Renderer:
    """Source rows -> stage rows (key, fingerprint, canonical request body, token estimate)."""

    def __init__(self, spec: Spec, prompt: Prompt, url: str) -> None:
        self.spec = spec
        self.prompt = prompt
        self.url = url
        self.key = list(spec.source.key)

    def render(self, batch: pa.RecordBatch) -> pa.Table:
        """One Arrow slice of source rows rendered into stage rows."""
        fingerprints, bodies, counts, errors = [], [], [], []
        for row in batch.to_pylist():
            try:
                messages = self.prompt.render(row)
            except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as e:
                # A row that cannot render is an outcome, not a crash: it fails, and is retried
                # (and given up) like any other failure.
                message = f"template error: {e}"
                fingerprints.append(plan.fingerprint(self.url, message))
                bodies.append(None)
                counts.append(0)
                errors.append(message)
                continue
            request = plan.build_body(self.spec, messages)
            body = plan.canonical_json(request)
            fingerprints.append(plan.fingerprint(self.url, body))
            bodies.append(body)
            counts.append(tokens.count_input_tokens(self.url, request))
            errors.append(None)
        return pa.table({
            **{k: batch.column(k) for k in self.key},
            "_fingerprint": pa.array(fingerprints, pa.string()),
            "_body": pa.array(bodies, pa.string()),
            "_est_tokens": pa.array(counts, pa.int64()),
            "_error": pa.array(errors, pa.string()),
        })


def render_stage(wh: Warehouse, spec: Spec, prompt: Prompt, renderer: Renderer,
                 source: exp.Query, stage: exp.Table,
                 key_types: list[tuple[str, exp.DataType]], phases: Phases) -> None:
    """Render every source row into a fresh stage table; refuse duplicate or NULL keys."""
    key = list(spec.source.key)
    query = source_columns(source, [*key, *sorted(prompt.variables())])
    wh.execute(sql.drop_table(stage))
    wh.execute(sql.create_table(stage, [
        *key_types, *((n, sql.dtype(t, wh.dialect)) for n, t in STAGE_META)]))
    for batch in phases.iterate("select", wh.stream(query, batch_size=ROWS_PER_SLICE)):
        with phases("render"):
            wh.insert_arrow(stage, renderer.render(batch))
        phases.count("render", batch.num_rows)
    with phases("select"):
        duplicates = wh.fetch(sql.duplicate_keys(stage, key))
    if duplicates:
        shown = ", ".join(str(row[:-1] if len(key) > 1 else row[0]) for row in duplicates)
        raise SpecError(
            f"source.key ({', '.join(key)}) does not identify rows: duplicate or NULL keys "
            f"such as {shown}", path=spec.path, line=line_of(spec, "source", "key"),
            hint="pick columns that are unique and never NULL")
