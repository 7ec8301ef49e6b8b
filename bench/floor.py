"""The machine's floor: what DuckDB alone takes for the per-row work of a batchsql run.

    PYTHONPATH=$PWD python bench/floor.py --db bench.duckdb [--workdir DIR]

Issue 7 measured three figures on "this 2-core machine", and called their sum (5.4 s at a
million rows) the floor for batchsql's own work:

* ``write``: one ``COPY (SELECT ...) TO 'requests.jsonl' (FORMAT JSON)`` that selects every
  ticket, renders its prompt (string concatenation), builds its request as a struct and writes
  the file (3.2 s);
* ``read``: ``read_json`` of a file of one result line per ticket into a table, taking the
  answer's content and the usage (1.6 s);
* ``anti_join``: the tickets that have no result (0.6 s).

Machines of the same kind here differ by up to 1.7x from one session to the next, so a run's own
time means little next to another session's. ``pipeline.py`` measures the floor at each size, in
the same invocation and before the emulator starts, and reports the run in floor units.

DuckDB runs with its defaults (all cores, no memory cap), reading the bench's tickets from its
file read-only and writing into a scratch database and files in ``--workdir``, all removed
afterwards. The result file is made by DuckDB too, untimed, in the emulator's line format.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(BENCH.parent))

from bench import reference  # noqa: E402  (stdlib-only at import time)

#: The steps, in the order they run; their sum is the floor.
STEPS = ("write", "read", "anti_join")
STEP_TITLES = {"write": "write request lines", "read": "read result lines",
               "anti_join": "anti-join"}
#: The issue's figures at a million rows (3.2 + 1.6 + 0.6 s), the size of the request lines
#: its write step wrote, and its own-time target.
ISSUE_FLOOR_1M = 5.4
ISSUE_REQUEST_MB_1M = 646
ISSUE_TARGET_1M = 15.0

TICKETS = "src.raw.tickets"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _user_content() -> str:
    """``reference.USER`` (Channel, Subject, blank line, body) as a SQL expression: NULL
    columns render as empty text, as in batchsql, and Jinja drops the template's final
    newline."""
    if reference.USER != "Channel: {{ channel }}\nSubject: {{ subject }}\n\n{{ body }}\n":
        raise RuntimeError("reference.USER changed: update floor._user_content to match")
    return ("concat('Channel: ', channel, chr(10), 'Subject: ', subject, chr(10), chr(10), "
            "body)")


def request_query() -> str:
    """Every ticket's request line, as ``reference.request_body`` builds it, built by DuckDB."""
    system = reference.compile_templates()[0].render()  # constant: rendered once, by Jinja
    body = reference.request_body(system, "")
    # Each parameter as JSON text: a string, a number or a list is written as it is.
    params = ", ".join(f"{_literal(k)}: json({_literal(json.dumps(v))})"
                       for k, v in reference.PARAMS.items())
    response_format = _literal(json.dumps(body["response_format"]))
    return (
        f"SELECT CAST(ticket_id AS VARCHAR) AS custom_id, 'POST' AS method, "
        f"{_literal(reference.URL)} AS url, "
        f"{{{params}, 'model': {_literal(reference.MODEL)}, 'messages': ["
        f"{{'role': 'system', 'content': {_literal(system)}}}, "
        f"{{'role': 'user', 'content': {_user_content()}}}], "
        f"'response_format': json({response_format})}} AS body FROM {TICKETS}")


def _results_query() -> str:
    """A result line per ticket with the fields (and about the size) of the emulator's: a
    JSON answer in ``content``, usage with its details."""
    summary = "concat('[emulator] Channel: ', channel, ' Subject: ', subject, ' ', left(body, 60))"
    answer = f"to_json({{'label': 'billing', 'priority': 'normal', 'summary': {summary}}})::VARCHAR"
    return (
        "SELECT 'batch_req_' || md5(ticket_id::VARCHAR) AS id, "
        "CAST(ticket_id AS VARCHAR) AS custom_id, "
        "{'status_code': 200, 'request_id': 'req_' || md5(ticket_id::VARCHAR || 'r'), "
        " 'body': {'id': 'chatcmpl-' || md5(ticket_id::VARCHAR || 'c'), "
        "  'object': 'chat.completion', 'created': 1764374400, "
        f"  'model': {_literal(reference.MODEL)}, 'system_fingerprint': 'batchsql-emulator', "
        "  'service_tier': 'default', 'choices': [{'index': 0, "
        f"  'message': {{'role': 'assistant', 'content': {answer}, 'refusal': NULL, "
        "  'annotations': []::VARCHAR[]}, 'logprobs': NULL, 'finish_reason': 'stop'}], "
        "  'usage': {'prompt_tokens': 150 + length(body) // 4, 'completion_tokens': 40, "
        "   'total_tokens': 190 + length(body) // 4, "
        "   'prompt_tokens_details': {'cached_tokens': 0, 'audio_tokens': 0}, "
        "   'completion_tokens_details': {'reasoning_tokens': 0, 'audio_tokens': 0, "
        "    'accepted_prediction_tokens': 0, 'rejected_prediction_tokens': 0}}}} "
        f"AS response, NULL::VARCHAR AS error FROM {TICKETS}")


_READ = """
CREATE OR REPLACE TABLE results AS
SELECT CAST(custom_id AS BIGINT) AS ticket_id,
       response.body.choices[1].message.content AS content,
       response.body.usage.prompt_tokens AS input_tokens,
       response.body.usage.completion_tokens AS output_tokens
FROM read_json(?, format = 'newline_delimited', columns = {
    'custom_id': 'VARCHAR',
    'response': 'STRUCT(status_code INTEGER, body STRUCT(choices STRUCT(message STRUCT(
        content VARCHAR))[], usage STRUCT(prompt_tokens BIGINT, completion_tokens BIGINT)))'})
"""

_ANTI_JOIN = f"SELECT count(*) FROM {TICKETS} t ANTI JOIN results r USING (ticket_id)"


def measure(db: Path, workdir: Path, *, repeat: int = 2) -> dict[str, Any]:
    """Time the three steps over the tickets of ``db`` (read-only), ``repeat`` times each, and
    keep each step's fastest time (one run varies by up to a quarter); scratch in ``workdir``."""
    import duckdb

    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="floor-", dir=workdir))
    requests, results = scratch / "requests.jsonl", scratch / "results.jsonl"
    steps = {
        "write": (f"COPY ({request_query()}) TO {_literal(str(requests))} (FORMAT JSON)", []),
        "read": (_READ, [str(results)]),
        "anti_join": (_ANTI_JOIN, []),
    }
    try:
        con = duckdb.connect(str(scratch / "floor.duckdb"))
        try:
            con.execute(f"ATTACH {_literal(str(db))} AS src (READ_ONLY)")
            rows = int(con.execute(f"SELECT count(*) FROM {TICKETS}").fetchone()[0])
            con.execute(f"COPY ({_results_query()}) TO {_literal(str(results))} (FORMAT JSON)")
            times: dict[str, list[float]] = {step: [] for step in STEPS}
            for _ in range(repeat):
                for step in STEPS:
                    query, params = steps[step]
                    started = time.perf_counter()
                    answer = con.execute(query, params).fetchall()
                    times[step].append(time.perf_counter() - started)
                    if step == "anti_join":
                        pending = int(answer[0][0])
            read = int(con.execute("SELECT count(*) FROM results").fetchone()[0])
        finally:
            con.close()
        seconds = {step: min(times[step]) for step in STEPS}
        figures = {"rows": rows, "repeat": repeat, "seconds": seconds, "all_seconds": times,
                   "floor_seconds": sum(seconds.values()),
                   "request_mb": requests.stat().st_size / 2**20,
                   "result_mb": results.stat().st_size / 2**20,
                   "results_read": read, "pending_after": pending}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if read != rows or pending != 0:
        raise RuntimeError(f"floor: read {read:,} results of {rows:,} tickets, and "
                           f"{pending:,} tickets have none")
    return figures


def in_floor_units(own_seconds: float, floor_seconds: float) -> float | None:
    """A run's own time as a multiple of the floor measured beside it."""
    return own_seconds / floor_seconds if floor_seconds > 0 else None


def main(argv: list[str] | None = None) -> int:
    """Measure the floor of ``--db``'s tickets; print it, then the figures as a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True,
                        help="a DuckDB file with raw.tickets (bench/synthetic.py)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the scratch files go (removed afterwards)")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each step; the fastest counts (default 2)")
    args = parser.parse_args(argv)
    figures = measure(args.db, args.workdir, repeat=args.repeat)
    rows = figures["rows"]
    for step in STEPS:
        s = figures["seconds"][step]
        print(f"{STEP_TITLES[step]:<22}{s:>8.2f} s{rows / s if s > 0 else 0:>14,.0f} rows/s",
              file=sys.stderr)
    print(f"{'floor':<22}{figures['floor_seconds']:>8.2f} s for {rows:,} rows "
          f"(the issue's machine: {ISSUE_FLOOR_1M:g} s at 1M)", file=sys.stderr)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
