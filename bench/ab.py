"""Two checkouts of batchsql on the same job, in alternating runs: which one is faster?

    PYTHONPATH=$PWD python bench/ab.py BASE [--head DIR] [--rows 1000000] [--pairs 4]
        [--batch-requests N] [--workdir DIR] [--json out.json]

BASE is a git ref of this repository (checked out into a temporary worktree) or the folder of
another checkout; HEAD defaults to this checkout. The speed of a shared machine drifts by tens
of percent within an hour, more than most changes are worth, so one run of each proves nothing.
Here both sides run the full job (bench/pipeline.py's, every row pending) on copies of one
generated DuckDB file, each against a fresh emulator (this checkout's, the same for both), in
pairs whose order alternates (A B, B A, ...): drift falls on both sides alike, and the paired
differences show whether a change pays. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import operator
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(REPO))

from bench import pipeline  # noqa: E402

Run = dict[str, Any]  # one run's figures (run_once)
Pick = Callable[[Run], float]


def run_once(side: Path, pristine: Path, folder: Path,
             batch_requests: int | None = None) -> Run:
    """One full run of the checkout ``side`` on a copy of ``pristine``: its scenario record
    (``pipeline.scenario_record``, so own time means what it means in the benchmark)."""
    shutil.rmtree(folder, ignore_errors=True)
    project = folder / "project"
    project.mkdir(parents=True)
    db = project / "bench.duckdb"
    shutil.copyfile(pristine, db)
    emulator = pipeline.Emulator(folder / "emulator", folder / "emulator.log")
    try:
        pipeline.write_project(project, db, emulator.base_url, batch_requests)
        child, emulator_cpu = pipeline.measure(
            emulator, pipeline.child_command(project, emulator.base_url, side),
            f"batchsql of {side}", project, side)
    finally:
        emulator.stop()
    record = pipeline.scenario_record(child, emulator_cpu)
    if not Path(record["batchsql_module"]).resolve().is_relative_to(side):
        raise pipeline.BenchError(
            f"the run meant for {side} imported {record['batchsql_module']}")
    return record


def summarize(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per side and of the paired differences (B - A), and how often B was faster.

    ``pairs``: each with its ``order`` and the runs of side ``a`` and side ``b``.
    """
    def median(side: str, pick: Pick) -> float:
        return statistics.median(pick(p[side]) for p in pairs)

    def diff(pick: Pick) -> float:
        return statistics.median(pick(p["b"]) - pick(p["a"]) for p in pairs)

    own, cpu = operator.itemgetter("own_seconds"), operator.itemgetter("child_cpu_seconds")
    return {
        "pairs": len(pairs),
        "own": {"a": median("a", own), "b": median("b", own), "b_minus_a": diff(own),
                "b_faster": sum(p["b"]["own_seconds"] < p["a"]["own_seconds"] for p in pairs)},
        "cpu": {"a": median("a", cpu), "b": median("b", cpu), "b_minus_a": diff(cpu)},
        "peak_rss_mb": {side: max(p[side]["peak_rss_mb"] for p in pairs) for side in "ab"},
        "phases": {name: {side: median(side, lambda r, n=name: r["phases"][n]["seconds"])
                          for side in "ab"} for name in pipeline.PHASES},
    }


def render(summary: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """The pairs, then the medians: what a reader compares."""
    lines = ["pair  order    A own s   B own s     B-A    A CPU s   B CPU s"]
    for i, p in enumerate(runs, 1):
        own_a, own_b = p["a"]["own_seconds"], p["b"]["own_seconds"]
        lines.append(f"{i:>4}  {p['order']:<6} {own_a:>9.2f} {own_b:>9.2f} {own_b - own_a:>+7.2f}"
                     f" {p['a']['child_cpu_seconds']:>10.1f} {p['b']['child_cpu_seconds']:>9.1f}")
    own, cpu = summary["own"], summary["cpu"]
    share = own["b_minus_a"] / own["a"] * 100 if own["a"] else 0.0
    lines += [
        "",
        f"median own time: A {own['a']:.2f} s, B {own['b']:.2f} s; median B-A "
        f"{own['b_minus_a']:+.2f} s ({share:+.1f}%); B faster in {own['b_faster']} of "
        f"{summary['pairs']} pairs",
        f"median CPU: A {cpu['a']:.1f} s, B {cpu['b']:.1f} s; median B-A "
        f"{cpu['b_minus_a']:+.1f} s",
        f"peak RSS (max): A {summary['peak_rss_mb']['a']:.0f} MB, "
        f"B {summary['peak_rss_mb']['b']:.0f} MB",
        "median s per phase:  " + "  ".join(
            f"{name} {v['a']:.2f}/{v['b']:.2f}" for name, v in summary["phases"].items()),
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def checkout(base: str, scratch: Path) -> Iterator[Path]:
    """The folder of ``base``: itself when it is one (a folder wins over a git ref of the same
    name), else a worktree of that git ref, removed afterwards."""
    if Path(base).is_dir():
        yield Path(base).resolve()
        return
    tree = scratch / "base-checkout"
    added = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree),
                            base], capture_output=True, text=True)
    if added.returncode != 0:
        raise pipeline.BenchError(f"cannot check out {base!r}: {added.stderr.strip()}")
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)


def compare(base: Path, head: Path, rows: int, pairs: int, root: Path,
            seed: int, batch_requests: int | None = None) -> list[dict[str, Any]]:
    """``pairs`` alternating runs of each side on one generated table."""
    for side in (base, head):
        if not (side / "bench" / "pipeline.py").is_file():
            raise pipeline.BenchError(f"{side} has no bench/pipeline.py to run")
    pristine = root / "pristine.duckdb"
    pipeline._log(f"generating {rows:,} tickets")
    pristine.unlink(missing_ok=True)  # a kept --workdir's, maybe of another size
    pipeline.generate(pristine, rows, seed)
    runs = []
    for i in range(pairs):
        order = "ab" if i % 2 == 0 else "ba"
        pair: dict[str, Any] = {"order": ",".join(order.upper())}
        for side in order:
            checkout_dir = base if side == "a" else head
            record = run_once(checkout_dir, pristine, root / "run", batch_requests)
            if sum(record["outcomes"].values()) != record["selected"] or record["selected"] != rows:
                raise pipeline.BenchError(
                    f"{checkout_dir}: selected {record['selected']:,} of {rows:,} rows, "
                    f"outcomes {record['outcomes']}: not a measurement")
            pipeline._log(f"pair {i + 1} {side.upper()}: own {record['own_seconds']:.2f} s, "
                          f"CPU {record['child_cpu_seconds']:.1f} s")
            pair[side] = record
        runs.append(pair)
    shutil.rmtree(root / "run", ignore_errors=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="A: a git ref of this repository, or a checkout's folder")
    parser.add_argument("--head", type=Path, default=REPO,
                        help="B: a checkout's folder (default: this one)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default 1000000)")
    parser.add_argument("--pairs", type=int, default=4, help="pairs of runs (default 4)")
    parser.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    parser.add_argument("--batch-requests", type=pipeline._positive, metavar="N",
                        help="at most N requests per batch (default: the provider's 50,000)")
    parser.add_argument("--workdir", type=Path,
                        help="work here (default: a temporary folder, removed afterwards)")
    parser.add_argument("--json", type=Path, help="write the runs and the summary here")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.rows < 1:
        parser.error("--pairs and --rows must be at least 1")
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="batchsql-ab-")))
        else:
            root = args.workdir.resolve()
            root.mkdir(parents=True, exist_ok=True)
        try:
            base = stack.enter_context(checkout(args.base, root))
            runs = compare(base, args.head.resolve(), args.rows, args.pairs, root, args.seed,
                           args.batch_requests)
        except (pipeline.BenchError, OSError) as e:
            pipeline._log(f"ab: error: {e}")
            return 1
        summary = summarize(runs)
        per_batch = f", at most {args.batch_requests:,} requests a batch" if (
            args.batch_requests) else ""
        print(f"A = {base}\nB = {args.head.resolve()}\n{args.rows:,} rows, full run{per_batch}\n")
        print(render(summary, runs), flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps({"a": str(base), "b": str(args.head.resolve()),
                                             "rows": args.rows,
                                             "batch_requests": args.batch_requests, "runs": runs,
                                             "summary": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
