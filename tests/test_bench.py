"""The benchmark harness (bench/): its data, its baseline, and one tiny end-to-end run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from batchsql import plan
from batchsql.prompts import compile_prompt
from batchsql.spec import load_spec
from bench import floor, pipeline, reference, statements, synthetic

REPO = Path(__file__).resolve().parents[1]


def _tickets(rows: int, seed: int = 7) -> list[tuple]:
    con = duckdb.connect()
    synthetic.create_tickets(con)
    synthetic.insert_tickets(con, 0, rows, seed)
    return con.execute("select * from raw.tickets order by ticket_id").fetchall()


def test_synthetic_tickets_are_deterministic_and_realistic() -> None:
    first = _tickets(3000)
    assert first == _tickets(3000)
    assert first != _tickets(3000, seed=8)
    con = duckdb.connect()
    synthetic.create_tickets(con)
    synthetic.insert_tickets(con, 0, 3000)
    figures = synthetic.describe(con)
    assert figures["rows"] == 3000
    assert 380 <= figures["avg_body_chars"] <= 520
    assert 0.01 * 3000 <= figures["duplicate_rows"] <= 0.04 * 3000
    assert figures["non_ascii_rows"] > 0
    # Rows added later continue the ids and are generated the same way.
    synthetic.insert_tickets(con, 3000, 30)
    ids = [r[0] for r in con.execute("select ticket_id from raw.tickets order by 1").fetchall()]
    assert ids == list(range(1, 3031))


def test_reference_sends_the_request_batchsql_sends(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump(pipeline.spec_document(), sort_keys=False,
                                   allow_unicode=True))
    spec = load_spec(path)
    prompt = compile_prompt(spec)
    system, user = reference.compile_templates()
    for ticket_id, channel, subject, body in _tickets(50):
        row = {"ticket_id": ticket_id, "channel": channel, "subject": subject, "body": body}
        ours = plan.build_body(spec, prompt.render(row))
        assert reference.request_body(system.render(row), user.render(row)) == ours


def test_pipeline_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "pipeline.py"), "--sizes", "300",
         "--reference-sizes", "300", "--workdir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "targets" in done.stdout and "full run" in done.stdout
    report = json.loads(out.read_text())
    size = report["sizes"]["300"]
    assert set(size["scenarios"]) == {"full", "rerun_nothing", "rerun_new"}
    for record in size["scenarios"].values():
        assert set(record["phases"]) == set(pipeline.PHASES)
        for key in ("own_seconds", "phase_own_seconds", "untimed_seconds", "provider_seconds",
                    "child_wall_seconds", "peak_rss_mb", "emulator_cpu_seconds"):
            assert record[key] >= 0 or key == "untimed_seconds", key
        assert Path(record["batchsql_module"]).is_relative_to(REPO)
    assert size["scenarios"]["full"]["selected"] == 300
    assert size["scenarios"]["rerun_nothing"]["selected"] == 0
    assert size["scenarios"]["rerun_new"]["selected"] == 3
    assert size["scenarios"]["full"]["emulator_cpu_seconds"] > 0
    assert size["reference"]["succeeded"] == 300 and size["speedup"] > 0
    assert report["checks"] and all(c["ok"] for c in report["checks"])
    assert [t["status"] for t in report["targets"]] == ["not measured"] * 6
    assert report["error"] is None
    # The floor ran on the same tickets, before the emulator, and left nothing behind.
    fl = size["floor"]
    assert fl["rows"] == fl["results_read"] == 300 and fl["pending_after"] == 0
    assert fl["floor_seconds"] == pytest.approx(sum(fl["seconds"][s] for s in floor.STEPS))
    assert not list((tmp_path / "work" / "n300").glob("floor-*"))
    assert "machine floor (DuckDB alone)" in done.stdout and "batchsql own (full run) / floor" \
        in done.stdout
    assert report["floor_units"] is None and "in floor units: not measured" in done.stdout


def test_floor_writes_the_requests_the_reference_sends(tmp_path: Path) -> None:
    """The floor's DuckDB-only write step builds, for every ticket, the very request the
    reference (and batchsql, test above) sends: the floor times the same work."""
    db = tmp_path / "t.duckdb"
    pipeline.generate(db, 400, 7)
    out = tmp_path / "requests.jsonl"
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
    con.execute(f"COPY ({floor.request_query()}) TO '{out}' (FORMAT JSON)")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    system, user = reference.compile_templates()
    tickets = {t[0]: t for t in con.execute(f"SELECT * FROM {floor.TICKETS}").fetchall()}
    assert len(lines) == len(tickets) == 400
    non_ascii = 0
    for line in lines:
        _, channel, subject, body = tickets[int(line["custom_id"])]
        row = {"channel": channel, "subject": subject, "body": body}
        assert line["method"] == "POST" and line["url"] == reference.URL
        assert line["body"] == reference.request_body(system.render(row), user.render(row))
        non_ascii += not line["body"]["messages"][1]["content"].isascii()
    assert non_ascii > 0  # the escaping was exercised


def test_floor_measures_each_step_and_keeps_the_fastest(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    pipeline.generate(db, 500, 7)
    work = tmp_path / "work"
    figures = floor.measure(db, work, repeat=3)
    assert figures["rows"] == figures["results_read"] == 500 and figures["pending_after"] == 0
    for step in floor.STEPS:
        assert len(figures["all_seconds"][step]) == 3
        assert figures["seconds"][step] == min(figures["all_seconds"][step]) > 0
    assert figures["floor_seconds"] == pytest.approx(sum(figures["seconds"].values()))
    assert figures["request_mb"] > 0.5 and figures["result_mb"] > 0.1
    assert list(work.iterdir()) == []  # the scratch database and files are gone
    with pytest.raises(ValueError, match="repeat"):
        floor.measure(db, work, repeat=0)


def test_floor_units_put_the_1m_run_beside_the_issues_target() -> None:
    full = {"own_seconds": 30.0}
    results = {pipeline.M: {"scenarios": {"full": full},
                            "floor": {"floor_seconds": 10.0, "request_mb": 1383.0}}}
    units = pipeline.floor_units(results)
    assert units is not None and units["own_in_floor_units"] == pytest.approx(3.0)
    assert units["target_in_floor_units"] == pytest.approx(15 / 5.4)
    line = pipeline.render_floor_units(units)
    assert "3.0x this machine's floor (10.00 s, 1,383 MB" in line and "2.8x" in line
    assert pipeline.floor_units({pipeline.M: {**results[pipeline.M], "floor": None}}) is None
    assert pipeline.floor_units({}) is None


def test_pipeline_sends_smaller_batches_when_told(tmp_path: Path) -> None:
    """--batch-requests: many batches per run from a small table (as tens of millions of rows
    make at the provider's 50,000 requests a batch)."""
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "pipeline.py"), "--sizes", "200",
         "--no-reference", "--batch-requests", "30", "--workdir", str(tmp_path / "work"),
         "--json", str(out)], capture_output=True, text=True, timeout=120, env=env,
        cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["settings"]["batch_requests"] == 30
    full = report["sizes"]["200"]["scenarios"]["full"]
    assert full["outcomes"] == {"succeeded": 200}
    assert full["batches_submitted"] == full["collected_batches"] == -(-full["submitted"] // 30)
    assert full["batches_submitted"] >= 6


def _ab_run(own: float, cpu: float, render: float) -> dict:
    """The fields of a scenario record that bench/ab.py reads."""
    phases = {name: {"seconds": 0.0} for name in pipeline.PHASES}
    phases["render"]["seconds"], phases["write"]["seconds"] = render, 1.0
    return {"own_seconds": own, "child_cpu_seconds": cpu, "peak_rss_mb": 100 + own,
            "phases": phases}


def test_ab_summary_takes_medians_and_paired_differences() -> None:
    from bench import ab

    pairs = [{"order": "A,B", "a": _ab_run(10, 20, 4), "b": _ab_run(9, 18, 3)},
             {"order": "B,A", "a": _ab_run(12, 21, 5), "b": _ab_run(12.5, 19, 4)},
             {"order": "A,B", "a": _ab_run(11, 22, 6), "b": _ab_run(10, 20, 5)}]
    summary = ab.summarize(pairs)
    assert summary["pairs"] == 3
    assert summary["own"] == {"a": 11, "b": 10, "b_minus_a": -1, "b_faster": 2}
    assert summary["cpu"] == {"a": 21, "b": 19, "b_minus_a": -2}
    assert summary["peak_rss_mb"] == {"a": 112, "b": 112.5}
    assert list(summary["phases"]) == list(pipeline.PHASES)
    assert summary["phases"]["render"] == {"a": 5, "b": 4}
    assert summary["phases"]["select"] == {"a": 0, "b": 0}
    text = ab.render(summary, pairs)
    assert "B faster in 2 of 3 pairs" in text and "-9.1%" in text


def test_ab_compares_two_checkouts_in_alternating_runs(tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ab.py"), str(REPO), "--rows", "300",
         "--pairs", "2", "--workdir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "median own time" in done.stdout
    report = json.loads(out.read_text())
    assert [p["order"] for p in report["runs"]] == ["A,B", "B,A"]
    for pair in report["runs"]:
        for side in ("a", "b"):
            run = pair[side]
            assert run["selected"] == 300 and sum(run["outcomes"].values()) == 300
            assert Path(run["batchsql_module"]).is_relative_to(REPO)
            assert run["own_seconds"] > 0 and run["child_cpu_seconds"] > 0
    assert report["summary"]["pairs"] == 2


def test_ab_refuses_a_folder_that_is_not_a_checkout(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ab.py"), str(tmp_path), "--rows", "10",
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{tmp_path} has no bench/pipeline.py to run" in done.stderr


def test_ab_stops_when_a_side_runs_another_checkouts_batchsql(tmp_path: Path) -> None:
    # A folder with the harness but no batchsql package: its child imports this checkout's.
    fake = tmp_path / "fake"
    shutil.copytree(REPO / "bench", fake / "bench")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ab.py"), str(fake), "--rows", "50",
         "--pairs", "1", "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert f"the run meant for {fake} imported {REPO}" in done.stderr


def test_statement_timer_counts_each_call_once_and_times_commits() -> None:
    import pyarrow as pa
    from sqlglot import exp

    from batchsql.warehouses.duckdb import DuckDBWarehouse

    class Timed(DuckDBWarehouse):  # a subclass: the real class stays untimed
        pass

    timer = statements.StatementTimer()
    timer.install(Timed)
    wh = Timed(":memory:")
    table = exp.table_("t", db="main")
    wh.execute("create table main.t (a integer)")
    wh.insert_arrow(table, pa.table({"a": pa.array([1, 2, 3], pa.int32())}))
    with wh.transaction():
        wh.execute("insert into main.t values (4)")
    assert wh.fetch("select count(*) from main.t") == [(4,)]
    wh.close()
    calls = {r["what"]: r["calls"] for r in timer.rows()}
    # insert_arrow's own INSERT ... SELECT is part of its call, not a statement of its own.
    assert calls == {"create table main.t (a integer)": 1,
                     "INSERT ARROW INTO main.t": 1, "insert into main.t values (4)": 1,
                     "COMMIT after insert into main.t values (4)": 1,
                     "select count(*) from main.t": 1,
                     "CLOSE (checkpoints what the log holds)": 1}
    assert all(r["thread"] == "MainThread" and r["seconds"] >= 0 for r in timer.rows())
    assert DuckDBWarehouse.execute.__qualname__ == "DuckDBWarehouse.execute"  # untouched


def test_statements_times_a_full_run_and_a_rerun(tmp_path: Path) -> None:
    out = tmp_path / "statements.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "statements.py"), "--rows", "300", "--rerun-new",
         "--top", "5", "--workdir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "full run: own" in done.stdout and "rerun, +1% new rows: own" in done.stdout
    runs = json.loads(out.read_text())["runs"]
    assert runs["full run"]["selected"] == 300 and runs["rerun, +1% new rows"]["selected"] == 3
    for run in runs.values():
        whats = [s["what"] for s in run["statements"]]
        # The outcomes written, the commits, the closing checkpoint: all there.
        assert any(w.startswith('INSERT INTO "analytics"."ticket_labels"') for w in whats)
        assert any(w.startswith("COMMIT after ") for w in whats)
        assert "CLOSE (checkpoints what the log holds)" in whats
        # The stage's rows are inserted from Arrow: that call is timed, not its inner INSERT.
        stage = '"analytics"."_batchsql_ticket_labels_stage"'
        assert f"INSERT ARROW INTO {stage}" in whats
        assert not any(w.startswith(f"INSERT INTO {stage}") for w in whats)
        seconds = [s["seconds"] for s in run["statements"]]
        assert seconds == sorted(seconds, reverse=True)
        # Calls on the run's own thread happen one after another, inside the run.
        assert sum(s["seconds"] for s in run["statements"]
                   if s["thread"] == "MainThread") < run["run_seconds"]
