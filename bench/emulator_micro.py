"""Emulator throughput: a batchsql-shaped workload through the real ``openai`` SDK.

    python bench/emulator_micro.py                     # 1,000,000 lines in 50,000-line files
    python bench/emulator_micro.py --lines 100000      # a quicker run
    python bench/emulator_micro.py --profile           # cProfile of processing one file

The end-to-end mode starts ``python -m batchsql emulator serve --port 0 --processing-seconds 0``
as its own process, uploads every input file, creates one batch per file, polls until all are
completed and downloads their output files. Per phase it prints wall seconds, lines/s, and the
emulator's CPU seconds (/proc/<pid>/stat, its worker processes included) and peak RSS (VmHWM
summed over its processes, reset between phases through /proc/<pid>/clear_refs where allowed).

Input lines are what batchsql sends for ``models/ticket_labels.yml``: the spec's prompt and
strict json_schema, rendered through ``plan.build_body``/``plan.encode_line``, with ~450
character ticket texts made from ``seeds/tickets.csv`` (each one distinct). Generated files are
kept in ``--workdir`` and reused by later runs with the same sizes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import cProfile
import csv
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHAT = "/v1/chat/completions"
TEXT_CHARS = 450
_HOLE = "\x02"  # stands for the user message while the body's JSON is built once


# -- input files ------------------------------------------------------------------------------

def _tickets() -> list[dict[str, str]]:
    with open(ROOT / "seeds" / "tickets.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def request_lines(n: int, start: int = 0) -> Iterator[bytes]:
    """``n`` input lines as batchsql writes them for ticket_labels (rows start..start+n-1)."""
    from batchsql import plan
    from batchsql.prompts import compile_prompt
    from batchsql.spec import load_spec

    spec = load_spec(ROOT / "models" / "ticket_labels.yml")
    prompt = compile_prompt(spec)
    rows = _tickets()
    marks = {"channel": "\x01C", "subject": "\x01S", "body": "\x01B"}
    messages = prompt.render(marks)
    assert not isinstance(messages, str)
    user_at = next(i for i, m in enumerate(messages) if m["role"] == "user")
    user_template = messages[user_at]["content"]
    messages[user_at] = {**messages[user_at], "content": _HOLE}
    body_json = plan.canonical_json(plan.build_body(spec, messages))
    head, tail = body_json.split(plan.canonical_json(_HOLE))
    batch_uuid = "benchbench0123456789"
    for seq in range(start, start + n):
        row = rows[seq % len(rows)]
        other = rows[(seq * 7 + 3) % len(rows)]["body"]
        text = f"{row['body']} Also: {other} (ticket {seq})"
        if len(text) > TEXT_CHARS:  # keep the distinct tail, cut the middle
            suffix = f" (ticket {seq})"
            text = text[:TEXT_CHARS - len(suffix)].rstrip() + suffix
        user = (user_template.replace(marks["channel"], row["channel"])
                .replace(marks["subject"], row["subject"]).replace(marks["body"], text))
        body = head + plan.canonical_json(user) + tail
        yield plan.encode_line(plan.custom_id(batch_uuid, seq), CHAT, body)


def input_files(workdir: Path, total: int, per_file: int) -> list[Path]:
    """The input files for ``total`` lines, generated once and reused."""
    paths = []
    for start in range(0, total, per_file):
        n = min(per_file, total - start)
        path = workdir / f"input-{start}-{n}.jsonl"
        if not path.exists():
            tmp = path.with_suffix(".part")
            with open(tmp, "wb", buffering=1024 * 1024) as f:
                for line in request_lines(n, start):
                    f.write(line)
            tmp.replace(path)
            print(f"generated {path.name} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
        paths.append(path)
    return paths


# -- the emulator process -------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """A process and its live descendants (Linux /proc)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue  # ended meanwhile
    return out


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of a process and its descendants, live ones and those it waited for."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class Emulator:
    """``batchsql emulator serve`` in its own process, with its CPU time and peak RSS.

    Both count the server's worker processes too (``--processes``): CPU is summed over the
    process tree (the reaped ones through their parents' cutime), RSS over the live processes.
    """

    def __init__(self, state_dir: Path, tree: Path, processes: int | None = None) -> None:
        cmd = [sys.executable, "-m", "batchsql", "emulator", "serve", "--port", "0",
               "--state-dir", str(state_dir), "--processing-seconds", "0"]
        if processes is not None:
            cmd += ["--processes", str(processes)]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        # cwd too: ``python -m`` puts the working directory first on sys.path.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True, cwd=tree)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError(f"the emulator did not start: {self.base_url!r}")

    def pids(self) -> list[int]:
        """The server and its live descendants."""
        return process_tree(self.proc.pid)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def _status_mb(self, key: str) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(key):
                        total += int(line.split()[1]) / 1024
            except OSError:
                continue
        return total

    def peak_rss_mb(self) -> float:
        return self._status_mb("VmHWM:")

    def rss_mb(self) -> float:
        return self._status_mb("VmRSS:")

    def reset_peak(self) -> bool:
        """Start a new VmHWM measurement (Linux ``clear_refs`` 5); False where refused."""
        try:
            for pid in self.pids():
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- end to end -----------------------------------------------------------------------------

class Phases:
    """Wall and emulator CPU per phase."""

    def __init__(self, emu: Emulator, lines: int) -> None:
        self.emu, self.lines = emu, lines
        self.rows: list[tuple[str, float, float, float]] = []

    def run(self, name: str, func: Any, *args: Any) -> Any:
        self.emu.reset_peak()
        cpu0, t0 = self.emu.cpu_seconds(), time.perf_counter()
        result = func(*args)
        wall, cpu = time.perf_counter() - t0, self.emu.cpu_seconds() - cpu0
        self.rows.append((name, wall, cpu, self.emu.peak_rss_mb()))
        print(f"{name:<11} {wall:7.2f} s wall  {self.lines / wall:10,.0f} lines/s  "
              f"emulator cpu {cpu:6.2f} s  peak rss {self.rows[-1][3]:7.1f} MB", flush=True)
        return result

    def total(self) -> None:
        wall = sum(r[1] for r in self.rows)
        cpu = sum(r[2] for r in self.rows)
        peak = max(r[3] for r in self.rows)
        print(f"{'total':<11} {wall:7.2f} s wall  {self.lines / wall:10,.0f} lines/s  "
              f"emulator cpu {cpu:6.2f} s  peak rss {peak:7.1f} MB")


def end_to_end(args: argparse.Namespace, workdir: Path) -> None:
    import openai

    files = input_files(workdir, args.lines, args.per_file)
    state = Path(tempfile.mkdtemp(prefix="emustate-", dir=workdir)).resolve()
    emu = Emulator(state, args.tree.resolve(), args.processes)
    try:
        client = openai.OpenAI(base_url=emu.base_url, api_key="bench", max_retries=0,
                               timeout=600)
        print(f"emulator pid {emu.proc.pid} at {emu.base_url}; {len(files)} files, "
              f"{sum(p.stat().st_size for p in files) / 1e6:.0f} MB; idle rss "
              f"{emu.rss_mb():.0f} MB", flush=True)
        phases = Phases(emu, args.lines)
        pool = concurrent.futures.ThreadPoolExecutor(args.jobs)

        def upload() -> list[str]:
            def one(path: Path) -> str:
                with open(path, "rb") as f:
                    return client.files.create(file=(path.name, f), purpose="batch").id
            return list(pool.map(one, files))

        def create(file_ids: list[str]) -> list[str]:
            return [client.batches.create(input_file_id=fid, endpoint=CHAT,
                                          completion_window="24h").id for fid in file_ids]

        def poll(batch_ids: list[str]) -> list[Any]:
            done: dict[str, Any] = {}
            while len(done) < len(batch_ids):
                if args.poll == "list":
                    page = client.batches.list(limit=100)
                    seen = {b.id: b for b in page.data if b.id in batch_ids}
                else:
                    seen = {bid: client.batches.retrieve(bid) for bid in batch_ids
                            if bid not in done}
                for bid, b in seen.items():
                    if b.status in ("completed", "failed", "expired", "cancelled"):
                        done[bid] = b
                if len(done) < len(batch_ids):
                    time.sleep(0.2)
            return [done[bid] for bid in batch_ids]

        def download(batches: list[Any]) -> tuple[int, int]:
            def one(b: Any) -> tuple[int, int]:
                lines = size = 0
                with client.with_streaming_response.files.content(b.output_file_id) as r:
                    for chunk in r.iter_bytes(1024 * 1024):
                        lines += chunk.count(b"\n")
                        size += len(chunk)
                return lines, size
            got = list(pool.map(one, batches))
            return sum(n for n, _ in got), sum(s for _, s in got)

        file_ids = phases.run("upload", upload)
        batch_ids = phases.run("create", create, file_ids)
        batches = phases.run("processing", poll, batch_ids)
        lines, size = phases.run("download", download, batches)
        phases.total()
        failed = [b.id for b in batches if b.status != "completed"]
        completed = sum(b.request_counts.completed for b in batches)
        usage_in = sum(b.usage.input_tokens for b in batches)
        usage_out = sum(b.usage.output_tokens for b in batches)
        print(f"{completed:,} completed, {lines:,} output lines ({size / 1e6:.0f} MB), "
              f"usage {usage_in:,} in / {usage_out:,} out tokens"
              + (f"; NOT COMPLETED: {failed}" if failed else ""))
        if lines != args.lines or failed:
            raise SystemExit("the emulator lost lines")
    finally:
        emu.stop()
        shutil.rmtree(state, ignore_errors=True)


# -- in-process profile ----------------------------------------------------------------------

def profile(args: argparse.Namespace, workdir: Path) -> None:
    """cProfile of validating and answering one input file (no HTTP)."""
    from batchsql.emulator import processing
    from batchsql.emulator.api import Api, Request
    from batchsql.emulator.faults import Faults
    from batchsql.emulator.store import Store

    path = input_files(workdir, args.per_file, args.per_file)[0]
    state = Path(tempfile.mkdtemp(prefix="emuprof-", dir=workdir))
    try:
        store = Store(state)
        store.save_faults(Faults(processing_seconds=0))
        tmp = store.tmp_path(".upload")
        shutil.copyfile(path, tmp)
        meta = store.add_file(tmp, filename=path.name, purpose="batch", created_at=0)
        body = json.dumps({"input_file_id": meta["id"], "endpoint": CHAT,
                           "completion_window": "24h"}).encode()
        _, view = Api(store).create_batch(Request("POST", "/v1/batches", {}, {}, body))
        assert isinstance(view, dict)
        rec = store.load_batch(view["id"])
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        rec = processing.refresh(store, rec, store.now())
        prof.disable()
        wall = time.perf_counter() - t0
        print(f"{args.per_file:,} lines processed in {wall:.2f} s under cProfile "
              f"({args.per_file / wall:,.0f} lines/s); result {rec['result']['completed']} "
              "completed", file=sys.stderr)
        stats = pstats.Stats(prof, stream=sys.stdout).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def timed(args: argparse.Namespace, workdir: Path) -> None:
    """Processing one file in-process without a profiler: validation and answering apart."""
    from batchsql.emulator import processing
    from batchsql.emulator.api import Api, Request
    from batchsql.emulator.faults import Faults
    from batchsql.emulator.store import Store

    path = input_files(workdir, args.per_file, args.per_file)[0]
    state = Path(tempfile.mkdtemp(prefix="emutime-", dir=workdir))
    try:
        store = Store(state)
        store.save_faults(Faults(processing_seconds=0))
        for _ in range(args.repeat):
            tmp = store.tmp_path(".upload")
            shutil.copyfile(path, tmp)
            meta = store.add_file(tmp, filename=path.name, purpose="batch", created_at=0)
            body = json.dumps({"input_file_id": meta["id"], "endpoint": CHAT,
                               "completion_window": "24h"}).encode()
            _, view = Api(store).create_batch(Request("POST", "/v1/batches", {}, {}, body))
            assert isinstance(view, dict)
            rec = store.load_batch(view["id"])
            t0 = time.process_time()
            rec = processing.refresh(store, rec, store.now())
            cpu = time.process_time() - t0
            print(f"{args.per_file:,} lines: {cpu:.2f} s cpu ({args.per_file / cpu:,.0f} "
                  "lines/s)")
    finally:
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="Lines in all.")
    ap.add_argument("--per-file", type=int, default=50_000, help="Lines per input file.")
    ap.add_argument("--workdir", type=Path,
                    default=Path(tempfile.gettempdir()) / "batchsql-emulator-bench",
                    help="Where input files are generated (and kept) and state lives.")
    ap.add_argument("--jobs", type=int, default=4, help="Concurrent uploads and downloads.")
    ap.add_argument("--processes", type=int, default=None,
                    help="The emulator's --processes (default: its own, one per core).")
    ap.add_argument("--poll", choices=("retrieve", "list"), default="retrieve",
                    help="Poll each batch, or the batch list.")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile processing one file in-process instead.")
    ap.add_argument("--timed", action="store_true",
                    help="Time processing one file in-process (CPU seconds) instead.")
    ap.add_argument("--repeat", type=int, default=1, help="--timed: how many times.")
    ap.add_argument("--top", type=int, default=30, help="--profile: rows to print.")
    ap.add_argument("--tree", type=Path, default=ROOT,
                    help="The source tree whose batchsql to measure (default: this one's), "
                         "e.g. an export of another commit for a before/after comparison.")
    args = ap.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    import batchsql

    print(f"measuring {Path(batchsql.__file__).parent}", file=sys.stderr)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.profile:
        profile(args, args.workdir)
    elif args.timed:
        timed(args, args.workdir)
    else:
        end_to_end(args, args.workdir)


if __name__ == "__main__":
    main()
