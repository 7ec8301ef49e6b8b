"""End-to-end benchmark of batchsql against a hand-written baseline, from 10k to 1M rows.

    PYTHONPATH=$PWD python bench/pipeline.py [--sizes 10000,100000,1000000]
        [--reference-sizes 10000,100000] [--no-reference] [--no-floor] [--json out.json]
        [--workdir DIR]

Per size N: generate N tickets in DuckDB (SQL, not timed), time what DuckDB alone takes for the
per-row work (bench/floor.py: the machine's floor, in a child), start the emulator as its own
process, then run batchsql in a fresh child process per scenario (full run; rerun with nothing
pending; rerun after 1% new rows) and the reference script once, all against that emulator.
Prints a table per size, a PASS/FAIL block for the targets and the 1M run in floor units; see
bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(REPO))

from bench import emulator_micro, floor, reference  # noqa: E402  (stdlib-only at import)

PHASES = ("select", "render", "encode", "upload", "provider", "download", "reconcile",
          "write")
SCENARIOS = ("full", "rerun_nothing", "rerun_new")
SCENARIO_TITLES = {"full": "full run", "rerun_nothing": "rerun, nothing pending",
                   "rerun_new": "rerun, +1% new rows"}
NEW_SHARE = 0.01
SPEC_NAME = "ticket_labels"
OUTPUT_TABLE = "analytics.ticket_labels"
MARKER = ".batchsql-bench"  # marks folders this harness may delete and recreate

# Targets: the sizes they are judged at, and their limits.
M, K100 = 1_000_000, 100_000
OWN_LIMIT_1M = 15.0
SPEEDUP_MIN = 10.0
RSS_LIMIT_MB = 1024.0
RSS_GROWTH_MAX = 1.25
RERUN_NOTHING_LIMIT = 2.0
RERUN_NEW_SHARE_MAX = 0.10
EMULATOR_WALL_LIMIT = 30.0  # "well under a minute": seconds the emulator takes for 1M lines

#: Emulator seconds a batch takes. Long, so that no batch falls due (and is worked on by the
#: emulator) while batchsql uploads or collects; each status poll first advances the emulator's
#: clock by this much and lets it catch up (see reference.emulator_catch_up).
BATCH_SECONDS = 3600.0


class BenchError(Exception):
    """A step of the benchmark failed (not a target: the measurement itself)."""


# --------------------------------------------------------------------------- child processes


@dataclass
class Child:
    """What a child process printed (its last JSON line, which includes its own peak RSS) and
    the wall and CPU seconds it took."""

    data: dict[str, Any]
    wall_seconds: float
    cpu_seconds: float


def _child_env(repo: Path = REPO) -> dict[str, str]:
    env = dict(os.environ)
    # That checkout's batchsql, not whichever one is installed (it may be another worktree).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env.pop("DBT_PROFILES_DIR", None)
    return env


def run_child(cmd: list[str], what: str, cwd: Path, repo: Path = REPO) -> Child:
    """Run a child, importing the batchsql of checkout ``repo``, to completion; its CPU seconds
    come from wait4, so they are its own."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=None, cwd=cwd, env=_child_env(repo))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise BenchError(f"{what} failed (exit status {proc.returncode}); its output:\n"
                         f"{text[-4000:]}")
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            break
    else:
        raise BenchError(f"{what} printed no JSON result; its output:\n{text[-4000:]}")
    # Not usage.ru_maxrss: it starts at this process's own peak (see reference.peak_rss_mb).
    return Child(data, wall, usage.ru_utime + usage.ru_stime)


def child_batchsql(project: Path, base_url: str) -> int:
    """In the child: one ``batchsql.api.run`` of the bench spec; print its figures as JSON."""
    started = time.perf_counter()
    from batchsql import api
    from batchsql.providers.openai import OpenAIProvider

    imported = time.perf_counter()
    import_rss = reference.peak_rss_mb()
    retrieve = OpenAIProvider.retrieve
    catching_up = [0.0]

    def retrieve_when_due(self: OpenAIProvider, batch_id: str) -> Any:
        # batchsql polls only through retrieve, inside its provider phase.
        started = time.perf_counter()
        reference.emulator_catch_up(base_url, BATCH_SECONDS)
        catching_up[0] += time.perf_counter() - started
        return retrieve(self, batch_id)

    OpenAIProvider.retrieve = retrieve_when_due  # type: ignore[method-assign]
    begun = time.perf_counter()
    summary = api.run(project / "models" / f"{SPEC_NAME}.yml", wait=True,
                      profiles_dir=project, project_dir=project)
    finished = time.perf_counter()
    import batchsql

    print(json.dumps({
        "batchsql": batchsql.__file__,
        "import_seconds": imported - started, "run_seconds": finished - begun,
        "import_rss_mb": import_rss,
        "selected": summary.selected, "submitted": summary.submitted,
        "shared": summary.shared, "reused": summary.reused,
        "batches_submitted": summary.batches_submitted,
        "collected_batches": summary.collected_batches, "outcomes": summary.outcomes,
        "not_sent": summary.not_sent, "deferred": summary.deferred,
        "in_flight": summary.in_flight,
        "seconds": summary.phases.seconds, "rows": summary.phases.rows,
        "peak_rss_mb": reference.peak_rss_mb(),
        # Wall time of the emulator doing its batches' work, while batchsql waited.
        "emulator_wall_seconds": catching_up[0],
    }))
    return 0


# --------------------------------------------------------------------------- the emulator


class Emulator:
    """``batchsql emulator serve`` in its own process, so its CPU is not batchsql's.

    Its worker processes are started (``--warm``) and up before anything is timed: as a real
    provider's servers are. Otherwise they start at the first batch input uploaded, in the
    middle of a run's submitting, and their start-up (about 1.8 CPU s here) is taken from the
    two cores batchsql is measured on.
    """

    def __init__(self, state_dir: Path, log: Path) -> None:
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "batchsql", "emulator", "serve", "--port", "0", "--warm",
             "--state-dir", str(state_dir), "--processing-seconds", str(BATCH_SECONDS)],
            stdout=subprocess.PIPE, stderr=self.log, env=_child_env(), text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.stop()
            raise BenchError(f"the emulator did not start; see {log}")
        self._wait_for_workers(log)

    def _wait_for_workers(self, log: Path, timeout: float = 120.0) -> None:
        root = self.base_url.rstrip("/").removesuffix("/v1")
        deadline = time.monotonic() + timeout
        while True:
            with urllib.request.urlopen(f"{root}/_emulator/stats", timeout=60) as response:
                if json.loads(response.read())["workers_ready"]:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"the emulator's worker processes did not start; see {log}")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """CPU seconds of the emulator so far: its threads, and its worker processes."""
        return emulator_micro.tree_cpu_seconds(self.proc.pid)

    def peak_rss_mb(self) -> float:
        """The emulator's peak resident set so far (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """SIGTERM (the emulator stops cleanly on it), then SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


# --------------------------------------------------------------------------- project setup


def spec_document() -> dict[str, Any]:
    """The bench spec: the example ticket_labels spec over ``raw.tickets``."""
    columns = {
        "label": {"type": "string", "enum": reference.LABELS,
                  "description": reference.DESCRIPTIONS["label"]},
        "priority": {"type": "string", "enum": reference.PRIORITIES,
                     "description": reference.DESCRIPTIONS["priority"]},
        "summary": {"type": "string", "description": reference.DESCRIPTIONS["summary"]},
    }
    return {
        "name": SPEC_NAME,
        "description": "Category, priority and a one-sentence summary for each ticket.",
        "source": {"sql": reference.SOURCE_SQL, "key": "ticket_id"},
        "prompt": {"system": reference.SYSTEM, "user": reference.USER},
        "model": reference.MODEL,
        "params": dict(reference.PARAMS),
        "output": {"table": OUTPUT_TABLE, "columns": columns},
        "max_attempts": 3,
    }


def write_project(project: Path, db: Path, base_url: str,
                  batch_requests: int | None = None) -> None:
    """models/<spec>.yml and a profiles.yml whose target is ``db`` and the emulator's URL
    (``batch_requests``: its max_requests_per_batch, if any)."""
    import yaml

    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "models" / f"{SPEC_NAME}.yml").write_text(
        yaml.safe_dump(spec_document(), sort_keys=False, allow_unicode=True))
    # Poll fast: waiting is excluded from own time, but shorter waits keep runs short.
    settings: dict[str, Any] = {"provider": "emulator", "base_url": base_url,
                                "poll_interval": 0.5}
    if batch_requests is not None:
        settings["max_requests_per_batch"] = batch_requests
    profiles = {"batchsql": {"target": "bench", "outputs": {"bench": {
        "type": "duckdb", "path": str(db), "batchsql": settings}}}}
    (project / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False))


def generate(db: Path, rows: int, seed: int) -> dict[str, Any]:
    """A fresh DuckDB file holding ``rows`` tickets; returns their description."""
    import duckdb

    from bench import synthetic

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    try:
        synthetic.create_tickets(con)
        synthetic.insert_tickets(con, 0, rows, seed)
        con.execute("checkpoint")  # no WAL for batchsql's first connect to replay
        figures = synthetic.describe(con)
    finally:
        con.close()
    figures["generate_seconds"] = time.perf_counter() - started
    return figures


def add_rows(db: Path, start: int, count: int, seed: int) -> None:
    """Insert ``count`` more tickets after ticket ``start`` (not timed)."""
    import duckdb

    from bench import synthetic

    con = duckdb.connect(str(db))
    try:
        synthetic.insert_tickets(con, start, count, seed)
        con.execute("checkpoint")
    finally:
        con.close()


def count_rows(db: Path, table: str) -> int:
    """Rows in a table of the DuckDB file, read-only (between runs)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(f"select count(*) from {table}").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- measuring


def _rate(rows: int, seconds: float) -> float | None:
    return rows / seconds if rows and seconds > 0 else None


def scenario_record(child: Child, emulator_cpu: float) -> dict[str, Any]:
    """A batchsql child's figures, with own time and the time no phase accounts for."""
    d = child.data
    seconds, rows = d["seconds"], d["rows"]
    provider = seconds.get("provider", 0.0)
    phase_sum = sum(seconds.values())
    return {
        "selected": d["selected"], "submitted": d["submitted"], "shared": d["shared"],
        "reused": d["reused"], "batches_submitted": d["batches_submitted"],
        "collected_batches": d["collected_batches"], "outcomes": d["outcomes"],
        "not_sent": d["not_sent"], "deferred": d["deferred"], "in_flight": d["in_flight"],
        "phases": {name: {"seconds": seconds.get(name, 0.0), "rows": rows.get(name, 0),
                          "rows_per_second": _rate(rows.get(name, 0), seconds.get(name, 0.0))}
                   for name in PHASES},
        # Phases.own_seconds(): every phase but provider.
        "phase_own_seconds": phase_sum - provider,
        # Inside api.run but in no phase (loading the spec, connecting, bookkeeping).
        "untimed_seconds": d["run_seconds"] - phase_sum,
        # What the targets use: all of api.run but the provider wait, so that work done
        # outside every phase still counts.
        "own_seconds": d["run_seconds"] - provider,
        "provider_seconds": provider,
        "run_seconds": d["run_seconds"], "import_seconds": d["import_seconds"],
        "import_rss_mb": d["import_rss_mb"],
        "child_wall_seconds": child.wall_seconds, "child_cpu_seconds": child.cpu_seconds,
        "peak_rss_mb": d["peak_rss_mb"], "emulator_cpu_seconds": emulator_cpu,
        "emulator_wall_seconds": d["emulator_wall_seconds"],
        "batchsql_module": d["batchsql"],
    }


def measure(emulator: Emulator, cmd: list[str], what: str, cwd: Path,
            repo: Path = REPO) -> tuple[Child, float]:
    """Run a child (importing checkout ``repo``'s batchsql); also return the emulator's CPU
    seconds meanwhile."""
    before = emulator.cpu_seconds()
    child = run_child(cmd, what, cwd, repo)
    return child, emulator.cpu_seconds() - before


def child_command(project: Path, base_url: str, repo: Path = REPO) -> list[str]:
    """The command of one batchsql run of ``project``'s spec by checkout ``repo``."""
    return [sys.executable, str(repo / "bench" / "pipeline.py"), "--child-batchsql",
            str(project), "--child-base-url", base_url]


class Checks:
    """Correctness checks; a failed one is shown loudly and makes the exit status 1."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def check(self, size: int, name: str, ok: bool, detail: str) -> None:
        self.items.append({"size": size, "name": name, "ok": ok, "detail": detail})
        if not ok:
            _log(f"!!! CHECK FAILED at N={size:,}: {name}: {detail}")

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.items if not c["ok"]]


def bench_size(n: int, root: Path, *, with_reference: bool, seed: int, checks: Checks,
               batch_requests: int | None = None, with_floor: bool = True) -> dict[str, Any]:
    """The floor, then every scenario at one size against one fresh emulator."""
    folder = root / f"n{n}"
    if folder.exists():
        if not (folder / MARKER).exists():
            raise BenchError(f"{folder} exists and was not made by this benchmark")
        shutil.rmtree(folder)
    project = folder / "project"
    project.mkdir(parents=True)
    (folder / MARKER).touch()
    db = project / "bench.duckdb"

    _log(f"[N={n:,}] generating tickets in DuckDB")
    data = generate(db, n, seed)
    _log(f"[N={n:,}] {data['rows']:,} tickets, avg body {data['avg_body_chars']:.0f} chars, "
         f"{data['duplicate_rows']:,} duplicates, {data['non_ascii_rows']:,} non-ASCII "
         f"({data['generate_seconds']:.1f} s)")
    result: dict[str, Any] = {"size": n, "data": data, "scenarios": {}, "reference": None,
                              "floor": run_floor(n, folder, db) if with_floor else None}
    emulator = Emulator(folder / "emulator", folder / "emulator.log")
    try:
        write_project(project, db, emulator.base_url, batch_requests)
        cmd = child_command(project, emulator.base_url)
        new = max(1, round(n * NEW_SHARE))
        for scenario in SCENARIOS:
            if scenario == "rerun_new":
                if with_reference:
                    result["reference"] = run_reference(n, folder, db, emulator, checks)
                add_rows(db, n, new, seed)
            _log(f"[N={n:,}] batchsql: {SCENARIO_TITLES[scenario]}")
            child, emu_cpu = measure(emulator, cmd, f"batchsql ({scenario}, N={n:,})",
                                     project)
            record = scenario_record(child, emu_cpu)
            result["scenarios"][scenario] = record
            _log(f"[N={n:,}]   own {record['own_seconds']:.2f} s, provider wait "
                 f"{record['provider_seconds']:.2f} s, emulator CPU {emu_cpu:.2f} s, "
                 f"peak RSS {record['peak_rss_mb']:.0f} MB")
            check_scenario(checks, n, new, scenario, record, db)
        result["emulator_peak_rss_mb"] = emulator.peak_rss_mb()
    finally:
        emulator.stop()
    full = result["scenarios"]["full"]
    ref = result["reference"]
    result["speedup"] = (ref["own_seconds"] / full["own_seconds"]
                         if ref and full["own_seconds"] > 0 else None)
    return result


def check_scenario(checks: Checks, n: int, new: int, scenario: str, r: dict[str, Any],
                   db: Path) -> None:
    """What each scenario must have done, from its summary and the output view."""
    succeeded = r["outcomes"].get("succeeded", 0)
    answered = r["submitted"] + r["shared"] + r["reused"]
    view = f"{OUTPUT_TABLE}_current"
    if scenario == "full":
        checks.check(n, "full run selects every row", r["selected"] == n,
                     f"selected {r['selected']:,} of {n:,}")
        checks.check(n, "full run answers every row", succeeded == n and answered == n,
                     f"succeeded {succeeded:,}, submitted {r['submitted']:,} + shared "
                     f"{r['shared']:,} + reused {r['reused']:,}, expected {n:,}")
        rows = count_rows(db, view)
        checks.check(n, "output holds every row", rows == n, f"{rows:,} rows in {view}")
    elif scenario == "rerun_nothing":
        checks.check(n, "rerun with nothing pending sends nothing",
                     r["selected"] == 0 and r["submitted"] == 0,
                     f"selected {r['selected']:,}, submitted {r['submitted']:,}")
    else:
        checks.check(n, "rerun after new rows selects exactly the new rows",
                     r["selected"] == new, f"selected {r['selected']:,}, new rows {new:,}")
        checks.check(n, "rerun after new rows answers exactly the new rows",
                     answered == new and succeeded == new,
                     f"submitted {r['submitted']:,} + shared {r['shared']:,} + reused "
                     f"{r['reused']:,}, succeeded {succeeded:,}; new rows {new:,}")
        rows = count_rows(db, view)
        checks.check(n, "output holds old and new rows", rows == n + new,
                     f"{rows:,} rows in {view}, expected {n + new:,}")


def run_reference(n: int, folder: Path, db: Path, emulator: Emulator,
                  checks: Checks) -> dict[str, Any]:
    """The reference script once, on the same DuckDB file and emulator."""
    _log(f"[N={n:,}] reference: hand-written loop")
    cmd = [sys.executable, str(BENCH / "reference.py"), "--db", str(db),
           "--base-url", emulator.base_url, "--workdir", str(folder / "reference"),
           "--advance-clock", str(BATCH_SECONDS)]
    child, emu_cpu = measure(emulator, cmd, f"reference (N={n:,})", folder)
    d = child.data
    record = {**d, "child_wall_seconds": child.wall_seconds,
              "child_cpu_seconds": child.cpu_seconds, "emulator_cpu_seconds": emu_cpu}
    checks.check(n, "reference answers every row", d["rows"] == n and d["succeeded"] == n,
                 f"read {d['rows']:,}, succeeded {d['succeeded']:,} of {n:,}")
    _log(f"[N={n:,}]   own {d['own_seconds']:.2f} s, provider wait "
         f"{d['phases']['provider']:.2f} s, peak RSS {d['peak_rss_mb']:.0f} MB")
    shutil.rmtree(folder / "reference", ignore_errors=True)
    return record


def run_floor(n: int, folder: Path, db: Path) -> dict[str, Any]:
    """bench/floor.py in a child on the freshly generated tickets, before the emulator starts
    (nothing else runs meanwhile)."""
    _log(f"[N={n:,}] machine floor: DuckDB alone")
    # Its scratch goes in a folder of its own under ``folder``, removed when it is done.
    cmd = [sys.executable, str(BENCH / "floor.py"), "--db", str(db), "--workdir", str(folder)]
    child = run_child(cmd, f"floor (N={n:,})", folder)
    _log(f"[N={n:,}]   floor {child.data['floor_seconds']:.2f} s")
    return {**child.data, "child_cpu_seconds": child.cpu_seconds}


# --------------------------------------------------------------------------- targets


def targets(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target: PASS, FAIL or "not measured" (a size it needs was not run)."""
    out: list[dict[str, Any]] = []

    def add(name: str, needs: list[int], judge: Any) -> None:
        missing = [s for s in needs if s not in results]
        if missing:
            out.append({"name": name, "status": "not measured", "value": None,
                        "detail": "needs N=" + ", ".join(f"{s:,}" for s in missing)})
            return
        ok, value, detail = judge()
        out.append({"name": name, "status": "PASS" if ok else "FAIL", "value": value,
                    "detail": detail})

    def full(size: int) -> dict[str, Any]:
        return results[size]["scenarios"]["full"]

    def own_1m() -> tuple[bool, float, str]:
        own = full(M)["own_seconds"]
        return own <= OWN_LIMIT_1M, own, f"{own:.2f} s (limit {OWN_LIMIT_1M:g} s)"

    def speedup() -> tuple[bool, float | None, str]:
        value = results[K100]["speedup"]
        if value is None:
            return False, None, "the reference did not run at N=100,000"
        ref = results[K100]["reference"]["own_seconds"]
        return (value >= SPEEDUP_MIN, value,
                f"{value:.1f}x (reference {ref:.2f} s / batchsql {full(K100)['own_seconds']:.2f}"
                f" s; needs {SPEEDUP_MIN:g}x)")

    def rss() -> tuple[bool, float, str]:
        peak = {s: max(r["peak_rss_mb"] for r in results[s]["scenarios"].values())
                for s in (M, K100)}
        growth = peak[M] / peak[K100]
        ok = peak[M] <= RSS_LIMIT_MB and growth <= RSS_GROWTH_MAX
        return ok, peak[M], (f"{peak[M]:.0f} MB at 1M, {peak[K100]:.0f} MB at 100k "
                             f"(+{(growth - 1) * 100:.0f}%; limits {RSS_LIMIT_MB:g} MB, "
                             f"+{(RSS_GROWTH_MAX - 1) * 100:.0f}%)")

    def rerun_nothing() -> tuple[bool, float, str]:
        r = results[M]["scenarios"]["rerun_nothing"]
        return (r["own_seconds"] <= RERUN_NOTHING_LIMIT, r["own_seconds"],
                f"{r['own_seconds']:.2f} s own (limit {RERUN_NOTHING_LIMIT:g} s); child wall "
                f"incl. start-up {r['child_wall_seconds']:.2f} s")

    def rerun_new() -> tuple[bool, float, str]:
        r = results[M]["scenarios"]["rerun_new"]
        new = max(1, round(M * NEW_SHARE))
        exact = r["selected"] == new and r["submitted"] + r["shared"] + r["reused"] == new
        share = r["own_seconds"] / full(M)["own_seconds"]
        return (exact and share <= RERUN_NEW_SHARE_MAX, share,
                f"selected {r['selected']:,} of {new:,} new"
                f"{'' if exact else ' (MISMATCH)'}; {r['own_seconds']:.2f} s = "
                f"{share * 100:.1f}% of the full run (limit {RERUN_NEW_SHARE_MAX * 100:g}%)")

    def emulator() -> tuple[bool, float, str]:
        wall, cpu = full(M)["emulator_wall_seconds"], full(M)["emulator_cpu_seconds"]
        return (wall <= EMULATOR_WALL_LIMIT, wall,
                f"{wall:.1f} s for the full run's 1M lines, {cpu:.1f} CPU s in all its "
                f"processes (limit {EMULATOR_WALL_LIMIT:g} s)")

    add("1M rows end to end: batchsql own time <= 15 s", [M], own_1m)
    add(">= 10x faster than the reference at 100k rows", [K100], speedup)
    add("peak RSS <= 1 GB at 1M, within 25% of 100k", [M, K100], rss)
    add("rerun with nothing pending at 1M <= 2 s", [M], rerun_nothing)
    add("rerun after 1% new rows: exactly those, <= 10% of full", [M], rerun_new)
    add("emulator answers 1M lines well under a minute", [M], emulator)
    return out


# --------------------------------------------------------------------------- report


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _rows_s(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _step_table(width: int, title: str,
                steps: list[tuple[str, float, float | None]]) -> list[str]:
    """A title row (s, rows/s), then a row per (label, seconds, rows per second) step."""
    return [f"{title:<{width}}{'s':>10}{'rows/s':>16}"] + [
        f"{label:<{width}}{_secs(seconds):>10}{_rows_s(rate):>16}"
        for label, seconds, rate in steps]


def render_size(r: dict[str, Any]) -> str:
    """The per-size table: phases down, scenarios across."""
    n, data, sc = r["size"], r["data"], r["scenarios"]
    lines = [
        f"N = {n:,}  (avg body {data['avg_body_chars']:.0f} chars, "
        f"{data['duplicate_rows'] / max(1, data['rows']):.1%} duplicate subject+body, "
        f"{data['non_ascii_rows'] / max(1, data['rows']):.1%} non-ASCII; "
        f"generated in {data['generate_seconds']:.1f} s, not timed)",
    ]
    width = 26
    head = f"{'':<{width}}" + "".join(f"{SCENARIO_TITLES[s]:>26}" for s in SCENARIOS)
    sub = f"{'phase':<{width}}" + "".join(f"{'s':>10}{'rows/s':>16}" for _ in SCENARIOS)
    lines += [head, sub]
    for name in PHASES:
        cells = []
        for s in SCENARIOS:
            p = sc[s]["phases"][name]
            cells.append(f"{_secs(p['seconds']):>10}{_rows_s(p['rows_per_second']):>16}")
        label = "provider (wait)" if name == "provider" else name
        lines.append(f"{label:<{width}}" + "".join(cells))

    def row(label: str, key: str, fmt: str = "{:.2f}") -> None:
        lines.append(f"{label:<{width}}" + "".join(f"{fmt.format(sc[s][key]):>26}"
                                                    for s in SCENARIOS))

    row("untimed (in no phase)", "untimed_seconds")
    row("sum of phases - provider", "phase_own_seconds")
    row("OWN (run - provider)", "own_seconds")
    row("import batchsql", "import_seconds")
    row("peak RSS after import MB", "import_rss_mb", "{:.0f}")
    row("child wall (all)", "child_wall_seconds")
    row("child CPU", "child_cpu_seconds")
    row("peak RSS MB", "peak_rss_mb", "{:.0f}")
    row("emulator wall s (its work)", "emulator_wall_seconds")
    row("emulator CPU s", "emulator_cpu_seconds")
    for label, key in (("selected", "selected"), ("submitted", "submitted"),
                       ("shared (dedup)", "shared"), ("reused", "reused"),
                       ("batches", "batches_submitted")):
        row(label, key, "{:,}")
    lines.append(f"{'own vs full run':<{width}}" + "".join(
        f"{sc[s]['own_seconds'] / sc['full']['own_seconds']:>26.1%}"
        if sc["full"]["own_seconds"] > 0 else f"{'':>26}" for s in SCENARIOS))
    ref = r["reference"]
    if ref is None:
        lines.append("reference: not run at this size")
    else:
        lines += _step_table(width, "reference (hand-written)", [
            ("provider (wait)", ref["phases"][name], None) if name == "provider" else
            (name.replace("_", "+"), ref["phases"][name], _rate(ref["rows"], ref["phases"][name]))
            for name in reference.PHASES])
        for label, key, fmt in (("untimed (in no phase)", "untimed_seconds", "{:.2f}"),
                                ("OWN (run - provider)", "own_seconds", "{:.2f}"),
                                ("child wall (all)", "child_wall_seconds", "{:.2f}"),
                                ("child CPU", "child_cpu_seconds", "{:.2f}"),
                                ("peak RSS MB", "peak_rss_mb", "{:.0f}"),
                                ("emulator CPU s", "emulator_cpu_seconds", "{:.2f}")):
            lines.append(f"{label:<{width}}{fmt.format(ref[key]):>10}")
        speed = r["speedup"]
        lines.append("speed-up (reference own / batchsql own): "
                     + (f"{speed:.1f}x" if speed else "n/a"))
    lines.append(f"emulator peak RSS {r.get('emulator_peak_rss_mb', 0):.0f} MB")
    fl = r.get("floor")
    if fl is None:
        lines.append("machine floor: not measured (--no-floor)")
    else:
        lines += _step_table(width, "machine floor (DuckDB alone)", [
            (floor.STEP_TITLES[step], fl["seconds"][step], _rate(fl["rows"], fl["seconds"][step]))
            for step in floor.STEPS])
        lines.append(f"{'FLOOR':<{width}}{_secs(fl['floor_seconds']):>10}   (best of "
                     f"{fl['repeat']}; {fl['request_mb']:,.0f} MB of request lines)")
        units = floor.in_floor_units(sc["full"]["own_seconds"], fl["floor_seconds"])
        lines.append("batchsql own (full run) / floor: "
                     + (f"{units:.1f}x" if units is not None else "n/a"))
    return "\n".join(lines)


def floor_units(results: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """The 1M full run's own time in units of the floor measured beside it, and the
    issue's target in units of the issue's floor; None unless both were measured."""
    r = results.get(M)
    if r is None or r.get("floor") is None:
        return None
    own, fl = r["scenarios"]["full"]["own_seconds"], r["floor"]["floor_seconds"]
    return {"own_seconds": own, "floor_seconds": fl, "request_mb": r["floor"]["request_mb"],
            "own_in_floor_units": floor.in_floor_units(own, fl),
            "target_in_floor_units": floor.ISSUE_TARGET_1M / floor.ISSUE_FLOOR_1M}


def render_floor_units(units: dict[str, Any] | None) -> str:
    """One line under the targets: the 1M run against this machine's floor (not a target)."""
    if units is None:
        return "in floor units: not measured (needs N=1,000,000 and its floor)"
    return (f"in floor units: the 1M run's own time is {units['own_in_floor_units']:.1f}x this "
            f"machine's floor ({units['floor_seconds']:.2f} s, {units['request_mb']:,.0f} MB of "
            f"request lines); the 15 s target is {units['target_in_floor_units']:.1f}x the "
            f"issue's floor ({floor.ISSUE_FLOOR_1M:g} s, {floor.ISSUE_REQUEST_MB_1M:g} MB)")


def render_targets(items: list[dict[str, Any]]) -> str:
    """The targets block: status, name, measured value."""
    lines = ["targets"]
    for t in items:
        lines.append(f"  {t['status']:<13} {t['name']:<56} {t['detail']}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Where and with what the figures were taken."""
    import duckdb
    import openai
    import pyarrow

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "batchsql"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "pyarrow": pyarrow.__version__, "openai": openai.__version__,
            "batchsql_commit": commit + ("+dirty" if dirty else ""),
            "load_average_start": os.getloadavg()}


# --------------------------------------------------------------------------- main


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of row counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("row counts must be positive")
    return sizes


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be positive")
    return value


@contextlib.contextmanager
def _workdir(given: Path | None, keep: bool) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="batchsql-bench-"))
    try:
        yield folder
    finally:
        if keep:
            _log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with the hidden --child-batchsql, one batchsql child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000, 1_000_000],
                        help="row counts to run (default 10000,100000,1000000)")
    parser.add_argument("--reference-sizes", type=_sizes, default=[10_000, 100_000],
                        help="sizes at which the reference runs too (default 10000,100000)")
    parser.add_argument("--no-reference", action="store_true", help="never run the reference")
    parser.add_argument("--no-floor", action="store_true",
                        help="do not measure the machine's floor (bench/floor.py)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--workdir", type=Path,
                        help="keep projects, warehouses and emulator state here (default: a "
                             "temporary folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    parser.add_argument("--batch-requests", type=_positive, metavar="N",
                        help="at most N requests per batch (max_requests_per_batch; default: "
                             "the provider's 50,000): more batches per run, as a table of "
                             "tens of millions of rows has")
    parser.add_argument("--child-batchsql", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_batchsql is not None:
        return child_batchsql(args.child_batchsql, args.child_base_url)

    report: dict[str, Any] = {"machine": machine(), "settings": {
        "sizes": args.sizes, "reference_sizes": [] if args.no_reference else args.reference_sizes,
        "seed": args.seed, "new_share": NEW_SHARE, "batch_requests": args.batch_requests,
        "floor": not args.no_floor},
        "sizes": {}, "checks": [], "targets": []}
    load = report["machine"]["load_average_start"][0]
    if load > 0.5 * (os.cpu_count() or 1):
        _log(f"warning: load average {load:.1f} on {os.cpu_count()} CPUs; timings will be noisy")
    checks = Checks()
    results: dict[int, dict[str, Any]] = {}
    error = None
    try:
        with _workdir(args.workdir, args.keep) as root:
            for n in args.sizes:
                with_ref = not args.no_reference and n in args.reference_sizes
                results[n] = bench_size(n, root, with_reference=with_ref, seed=args.seed,
                                        checks=checks, batch_requests=args.batch_requests,
                                        with_floor=not args.no_floor)
                if args.workdir is None and not args.keep:
                    shutil.rmtree(root / f"n{n}", ignore_errors=True)  # a 1M run takes GBs
                print(render_size(results[n]) + "\n", flush=True)
    except (BenchError, OSError) as e:
        error = str(e)
        _log(f"bench: error: {e}")
    except KeyboardInterrupt:
        error = "interrupted"
        _log("bench: interrupted")
    report["sizes"] = {str(n): r for n, r in results.items()}
    report["checks"] = checks.items
    report["targets"] = targets(results)
    report["floor_units"] = floor_units(results)
    report["machine"]["load_average_end"] = os.getloadavg()
    report["error"] = error
    print(render_targets(report["targets"]), flush=True)
    print(render_floor_units(report["floor_units"]), flush=True)
    if checks.failed:
        print(f"\n!!! {len(checks.failed)} correctness check(s) FAILED: " + "; ".join(
            f"N={c['size']:,} {c['name']} ({c['detail']})" for c in checks.failed), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        _log(f"wrote {args.json}")
    return 1 if error or checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
