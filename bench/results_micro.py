"""Micro-benchmark: reconcile a large result file, Python path vs `results_fast.outcome_slices`.

    PYTHONPATH=. python bench/results_micro.py [--lines 1000000] [--python-lines 100000]
                                               [--file /tmp/results_1m.jsonl]

The file is what the emulator answers for the example spec (models/ticket_labels.yml) over the
seed tickets, cycled to the wanted length with a distinct custom_id and line id per line. Each
timing runs in a fresh process so that its peak RSS is its own; CPU seconds (all threads) are
printed beside wall seconds because on a shared machine wall time mostly measures the others.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "models" / "ticket_labels.yml"


def write_results(path: Path, lines: int, spec_path: Path = SPEC_PATH) -> None:
    """An emulator-like output file of `lines` success lines for the spec over the seeds."""
    from batchsql import plan
    from batchsql.emulator import processing
    from batchsql.prompts import compile_prompt
    from batchsql.spec import load_spec

    spec = load_spec(spec_path)
    prompt = compile_prompt(spec)
    with open(ROOT / "seeds" / "tickets.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # One answer per ticket, computed once: answering is the emulator's cost, not ours.
    bodies = []
    for row in rows:
        body = plan.build_body(spec, prompt.render(row))
        bodies.append(processing._answer(plan.CHAT_COMPLETIONS, body, "0" * 64, 1_767_225_600)[0])
    with open(path, "w", encoding="utf-8") as out:
        for i in range(lines):
            h = hashlib.blake2b(f"bench:{i}".encode(), digest_size=32).hexdigest()
            cid = json.dumps(f"0123456789abcdef0123-{i}")
            out.write(processing._OK_LINE % (f"batch_req_{h[:32]}", cid, f"req_{h[32:]}",
                                             bodies[i % len(bodies)]) + "\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(mode: str, path: Path, limit: int) -> None:
    """Reconcile `path` one way and print rows, seconds, rows/s and peak RSS as JSON."""
    import itertools

    from batchsql import outputs, results_fast
    from batchsql.pricing import price_of
    from batchsql.reconcile import parse_line
    from batchsql.spec import load_spec

    spec = load_spec(SPEC_PATH)
    price = price_of(spec.model)
    base = _peak_mb()
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    rows, fast = 0, None
    if mode == "python":
        with open(path, "rb") as f:
            lines = [line for line in itertools.islice(f, limit) if line.strip()]
        for i in range(0, len(lines), 10_000):
            chunk = lines[i:i + 10_000]
            rows += outputs.outcome_table(spec, [parse_line(x, spec) for x in chunk],
                                          price).num_rows
    else:
        stats = results_fast.Stats()
        for table in results_fast.outcome_slices([path], spec, price, stats=stats):
            rows += table.num_rows
        fast = stats.fast
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"mode": mode, "rows": rows, "fast": fast, "wall_s": round(seconds, 2),
                      "cpu_s": round(cpu, 2), "rows_per_s": round(rows / seconds),
                      "peak_rss_mb": round(_peak_mb()), "rss_before_mb": round(base),
                      "load_before": round(load, 2)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--python-lines", type=int, default=100_000)
    parser.add_argument("--file", type=Path, default=Path("/tmp/batchsql_results_1m.jsonl"))
    parser.add_argument("--mode", choices=["python", "fast"], help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        run(args.mode, args.file, args.limit)
        return
    if not args.file.exists():
        start = time.perf_counter()
        write_results(args.file, args.lines)
        print(f"wrote {args.file} ({args.file.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s")
    for mode, limit in (("python", args.python_lines), ("fast", args.lines)):
        subprocess.run([sys.executable, __file__, "--mode", mode, "--limit", str(limit),
                        "--file", str(args.file)], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
