"""Throughput of the SQL renderer against the Python Renderer on synthetic tickets.

    PYTHONPATH=. python bench/render_sql_micro.py [--rows 1000000] [--python-rows 100000]

Rows are tickets of about 450 characters (channel, subject, body with quotes and newlines,
about 5% non-ASCII), rendered with the example spec models/ticket_labels.yml, fed in slices of
100k rows. The Python Renderer's time includes its token estimate; `--python-only-body`
times only what the SQL renderer replaces (render, body, canonical JSON, fingerprint).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from batchsql import plan
from batchsql.prompts import compile_prompt
from batchsql.render_sql import compile_renderer
from batchsql.runner.source import Renderer
from batchsql.spec import load_spec

SPEC = Path(__file__).resolve().parents[1] / "models" / "ticket_labels.yml"
SLICE = 100_000
WORDS = ("the app crashes when I export a report invoice charged twice please refund my card"
         " password reset email never arrived dashboard is slow error 502 since the update"
         " we need dark mode and bulk editing for our team of twelve thanks for your help").split()
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--python-rows", type=int, default=100_000)
    args = parser.parse_args()
    spec = load_spec(SPEC)
    prompt = compile_prompt(spec)
    data = tickets(args.rows)
    chars = sum(len(s) for s in data["subject"].to_pylist()[:10_000]) + sum(
        len(s) for s in data["body"].to_pylist()[:10_000])
    print(f"{args.rows:,} rows, {chars / 10_000:.0f} characters of subject+body on average")
    slices = data.to_batches(max_chunksize=SLICE)

    renderer = compile_renderer(spec, prompt, data.schema)
    assert renderer is not None
    with renderer:
        renderer.render(slices[0])  # warm up
        start = time.perf_counter()
        python_rows = 0
        for batch in slices:
            python_rows += pc.sum(renderer.render(batch)["_python"]).as_py() or 0
        took = time.perf_counter() - start
    print(f"SQL render: {took:.2f} s, {args.rows / took:,.0f} rows/s"
          f" ({python_rows:,} rows left to Python)")

    reference = Renderer(spec, prompt, plan.request_url(spec))
    sample = data.slice(0, args.python_rows).to_batches(max_chunksize=SLICE)
    start = time.perf_counter()
    for batch in sample:
        reference.render(batch)
    took = time.perf_counter() - start
    print(f"Python Renderer (with token estimate): {took:.2f} s for {args.python_rows:,} rows,"
          f" {args.python_rows / took:,.0f} rows/s")
    start = time.perf_counter()
    url = plan.request_url(spec)
    for batch in sample:
        for row in batch.to_pylist():
            plan.fingerprint(url, plan.canonical_json(plan.build_body(spec, prompt.render(row))))
    took = time.perf_counter() - start
    print(f"Python render+body+fingerprint only: {took:.2f} s for {args.python_rows:,} rows,"
          f" {args.python_rows / took:,.0f} rows/s")


if __name__ == "__main__":
    main()
