"""The baseline batchsql is compared with: the script one would write by hand for this job.

Straightforward but not careless: rows are fetched in slices, the templates are compiled once,
request lines go straight to a file (50,000 per file, OpenAI's limit), result lines are parsed
one at a time and inserted one row per INSERT with bound parameters, in one transaction per
result file (an autocommit per row would be a strawman). It does what batchsql does for this
spec except its bookkeeping: no deduplication, no anti-join, no crash safety.

The prompt, model, parameters and answer schema are defined here, and the benchmark writes its
batchsql spec from them, so both send the same request bodies (the test checks it).

    python bench/reference.py --db FILE --base-url URL --workdir DIR   # prints JSON figures
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

SOURCE_SQL = "select ticket_id, channel, subject, body from raw.tickets"
SYSTEM = (
    "You label customer support tickets for a software company.\n"
    "Choose the single best category, judge how urgent the ticket is,\n"
    "and summarise the customer's problem in one sentence.\n"
)
USER = "Channel: {{ channel }}\nSubject: {{ subject }}\n\n{{ body }}\n"
MODEL = "gpt-4o-mini"
PARAMS: dict[str, Any] = {"temperature": 0, "max_tokens": 200}
LABELS = ["billing", "bug", "feature_request", "account", "other"]
PRIORITIES = ["low", "normal", "high", "urgent"]
DESCRIPTIONS = {"label": "The ticket's category.",
                "priority": "How urgently the ticket needs an answer.",
                "summary": "The customer's problem in one sentence."}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": LABELS, "description": DESCRIPTIONS["label"]},
        "priority": {"type": "string", "enum": PRIORITIES,
                     "description": DESCRIPTIONS["priority"]},
        "summary": {"type": "string", "description": DESCRIPTIONS["summary"]},
    },
    "required": ["label", "priority", "summary"],
    "additionalProperties": False,
}
URL = "/v1/chat/completions"
LINES_PER_FILE = 50_000
FETCH_ROWS = 10_000
OUTPUT_TABLE = "analytics.reference_labels"

#: The reference's phases; all but ``provider`` are its own time.
PHASES = ("select", "render_encode", "upload", "provider", "download", "parse_insert")


class Clock:
    """Wall seconds per phase (phases do not nest here)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self._name: str | None = None
        self._since = 0.0

    def start(self, name: str) -> None:
        now = time.perf_counter()
        if self._name is not None:
            self.seconds[self._name] += now - self._since
        self._name, self._since = name, now

    def stop(self) -> None:
        if self._name is not None:
            self.seconds[self._name] += time.perf_counter() - self._since
        self._name = None


def request_body(system: str, user: str) -> dict[str, Any]:
    """The chat request of one ticket, as batchsql builds it for the same spec."""
    return {**PARAMS, "model": MODEL,
            "messages": [{"role": "system", "content": system},
                         {"role": "user", "content": user}],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "batchsql_output", "strict": True, "schema": SCHEMA}}}


def emulator_catch_up(base_url: str, seconds: float) -> None:
    """Make the batchsql emulator finish every batch now, as if ``seconds`` had passed.

    The emulator does a batch's work (validating and answering every line) lazily, inside the
    first HTTP request that reads the batch after it falls due, whichever request that is: a
    batch list made while uploading, or while collecting another batch. The benchmark gives
    batches a long processing time and calls this right before each status poll: it moves the
    emulator's clock forward and asks for its stats, which brings every batch up to date. All
    of the emulator's work thus lands in the poll, as with a real provider working in the
    background, and never in whatever call happened to come first.
    """
    import urllib.request

    root = base_url.rstrip("/").removesuffix("/v1")
    advance = urllib.request.Request(
        f"{root}/_emulator/clock", data=json.dumps({"advance": seconds}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    for request in (advance, urllib.request.Request(f"{root}/_emulator/stats")):
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()


def peak_rss_mb() -> float:
    """This process's peak resident set since it started (VmHWM), in MiB.

    Not ``ru_maxrss``: on Linux a child spawned with vfork+exec (as subprocess does) starts
    with its parent's high-water mark, so a large benchmark parent would inflate every child.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def compile_templates() -> tuple[Any, Any]:
    """The system and user templates, compiled once (plain Jinja: no sandbox to pay for)."""
    import jinja2

    # NULL renders as an empty string, as in batchsql.
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             finalize=lambda v: "" if v is None else v)
    return env.from_string(SYSTEM), env.from_string(USER)


def run(db_path: Path, base_url: str, workdir: Path, *, poll_seconds: float = 0.5,
        advance_clock: float = 0.0) -> dict[str, Any]:
    """Label every ticket through the Batch API at ``base_url``; returns figures and timings.

    ``advance_clock``: emulator only: before each poll, move its clock this far and let it
    catch up (see ``emulator_catch_up``); 0 for a real API.
    """
    import duckdb
    import openai

    started = time.perf_counter()  # after the imports, as for batchsql
    clock = Clock()
    workdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    client = openai.OpenAI(api_key="emulator", base_url=base_url)
    system_t, user_t = compile_templates()

    # Read, render, encode: one JSONL line per ticket, a new file every 50,000 lines.
    files: list[Path] = []
    out = None
    lines = rows = 0
    clock.start("select")
    cursor = con.execute(SOURCE_SQL)
    while True:
        clock.start("select")
        batch = cursor.fetchmany(FETCH_ROWS)
        if not batch:
            break
        clock.start("render_encode")
        for ticket_id, channel, subject, body in batch:
            row = {"ticket_id": ticket_id, "channel": channel, "subject": subject, "body": body}
            line = {"custom_id": str(ticket_id), "method": "POST", "url": URL,
                    "body": request_body(system_t.render(row), user_t.render(row))}
            if out is None or lines == LINES_PER_FILE:
                if out is not None:
                    out.close()
                files.append(workdir / f"requests-{len(files) + 1:03d}.jsonl")
                out = open(files[-1], "w", encoding="utf-8")  # noqa: SIM115 - closed below
                lines = 0
            out.write(json.dumps(line) + "\n")
            lines += 1
            rows += 1
    clock.start("render_encode")
    if out is not None:
        out.close()

    clock.start("upload")
    batch_ids = []
    for path in files:
        with open(path, "rb") as handle:
            uploaded = client.files.create(file=(path.name, handle), purpose="batch")
        batch_ids.append(client.batches.create(input_file_id=uploaded.id, endpoint=URL,
                                               completion_window="24h").id)

    clock.start("provider")
    done: dict[str, Any] = {}
    while len(done) < len(batch_ids):
        if advance_clock:
            emulator_catch_up(base_url, advance_clock)
        for batch_id in batch_ids:
            if batch_id not in done:
                info = client.batches.retrieve(batch_id)
                if info.status in ("completed", "failed", "expired", "cancelled"):
                    done[batch_id] = info
        if len(done) < len(batch_ids):
            time.sleep(poll_seconds)

    clock.start("parse_insert")
    con.execute("create schema if not exists analytics")
    con.execute(f"create or replace table {OUTPUT_TABLE} (ticket_id BIGINT, label VARCHAR, "
                "priority VARCHAR, summary VARCHAR, input_tokens INTEGER, "
                "output_tokens INTEGER, error VARCHAR)")
    insert = f"insert into {OUTPUT_TABLE} values (?, ?, ?, ?, ?, ?, ?)"
    succeeded = failed = 0
    for batch_id in batch_ids:
        info = done[batch_id]
        for file_id in (info.output_file_id, info.error_file_id):
            if not file_id:
                continue
            clock.start("download")
            content = client.files.content(file_id).content
            clock.start("parse_insert")
            con.execute("begin")
            for raw in content.splitlines():
                if not raw.strip():
                    continue
                result = json.loads(raw)
                ticket_id = int(result["custom_id"])
                response = result.get("response") or {}
                if response.get("status_code") != 200:
                    error = json.dumps(result.get("error") or response.get("body"))
                    con.execute(insert, [ticket_id, None, None, None, None, None, error])
                    failed += 1
                    continue
                body = response["body"]
                usage = body.get("usage") or {}
                try:
                    answer = json.loads(body["choices"][0]["message"]["content"])
                    values = [answer["label"], answer["priority"], answer["summary"]]
                    error = None
                except (ValueError, KeyError, TypeError, IndexError) as e:
                    values, error = [None, None, None], f"invalid answer: {e}"
                con.execute(insert, [ticket_id, *values, usage.get("prompt_tokens"),
                                     usage.get("completion_tokens"), error])
                if error is None:
                    succeeded += 1
                else:
                    failed += 1
            con.execute("commit")
    clock.stop()
    client.close()
    con.close()
    run_seconds = time.perf_counter() - started
    phase_sum = sum(clock.seconds.values())
    return {"rows": rows, "files": len(files), "batches": len(batch_ids),
            "succeeded": succeeded, "failed": failed, "phases": clock.seconds,
            "phase_own_seconds": phase_sum - clock.seconds["provider"],
            "untimed_seconds": run_seconds - phase_sum, "run_seconds": run_seconds,
            # Measured like batchsql's: the whole run but the provider wait.
            "own_seconds": run_seconds - clock.seconds["provider"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file with raw.tickets")
    parser.add_argument("--base-url", required=True, help="Batch API base URL (the emulator)")
    parser.add_argument("--workdir", type=Path, required=True, help="folder for JSONL files")
    parser.add_argument("--advance-clock", type=float, default=0.0,
                        help="emulator only: seconds to advance its clock before each poll "
                             "(see emulator_catch_up)")
    args = parser.parse_args(argv)
    figures = run(args.db, args.base_url, args.workdir, advance_clock=args.advance_clock)
    print(json.dumps({**figures, "peak_rss_mb": peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
