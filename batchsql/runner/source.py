"""The source side of a run: check it against the spec, render its rows into the stage."""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jinja2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

from batchsql import plan, sql, stage_sql, tokens
from batchsql.bodies import BodyFile
from batchsql.errors import BatchsqlError, SpecError
from batchsql.prompts import Prompt
from batchsql.render_sql import SqlRenderer, compile_renderer
from batchsql.spec import Spec, line_of
from batchsql.timings import Phases
from batchsql.warehouses.base import Warehouse

#: Rows read, rendered and written per Arrow slice: bounds memory whatever the table size.
#: Larger slices render faster (1M rows: 5.7-6.6 s in slices of 10,000, 4.7-4.9 s in 25,000,
#: fewer queries for DuckDB to plan) but each one in flight holds more: the peak RSS of
#: rendering was 0.7 GB, then 1.0 GB, too much for a flat-memory run of 1M rows.
ROWS_PER_SLICE = 10_000

#: Stage inserts queued for the inserting thread at most (each a slice's rows, ~1.5 MB).
INSERTS_AHEAD = 2

#: Columns the stage adds to the key: the hash of the row's template inputs, its request's
#: fingerprint and input tokens, why it did not render, and where the run that rendered it
#: keeps its body (run id, row number: see ``batchsql.bodies``).
STAGE_META = (("_input", "varchar"), ("_fingerprint", "varchar"), ("_est_tokens", "bigint"),
              ("_error", "varchar"), ("_spool", "varchar"), ("_seq", "bigint"))

#: Bump when a batchsql change alters what a row renders to: every cached render is redone.
RENDER_VERSION = 1


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


@dataclass
class Prepared:
    """A slice of source rows, its SQL renderer (None: Jinja renders every row) and what that
    rendered: bodies, and which rows are left to Jinja."""

    batch: pa.RecordBatch
    fast: SqlRenderer | None
    made: tuple[pa.ChunkedArray, pa.ChunkedArray] | None


class Renderer:
    """Source rows -> stage rows (key, input hash, fingerprint, request body, input tokens).

    With ``exact`` every row's input tokens are counted (``batchsql plan``); otherwise a sample
    of each slice is counted and the rest are scaled from it by body length: counting costs
    about 50 us a row (parsing the body, tokenizing its texts), more than everything else a
    row costs, and a run needs exact counts only where a budget or a token quota decides
    (there the chunk writer counts what it sends).
    """

    #: One row in this many is counted exactly when estimating...
    SAMPLE_EVERY = 50
    #: ...and no more than this many rows of a slice: enough for the tokens-per-byte ratio.
    SAMPLE_ROWS = 50

    def __init__(self, spec: Spec, prompt: Prompt, url: str, *, exact: bool = False) -> None:
        self.spec = spec
        self.prompt = prompt
        self.url = url
        self.exact = exact
        self.key = list(spec.source.key)
        # Simple prompts render in SQL (render_sql), compiled once for the slices' schema;
        # None: the prompt (or a column type) needs Jinja for every row.
        self._sql: dict[pa.Schema, SqlRenderer | None] = {}

    def render(self, batch: pa.RecordBatch) -> pa.Table:
        """One Arrow slice of source rows rendered into stage rows."""
        return self.finish(self.prepare(batch))

    def prepare(self, batch: pa.RecordBatch) -> Prepared:
        """The SQL half of rendering a slice (see render_sql): DuckDB's work, mostly without
        the GIL, so a worker thread can do it while this one finishes the slice before."""
        fast = self._sql_renderer(batch.schema)
        return Prepared(batch, fast, fast.bodies(batch) if fast is not None else None)

    def finish(self, prepared: Prepared) -> pa.Table:
        """The rest: fingerprints, the rows only Jinja renders, token counts."""
        batch, fast = prepared.batch, prepared.fast
        if fast is None or prepared.made is None:
            fingerprints, bodies, errors, requests = self._jinja(batch.to_pylist())
        else:
            made, python = prepared.made
            jinja = python.to_numpy(zero_copy_only=False)
            fingerprints = fast.fingerprints(made).combine_chunks()
            bodies = made.combine_chunks()
            errors = pa.nulls(batch.num_rows, pa.string())
            requests = None
            if jinja.any():  # rows SQL does not vouch for: Jinja renders them
                rows = np.nonzero(jinja)[0]
                picked = batch.take(pa.array(rows)).to_pylist()
                fp, body, error, _ = self._jinja(picked)
                mask = pa.array(jinja)
                fingerprints = pc.replace_with_mask(fingerprints, mask, pa.array(fp, pa.string()))
                bodies = pc.replace_with_mask(bodies, mask, pa.array(body, pa.string()))
                errors = pc.replace_with_mask(errors, mask, pa.array(error, pa.string()))
        body = _strings(bodies)
        return pa.table({
            **{k: batch.column(k) for k in self.key},
            "_input": batch.column("_input"),
            "_fingerprint": _strings(fingerprints),
            "_body": body,
            "_est_tokens": self.count(body, requests),
            "_error": _strings(errors),
        })

    def close(self) -> None:
        """Release the SQL renderers' private DuckDB connections."""
        for fast in self._sql.values():
            if fast is not None:
                fast.close()
        self._sql.clear()

    def _sql_renderer(self, schema: pa.Schema) -> SqlRenderer | None:
        if schema not in self._sql:
            self._sql[schema] = compile_renderer(self.spec, self.prompt, schema)
        return self._sql[schema]

    def _jinja(self, rows: list[dict[str, Any]]) -> tuple[list[str], list[str | None],
                                                          list[str | None],
                                                          list[dict[str, Any] | None]]:
        """Fingerprints, bodies, errors and request dicts of rows rendered with Jinja."""
        fingerprints, bodies, errors = [], [], []
        requests: list[dict[str, Any] | None] = []
        for row in rows:
            try:
                messages = self.prompt.render(row)
            except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as e:
                # A row that cannot render is an outcome, not a crash: it fails, and is retried
                # (and given up) like any other failure.
                message = f"template error: {e}"
                fingerprints.append(plan.fingerprint(self.url, message))
                bodies.append(None)
                requests.append(None)
                errors.append(message)
                continue
            request = plan.build_body(self.spec, messages)
            body = plan.canonical_json(request)
            fingerprints.append(plan.fingerprint(self.url, body))
            bodies.append(body)
            requests.append(request)
            errors.append(None)
        return fingerprints, bodies, errors, requests

    def count(self, bodies: pa.Array,
              requests: list[dict[str, Any] | None] | None = None) -> pa.Array:
        """Input tokens per body (NULL: 0): exact, or scaled from an exact count of a sample."""
        every = 1 if self.exact else max(self.SAMPLE_EVERY, -(-len(bodies) // self.SAMPLE_ROWS))
        valid = bodies.is_valid().to_numpy(zero_copy_only=False)
        sample = [i for i in range(0, len(bodies), every) if valid[i]]
        counts = np.zeros(len(bodies), dtype=np.int64)
        for i in sample:
            request = requests[i] if requests is not None else None
            counts[i] = tokens.count_input_tokens(
                self.url, request or json.loads(bodies[i].as_py()))
        if not self.exact:
            # Bytes, not characters: read from the offsets, where counting characters reads
            # every byte (half a second per million rows).
            lengths = pc.binary_length(bodies).fill_null(0).to_numpy(zero_copy_only=False)
            size = int(lengths[sample].sum())
            ratio = counts[sample].sum() / size if size else 0.25
            estimate = np.ceil(lengths * ratio).astype(np.int64)
            estimate[sample] = counts[sample]
            counts = np.where(valid, estimate, 0)
        return pa.array(counts, pa.int64())


def _strings(values: pa.Array | list[str | None]) -> pa.Array:
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(values, pa.string())


def render_signature(spec: Spec, prompt: Prompt, url: str, types: dict[str, str]) -> str:
    """What a row's rendered request depends on besides its values (see ``stage_sql``)."""
    if prompt.embeddings:
        skeleton = plan.build_body(spec, prompt.templates[0].source)
    else:
        skeleton = plan.build_body(spec, [{"role": t.role, "content": t.source}
                                          for t in prompt.templates])
    return hashlib.sha256(plan.canonical_json({
        "version": RENDER_VERSION, "url": url, "request": skeleton,
        "types": {name: types[name] for name in sorted(prompt.variables())},
    }).encode()).hexdigest()


def render_stage(wh: Warehouse, spec: Spec, prompt: Prompt, renderer: Renderer,
                 source: exp.Query, stage: exp.Table, inputs: exp.Table,
                 described: list[tuple[str, str]], key_types: list[tuple[str, exp.DataType]],
                 phases: Phases, bodies: BodyFile, spool: str, *,
                 temporary: bool = False,
                 redo: tuple[exp.Delete, list[Any]] | None = None) -> None:
    """Bring the stage up to date with the source; refuse duplicate or NULL keys.

    Rows whose template inputs are unchanged keep their rendered request (see ``stage_sql``);
    only new and changed rows are rendered, their bodies going to ``bodies`` (``spool`` names
    it in the stage). ``redo`` (a statement and its parameters) deletes stage rows of a stage
    this run already brought up to date, to render them again (see ``Runner.select_pending``):
    the source is not hashed and checked a second time then.
    """
    key = list(spec.source.key)
    variables = sorted(prompt.variables())
    signature = render_signature(spec, prompt, renderer.url, dict(described))
    dialect = wh.dialect
    if redo is not None:
        with phases("render"):
            wh.execute(*redo)
        _render(wh, renderer, stage_sql.unrendered_rows(source, stage, key, variables,
                                                        signature, dialect),
                stage, phases, bodies, spool)
        return
    with phases("select"):
        _ensure_stage(wh, stage, key_types)
        wh.execute(sql.drop_table(inputs))
        wh.execute(stage_sql.create_inputs(inputs, source, key, variables, signature, dialect,
                                           temporary=temporary))
        duplicates = wh.fetch(sql.duplicate_keys(inputs, key))
    if duplicates:
        shown = ", ".join(str(row[:-1] if len(key) > 1 else row[0]) for row in duplicates)
        raise SpecError(
            f"source.key ({', '.join(key)}) does not identify rows: duplicate or NULL keys "
            f"such as {shown}", path=spec.path, line=line_of(spec, "source", "key"),
            hint="pick columns that are unique and never NULL")
    with phases("render"):
        wh.execute(stage_sql.delete_stale(stage, inputs, key))
    with phases("select"):
        missing, total = (int(n) for n in wh.fetch(
            stage_sql.count_unrendered(inputs, stage, key))[0])
    if missing:
        # A few rows to render (new rows, say) are read by key; most of the source is read
        # whole (see unrendered_rows). The keys go where the warehouse's streams see them.
        keys = (wh.snapshot_table(sql.sibling(stage, f"{stage.name}_unrendered"))
                if 2 * missing <= total else None)
        if keys is not None:
            with phases("select"):
                wh.execute(sql.drop_table(keys))
                wh.execute(sql.create_table_as(keys, stage_sql.unrendered_keys(inputs, stage,
                                                                               key)))
        try:
            _render(wh, renderer, stage_sql.unrendered_rows(source, stage, key, variables,
                                                            signature, dialect, keys=keys),
                    stage, phases, bodies, spool)
        finally:
            if keys is not None:
                # After an error, that error is the one to report.
                with contextlib.suppress(BatchsqlError):
                    wh.execute(sql.drop_table(keys))
    wh.execute(sql.drop_table(inputs))


def _render(wh: Warehouse, renderer: Renderer, unrendered: exp.Select, stage: exp.Table,
            phases: Phases, bodies: BodyFile, spool: str) -> None:
    """Render the source rows that have no stage row, slice by slice.

    A worker thread does a slice's SQL rendering while this thread fingerprints the slice
    before it (and reads the next from the warehouse). Where the warehouse's streams read on a
    connection of their own (``Warehouse.streams_apart``), a third thread inserts the slices
    into the stage, in order, meanwhile: 1M rows rendered in 5.2 s instead of 6.0 (bench/ab.py,
    4 pairs, all faster). Elsewhere this thread inserts them too.
    """
    inserts: collections.deque[Future[int]] = collections.deque()

    def store(job: Future[Prepared], writer: ThreadPoolExecutor | None) -> None:
        with phases("render"):
            prepared = job.result()
            rows = _spooled(renderer.finish(prepared), bodies, spool)
            if writer is None:
                wh.insert_arrow(stage, rows)
            else:
                while len(inserts) >= INSERTS_AHEAD:
                    inserts.popleft().result()  # its error, if any, is raised here
                inserts.append(writer.submit(wh.insert_arrow, stage, rows))
        phases.count("render", prepared.batch.num_rows)

    try:
        # One bulk insert (see Warehouse.bulk_insert): if it does not finish, the next run
        # renders these rows again, as it would any row without a stage row. Where the
        # warehouse allows it, a thread inserts the slices while this one finishes the next.
        with (wh.bulk_insert(),
              ThreadPoolExecutor(1, thread_name_prefix="batchsql-render") as worker,
              (ThreadPoolExecutor(1, thread_name_prefix="batchsql-stage") if wh.streams_apart
               else contextlib.nullcontext()) as writer):
            ahead: Future[Prepared] | None = None
            slices = wh.stream(unrendered, batch_size=ROWS_PER_SLICE)
            for batch in phases.iterate("select", slices):
                job = worker.submit(renderer.prepare, batch)
                if ahead is not None:
                    store(ahead, writer)
                ahead = job
            if ahead is not None:
                store(ahead, writer)
            with phases("render"):
                while inserts:
                    inserts.popleft().result()
    finally:
        renderer.close()


def _spooled(rendered: pa.Table, bodies: BodyFile, spool: str) -> pa.Table:
    """Rendered rows as stage rows: each body goes to the body file, its row number stays."""
    seqs = bodies.append(rendered.column("_body"))
    names = [n for n in rendered.column_names if n != "_body"]
    return rendered.select(names).append_column(
        "_spool", pa.array([spool] * rendered.num_rows, pa.string())).append_column("_seq", seqs)


def _ensure_stage(wh: Warehouse, stage: exp.Table,
                  key_types: list[tuple[str, exp.DataType]]) -> None:
    """Create the stage, or recreate one an older batchsql (or another key) left behind."""
    columns = [*key_types, *((n, sql.dtype(t, wh.dialect)) for n, t in STAGE_META)]
    existing = wh.table_columns(stage)
    if existing is not None and [c.lower() for c in existing] != [n.lower() for n, _ in columns]:
        wh.execute(sql.drop_table(stage))
    wh.execute(sql.create_table(stage, columns))
