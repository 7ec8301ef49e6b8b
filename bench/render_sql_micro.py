"""Throughput of the SQL renderer against the Python Renderer on synthetic tickets.

    PYTHONPATH=. python bench/render_sql_micro.py [--rows 1000000] [--python-rows 100000]

Rows are tickets of about 450 characters (channel, subject, body with quotes and newlines,
about 5% non-ASCII) rendered with the example spec models/ticket_labels.yml. Times are wall and
CPU seconds (CPU is the fairer figure on a shared machine). Also timed: DuckDB's own sha256 over
the same bodies, the reason render_sql hashes with hashlib.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from batchsql import plan
from batchsql.prompts import compile_prompt
from batchsql.render_sql import compile_renderer
from batchsql.runner.source import Renderer
from batchsql.spec import load_spec

SPEC = Path(__file__).resolve().parents[1] / "models" / "ticket_labels.yml"
TEXT = ("the app crashes when I export a report invoice charged twice please refund my card"
        " password reset email never arrived dashboard is slow error 502 since the update"
        " we need dark mode and bulk editing for our team of twelve thanks for your help")
WORDS = TEXT.split()
INTL = ["Überweisung", "doppelt", "café", "naïve", "Zoë", "佐藤", "请退款", "😊", "–", "Øre"]
CHANNELS = ["email", "chat", "phone", "web form"]


def tickets(rows: int, seed: int = 7) -> pa.Table:
    """Synthetic tickets: about 450 characters of subject and body per row."""
    rng = random.Random(seed)
    subjects, bodies = [], []
    for _ in range(rows):
        words = rng.choices(WORDS, k=80)
        if rng.random() < 0.05:
            words[rng.randrange(80)] = rng.choice(INTL)
        for at in rng.sample(range(8, 80), 3):
            words[at] += rng.choice(('.\n', '. "', '," ', '?\n\n'))
        subjects.append(" ".join(words[:6]).capitalize())
        bodies.append(" ".join(words[6:]))
    return pa.table({
        "ticket_id": pa.array(range(rows), pa.int64()),
        "channel": pa.array(rng.choices(CHANNELS, k=rows), pa.string()),
        "subject": pa.array(subjects, pa.string()),
        "body": pa.array(bodies, pa.string()),
    })


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--python-rows", type=int, default=100_000)
    args = parser.parse_args()
    spec = load_spec(SPEC)
    prompt = compile_prompt(spec)
    data = tickets(args.rows)
    sample = data.slice(0, 10_000)
    chars = pc.sum(pc.add(pc.utf8_length(sample["subject"]), pc.utf8_length(sample["body"])))
    print(f"{args.rows:,} rows, {chars.as_py() / 10_000:.0f} characters of subject+body on average")

    renderer = compile_renderer(spec, prompt, data.schema)
    assert renderer is not None
    with renderer:
        renderer.render(data.slice(0, 1000))  # warm up
        for size in (100_000, 10_000):
            slices = data.to_batches(max_chunksize=size)
            left = 0

            def render_all() -> None:
                nonlocal left
                for batch in slices:  # noqa: B023 (called at once, in this iteration)
                    left += pc.sum(renderer.render(batch)["_python"]).as_py() or 0

            wall, cpu = timed(render_all)
            print(f"SQL render, {size:,}-row slices: {wall:.2f} s wall, {cpu:.2f} s CPU,"
                  f" {args.rows / wall:,.0f} rows/s ({left:,} rows left to Python)")
        bodies = renderer.render(data.slice(0, 100_000))
        fast = renderer.render(data.slice(0, args.python_rows))

    con = duckdb.connect()
    con.register("bodies", bodies)
    url = plan.request_url(spec) + "\n"
    wall, cpu = timed(lambda: con.sql("SELECT sha256(concat($url, _body)) FROM bodies",
                                      params={"url": url}).to_arrow_table())
    print(f"DuckDB sha256 of 100,000 of these bodies alone: {wall:.2f} s wall, {cpu:.2f} s CPU"
          f" (x{args.rows // 100_000} for all rows)")
    con.close()

    reference = Renderer(spec, prompt, plan.request_url(spec))
    # Stage rows carry the hash of their template inputs (stage_sql); any value does here.
    some = data.slice(0, args.python_rows)
    some = some.append_column("_input", pa.array(["0"] * some.num_rows, pa.string()))
    rows = some.to_batches(max_chunksize=10_000)
    slow: list[pa.Table] = []
    wall, cpu = timed(lambda: slow.extend(reference.render(b) for b in rows))
    print(f"Python Renderer (with its token estimate): {wall:.2f} s for {args.python_rows:,} rows,"
          f" {args.python_rows / wall:,.0f} rows/s")
    expected = pa.concat_tables(slow)
    same = all(fast[c].equals(expected[c]) for c in ("_fingerprint", "_body"))
    print(f"SQL and Python bodies and fingerprints identical on those rows: {same}")

    def bodies_only() -> None:
        for batch in rows:
            for row in batch.to_pylist():
                body = plan.canonical_json(plan.build_body(spec, prompt.render(row)))
                plan.fingerprint(plan.request_url(spec), body)

    wall, cpu = timed(bodies_only)
    print(f"Python render + body + fingerprint only: {wall:.2f} s for {args.python_rows:,} rows,"
          f" {args.python_rows / wall:,.0f} rows/s")


if __name__ == "__main__":
    main()
