"""sqlglot builders for every statement batchsql issues.

Each function returns a sqlglot tree; the warehouse renders it in its own dialect. Identifiers are
always quoted (capitals, spaces and reserved words survive); values are bound parameters.
MERGE and ON CONFLICT are avoided on purpose: they do not transpile safely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from batchsql import dialects
from batchsql.reconcile import ATTEMPT_STATUSES, SUCCEEDED

ColumnDefs = Sequence[tuple[str, exp.DataType]]

#: Batch lifecycle in the batches table; the first two are "in flight".
INTENT, SUBMITTED, COLLECTED = "intent", "submitted", "collected"

#: ``_dedup`` of an outcome that did not pay for its own request: it shared one request with
#: other keys of the same batch, or reused an answer collected earlier.
SHARED, REUSED = "shared", "reused"
OPEN_STATUSES = (INTENT, SUBMITTED)


def dtype(text: str, dialect: str | None = None) -> exp.DataType:
    """A column type from its SQL spelling (in the given dialect), as that warehouse stores it.

    The dialect's type mapper applies (e.g. Snowflake's TIMESTAMP becomes TIMESTAMP_NTZ).
    """
    return dialects.column_type(exp.DataType.build(text, dialect=dialect), dialect)


def alias(name: str) -> exp.Identifier:
    """A quoted alias. Snowflake folds unquoted names to upper case, so an alias written bare
    and referenced quoted (as ``col`` does) would not resolve there; quoted, it means the same
    name in every dialect."""
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference, optionally qualified by a table alias."""
    return exp.column(exp.to_identifier(name, quoted=True),
                      table=exp.to_identifier(table, quoted=True) if table else None)


def parse_table(name: str, dialect: str | None = None) -> exp.Table:
    """A table name as the user wrote it (``schema.table``), each part quoted."""
    table = exp.to_table(name, dialect=dialect)
    for part in ("this", "db", "catalog"):
        ident = table.args.get(part)
        if isinstance(ident, exp.Identifier):
            ident.set("quoted", True)
    return table


def sibling(table: exp.Table, name: str) -> exp.Table:
    """A table in the same schema (and catalog) as another."""
    return exp.table_(exp.to_identifier(name, quoted=True), db=table.args.get("db"),
                      catalog=table.args.get("catalog"))


def create_schema(table: exp.Table) -> exp.Create | None:
    """CREATE SCHEMA IF NOT EXISTS for the table's schema, if it names one."""
    if not table.db:
        return None
    schema = exp.Table(this=table.args["db"], db=table.args.get("catalog"))
    return exp.Create(this=schema, kind="SCHEMA", exists=True)


def create_table(table: exp.Table, columns: ColumnDefs, *,
                 temporary: bool = False) -> exp.Create:
    """CREATE [TEMPORARY] TABLE IF NOT EXISTS with the given columns."""
    defs = [exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=t) for n, t in columns]
    return exp.Create(this=exp.Schema(this=table.copy(), expressions=defs), kind="TABLE",
                      exists=True, properties=_temporary(temporary))


def _temporary(temporary: bool) -> exp.Properties | None:
    return exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None


def add_column(table: exp.Table, name: str, kind: exp.DataType,
               dialect: str | None = None) -> exp.Alter:
    """ALTER TABLE ... ADD COLUMN: system tables only ever gain columns.

    Spark and Databricks get ``ADD COLUMNS (...)``, the one form every Spark version parses
    (``ADD COLUMN x T`` without parentheses is Spark 3 only).
    """
    action: exp.Expression = exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=kind)
    if dialect in ("spark", "databricks"):
        action = exp.Schema(expressions=[action])
    return exp.Alter(this=table.copy(), kind="TABLE", actions=[action])


def drop_table(table: exp.Table) -> exp.Drop:
    return exp.Drop(tables=[table.copy()], kind="TABLE", exists=True)


def create_table_as(table: exp.Table, query: exp.Query) -> exp.Create:
    """CREATE TABLE ... AS a query (the caller drops an earlier one first)."""
    return exp.Create(this=table.copy(), kind="TABLE", expression=query.copy())


def select_all(table: exp.Table) -> exp.Select:
    return exp.select("*").from_(table.copy())


def select_source(source_sql: str | None, source_table: str | None,
                  dialect: str | None = None) -> exp.Query:
    """The spec's source as a query: its SQL as written, or every column of its table."""
    if source_sql is not None:
        query = exp.maybe_parse(source_sql, dialect=dialect)
        if not isinstance(query, exp.Query):
            raise ValueError("source.sql must be a single SELECT query")
        return query
    return exp.select("*").from_(parse_table(source_table or "", dialect))


def eq_keys(key: Sequence[str], left: str, right: str) -> exp.Expression:
    """left.k1 = right.k1 AND left.k2 = right.k2 ..."""
    return exp.and_(*(col(k, left).eq(col(k, right)) for k in key))


def _succeeded(output: exp.Table, key: Sequence[str]) -> exp.Select:
    """Correlated subquery: the stage row ``s`` already has a succeeded outcome."""
    return (
        exp.select(exp.Literal.number(1)).from_(output.copy().as_(alias("o")))
        .where(eq_keys(key, "o", "s"))
        .where(col("_fingerprint", "o").eq(col("_fingerprint", "s")))
        .where(col("_status", "o").eq(exp.Literal.string(SUCCEEDED)))
    )


def _without(query: exp.Select, rows: exp.Select, name: str,
             columns: Sequence[str]) -> exp.Select:
    """``query`` (from ``s``) without the rows that match ``rows`` on ``columns``.

    An anti-join written as LEFT JOIN ... IS NULL over distinct match keys: DuckDB decorrelates
    NOT EXISTS by materializing the outer rows, request bodies included, which made counting a
    million pending rows cost seconds; this form reads only the columns it compares. The
    matches are made distinct first for memory, not for the result: without it a rerun's
    pending-keys query took 0.2 s instead of 0.3-0.5 s, but at a million outcomes DuckDB ran
    out of its 192MB cap now and then (the grouping spills to disk; that join did not).
    """
    matches = rows.group_by(*(e.copy() for e in rows.expressions)).subquery(alias(name))
    query = query.join(matches, join_type="left",
                       on=exp.and_(*(col(c, name).eq(col(c, "s")) for c in columns)))
    return query.where(col(columns[0], name).is_(exp.null()))


def _done(output: exp.Table, key: Sequence[str]) -> exp.Select:
    """(key, fingerprint) of every succeeded outcome."""
    return (exp.select(*(col(k) for k in key), col("_fingerprint")).from_(output.copy())
            .where(col("_status").eq(exp.Literal.string(SUCCEEDED))))


def pending_rows(stage: exp.Table, output: exp.Table, requests: exp.Table, batches: exp.Table,
                 key: Sequence[str], max_attempts: int, *, exclude_run: bool = False,
                 skip_answered: bool = False, keys_only: bool = False) -> exp.Select:
    """Rendered rows still to send: the stage anti-joined with what is done, in flight or spent.

    A row is pending when its (key, fingerprint) has no succeeded outcome, its key is in no
    open batch, and its failures for this fingerprint have not reached ``max_attempts``.
    Returns the stage's columns plus ``_attempt`` (1 for a first try), in no particular order
    (sorting a million request bodies costs more than everything else a run does). With
    ``exclude_run``, rows with any outcome from one run (bound parameter: its run id) are left
    out too; with ``skip_answered``, rows whose fingerprint any key already has an answer for
    (those are reused, not sent). With ``keys_only``, the key and ``_attempt`` alone.
    """
    failures = (
        exp.select(*(col(k) for k in key), col("_fingerprint"),
                   exp.Count(this=exp.Star()).as_(alias("_failures")))
        .from_(output.copy())
        .where(col("_status").isin(*(exp.Literal.string(s) for s in ATTEMPT_STATUSES)))
        .group_by(*(col(k) for k in key), col("_fingerprint"))
    )
    in_flight = (
        exp.select(*(col(k, "r") for k in key)).from_(requests.copy().as_(alias("r")))
        .join(batches.copy().as_(alias("b")), on=col("batch_uuid", "b").eq(col("_batch_uuid", "r")))
        .where(col("status", "b").isin(*(exp.Literal.string(s) for s in OPEN_STATUSES)))
    )
    spent = exp.Coalesce(this=col("_failures", "f"), expressions=[exp.Literal.number(0)])
    rows = [col(k, "s") for k in key] if keys_only else [
        exp.Column(this=exp.Star(), table=alias("s"))]
    query = (
        exp.select(*rows, (spent + exp.Literal.number(1)).as_(alias("_attempt")))
        .from_(stage.copy().as_(alias("s")))
        .join(failures.subquery(alias("f")), join_type="left",
              on=exp.and_(eq_keys(key, "f", "s"),
                          col("_fingerprint", "f").eq(col("_fingerprint", "s"))))
        .where(spent < exp.Literal.number(max_attempts))
    )
    query = _without(query, _done(output, key), "d", [*key, "_fingerprint"])
    query = _without(query, in_flight, "i", key)
    if exclude_run:
        this_run = (exp.select(*(col(k) for k in key)).from_(output.copy())
                    .where(col("_run_id").eq(param())))
        query = _without(query, this_run, "t", key)
    if skip_answered:
        answered = (exp.select(col("_fingerprint")).from_(output.copy())
                    .where(col("_status").eq(exp.Literal.string(SUCCEEDED))))
        query = _without(query, answered, "a", ["_fingerprint"])
    return query


def joined_back(stage: exp.Table, pending_keys: exp.Select, key: Sequence[str]) -> exp.Select:
    """Pending rows from a ``keys_only`` pending-rows query: every stage column is carried
    through one join instead of through each anti-join (a third cheaper in DuckDB when few
    rows are pending, for a little more when all are)."""
    return (exp.select(exp.Column(this=exp.Star(), table=alias("s")), col("_attempt", "p"))
            .from_(stage.copy().as_(alias("s")))
            .join(pending_keys.subquery(alias("p")), on=eq_keys(key, "p", "s")))


def _ranked(pending: exp.Select, key: Sequence[str]) -> exp.Select:
    """Pending keys numbered within their fingerprint, by key (1: the row that sends it), and
    how many pending keys share that fingerprint (``_copies``)."""
    rank = exp.Window(this=exp.RowNumber(), partition_by=[col("_fingerprint")],
                      order=exp.Order(expressions=[exp.Ordered(this=col(k)) for k in key]))
    copies = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[col("_fingerprint")])
    return exp.select(*(col(k) for k in key), col("_fingerprint"), col("_attempt"),
                      col("_error"), rank.as_(alias("_rank")), copies.as_(alias("_copies"))
                      ).from_(pending.subquery(alias("p")))


def requests_to_send(pending: exp.Select, stage: exp.Table, key: Sequence[str], *,
                     dedup: bool, ordered: bool) -> exp.Select:
    """The pending rows that carry a request, with the stage's columns.

    With ``dedup`` one row per fingerprint (its first key; ``shared_rows`` are the others),
    with ``_copies``: how many pending rows its request answers (itself included).
    ``ordered`` sorts by key, for a budget that must stop at the same row every time; otherwise
    the rows come in the order their bodies were written (``_seq``), which reads them back in
    one pass.
    """
    if dedup:
        ranked = _ranked(pending, key).subquery(alias("r"))
        query = (exp.select(exp.Column(this=exp.Star(), table=alias("s")), col("_attempt", "r"),
                            col("_copies", "r"))
                 .from_(stage.copy().as_(alias("s")))
                 .join(ranked, on=eq_keys(key, "r", "s"))
                 .where(col("_rank", "r").eq(exp.Literal.number(1))))
        table = "s"
    else:
        query, table = exp.select("*").from_(pending.subquery(alias("p"))), None
    if ordered:
        return query.order_by(*(col(k, table) for k in key))
    return query.order_by(col("_seq", table))


def shared_rows(pending: exp.Select, key: Sequence[str]) -> exp.Select:
    """Pending rows whose request another pending row sends (see ``requests_to_send``)."""
    return (exp.select(*(col(k) for k in key), col("_fingerprint"), col("_attempt"),
                       col("_error"))
            .from_(_ranked(pending, key).subquery(alias("r")))
            .where(col("_rank") > exp.Literal.number(1)))


def reuse_answers(pending: exp.Select, output: exp.Table, key: Sequence[str],
                  values: Sequence[str]) -> exp.Insert:
    """Pending rows whose request was answered before (for any key) get that answer, unpaid.

    The copy keeps the source's ``_custom_id`` as lineage, costs nothing, and records in
    ``_saved_usd`` what the source request cost. A source that paid for itself is preferred.
    Parameters (after the pending query's): run id, collected_at.
    """
    paid_first = exp.Case(ifs=[exp.If(this=col("_dedup").is_(exp.null()),
                                      true=exp.Literal.number(0))],
                          default=exp.Literal.number(1))
    rank = exp.Window(this=exp.RowNumber(), partition_by=[col("_fingerprint")],
                      order=exp.Order(expressions=[
                          exp.Ordered(this=paid_first),
                          exp.Ordered(this=col("_collected_at"), desc=True),
                          exp.Ordered(this=col("_custom_id"), desc=True)]))
    answers = (exp.select("*", rank.as_(alias("_rank"))).from_(output.copy())
               .where(col("_status").eq(exp.Literal.string(SUCCEEDED))))
    saved = exp.Case(ifs=[exp.If(this=col("_dedup", "a").is_(exp.null()),
                                 true=col("_cost_usd", "a"))],
                     default=col("_saved_usd", "a"))
    zero = exp.Literal.number(0)
    query = (
        exp.select(*(col(k, "p") for k in key), *(col(v, "a") for v in values),
                   exp.Literal.string(SUCCEEDED), col("_attempt", "p"), col("_fingerprint", "p"),
                   col("_custom_id", "a"), col("_model", "a"), zero, zero, zero, param(),
                   param(), exp.Literal.string(REUSED), saved)
        .from_(pending.subquery(alias("p")))
        .join(answers.subquery(alias("a")),
              on=exp.and_(col("_fingerprint", "a").eq(col("_fingerprint", "p")),
                          col("_rank", "a").eq(1)))
    )
    columns = [*key, *values, "_status", "_attempt", "_fingerprint", "_custom_id", "_model",
               "_input_tokens", "_output_tokens", "_cost_usd", "_run_id", "_collected_at",
               "_dedup", "_saved_usd"]
    return insert_select(output, columns, query)


def drop_reused(snapshot: exp.Table, output: exp.Table, key: Sequence[str]) -> exp.Delete:
    """Rows of a pending-rows snapshot that ``reuse_answers`` has just answered (parameter: the
    run id): they are pending no more."""
    reused = (exp.select(exp.Literal.number(1)).from_(output.copy().as_(alias("o")))
              .where(eq_keys(key, "o", "p"))
              .where(col("_run_id", "o").eq(param()))
              .where(col("_dedup", "o").eq(exp.Literal.string(REUSED))))
    return exp.delete(snapshot.copy().as_(alias("p")), where=exp.Exists(this=reused))


def given_up(stage: exp.Table, output: exp.Table, key: Sequence[str],
             max_attempts: int) -> exp.Select:
    """Count of current requests whose failures reached ``max_attempts`` without a success.

    Failures are counted once per (key, fingerprint) and joined: a correlated count per stage
    row is quadratic where the planner does not decorrelate it (PostgreSQL).
    """
    failures = (
        exp.select(*(col(k) for k in key), col("_fingerprint"),
                   exp.Count(this=exp.Star()).as_(alias("_failures")))
        .from_(output.copy())
        .where(col("_status").isin(*(exp.Literal.string(s) for s in ATTEMPT_STATUSES)))
        .group_by(*(col(k) for k in key), col("_fingerprint"))
    )
    query = (
        exp.select(exp.Count(this=exp.Star())).from_(stage.copy().as_(alias("s")))
        .join(failures.subquery(alias("f")),
              on=exp.and_(eq_keys(key, "f", "s"),
                          col("_fingerprint", "f").eq(col("_fingerprint", "s"))))
        .where(col("_failures", "f") >= exp.Literal.number(max_attempts))
    )
    return _without(query, _done(output, key), "d", [*key, "_fingerprint"])


def any_given_up(output: exp.Table, key: Sequence[str], max_attempts: int) -> exp.Select:
    """One (key, fingerprint) whose failures reached ``max_attempts``, if any: when there is
    none (most runs), ``given_up`` need not anti-join every stage row with every success."""
    return (exp.select(*(col(k) for k in key), col("_fingerprint")).from_(output.copy())
            .where(col("_status").isin(*(exp.Literal.string(s) for s in ATTEMPT_STATUSES)))
            .group_by(*(col(k) for k in key), col("_fingerprint"))
            .having(exp.Count(this=exp.Star()) >= exp.Literal.number(max_attempts))
            .limit(1))


def duplicate_keys(table: exp.Table, key: Sequence[str], limit: int = 5) -> exp.Select:
    """Keys that occur more than once (or are NULL) in a table of the source's keys (the
    run's input hashes): a source must be keyed.

    A NULL in a key column shows as that column's count falling short of the group's rows.
    (The same test as a ``max`` over a NULL flag ran DuckDB out of memory under batchsql's
    192MB limit from about 3M keys; counts alone pass at 30M.)
    """
    rows = exp.Count(this=exp.Star())
    return (
        exp.select(*(col(k) for k in key), rows.copy().as_(alias("n")))
        .from_(table.copy())
        .group_by(*(col(k) for k in key))
        .having(exp.or_(rows.copy() > exp.Literal.number(1),
                        *(exp.Count(this=col(k)) < rows.copy() for k in key)))
        .limit(limit)
    )


def insert_select(table: exp.Table, columns: Sequence[str], query: exp.Query) -> exp.Insert:
    """INSERT INTO table (columns) <query>."""
    idents = [exp.to_identifier(c, quoted=True) for c in columns]
    return exp.insert(query, exp.Schema(this=table.copy(), expressions=idents))


def delete_where(table: exp.Table, condition: exp.Expression) -> exp.Delete:
    return exp.delete(table.copy(), where=condition)


def update(table: exp.Table, values: dict[str, exp.Expression],
           condition: exp.Expression) -> exp.Update:
    return exp.update(table.copy(), {exp.to_identifier(k, quoted=True): v
                                     for k, v in values.items()}, where=condition)


def param() -> exp.Placeholder:
    """A bound-parameter marker (``?`` or ``%s`` as the dialect spells it)."""
    return exp.Placeholder()


def current_view(view: exp.Table, output: exp.Table, key: Sequence[str],
                 columns: Sequence[str]) -> exp.Create:
    """One row per key: its latest succeeded outcome (what analysts and dbt models read)."""
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col(k) for k in key],
        order=exp.Order(expressions=[exp.Ordered(this=col("_collected_at"), desc=True),
                                     exp.Ordered(this=col("_custom_id"), desc=True)]),
    )
    latest = (
        exp.select(*(col(c) for c in columns), rank.as_(alias("_batchsql_rank")))
        .from_(output.copy())
        .where(col("_status").eq(exp.Literal.string(SUCCEEDED)))
    )
    body = (exp.select(*(col(c) for c in columns)).from_(latest.subquery(alias("t")))
            .where(col("_batchsql_rank").eq(1)))
    return exp.Create(this=view.copy(), kind="VIEW", replace=True, expression=body)


def _first_per_custom_id(collect: exp.Table) -> exp.Select:
    """The collected lines, one per custom_id even if a provider repeated one (a success wins)."""
    prefer_success = exp.Case(ifs=[exp.If(this=col("_status").eq(exp.Literal.string(SUCCEEDED)),
                                          true=exp.Literal.number(0))],
                              default=exp.Literal.number(1))
    rank = exp.Window(this=exp.RowNumber(), partition_by=[col("_custom_id")],
                      order=exp.Order(expressions=[exp.Ordered(this=prefer_success)]))
    return exp.select("*", rank.as_(alias("_rank"))).from_(collect.copy())


def insert_outcomes(output: exp.Table, collect: exp.Table, requests: exp.Table,
                    key: Sequence[str], values: Sequence[str], *,
                    unique: bool = False) -> exp.Insert:
    """Collected lines joined back to their keys through the request map, into the output.

    ``unique``: the caller checked that no custom_id repeats among the collected lines, so
    they need no ranking. Parameters, in order: provider batch id, spec model (when the line
    names none), run id, submitted_at, collected_at, batch_uuid.
    """
    def paid(column: str) -> exp.Case:  # one key pays for a shared request; the rest get 0
        return exp.Case(ifs=[exp.If(this=_primary(), true=col(column, "c"))],
                        default=exp.Literal.number(0))

    saved = exp.Case(ifs=[exp.If(this=_primary(), true=exp.null())],
                     default=col("_cost_usd", "c"))
    query = (
        exp.select(
            *(col(k, "r") for k in key), *(col(v, "c") for v in values),
            col("_status", "c"), col("_error", "c"), col("_attempt", "r"),
            col("_fingerprint", "r"), param(), col("_custom_id", "r"),
            exp.Coalesce(this=col("_model", "c"), expressions=[param()]),
            paid("_input_tokens"), paid("_output_tokens"), paid("_cost_usd"),
            col("_raw", "c"), param(), param(), param(), _dedup_mark(), saved)
        .from_(collect.copy().as_(alias("c")) if unique
               else _first_per_custom_id(collect).subquery(alias("c")))
        .join(requests.copy().as_(alias("r")), on=col("_custom_id", "r").eq(col("_custom_id", "c")))
        .where(col("_batch_uuid", "r").eq(param()))
    )
    if not unique:
        query = query.where(col("_rank", "c").eq(1))
    columns = [*key, *values, "_status", "_error", "_attempt", "_fingerprint", "_batch_id",
               "_custom_id", "_model", "_input_tokens", "_output_tokens", "_cost_usd", "_raw",
               "_run_id", "_submitted_at", "_collected_at", "_dedup", "_saved_usd"]
    return insert_select(output, columns, query)


def _primary() -> exp.Expression:
    """The request-map row ``r`` is the key that paid for its line (older maps: all did)."""
    return exp.Coalesce(this=col("_primary", "r"), expressions=[exp.true()])


def _dedup_mark() -> exp.Case:
    return exp.Case(ifs=[exp.If(this=_primary(), true=exp.null())],
                    default=exp.Literal.string(SHARED))


def insert_missing(output: exp.Table, collect: exp.Table, requests: exp.Table,
                   key: Sequence[str]) -> exp.Insert:
    """An outcome for every request of a batch that came back with no result line.

    Parameters, in order: status, error, provider batch id, model, run id, submitted_at,
    collected_at, batch_uuid.
    """
    seen = (exp.select(exp.Literal.number(1)).from_(collect.copy().as_(alias("c")))
            .where(col("_custom_id", "c").eq(col("_custom_id", "r"))))
    query = (
        exp.select(*(col(k, "r") for k in key), param(), param(), col("_attempt", "r"),
                   col("_fingerprint", "r"), param(), col("_custom_id", "r"), param(), param(),
                   param(), param(), _dedup_mark())
        .from_(requests.copy().as_(alias("r")))
        .where(col("_batch_uuid", "r").eq(param()))
        .where(exp.Not(this=exp.Exists(this=seen)))
    )
    columns = [*key, "_status", "_error", "_attempt", "_fingerprint", "_batch_id", "_custom_id",
               "_model", "_run_id", "_submitted_at", "_collected_at", "_dedup"]
    return insert_select(output, columns, query)


def batch_requests(requests: exp.Table) -> exp.Select:
    """How many rows a batch's request map holds, and how many of them send a line
    (parameter: batch_uuid)."""
    return (exp.select(exp.Count(this=exp.Star()),
                       exp.Count(this=exp.Case(ifs=[exp.If(this=_primary(),
                                                           true=exp.Literal.number(1))])))
            .from_(requests.copy().as_(alias("r"))).where(col("_batch_uuid", "r").eq(param())))


def unknown_lines(collect: exp.Table, requests: exp.Table) -> exp.Select:
    """Count of collected lines whose custom_id the batch never sent (parameter: batch_uuid)."""
    sent = (exp.select(exp.Literal.number(1)).from_(requests.copy().as_(alias("r")))
            .where(col("_custom_id", "r").eq(col("_custom_id", "c")))
            .where(col("_batch_uuid", "r").eq(param())))
    return (exp.select(exp.Count(this=exp.Star())).from_(collect.copy().as_(alias("c")))
            .where(exp.Not(this=exp.Exists(this=sent))))


def of_batch() -> exp.Expression:
    """Output rows of one provider batch. Parameters: its id, ``plan.custom_ids_like`` of its
    batch_uuid.

    The pattern leaves out no row of the batch (each has one of its custom_ids); it lets the
    warehouse skip the other batches' row groups, by the custom_ids' min and max: batch uuids
    begin with when they were made (``plan.new_batch_uuid``), where provider batch ids are
    random, and so a lookup by id alone read every outcome a table ever had.
    """
    return exp.and_(col("_batch_id").eq(param()),
                    exp.Like(this=col("_custom_id"), expression=param()))


def outcome_figures(output: exp.Table, *, one_batch: bool = False) -> exp.Select:
    """By status: rows, tokens in, tokens out, cost, rows that paid nothing, dollars saved.

    With ``one_batch``, of one provider batch (parameters: see ``of_batch``).
    """
    query = (exp.select(col("_status"), exp.Count(this=exp.Star()),
                        exp.Sum(this=col("_input_tokens")), exp.Sum(this=col("_output_tokens")),
                        exp.Sum(this=col("_cost_usd")),
                        exp.Count(this=col("_dedup")), exp.Sum(this=col("_saved_usd")))
             .from_(output.copy()).group_by(col("_status")))
    return query.where(of_batch()) if one_batch else query


def answer_history(output: exp.Table) -> exp.Select:
    """How many paid answers there are, and their mean output tokens."""
    return (exp.select(exp.Count(this=col("_output_tokens")),
                       exp.Avg(this=col("_output_tokens")))
            .from_(output.copy())
            .where(col("_status").eq(exp.Literal.string(SUCCEEDED)))
            .where(col("_dedup").is_(exp.null())))


def reused_figures(output: exp.Table) -> exp.Select:
    """Rows one run reused from earlier answers, and what they saved (parameter: run id)."""
    return (exp.select(exp.Count(this=exp.Star()), exp.Sum(this=col("_saved_usd")))
            .from_(output.copy())
            .where(col("_run_id").eq(param()))
            .where(col("_dedup").eq(exp.Literal.string(REUSED))))


def saved_by_run(output: exp.Table) -> exp.Select:
    """Dollars saved by the shared and reused outcomes one run wrote (parameter: run id)."""
    return (exp.select(exp.Sum(this=col("_saved_usd"))).from_(output.copy())
            .where(col("_run_id").eq(param())))


def answered_rows(stage: exp.Table, output: exp.Table, key: Sequence[str]) -> exp.Select:
    """Count of stage rows that already have an answer for their current request."""
    return (exp.select(exp.Count(this=exp.Star())).from_(stage.copy().as_(alias("s")))
            .where(exp.Exists(this=_succeeded(output, key))))


def rows_in_flight(stage: exp.Table, requests: exp.Table, batches: exp.Table,
                   key: Sequence[str]) -> exp.Select:
    """Count of stage rows whose key is in a batch not yet collected."""
    in_flight = (
        exp.select(exp.Literal.number(1)).from_(requests.copy().as_(alias("r")))
        .join(batches.copy().as_(alias("b")), on=col("batch_uuid", "b").eq(col("_batch_uuid", "r")))
        .where(eq_keys(key, "r", "s"))
        .where(col("status", "b").isin(*(exp.Literal.string(s) for s in OPEN_STATUSES)))
    )
    return (exp.select(exp.Count(this=exp.Star())).from_(stage.copy().as_(alias("s")))
            .where(exp.Exists(this=in_flight)))


def reusable_figures(pending: exp.Select, output: exp.Table) -> exp.Select:
    """Pending rows an earlier answer to the same request can serve, and their input tokens."""
    answered = (exp.select(exp.Literal.number(1)).from_(output.copy().as_(alias("a")))
                .where(col("_fingerprint", "a").eq(col("_fingerprint", "p")))
                .where(col("_status", "a").eq(exp.Literal.string(SUCCEEDED))))
    return (exp.select(exp.Count(this=exp.Star()), exp.Sum(this=col("_est_tokens", "p")))
            .from_(pending.subquery(alias("p"))).where(exp.Exists(this=answered)))


def padded_view(view: exp.Table, table: exp.Table, existing: Sequence[str],
                columns: ColumnDefs) -> exp.Create:
    """A view of a table with the columns it lacks added as typed NULLs (read-only upgrades)."""
    have = {c.lower() for c in existing}
    select = exp.select(*(col(c) for c in existing), *(
        exp.Cast(this=exp.null(), to=kind).as_(exp.to_identifier(name, quoted=True))
        for name, kind in columns if name.lower() not in have))
    return exp.Create(this=view.copy(), kind="VIEW", replace=True,
                      expression=select.from_(table.copy()))


def count_rows(source: exp.Table | exp.Query) -> exp.Select:
    """SELECT COUNT(*) of a table or of a query's rows."""
    from_ = source.copy() if isinstance(source, exp.Table) else source.subquery(alias("p"))
    return exp.select(exp.Count(this=exp.Star())).from_(from_)


def sample_requests(query: exp.Query, key: Sequence[str], limit: int) -> exp.Select:
    """Key and body's place (see ``batchsql.bodies``) of the first ``limit`` pending rows
    that rendered."""
    return (exp.select(*(col(k) for k in key), col("_error"), col("_spool"), col("_seq"))
            .from_(query.subquery(alias("p"))).where(col("_error").is_(exp.null()))
            .limit(limit))


def current_catalog(dialect: str | None) -> exp.Select:
    """The session's catalog (database) name: spelled differently everywhere.

    ``current_database()`` is the schema in Spark and Databricks, and BigQuery has no such
    function: its catalog is the project.
    """
    if dialect in ("spark", "databricks"):
        return exp.select(exp.Anonymous(this="current_catalog"))
    if dialect == "bigquery":
        return exp.select(exp.SessionParameter(this=exp.var("project_id")))
    return exp.select(exp.CurrentDatabase())


def no_rows(query: exp.Query) -> exp.Select:
    """The query's columns without its rows: how a warehouse without a describe call sees them."""
    return exp.select("*").from_(query.subquery(alias("q"))).limit(0)


def insert_parsed(table: exp.Table, scratch: exp.Table, columns: Sequence[str],
                  parse: Mapping[str, exp.DataType | None]) -> exp.Insert:
    """Copy a scratch table into ``table``, parsing the JSON text of the ``parse`` columns.

    For warehouses whose bulk load cannot write JSON, VARIANT or semi-structured columns: the
    scratch holds their values as JSON text; a type in ``parse`` casts the parsed value to it
    (Snowflake's ARRAY and OBJECT).
    """
    def value(name: str) -> exp.Expression:
        if name not in parse:
            return col(name)
        parsed: exp.Expression = exp.ParseJSON(this=col(name))
        kind = parse[name]
        return parsed if kind is None else exp.Cast(this=parsed, to=kind.copy())

    query = exp.select(*(value(c) for c in columns)).from_(scratch.copy())
    return insert_select(table, columns, query)


def insert_rows(table: exp.Table, columns: Sequence[str], rows: int,
                parse: Mapping[str, exp.DataType]) -> exp.Insert:
    """INSERT ... VALUES of ``rows`` rows of bound parameters; ``parse`` columns arrive as JSON
    text and are read into their type with ``from_json`` (Databricks, Spark)."""
    def value(name: str) -> exp.Expression:
        if name not in parse:
            return param()
        return exp.FromJson(this=param(), expression=exp.Literal.string(
            parse[name].sql(dialect="databricks")))

    row = exp.Tuple(expressions=[value(c) for c in columns])
    values = exp.Values(expressions=[row.copy() for _ in range(rows)])
    return insert_select(table, columns, values)
