"""sqlglot builders for the render cache: the stage keeps each row's rendered request.

A run does not re-render a row whose template inputs are unchanged. Every source row gets an
*input hash*: a hash of the render signature (templates, model, params, column types, batchsql's
render version) and of the values of the columns the templates read. Stage rows whose key and
input hash still match the source keep their rendered request; the others are deleted, and
only source rows without a stage row are rendered. A hash mismatch only costs a re-render (the
fingerprint, not the hash, decides what is sent), so a cheap 64-bit hash is good enough where
the warehouse has one.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from batchsql.sql import alias, col, eq_keys, param


def input_hash(variables: Sequence[str], signature: str, dialect: str | None,
               table: str | None = None) -> exp.Expression:
    """A text hash of the signature and the template columns' values (NULL-safe)."""
    columns = [col(v, table) for v in variables]
    if dialect == "duckdb":
        # DuckDB's hash() takes typed values, NULLs included, and is several times faster
        # than md5 over a concatenation; it may change between DuckDB versions, which costs
        # one re-render and nothing else.
        return exp.Cast(this=exp.Anonymous(this="hash", expressions=[
            exp.Literal.string(signature), *columns]), to=exp.DataType.build("varchar"))
    text = exp.DataType.build("text")
    parts: list[exp.Expression] = [exp.Literal.string(signature)]
    for column in columns:
        as_text = exp.Cast(this=column, to=text)
        # Length-prefixed, with a marker for NULL: no two value lists concatenate alike.
        parts.append(exp.Case(ifs=[exp.If(this=column.is_(exp.null()),
                                          true=exp.Literal.string("~"))],
                              default=exp.Concat(expressions=[
                                  exp.Cast(this=exp.Length(this=as_text), to=text),
                                  exp.Literal.string(":"), as_text])))
    return exp.MD5(this=exp.Concat(expressions=parts))


def create_inputs(inputs: exp.Table, source: exp.Query, key: Sequence[str],
                  variables: Sequence[str], signature: str, dialect: str | None, *,
                  temporary: bool = False) -> exp.Create:
    """CREATE [TEMPORARY] TABLE inputs AS the source's keys with their input hash."""
    query = (exp.select(*(col(k) for k in key),
                        input_hash(variables, signature, dialect).as_(alias("_input")))
             .from_(source.subquery(alias("_batchsql_source"))))
    properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    return exp.Create(this=inputs.copy(), kind="TABLE", expression=query, properties=properties)


def delete_stale(stage: exp.Table, inputs: exp.Table, key: Sequence[str]) -> exp.Delete:
    """Stage rows whose key left the source or whose inputs changed."""
    same = (exp.select(exp.Literal.number(1)).from_(inputs.copy().as_(alias("i")))
            .where(eq_keys(key, "i", "t"))
            .where(col("_input", "i").eq(col("_input", "t"))))
    return exp.delete(stage.copy().as_(alias("t")), where=exp.Not(this=exp.Exists(this=same)))


def _unrendered(stage: exp.Table, key: Sequence[str], outer: str) -> exp.Not:
    rendered = (exp.select(exp.Literal.number(1)).from_(stage.copy().as_(alias("t")))
                .where(eq_keys(key, "t", outer)))
    return exp.Not(this=exp.Exists(this=rendered))


def count_unrendered(inputs: exp.Table, stage: exp.Table, key: Sequence[str]) -> exp.Select:
    """How many source rows have no stage row (so the source needs a second read), and how
    many source rows there are."""
    total = exp.select(exp.Count(this=exp.Star())).from_(inputs.copy()).subquery()
    return (exp.select(exp.Count(this=exp.Star()), total).from_(inputs.copy().as_(alias("i")))
            .where(_unrendered(stage, key, "i")))


def unrendered_keys(inputs: exp.Table, stage: exp.Table, key: Sequence[str]) -> exp.Select:
    """Keys of the source rows that have no stage row."""
    return (exp.select(*(col(k, "i") for k in key)).from_(inputs.copy().as_(alias("i")))
            .where(_unrendered(stage, key, "i")))


def unrendered_rows(source: exp.Query, stage: exp.Table, key: Sequence[str],
                    variables: Sequence[str], signature: str, dialect: str | None, *,
                    keys: exp.Table | None = None) -> exp.Select:
    """Source rows without a stage row: key, template columns and input hash, to render.

    With ``keys`` (a table of ``unrendered_keys``) the source is read for those keys only:
    DuckDB then skips the source's row groups that hold none of them. For the 10,000 new rows
    of a million-row rerun, writing their keys down and reading their rows took 0.07-0.11 s
    instead of 0.2-0.45 s; for every row of the source it was no cheaper (0.70-0.74 s against
    0.60-0.72 s), so the caller gives ``keys`` only when few rows are to be rendered.
    """
    names = list(dict.fromkeys([*key, *variables]))
    condition: exp.Expression = _unrendered(stage, key, "s")
    if keys is not None:
        condition = exp.Exists(this=exp.select(exp.Literal.number(1))
                               .from_(keys.copy().as_(alias("u"))).where(eq_keys(key, "u", "s")))
    return (exp.select(*(col(c, "s") for c in names),
                       input_hash(variables, signature, dialect, "s").as_(alias("_input")))
            .from_(source.subquery(alias("s")))
            .where(condition))


def unspooled(pending: exp.Select, key: Sequence[str]) -> exp.Select:
    """Keys of pending rows whose body is not in this run's body file (see ``batchsql.bodies``).

    Parameters: the pending query's, then this run's id. Rows that did not render have no
    body to send and are left out.
    """
    return (exp.select(*(col(k) for k in key)).from_(pending.subquery(alias("p")))
            .where(_unspooled()))


def count_pending(pending: exp.Select) -> exp.Select:
    """How many rows are pending, and how many of them are ``unspooled`` (in one pass).

    Parameters: this run's id (it comes first in the text), then the pending query's.
    """
    return exp.select(exp.Count(this=exp.Star()), exp.Count(this=exp.Case(
        ifs=[exp.If(this=_unspooled(), true=exp.Literal.number(1))]))).from_(
        pending.subquery(alias("p")))


def _unspooled() -> exp.Expression:
    """A row to send whose body another run rendered (parameter: this run's id)."""
    return exp.and_(col("_error").is_(exp.null()), exp.or_(
        col("_spool").is_(exp.null()), exp.NEQ(this=col("_spool"), expression=param())))


def delete_unspooled(stage: exp.Table, pending: exp.Select, key: Sequence[str]) -> exp.Delete:
    """Delete the ``unspooled`` rows from the stage, to render them again (same parameters)."""
    keys = unspooled(pending, key).subquery(alias("u"))
    same = exp.select(exp.Literal.number(1)).from_(keys).where(eq_keys(key, "u", "t"))
    return exp.delete(stage.copy().as_(alias("t")), where=exp.Exists(this=same))
