"""Where a run's warehouse time goes: every statement batchsql sends to DuckDB, timed.

    PYTHONPATH=$PWD python bench/statements.py [--rows 1000000] [--rerun-new] [--top 30]
        [--workdir DIR] [--json out.json]

Generates N tickets and runs the bench job (bench/pipeline.py's full run, then with
``--rerun-new`` a rerun after 1% new rows) in a child process against the emulator, with the
DuckDB warehouse's ``execute``, ``fetch``, ``insert_arrow``, commits and ``close`` timed. Prints,
per run, its own time and the statements by total seconds: how many ran, on which thread, and
their first words (statements that differ only in bound parameters count as one). A commit is
named by its transaction's first statement; its time is DuckDB writing its log and, when the
log has grown past its threshold, checkpointing.
Streams (the rows read slice by slice) are timed by the phases of bench/pipeline.py, not here.
The phases tell which part of a run is slow; this tells which statement.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(REPO))

from bench import pipeline  # noqa: E402

#: Characters of a statement's text that name it in the table, and a commit.
SHOWN = 110
COMMIT_SHOWN = 60


class StatementTimer:
    """Seconds and calls per (thread, what), from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Calls a timed call makes (insert_arrow's INSERT, say) are its time, not counted again.
        self._inside = threading.local()
        self._totals: dict[tuple[str, str], list[float]] = collections.defaultdict(
            lambda: [0, 0.0])

    def add(self, what: str, seconds: float) -> None:
        thread = threading.current_thread().name
        with self._lock:
            total = self._totals[(thread, what)]
            total[0] += 1
            total[1] += seconds

    def rows(self) -> list[dict[str, Any]]:
        """Every (thread, what) with its calls and seconds, the costliest first."""
        with self._lock:
            items = [{"thread": thread, "what": what, "calls": int(calls), "seconds": seconds}
                     for (thread, what), (calls, seconds) in self._totals.items()]
        return sorted(items, key=lambda r: -r["seconds"])

    def install(self, warehouse: type) -> None:
        """Time the calls of a warehouse class (``DuckDBWarehouse``) from now on."""
        render = warehouse.render

        def statement(self: Any, stmt: Any) -> str:
            return " ".join(render(self, stmt).split())[:SHOWN]

        def arrow(_self: Any, table: Any) -> str:
            return f"INSERT ARROW INTO {table.sql()}"

        for name, label in (("execute", statement), ("fetch", statement), ("insert_arrow", arrow),
                            ("close", lambda _self: "CLOSE (checkpoints what the log holds)")):
            setattr(warehouse, name, self._timed(getattr(warehouse, name), name, label))
        original = warehouse.transaction
        timer = self

        @contextlib.contextmanager
        def transaction(self: Any) -> Iterator[None]:
            # The commit is the exit of the original context: timed on its own, and named by
            # the transaction's first statement (which commit costs what).
            context = original(self)
            context.__enter__()
            timer._inside.first = ""
            try:
                yield
            except BaseException as e:
                if not context.__exit__(type(e), e, e.__traceback__):
                    raise
                return
            finally:
                first, timer._inside.first = timer._inside.first, None
            started = time.perf_counter()
            context.__exit__(None, None, None)
            timer.add(f"COMMIT after {first[:COMMIT_SHOWN]}", time.perf_counter() - started)

        warehouse.transaction = transaction

    def _timed(self, method: Callable[..., Any], name: str,
               label: Callable[..., str]) -> Callable[..., Any]:
        timer = self

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(timer._inside, "depth", 0):
                return method(self, *args, **kwargs)
            timer._inside.depth = 1
            started = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                timer._inside.depth = 0
                what = label(self, *args[:1])
                if getattr(timer._inside, "first", None) == "":
                    timer._inside.first = what
                timer.add(what, time.perf_counter() - started)

        timed.__name__ = name
        return timed


def child(project: Path, base_url: str, out: Path) -> int:
    """In the child: bench/pipeline.py's batchsql run, its statements timed into ``out``."""
    from batchsql.warehouses.duckdb import DuckDBWarehouse

    timer = StatementTimer()
    timer.install(DuckDBWarehouse)
    status = pipeline.child_batchsql(project, base_url)
    out.write_text(json.dumps(timer.rows()) + "\n")
    return status


def profile_run(emulator: pipeline.Emulator, project: Path, out: Path) -> dict[str, Any]:
    """One run of the bench job in a child: its scenario record and its statements."""
    cmd = [sys.executable, str(BENCH / "statements.py"), "--child", str(project),
           "--child-base-url", emulator.base_url, "--child-out", str(out)]
    run, emulator_cpu = pipeline.measure(emulator, cmd, "batchsql (statements timed)", project)
    record = pipeline.scenario_record(run, emulator_cpu)
    record["statements"] = json.loads(out.read_text())
    return record


def render(title: str, record: dict[str, Any], top: int) -> str:
    """A run's own time, then its costliest statements."""
    statements = record["statements"]
    total = sum(s["seconds"] for s in statements)
    lines = [f"{title}: own {record['own_seconds']:.2f} s, of which {total:.2f} s in "
             f"{sum(s['calls'] for s in statements):,} warehouse calls "
             f"({record['selected']:,} rows selected)",
             f"{'seconds':>8} {'calls':>6}  {'thread':<18} statement"]
    for s in statements[:top]:
        lines.append(f"{s['seconds']:>8.3f} {s['calls']:>6}  {s['thread'][:18]:<18} {s['what']}")
    if len(statements) > top:
        rest = statements[top:]
        lines.append(f"{sum(s['seconds'] for s in rest):>8.3f} {sum(s['calls'] for s in rest):>6}"
                     f"  {'':<18} ({len(rest)} more)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default 1000000)")
    parser.add_argument("--rerun-new", action="store_true",
                        help="then add 1%% new rows and time the rerun too")
    parser.add_argument("--top", type=int, default=30, help="statements shown per run")
    parser.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    parser.add_argument("--workdir", type=Path,
                        help="work here (default: a temporary folder, removed afterwards)")
    parser.add_argument("--json", type=Path, help="write the runs and their statements here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-base-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args.child, args.child_base_url, args.child_out)
    if args.rows < 1 or args.top < 1:
        parser.error("--rows and --top must be at least 1")
    workdir = args.workdir.resolve() if args.workdir is not None else None
    with pipeline._workdir(workdir, keep=False) as root:
        try:
            runs = _runs(root, args.rows, args.seed, rerun_new=args.rerun_new)
        except (pipeline.BenchError, OSError) as e:
            pipeline._log(f"statements: error: {e}")
            return 1
        print("\n\n".join(render(title, record, args.top) for title, record in runs.items()),
              flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps({"rows": args.rows, "runs": runs}, indent=2) + "\n")
    return 0


def _runs(root: Path, rows: int, seed: int, *, rerun_new: bool) -> dict[str, dict[str, Any]]:
    project = root / "project"
    project.mkdir(parents=True, exist_ok=True)
    db = project / "bench.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):  # a kept --workdir's earlier run
        stale.unlink(missing_ok=True)
    pipeline._log(f"generating {rows:,} tickets")
    pipeline.generate(db, rows, seed)
    shutil.rmtree(root / "emulator", ignore_errors=True)
    emulator = pipeline.Emulator(root / "emulator", root / "emulator.log")
    runs = {}
    try:
        pipeline.write_project(project, db, emulator.base_url)
        runs["full run"] = profile_run(emulator, project, root / "full.json")
        if rerun_new:
            pipeline.add_rows(db, rows, max(1, round(rows * pipeline.NEW_SHARE)), seed)
            runs["rerun, +1% new rows"] = profile_run(emulator, project, root / "new.json")
    finally:
        emulator.stop()
    return runs


if __name__ == "__main__":
    sys.exit(main())
