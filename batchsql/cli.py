"""The `batchsql` command line: the only module that prints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from batchsql import api, hooks
from batchsql.emulator.cli import emulator
from batchsql.errors import BatchsqlError
from batchsql.runner import RunSummary
from batchsql.runner.planning import Plan
from batchsql.timings import PHASES, Phases

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def _where(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The dbt-style options that pick a profile target."""
    for option in reversed([
        click.option("--profiles-dir", type=click.Path(file_okay=False),
                     help="Folder holding profiles.yml (else DBT_PROFILES_DIR, ./, ~/.dbt/)."),
        click.option("--profile", help="Profile name (else dbt_project.yml's, else 'batchsql')."),
        click.option("--target", "-t", help="Target in the profile (else its default)."),
        click.option("--project-dir", type=click.Path(file_okay=False),
                     help="Project folder (default: the current folder)."),
    ]):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="batchsql")
def main() -> None:
    """Run AI models declared in YAML over warehouse tables, at batch prices."""


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Poll until every batch is collected, or submit/collect and return.")
@click.option("--max-wait", type=float, help="Stop waiting after this many seconds.")
@click.option("--lock-wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another run of the same spec to finish.")
@click.option("--max-cost", type=float,
              help="Budget in USD for what this run submits (overrides max_cost_usd).")
@click.option("--timings", is_flag=True, help="Also print wall time and rows/s per phase.")
@_where
def run(spec: str, wait: bool, max_wait: float | None, lock_wait: float,
        max_cost: float | None, timings: bool, **where: Any) -> None:
    """Collect finished batches, submit pending rows, and (by default) wait for them."""
    with _errors():
        display = _Progress(console)
        try:
            summary = api.run(spec, wait=wait, max_wait=max_wait, lock_wait=lock_wait,
                              max_cost=max_cost, on_event=display.event, **where)
        finally:
            display.stop()
        _print_summary(summary)
        if timings:
            _print_timings(summary.phases)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--max-wait", type=float, help="Stop waiting for the cancellations after this.")
@click.option("--lock-wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for a run of the same spec to finish.")
@_where
def cancel(spec: str, max_wait: float | None, lock_wait: float, **where: Any) -> None:
    """Cancel the spec's batches in flight and collect what they finished."""
    with _errors():
        display = _Progress(console)
        try:
            summary = api.cancel(spec, max_wait=max_wait, lock_wait=lock_wait,
                                 on_event=display.event, **where)
        finally:
            display.stop()
    console.print(f"[bold]{summary.spec}[/]: collected {summary.collected_batches} batch(es): "
                  f"{summary.succeeded:,} succeeded, {summary.failed:,} not finished or failed"
                  + (f"; {summary.in_flight} still cancelling" if summary.in_flight else ""))


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--no-warehouse", is_flag=True,
              help="Skip checking sources against the warehouse (syntax checks only).")
@_where
def validate(specs: tuple[str, ...], no_warehouse: bool, **where: Any) -> None:
    """Check specs, templates and source SQL without calling the provider."""
    with _errors():
        results = api.validate(specs, check_source=not no_warehouse, **where)
    bad = 0
    for path, error in results:
        if error is None:
            console.print(f"[green]ok[/]    {path}")
        else:
            bad += 1
            console.print(f"[red]error[/] {error}")
    if bad:
        sys.exit(1)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--show", type=int, default=0, metavar="N",
              help="Also print the first N requests as they would be sent.")
@click.option("--max-cost", type=float, help="Budget in USD to check the plan against.")
@_where
def plan(spec: str, show: int, max_cost: float | None, **where: Any) -> None:
    """What a run would send and cost now; read-only, the provider is not called."""
    with _errors():
        report = api.plan(spec, show=show, max_cost=max_cost, **where)
    _print_plan(report)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@_where
def status(spec: str, **where: Any) -> None:
    """Outcomes so far, batches in flight with their age, and cost so far."""
    with _errors():
        report = api.status(spec, **where)
    console.print(f"[bold]{report.spec}[/] -> {report.output_table}")
    if not report.outcomes and not report.in_flight:
        console.print("nothing run yet")
        return
    table = _label_table()
    for outcome, n in sorted(report.outcomes.items()):
        table.add_row(outcome, f"{n:,}")
    table.add_row("keys with a result", f"{report.keys_with_result:,}")
    table.add_row("tokens", f"{report.input_tokens:,} in / {report.output_tokens:,} out")
    table.add_row("cost so far", _money(report.cost_usd))
    if report.deduplicated:
        table.add_row("dedup saved", f"{report.deduplicated:,} requests"
                      + (f", {_money(report.saved_usd)}" if report.saved_usd else ""))
    last = report.last_run
    if last is not None:
        budget = last.max_cost_usd if last.max_cost_usd is not None else report.max_cost_usd
        spent = f"{_money(last.spent_usd or 0.0)} spent"
        if last.open_batches:
            spent += f" so far ({last.open_batches} batch(es) still in flight)"
        line = f"run {last.run_id}: up to {_money(last.est_cost_usd)} estimated, {spent}"
        if budget is not None:
            line += f", budget {_money(budget)}"
        table.add_row("last run", line)
    elif report.max_cost_usd is not None:
        table.add_row("budget", f"{_money(report.max_cost_usd)} per run")
    console.print(table)
    if report.in_flight:
        batches = Table("batch", "provider status", "requests", "age", box=None)
        for b in report.in_flight:
            batches.add_row(b.provider_batch_id or "(not confirmed)", b.provider_status or "",
                            f"{b.requests:,}", _age(b.age_seconds))
        console.print(batches)
    else:
        console.print("no batches in flight")
    if report.lock_holder:
        h = report.lock_holder
        console.print(f"running now: run {h.run_id} by {h.user}@{h.host} (pid {h.pid}) since "
                      f"{h.acquired_at:%Y-%m-%d %H:%M:%S} UTC")


@main.command("dbt", context_settings={"ignore_unknown_options": True})
@click.option("--spec", "specs", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A spec to run before dbt (collect and submit, no wait); repeatable.")
@_where
@click.argument("dbt_args", nargs=-1, required=True, type=click.UNPROCESSED)
def dbt(specs: tuple[str, ...], dbt_args: tuple[str, ...], **where: Any) -> None:
    """Run specs without waiting, then dbt: `batchsql dbt --spec ai/x.yml -- build`.

    For warehouses whose dbt hooks cannot run batchsql. The profile options given here are
    passed on to dbt too; dbt's exit code is this command's.
    """
    executable = shutil.which("dbt")
    if executable is None:
        errors.print("[red]error:[/] dbt is not installed here (pip install dbt-core and your "
                     "adapter, e.g. dbt-postgres)")
        sys.exit(1)
    with _errors():
        for spec in specs:
            console.print(hooks.run_line(api.run(spec, wait=False, **where)))
    given = [(f"--{name.replace('_', '-')}", str(value))
             for name, value in where.items() if value is not None]
    sys.exit(subprocess.call([executable, *dbt_args, *(part for pair in given for part in pair)]))


class _errors:
    """Print a batchsql error as one clear line and exit 1; no traceback for user mistakes."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: object) -> bool:
        if isinstance(error, BatchsqlError):
            errors.print(f"[red]error:[/] {error}", soft_wrap=True)
            sys.exit(1)
        return False


class _Progress:
    """Turns runner events into a live display on a terminal, plain lines elsewhere."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.status: Any = None
        self.batches: dict[str, tuple[str, int, int]] = {}

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "rendering":
            self._say("rendering requests ...")
        elif kind == "selected":
            rows = data["rows"]
            self._line(f"{rows:,} rows pending" if rows else "nothing pending")
        elif kind == "submitted":
            self._line(f"submitted batch {data['batch']} ({data['requests']:,} requests)")
        elif kind == "polled":
            self.batches[data["batch"]] = (data["status"], data["completed"] + data["failed"],
                                           data["total"])
            self._say(self._waiting())
        elif kind == "collected":
            self.batches.pop(data["batch"], None)
            counts = ", ".join(f"{n:,} {s}" for s, n in sorted(data["outcomes"].items()))
            self._line(f"collected batch {data['batch']} ({data['status']}): {counts}")
            if data.get("error"):
                self._line(f"[yellow]{data['error']}[/]")
            if data["unknown"]:
                self._line(f"[yellow]warning:[/] {data['unknown']} result lines named requests "
                           "this batch never sent; ignored")
        elif kind == "cancelling":
            self._line(f"cancelling batch {data['batch']}")
        elif kind == "reused":
            saved = data["saved_usd"]
            self._line(f"reused {data['rows']:,} earlier answers to identical requests"
                       + (f" (saved {_money(saved)})" if saved else ""))
        elif kind == "over_budget":
            self._line(f"[yellow]budget:[/] {data['rows']:,} rows left for a later run; "
                       f"{_money(data['committed'])} of {_money(data['budget'])} committed")
        elif kind == "deferred":
            self._line(f"{data['rows']:,} rows wait for the enqueued-token limit "
                       f"({data['limit']:,} tokens) to free up")
        elif kind == "warning":
            self._line(f"[yellow]warning:[/] {data['message']}")

    def _waiting(self) -> str:
        parts = [f"{bid[-8:]} {status} {done:,}/{total:,}"
                 for bid, (status, done, total) in self.batches.items()]
        return "waiting for the provider: " + "; ".join(parts)

    def _say(self, text: str) -> None:
        if not self.out.is_terminal:
            return
        if self.status is None:
            self.status = self.out.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def _line(self, text: str) -> None:
        self.out.print(text)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _print_timings(phases: Phases) -> None:
    table = Table(box=None, pad_edge=False)
    for title in ("phase", "seconds", "rows", "rows/s"):
        table.add_column(title, justify="left" if title == "phase" else "right")
    for name in PHASES:
        seconds, rows = phases.seconds[name], phases.rows[name]
        rate = f"{rows / seconds:,.0f}" if rows and seconds > 0 else ""
        table.add_row(name, f"{seconds:.2f}", f"{rows:,}" if rows else "", rate)
    table.add_row("own time", f"{phases.own_seconds():.2f}", "", "")
    console.print(table)


def _print_summary(s: RunSummary) -> None:
    console.print()
    if not s.selected and not s.collected_batches and not s.not_sent:
        extra = []
        if s.in_flight:
            extra.append(f"{s.in_flight} batch(es) still in flight")
        if s.given_up:
            extra.append(f"{s.given_up:,} rows gave up after max_attempts")
        tail = f" ({'; '.join(extra)})" if extra else ""
        console.print(f"[bold]{s.spec}[/]: nothing pending; nothing submitted{tail}")
        return
    console.print(f"[bold]{s.spec}[/] run {s.run_id}")
    table = _label_table()
    if s.collected_batches:
        table.add_row("collected", f"{s.collected_batches} batch(es)")
    table.add_row("selected", f"{s.selected:,} pending rows")
    sent = f"{s.submitted:,} requests in {s.batches_submitted} batch(es)"
    if s.shared:
        sent += f" ({s.shared:,} more rows share identical requests)"
    table.add_row("submitted", sent)
    if s.reused:
        table.add_row("reused", f"{s.reused:,} rows answered by earlier identical requests")
    if s.max_cost_usd is not None:
        budget = f"up to {_money(s.est_cost_usd)} estimated, of {_money(s.max_cost_usd)}"
        if s.over_budget:
            budget += f"; {s.over_budget:,} rows left for a later run"
        table.add_row("budget", budget)
    table.add_row("succeeded", f"{s.succeeded:,}")
    kinds = {k: n for k, n in sorted(s.outcomes.items()) if k != "succeeded"}
    detail = ", ".join(f"{n:,} {k}" for k, n in kinds.items())
    table.add_row("failed", f"{s.failed:,}" + (f" ({detail})" if set(kinds) - {"failed"} else ""))
    if s.given_up:
        table.add_row("given up", f"{s.given_up:,} rows reached max_attempts")
    if s.unknown_lines:
        table.add_row("ignored", f"{s.unknown_lines:,} result lines with unknown custom_ids")
    if s.in_flight:
        table.add_row("in flight", f"{s.in_flight} batch(es); a later run collects them")
    table.add_row("tokens", f"{s.input_tokens:,} in / {s.output_tokens:,} out")
    if s.cost_usd is None:
        table.add_row("cost", "unknown (no price for this model)")
    else:
        table.add_row("cost", f"{_money(s.cost_usd)} at batch price "
                              f"(realtime would be {_money(s.realtime_cost_usd)})")
    if s.shared or s.reused:
        table.add_row("dedup saved", f"{s.shared + s.reused:,} requests"
                      + (f", {_money(s.saved_usd)}" if s.saved_usd else ""))
    console.print(table)


def _print_plan(p: Plan) -> None:
    console.print(f"[bold]{p.spec}[/] -> {p.output_table} ({p.model}, {p.endpoint})")
    table = _label_table()
    table.add_row("source rows", f"{p.source_rows:,}")
    for label, n in (("already answered", p.answered), ("in flight", p.in_flight),
                     ("gave up", p.given_up)):
        if n:
            table.add_row(label, f"{n:,}")
    table.add_row("pending", f"{p.pending:,} rows")
    if p.reused:
        table.add_row("  reused", f"{p.reused:,} rows answered by earlier identical requests")
    if p.shared:
        table.add_row("  shared", f"{p.shared:,} rows ride on an identical request")
    if p.not_sendable:
        table.add_row("  not sendable", f"{p.not_sendable:,} rows (template error or too large)")
    table.add_row("requests", f"{p.requests:,} in {p.batches} batch(es), "
                              f"{p.input_bytes / 1e6:,.1f} MB")
    exact = "exact" if p.tokens_exact else f"estimated: no tokenizer known for {p.model}"
    table.add_row("input tokens", f"{p.input_tokens:,} ({exact})")
    out = p.output
    most = (f"at most {p.output_tokens_max:,}" if p.output_tokens_max is not None
            else "no maximum: set params.max_tokens to bound it")
    table.add_row("output tokens", f"expected {p.output_tokens_expected:,} ({out.expected:,} "
                                   f"per request: {out.basis}); {most}")
    for label, batch in (("cost, batch", True), ("cost, realtime", False)):
        table.add_row(label, f"expected {_money(p.cost(batch=batch))}, at most "
                             f"{_money(p.cost(batch=batch, maximum=True))}")
    if p.price is None:
        table.add_row("", f"[yellow]no price known for {p.model}[/]: add it under prices: in "
                          "the profile target's batchsql settings")
    if p.shared or p.reused:
        table.add_row("dedup saves", f"{p.shared + p.reused:,} requests, about "
                                     f"{_money(p.saved_usd)}")
    if p.max_cost_usd is not None:
        fits = (f"{p.fits:,} requests fit (up to {_money(p.budget_cost_usd)})"
                if p.price is not None else "unknown: the model's price is unknown")
        left = f"; {p.over_budget:,} rows left for a later run" if p.over_budget else ""
        table.add_row("budget", f"{_money(p.max_cost_usd)} per run: {fits}{left}")
    if p.token_limit is not None and p.input_tokens > p.token_limit:
        table.add_row("token quota", f"{p.token_limit:,} enqueued tokens: submitted in waves "
                                     "as earlier batches finish")
    console.print(table)
    for sample in p.samples:
        console.print()
        console.print(f"[dim]request for {sample.key}:[/]")
        console.print_json(data=sample.body)


def _label_table() -> Table:
    """Two borderless columns: a dim label and its value."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    return table


def _money(value: float | None) -> str:
    if value is None:
        return "unknown"
    if 0 < value < 0.01:  # tiny sums (one saved request) still show their size
        return f"${value:.6f}"
    return f"${value:,.4f}" if value < 100 else f"${value:,.2f}"


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


main.add_command(emulator)
