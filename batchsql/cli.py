"""The `batchsql` command line: the only module that prints."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from batchsql import api
from batchsql.emulator.cli import emulator
from batchsql.errors import BatchsqlError
from batchsql.runner import RunSummary

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
@_where
def run(spec: str, wait: bool, max_wait: float | None, lock_wait: float, **where: Any) -> None:
    """Collect finished batches, submit pending rows, and (by default) wait for them."""
    with _errors():
        display = _Progress(console)
        try:
            summary = api.run(spec, wait=wait, max_wait=max_wait, lock_wait=lock_wait,
                              on_event=display.event, **where)
        finally:
            display.stop()
        _print_summary(summary)


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
@_where
def status(spec: str, **where: Any) -> None:
    """Outcomes so far, batches in flight with their age, and cost so far."""
    with _errors():
        report = api.status(spec, **where)
    console.print(f"[bold]{report.spec}[/] -> {report.output_table}")
    if not report.outcomes and not report.in_flight:
        console.print("nothing run yet")
        return
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column(justify="right")
    for outcome, n in sorted(report.outcomes.items()):
        table.add_row(outcome, f"{n:,}")
    table.add_row("keys with a result", f"{report.keys_with_result:,}")
    table.add_row("tokens", f"{report.input_tokens:,} in / {report.output_tokens:,} out")
    table.add_row("cost so far", _money(report.cost_usd))
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
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    if s.collected_batches:
        table.add_row("collected", f"{s.collected_batches} batch(es)")
    table.add_row("selected", f"{s.selected:,} pending rows")
    table.add_row("submitted", f"{s.submitted:,} requests in {s.batches_submitted} batch(es)")
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
    console.print(table)


def _money(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:,.4f}" if value < 100 else f"${value:,.2f}"


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


main.add_command(emulator)
