"""Runs on Spark that the shared end-to-end tests do not cover: nested typed answers and
vectors in Spark's own types, and the CLI starting its own Spark in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from batchsql.emulator import EmulatorServer

from .conftest import SPEC, TICKETS, Project
from .sparksession import SKIP_REASON
from .test_embeddings import DOCS, EMBED, add_docs
from .test_typed_outputs import TYPED

N = len(TICKETS)
ON_SPARK = pytest.mark.warehouses("spark")


@ON_SPARK
def test_typed_answers_are_spark_structs_and_arrays(project: Project) -> None:
    project.write_spec(TYPED)
    first = project.run()
    assert (first.submitted, first.succeeded) == (N, N)
    types = {name: kind for name, kind, _ in project.query("describe analytics.labels")}
    assert types["tags"] == "array<string>" and types["urgency"] == "bigint"
    assert types["customer"] == ("struct<language:string,mood:string,"
                                 "address:struct<city:string,zip:bigint>>")
    assert types["steps"] == "array<struct<action:string,minutes:double,done:boolean>>"
    assert types["_collected_at"] == "timestamp_ntz"
    rows = project.query("select ticket_id, label, tags, customer, steps, urgency "
                         "from analytics.labels_current order by ticket_id")
    assert [r[0] for r in rows] == [t[0] for t in TICKETS]
    for _, label, tags, customer, steps, urgency in rows:
        assert label in ("billing", "bug", "feature_request", "account", "other")
        assert isinstance(tags, list) and 1 <= len(tags) <= 3
        assert customer["mood"] in ("angry", "neutral", "happy")
        assert customer["address"] is None or 1000 <= customer["address"]["zip"] <= 9999
        assert all(isinstance(s["done"], bool) for s in steps)
        assert urgency is None or 1 <= urgency <= 5
    exploded = project.query("select count(*) from (select explode(steps) as s "
                             "from analytics.labels_current) where s.minutes >= 0")
    assert exploded[0][0] >= N
    assert project.run().submitted == 0


@ON_SPARK
def test_vectors_are_float_arrays(project: Project) -> None:
    add_docs(project, DOCS)
    project.write_spec(EMBED)
    first = project.run()
    assert (first.submitted, first.shared, first.succeeded) == (3, 1, 4)
    types = {name: kind for name, kind, _ in project.query("describe analytics.doc_vectors")}
    assert types["embedding"] == "array<float>"
    norms = project.query(
        "select doc_id, size(embedding), "
        "sqrt(aggregate(embedding, cast(0 as double), (acc, x) -> acc + x * x)) "
        "from analytics.doc_vectors_current order by doc_id")
    assert [(d, n) for d, n, _ in norms] == [(d[0], 16) for d in DOCS]
    assert all(abs(length - 1) < 1e-5 for _, _, length in norms)  # unit vectors


def test_the_cli_starts_its_own_spark_and_finds_its_tables_again(tmp_path: Path,
                                                                  emulator: EmulatorServer) -> None:
    """Two `batchsql run` processes, each with a new local Spark: the second sees what the first
    wrote (Hive metastore and tables in the project folder) and sends nothing."""
    pytest.importorskip("pyspark", reason=SKIP_REASON)
    settings = {"spark.master": "local[1]", "spark.ui.enabled": "false",
                "spark.sql.shuffle.partitions": "1", "spark.sql.codegen.wholeStage": "false"}
    (tmp_path / "profiles.yml").write_text(
        "batchsql:\n  target: dev\n  outputs:\n    dev:\n"
        "      type: spark\n      method: session\n      schema: analytics\n      host: NA\n"
        f"      server_side_parameters: {json.dumps(settings)}\n"
        f"      batchsql: {{provider: emulator, base_url: '{emulator.base_url}', "
        "poll_interval: 0.2}\n")
    values = ", ".join(f"({i}, {json.dumps(s)}, {json.dumps(b)})" for i, s, b in TICKETS[:3])
    source = f"select * from values {values} as t(ticket_id, subject, body)"
    (tmp_path / "models").mkdir()
    spec = tmp_path / "models" / "labels.yml"
    spec.write_text(SPEC.replace("select ticket_id, subject, body from raw.tickets",
                                 json.dumps(source)))

    def batchsql(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "batchsql", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "COLUMNS": "200"})

    first = batchsql("run", "models/labels.yml")
    assert first.returncode == 0, first.stderr[-3000:] + first.stdout
    assert "(completed): 3 succeeded" in first.stdout
    assert (tmp_path / "metastore_db").is_dir()
    assert (tmp_path / "spark-warehouse" / "analytics.db" / "labels").is_dir()
    second = batchsql("run", "models/labels.yml")
    assert second.returncode == 0, second.stderr[-3000:] + second.stdout
    assert "nothing pending; nothing submitted" in second.stdout
    assert emulator.stats()["batches_created"] == 1
