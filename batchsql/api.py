"""The Python API behind the CLI: run, status and validate a spec against a profile target."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from batchsql import sql
from batchsql.errors import BatchsqlError, ProfileError
from batchsql.lock import Holder, SpecLock
from batchsql.pricing import Price, prices_from_settings
from batchsql.profiles import Target, load_target
from batchsql.prompts import compile_prompt
from batchsql.providers import Provider, make_provider, provider_limits
from batchsql.runner import Event, Runner, RunSummary, check_source, source_query
from batchsql.runner.planning import Plan, make_plan
from batchsql.spec import Spec, load_spec
from batchsql.state import State, now
from batchsql.warehouses import Warehouse, connect


@dataclass(frozen=True)
class Context:
    """Where a run happens: the project folder and the profile target."""

    project_dir: Path
    target: Target

    @property
    def work_dir(self) -> Path:
        """batchsql's local working folder (spool files, emulator state)."""
        return self.project_dir / ".batchsql"


def resolve(*, profiles_dir: str | Path | None = None, profile: str | None = None,
            target: str | None = None, project_dir: str | Path | None = None) -> Context:
    """Find the project folder and load the target, with dbt's lookup rules."""
    folder = Path(project_dir) if project_dir else Path(os.getcwd())
    return Context(folder, load_target(profiles_dir=profiles_dir, profile=profile, target=target,
                                       project_dir=folder))


@contextmanager
def open_target(ctx: Context, *, lock_wait: float = 0.0,
                warehouse: Warehouse | None = None) -> Iterator[tuple[Warehouse, Provider]]:
    """The warehouse and provider of a target, closed on exit.

    ``warehouse``: one the caller opened (a dbt hook borrows dbt's connection); used instead of
    connecting, and left open.
    """
    wh = warehouse or connect(ctx.target, base_dir=ctx.project_dir, open_wait=lock_wait)
    try:
        provider = make_provider(ctx.target.provider, base_dir=ctx.project_dir)
        try:
            yield wh, provider
        finally:
            provider.close()
    finally:
        if warehouse is None:
            wh.close()


def runner_for(spec: Spec, ctx: Context, wh: Warehouse, provider: Provider | None,
               on_event: Event | None = None, lock_wait: float = 0.0,
               max_cost: float | None = None) -> Runner:
    """A Runner configured from the target's batchsql settings (no provider: a dry run)."""
    settings = ctx.target.provider
    if max_cost is not None and max_cost <= 0:
        raise BatchsqlError(f"--max-cost must be a positive number of dollars, got {max_cost:g}")
    return Runner(spec, wh, provider, work_dir=ctx.work_dir, target_name=ctx.target.name,
                  limits=provider_limits(settings) if provider is None else None,
                  max_cost=max_cost, prices=_prices(ctx.target),
                  poll_interval=settings.poll_interval,
                  max_requests=_positive_int(settings.extra.get("max_requests_per_batch"),
                                             "max_requests_per_batch"),
                  token_limit=_token_limit(settings.extra.get("enqueued_token_limit"),
                                           spec.model),
                  lock_wait=lock_wait, **({"on_event": on_event} if on_event else {}))


def run(spec_path: str | Path, *, wait: bool = True, max_wait: float | None = None,
        lock_wait: float = 0.0, max_cost: float | None = None, on_event: Event | None = None,
        warehouse: Warehouse | None = None, **where: Any) -> RunSummary:
    """Collect finished batches, submit pending rows, and (with ``wait``) collect them too.

    ``lock_wait``: seconds to wait for another run of the same spec to finish before giving
    up. ``max_cost``: this run's budget in USD (else the spec's ``max_cost_usd``).
    ``warehouse``: an open connection to use instead of the target's (see ``open_target``).
    ``where`` takes ``profiles_dir``, ``profile``, ``target`` and ``project_dir``.
    """
    spec = load_spec(spec_path)
    ctx = resolve(**where)
    with open_target(ctx, lock_wait=lock_wait, warehouse=warehouse) as (wh, provider):
        runner = runner_for(spec, ctx, wh, provider, on_event, lock_wait, max_cost)
        return runner.run(wait=wait, max_wait=max_wait)


def plan(spec_path: str | Path, *, show: int = 0, max_cost: float | None = None,
         **where: Any) -> Plan:
    """What a run would send now and what it would cost, without changing anything.

    The warehouse is opened read-only and the provider is not contacted. ``show``: how many
    rendered requests to include as samples.
    """
    spec = load_spec(spec_path)
    ctx = resolve(**where)
    wh = connect(ctx.target, base_dir=ctx.project_dir, read_only=True)
    try:
        return make_plan(runner_for(spec, ctx, wh, None, max_cost=max_cost), show=show)
    finally:
        wh.close()


def cancel(spec_path: str | Path, *, max_wait: float | None = None, lock_wait: float = 0.0,
           on_event: Event | None = None, **where: Any) -> RunSummary:
    """Cancel a spec's batches in flight and collect what they finished."""
    spec = load_spec(spec_path)
    ctx = resolve(**where)
    with open_target(ctx, lock_wait=lock_wait) as (wh, provider):
        return runner_for(spec, ctx, wh, provider, on_event, lock_wait).cancel(max_wait=max_wait)


def _positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ProfileError(f"batchsql setting '{name}' must be a positive integer, got {value!r}")
    return number


def _prices(target: Target) -> dict[str, Price]:
    """Price overrides from the target's batchsql settings (``prices:``)."""
    return prices_from_settings(target.provider.extra.get("prices"),
                                f"target '{target.name}' in {target.profiles_path}")


def _token_limit(value: Any, model: str) -> int | None:
    """The enqueued-token limit for a model: one number, or a mapping of model -> number."""
    if isinstance(value, dict):
        value = value.get(model)
    return _positive_int(value, "enqueued_token_limit")


@dataclass
class InFlight:
    """One batch that was submitted and not yet collected."""

    provider_batch_id: str | None
    provider_status: str | None
    requests: int
    age_seconds: float


@dataclass
class Status:
    """Where a spec stands: outcomes so far, batches in flight, money spent."""

    spec: str
    output_table: str
    outcomes: dict[str, int] = field(default_factory=dict)
    keys_with_result: int = 0
    in_flight: list[InFlight] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    lock_holder: Holder | None = None
    #: Rows answered without a request of their own (shared or reused), and what that saved.
    deduplicated: int = 0
    saved_usd: float | None = None
    #: The spec's budget per run, and the latest run's estimate, actual spend and open batches.
    max_cost_usd: float | None = None
    last_run: LastRun | None = None


@dataclass
class LastRun:
    """What the latest run that sent anything committed and has spent so far."""

    run_id: str
    started_at: dt.datetime | None
    max_cost_usd: float | None
    est_cost_usd: float | None
    spent_usd: float | None
    open_batches: int


def status(spec_path: str | Path, *, refresh: bool = True, warehouse: Warehouse | None = None,
           **where: Any) -> Status:
    """Counts by outcome, batches in flight (refreshed from the provider) and cost so far.

    ``warehouse``: an open connection to use instead of the target's (see ``open_target``).
    """
    spec = load_spec(spec_path)
    ctx = resolve(**where)
    with open_target(ctx, warehouse=warehouse) as (wh, provider):
        output = sql.parse_table(spec.output.table, wh.dialect)
        report = Status(spec=spec.name, output_table=spec.output.table,
                        max_cost_usd=spec.max_cost_usd)
        if wh.table_columns(output) is None:
            return report
        state = State(wh, output)
        report.lock_holder = SpecLock(wh, sql.sibling(output, "_batchsql_locks"), spec.name,
                                      "status").holder()
        rows = wh.fetch(sql.outcome_figures(output))
        report.outcomes = {r[0]: int(r[1]) for r in rows}
        report.input_tokens = sum(int(r[2] or 0) for r in rows)
        report.output_tokens = sum(int(r[3] or 0) for r in rows)
        costs = [r[4] for r in rows if r[4] is not None]
        report.cost_usd = float(sum(costs)) if costs else None
        report.deduplicated = sum(int(r[5] or 0) for r in rows)
        saved = [r[6] for r in rows if r[6] is not None]
        report.saved_usd = float(sum(saved)) if saved else None
        last = state.last_run(spec.name)
        if last is not None:
            spent, still_open = state.run_spend(last["run_id"])
            report.last_run = LastRun(last["run_id"], last["started_at"], last["max_cost_usd"],
                                      last["est_cost_usd"], spent, still_open)
        view = sql.sibling(output, f"{output.name}_current")
        report.keys_with_result = int(wh.fetch(
            exp.select(exp.Count(this=exp.Star())).from_(view))[0][0])
        for batch in state.open_batches(spec.output.table):
            provider_status = batch["provider_status"]
            if refresh and batch["provider_batch_id"]:
                try:
                    provider_status = provider.retrieve(batch["provider_batch_id"]).status
                except BatchsqlError:
                    provider_status = f"{provider_status} (could not refresh)"
            started = batch["submitted_at"] or batch["created_at"]
            report.in_flight.append(InFlight(
                batch["provider_batch_id"], provider_status, int(batch["request_count"] or 0),
                (now() - started).total_seconds() if isinstance(started, dt.datetime) else 0.0))
        return report


def validate(paths: Sequence[str | Path], *, check_source: bool = True,
             **where: Any) -> list[tuple[str, BatchsqlError | None]]:
    """Check specs, templates and source SQL without calling the provider.

    With ``check_source`` the warehouse also describes each source, so templates and keys are
    checked against the real columns. Returns (path, error or None) per spec.
    """
    results: list[tuple[str, BatchsqlError | None]] = []
    ctx = None
    for path in paths:
        try:
            spec = load_spec(path)
            compile_prompt(spec)
            source_query(spec, None)
            if check_source:
                ctx = ctx or resolve(**where)
                _check_source(spec, ctx)
            results.append((str(path), None))
        except BatchsqlError as e:
            results.append((str(path), e))
    return results


def _check_source(spec: Spec, ctx: Context) -> None:
    wh = connect(ctx.target, base_dir=ctx.project_dir)
    try:
        check_source(spec, compile_prompt(spec), wh)
    finally:
        wh.close()
