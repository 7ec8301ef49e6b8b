"""The SQL renderer against the Python one: the same request bytes, or the row left to Python.

Every case renders generated rows both ways (batchsql.runner.source.Renderer is the reference)
and requires, for each row the SQL path vouches for (``_python`` false), the same body and
fingerprint byte for byte; and that the rows it leaves to Python are only the risky ones.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from batchsql import plan
from batchsql.prompts import compile_prompt
from batchsql.render_sql import WHITESPACE, compile_renderer
from batchsql.runner.source import Renderer
from batchsql.spec import Spec, load_spec, spec_from_dict

EXAMPLE = Path(__file__).resolve().parents[1] / "models" / "ticket_labels.yml"
ROWS = 400

# --- generated rows ---------------------------------------------------------------------------

ASCII = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-()[]{}<>&@#%*+="
         "/_|~^$'`")
CONTROL = "".join(map(chr, range(0x20))) + "\x7f"
UNICODE = ("é", "ß", "ǅ", "İ", "ı", "ﬁ", "Σ", "ς", "\u2028", "\u2029", "😀", "👍🏽", "中文字",
           "e\u0301", "\u0300", "\u00a0", "\u3000", "\x85", "\ufeff", "\U0010ffff", "Ω", "ﬃ",
           "ǰ", "\u200b", "—", "“", "”")
#: Text that looks like what escaping writes: the SQL path must not be fooled by it.
TRICKY = ('"', "\\", "\\u00", "\\u001F", "\\u001f", "\\n", "\\\\u000b", "{{ a }}", "'", "%s", "$1",
          "\\x00", "None", "NONE", "0", "False", "&amp;")
WORDS = ("billing", "refund", "the", "app", "crashes", "when", "I", "export", "a", "report",
         "please", "help", "invoice", "double", "charge")


def ordinary(rng: random.Random) -> str:
    """ASCII text such as tickets hold: words, punctuation, quotes, newlines and tabs."""
    words = rng.choices(WORDS, k=rng.randint(1, 25))
    for _ in range(rng.randint(0, 3)):
        at = rng.randrange(len(words))
        words[at] += rng.choice((".", ",", "\n", "\n\n", '"', "'", "\t", "!", " \\ "))
    return " ".join(words)


def weird(rng: random.Random) -> str:
    """A mix of everything JSON escaping, casing and whitespace care about."""
    if rng.random() < 0.05:
        return "".join(rng.choices(ASCII + CONTROL, k=5000)) + rng.choice(UNICODE)
    pools = (ASCII, CONTROL, UNICODE, TRICKY, WHITESPACE)
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 30)))


def text(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.08:
        return ""
    if roll < 0.70:
        return ordinary(rng)
    return weird(rng)


INTEGERS = (0, 1, -1, 7, -42, 2**31, -(2**31), 2**53 + 1, 2**63 - 1, -(2**63))


def rows(count: int, seed: int) -> pa.Table:
    """Generated source rows: text in a, b, c and one column of each supported type."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.05 else value

    def day() -> dt.date:
        return dt.date(rng.choice((1, 999, 1000, 1970, 2024, 9999)), rng.randint(1, 12),
                       rng.randint(1, 28))

    def stamp() -> dt.datetime:
        micro = rng.choice((0, 0, 1, 500000, 999999, rng.randrange(10**6)))
        return dt.datetime.combine(day(), dt.time(rng.randrange(24), rng.randrange(60),
                                                  rng.randrange(60), micro))

    def amount() -> Decimal:
        return Decimal(rng.choice((0, 1, -1, 5, -5, 10**10 - 1, rng.randrange(-10**12, 10**12))))

    return pa.table({
        "id": pa.array(range(count), pa.int64()),
        "a": pa.array([text(rng) for _ in range(count)], pa.string()),
        "b": pa.array([text(rng) for _ in range(count)], pa.large_string()),
        "c": pa.array([text(rng) for _ in range(count)], pa.string()),
        "n": pa.array([maybe(rng.choice((*INTEGERS, rng.randrange(-1000, 1000))))
                       for _ in range(count)], pa.int64()),
        "u": pa.array([maybe(rng.choice((0, 1, 2**64 - 1, rng.randrange(2**64))))
                       for _ in range(count)], pa.uint64()),
        "i8": pa.array([maybe(rng.randrange(-128, 128)) for _ in range(count)], pa.int8()),
        "flag": pa.array([maybe(rng.random() < 0.5) for _ in range(count)], pa.bool_()),
        "day": pa.array([maybe(day()) for _ in range(count)], pa.date32()),
        "day64": pa.array([maybe(day()) for _ in range(count)], pa.date64()),
        "ts": pa.array([maybe(stamp()) for _ in range(count)], pa.timestamp("us")),
        "ts_ms": pa.array([maybe(stamp().replace(microsecond=rng.choice((0, 1000, 123000))))
                           for _ in range(count)], pa.timestamp("ms")),
        "ts_s": pa.array([maybe(stamp().replace(microsecond=0)) for _ in range(count)],
                         pa.timestamp("s")),
        "amount": pa.array([maybe(amount().scaleb(-2)) for _ in range(count)],
                           pa.decimal128(14, 2)),
        "whole": pa.array([maybe(amount()) for _ in range(count)], pa.decimal128(20, 0)),
        "fine": pa.array([maybe(amount().scaleb(-6)) for _ in range(count)], pa.decimal128(38, 6)),
    })


# --- the comparison -----------------------------------------------------------------------------

def chat_spec(prompt: dict[str, Any], **changes: Any) -> Spec:
    data: dict[str, Any] = {"name": "t", "source": {"table": "t", "key": "id"}, "prompt": prompt,
                            "model": "gpt-4o-mini", "output": {"table": "o"}}
    return spec_from_dict({**data, **changes})


def embed_spec(template: str, **changes: Any) -> Spec:
    return chat_spec({"input": template}, endpoint="embeddings",
                     model="text-embedding-3-small", **changes)


def compare(spec: Spec, table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Render both ways; assert byte identity on every row the SQL path vouches for."""
    prompt = compile_prompt(spec)
    renderer = compile_renderer(spec, prompt, table.schema)
    assert renderer is not None, "the template should be in the SQL subset"
    with renderer:
        got = renderer.render(table)
    # The reference is the Jinja path alone (Renderer.render itself takes the SQL path).
    fingerprints, bodies, errors, _ = Renderer(spec, prompt, plan.request_url(spec))._jinja(
        table.to_pylist())
    want = pa.table({"_fingerprint": pa.array(fingerprints, pa.string()),
                     "_body": pa.array(bodies, pa.string()),
                     "_error": pa.array(errors, pa.string())})
    assert got.schema == pa.schema([("_fingerprint", pa.string()), ("_body", pa.string()),
                                    ("_python", pa.bool_())])
    assert got.num_rows == table.num_rows
    for index, (fingerprint, body, python, ref_fingerprint, ref_body, ref_error) in enumerate(zip(
            got["_fingerprint"].to_pylist(), got["_body"].to_pylist(),
            got["_python"].to_pylist(), want["_fingerprint"].to_pylist(),
            want["_body"].to_pylist(), want["_error"].to_pylist(), strict=True)):
        assert python is not None
        if python:
            assert body is None and fingerprint is None
            continue
        # A row Python cannot render must never be vouched for.
        assert ref_error is None, (index, ref_error)
        assert body == ref_body, (index, table.slice(index, 1).to_pylist())
        assert fingerprint == ref_fingerprint, index
    return got, want


def covered(result: pa.Table) -> float:
    flags = result["_python"].to_pylist()
    return flags.count(False) / len(flags)


TYPED = {"table": "o", "columns": {
    "label": {"type": "string", "enum": ["billing", "bug", "other"], "description": "Category."},
    "score": {"type": "integer"}, "tags": {"type": "array", "items": "string"}}}

#: (id, spec): templates without filters whose result depends on the characters of a row.
PLAIN: list[tuple[str, Spec]] = [
    ("user-only", chat_spec({"user": "{{ a }}"})),
    ("block-scalar-newline", chat_spec({"user": "{{ a }}\n"})),
    ("system-constant-user", chat_spec({"system": "You label tickets.\n",
                                        "user": "Subject: {{ a }}\n\n{{ b }}\n"})),
    ("system-unicode-constant", chat_spec({"system": "Réponds en français — merci 😀.\n",
                                           "user": "{{ a }}"})),
    ("system-dynamic", chat_spec({"system": "You are {{ c }}.", "user": "{{ a }} and {{ b }}"})),
    ("messages", chat_spec({"messages": [
        {"role": "system", "content": "Rules: {{ c }}"},
        {"role": "user", "content": "First: {{ a }}"},
        {"role": "assistant", "content": "Noted."},
        {"role": "developer", "content": "{{ b }}\n"},
        {"role": "user", "content": "Second: {{ a }}\n"}]})),
    ("adjacent-repeated", chat_spec({"user": "{{a}}{{b}}{{a}}x{{ a }}{{c}}"})),
    ("outer-whitespace", chat_spec({"user": "  leading and trailing  {{ a }}  \n\n"})),
    ("leading-newlines", chat_spec({"user": "\n\n{{ a }}\n\n\n"})),
    ("whitespace-control", chat_spec({"user": "x   {{- a -}}   \n  {{ b }} \n {{- c }}"})),
    ("literal-escapes", chat_spec({"user": 'tab\there \\ "q" \x01\x1f\x7f \\u00 {{ a }}\n'})),
    ("unicode-literal", chat_spec({"user": "Résumé — {{ a }}\n\t“quoted” {{ b }}\u2028end 😀\n"})),
    ("crlf-literal", chat_spec({"user": "line one\r\nline two {{ a }}\r\nthree\r\n"})),
    ("raw-and-comment", chat_spec({"user": "{# note #}{% raw %}{{ a }}{% endraw %} {{ a }}"})),
    ("constants", chat_spec({"user": "{{ 'const' }} {{ 42 }} {{ -1.5 }} {{ none }}{{ true }}"
                                     "{{ a }} {{ 'ab'|upper }} {{ 1e16 }}"})),
    ("default-identity", chat_spec({"user": "{{ a|default('none') }} {{ n|d('x') }}"})),
    ("default-boolean", chat_spec({"user": "[{{ a|d('EMPTY', true) }}]"
                                           " [{{ b|default('', boolean=true) }}]"})),
    ("default-kinds", chat_spec({"user": "{{ n|d('zero', true) }} {{ flag|d('no', true) }}"
                                         " {{ amount|d('nil', true) }} {{ day|d('x', true) }}"
                                         " {{ ts|d('y', true) }} {{ u|d('-', true) }}"})),
    ("default-twice", chat_spec({"user": "{{ a|d('', true)|d('z', true) }}"
                                         " {{ n|d('', true)|d('z', true) }}"
                                         " {{ flag|d('y', true)|d('z', true) }}"})),
    ("string", chat_spec({"user": "{{ a|string }} {{ flag|string|d('no', true) }}"
                                  " {{ n|string|d('z', true) }}"})),
    ("trim", chat_spec({"user": "<{{ a|trim }}>\n<{{ b|trim('ab .') }}> <{{ c|trim(none) }}>"})),
    ("replace", chat_spec({"user": "{{ a|replace('a', 'b') }} {{ b|replace('\\\\', '/') }}"
                                   " {{ c|replace('é', 'e')|replace('\"', \"'\")"
                                   "|replace('aa', '') }}"})),
    ("replace-tricky", chat_spec({"user": "{{ a|replace(' ', '\\\\u001F')"
                                          "|replace('e', '\"\\n') }}"})),
    ("escape", chat_spec({"user": "{{ a|e }} {{ b|escape }} {{ n|e }} {{ c|trim|e }}"})),
    ("integers", chat_spec({"user": "{{ n }} {{ u }} {{ i8 }} {{ n|string }}"})),
    ("bool", chat_spec({"user": "{{ flag }}/{{ flag|e }}"})),
    ("dates", chat_spec({"user": "{{ day }} {{ day64 }} | {{ ts }} | {{ ts_ms }} | {{ ts_s }}"})),
    ("decimals", chat_spec({"user": "{{ amount }} {{ whole }} {{ fine }}"
                                    " {{ fine|d('0', true) }}"})),
    ("params", chat_spec({"user": "{{ a }}"}, params={
        "temperature": 0.2, "max_tokens": 50, "top_p": 1, "seed": 7, "stop": ["\n\n", "END"],
        "metadata": {"k": "v é"}, "logit_bias": {"50256": -100}})),
    ("typed-output", chat_spec({"system": "Label it.", "user": "{{ a }}\n{{ b }}"},
                               output=TYPED, params={"max_tokens": 200, "temperature": 0})),
    ("json-mode", chat_spec({"system": "Answer with a JSON object.", "user": "{{ a }}"},
                            output={"table": "o", "format": "json"})),
    ("text-output", chat_spec({"user": "Summarise: {{ a }}"},
                              output={"table": "o", "format": "text"})),
    ("embeddings", embed_spec("{{ a }}: {{ b }}", params={"dimensions": 16})),
    ("embeddings-float", embed_spec("Title: {{ c }}\n", params={"encoding_format": "float"})),
    ("constant-prompt", chat_spec({"system": "Be brief.", "user": "Say hello."})),
    ("constant-embedding", embed_spec("always the same text")),
    ("long-template", chat_spec({"user": ("Context line.\n" * 200) + "{{ a }}\n" + "x" * 3000})),
]


@pytest.mark.parametrize(("seed", "spec"), [pytest.param(n, s, id=i)
                                            for n, (i, s) in enumerate(PLAIN)])
def test_plain_templates_match_python(seed: int, spec: Spec) -> None:
    got, _ = compare(spec, rows(ROWS, seed=seed))
    # Nothing in these templates is risky but a blank text to embed: almost every row is SQL's.
    assert covered(got) >= 0.95


Row = dict[str, Any]

#: (id, spec, the texts of a row that reach upper or lower).
CASING: list[tuple[str, Spec, Any]] = [
    ("upper", chat_spec({"user": "{{ a|upper }}"}), lambda r: [r["a"]]),
    ("lower", chat_spec({"user": "{{ a|lower }} and {{ b | upper }}"}),
     lambda r: [r["a"], r["b"]]),
    ("chain", chat_spec({"system": "S: {{ c|trim|upper|e }}",
                         "user": "{{ a|d('n/a', true)|lower }}"}),
     lambda r: [str(r["c"]).strip(), r["a"]]),
    ("replace-then-upper", chat_spec({"user": "{{ a|replace('x', 'é')|upper }}"}),
     lambda r: [str(r["a"]).replace("x", "é")]),
    ("non-text", chat_spec({"user": "{{ n|upper }} {{ flag|lower }} {{ ts|upper }}"
                                    " {{ amount|lower }}"}), lambda r: []),
]


@pytest.mark.parametrize(("spec", "inputs"), [pytest.param(s, c, id=i) for i, s, c in CASING])
def test_casing_is_left_to_python_exactly_for_non_ascii(spec: Spec, inputs: Any) -> None:
    table = rows(ROWS, seed=11)
    got, _ = compare(spec, table)
    # upper/lower of NULL is "NONE"/"none" in Jinja: the SQL path renders that, not Python.
    risky = [any(not (t or "").isascii() for t in inputs(row)) for row in table.to_pylist()]
    assert got["_python"].to_pylist() == risky
    assert covered(got) >= 0.3  # not vacuous: most rows are ASCII


def test_example_spec(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE)
    assert spec.prompt.user is not None and spec.prompt.user.endswith("\n")
    rng = random.Random(3)
    count = 500
    table = pa.table({
        "ticket_id": pa.array(range(count), pa.int64()),
        "channel": pa.array([rng.choice(["email", "chat", None, "phone"]) for _ in range(count)]),
        "subject": pa.array([text(rng) for _ in range(count)]),
        "body": pa.array([text(rng) for _ in range(count)]),
    })
    got, _ = compare(spec, table)
    assert covered(got) == 1.0
    body = got["_body"][0].as_py()
    assert body.startswith('{"max_tokens":200,"messages":[{"content":"You label customer')
    assert '"response_format":{"json_schema":{"name":"batchsql_output"' in body


def test_yaml_block_scalars(tmp_path: Path) -> None:
    """Templates as a spec file writes them: literal, folded, kept and stripped newlines."""
    path = tmp_path / "s.yml"
    path.write_text(textwrap.dedent("""\
        name: s
        source: {table: t, key: id}
        prompt:
          messages:
            - role: system
              content: |+
                Keep {{ c }} newlines.

            - role: user
              content: >
                Folded {{ a }}
                text {{ b }}

                para
            - role: user
              content: |2-
                  indented {{ a }}
                stripped
        model: gpt-4o-mini
        output: {table: o}
        """))
    compare(load_spec(path), rows(ROWS, seed=5))


def test_every_character_escapes_like_json_dumps() -> None:
    """Each code point below 0x80 and a range of others, alone and in context."""
    chars = [chr(c) for c in range(0x80)] + list(UNICODE) + [chr(c) for c in range(0x80, 0x800)]
    values = chars + [f"a{c}b\\u00{c}" for c in chars] + ["".join(chars)]
    table = pa.table({"id": range(len(values)), "a": values})
    got, _ = compare(chat_spec({"user": "{{ a }}"}), table)
    assert covered(got) == 1.0


def test_many_chunks_keep_their_order() -> None:
    table = rows(3000, seed=9)
    table = pa.Table.from_batches(table.to_batches(max_chunksize=97))
    spec = chat_spec({"system": "{{ c|trim }}", "user": "{{ a }} {{ n }}"}, output=TYPED)
    got, _ = compare(spec, table)
    prompt = compile_prompt(spec)
    renderer = compile_renderer(spec, prompt, table.schema)
    assert renderer is not None
    with renderer:
        # A RecordBatch renders like the Table it is a slice of; an empty slice is empty.
        batch = table.combine_chunks().to_batches()[0]
        assert renderer.render(batch).equals(got.combine_chunks())
        assert renderer.render(table.slice(0, 0)).num_rows == 0


def test_results_of_several_chunks() -> None:
    """A slice larger than one result chunk, with rows to re-encode in a later chunk."""
    values = [f"row {i}" for i in range(40_000)]
    values[30_000] = "unit\x1fseparator"
    values[39_999] = "\x0b\\u00"
    table = pa.table({"id": range(len(values)), "a": values})
    got, _ = compare(chat_spec({"user": "{{ a }}"}), table)
    assert covered(got) == 1.0


LITERALS = ("", " ", "\n", "Subject: ", " — ", '"q" \\ ', "\t\x01", "é😀", "  \n\n", "\\u00",
            "\u2028", "{% raw %}{{{% endraw %}")
FILTERS = ("upper", "lower", "trim", "trim('. ')", "replace('a', 'A')", "replace(' ', '\\n')",
           "string", "d('-')", "d('-', true)", "default('', boolean=true)")
COLUMNS = ("a", "b", "c", "n", "u", "i8", "flag", "day", "ts", "amount", "fine")


def random_template(rng: random.Random) -> str:
    """Literal text and {{ column|filters }} in any order, with whitespace control."""
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append(rng.choice(LITERALS))
        filters = "".join(f"|{rng.choice(FILTERS)}" for _ in range(rng.choice((0, 0, 1, 2, 3))))
        filters += rng.choice(("", "", "", "|e"))  # escape only last: nothing may follow it
        dash = rng.choice(("", "", "-"))
        parts.append(f"{{{{{dash} {rng.choice(COLUMNS)}{filters} {rng.choice(('', '-'))}}}}}")
    parts.append(rng.choice((*LITERALS, "\n")))
    return "".join(parts)


def test_random_templates_match_python() -> None:
    rng = random.Random(2024)
    table = rows(150, seed=17)
    for _ in range(80):
        compare(chat_spec({"system": random_template(rng), "user": random_template(rng)}), table)


def test_type_extremes() -> None:
    columns: dict[str, pa.Array] = {}
    for dtype in (pa.int8(), pa.int16(), pa.int32(), pa.int64()):
        bits = dtype.bit_width - 1
        columns[str(dtype)] = pa.array([-(2**bits), 2**bits - 1, 0, None, -1], dtype)
    for dtype in (pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()):
        columns[str(dtype)] = pa.array([0, 2**dtype.bit_width - 1, 1, None, 2], dtype)
    for scale in range(7):
        # (Decimal arithmetic would round to 28 digits: spell the values out.)
        values = [f"{10**38 - 1}E-{scale}", f"-{10**38 - 1}E-{scale}", f"1E-{scale}",
                  f"-1E-{scale}", f"0E-{scale}"]
        columns[f"dec{scale}"] = pa.array(map(Decimal, values), pa.decimal128(38, scale))
    columns["day"] = pa.array([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2000, 2, 29),
                               dt.date(1000, 1, 1), None], pa.date32())
    columns["ts"] = pa.array([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
                              dt.datetime(1970, 1, 1, 0, 0, 0, 10), None,
                              dt.datetime(1969, 12, 31, 23, 59, 59, 999000)], pa.timestamp("us"))
    columns["ts_ms"] = pa.array([0, -1, 1, None, 253402300799999], pa.timestamp("ms"))
    columns["flag"] = pa.array([True, False, None, True, False])
    table = pa.table({"id": range(5), **columns})
    template = " | ".join(f"{{{{ {name} }}}} {{{{ {name}|d('falsy', true) }}}}"
                          for name in columns)
    got, _ = compare(chat_spec({"user": template}), table)
    assert covered(got) == 1.0


def test_column_names_duckdb_would_confuse() -> None:
    """Names differing only in case, SQL keywords, non-ASCII names."""
    table = rows(200, seed=23)
    table = pa.table({"id": table["id"], "Body": table["a"], "body": table["b"],
                      "select": table["c"], "größe": table["n"], "_s0": table["flag"]})
    spec = chat_spec({"user": "{{ body }}|{{ Body }}|{{ select }}|{{ größe }}|{{ _s0 }}"})
    got, _ = compare(spec, table)
    assert covered(got) == 1.0


# --- what is left to Python ---------------------------------------------------------------------

def test_blank_text_to_embed_is_left_to_python() -> None:
    values = ["", " ", "\n\t", "\u3000\u2028\x1c", "\x85", None, "x", " x ", "\u200b", "\ufeff"]
    table = pa.table({"id": range(len(values)), "a": values})
    got, want = compare(embed_spec("{{ a }}"), table)
    assert got["_python"].to_pylist() == [True] * 6 + [False] * 4
    assert want["_error"].to_pylist()[:6] == ["template error: the input to embed is empty"] * 6


def test_dates_python_cannot_hold_are_left_to_python() -> None:
    # to_pylist fails on these, so there is no Python rendering to compare with.
    table = pa.table({
        "id": [1, 2, 3, 4],
        "day": pa.array([0, -719163, -719162, 2932897], pa.date32()),  # 1970, 0000-12-31, ...
        "ts": pa.array([0, None, -62135596800, 253402300800], pa.timestamp("s")),
    })
    spec = chat_spec({"user": "{{ day }} {{ ts }}"})
    renderer = compile_renderer(spec, compile_prompt(spec), table.schema)
    assert renderer is not None
    with renderer:
        got = renderer.render(table)
    assert got["_python"].to_pylist() == [False, True, False, True]
    assert got["_body"][0].as_py() is not None and "1970-01-01 1970-01-01 00:00:00" in \
        got["_body"][0].as_py()
    assert "0001-01-01 0001-01-01 00:00:00" in got["_body"][2].as_py()


UNSUPPORTED_TEMPLATES = [
    "{% if a %}{{ a }}{% endif %}",
    "{% for w in a %}{{ w }}{% endfor %}",
    "{% set x = a %}{{ x }}",
    "{% macro m() %}x{% endmacro %}{{ m() }}",
    "{{ n + 1 }}",
    "{{ a ~ b }}",
    "{{ a.upper() }}",
    "{{ a.x }}",
    "{{ a[0] }}",
    "{{ a|title }}",
    "{{ a|capitalize }}",
    "{{ a|length }}",
    "{{ a|default(b) }}",
    "{{ a|default('x', 1) }}",
    "{{ a|replace('a', 'b', 1) }}",
    "{{ a|replace('', 'b') }}",
    "{{ a|replace(b, 'b') }}",
    "{{ a|trim(b) }}",
    "{{ a|e|upper }}",
    "{{ a|e|e }}",
    "{{ a|upper(1) }}",
    "{{ a|replace(*x) }}",
    "{{ a if b else c }}",
    "{{ range }}",
    "{{ self }}",
    "{{ missing }}",
    "{{ a|safe }}",
    "{% filter upper %}{{ a }}{% endfilter %}",
]


@pytest.mark.parametrize("template", UNSUPPORTED_TEMPLATES)
def test_templates_outside_the_subset_are_refused(template: str) -> None:
    table = rows(5, seed=1)
    spec = chat_spec({"system": "Fine: {{ a }}", "user": template})
    assert compile_renderer(spec, compile_prompt(spec), table.schema) is None


UNSUPPORTED_TYPES = [
    pa.float64(), pa.float32(), pa.float16(), pa.timestamp("ns"), pa.timestamp("us", tz="UTC"),
    pa.decimal128(20, 7), pa.decimal256(40, 2), pa.binary(), pa.list_(pa.string()),
    pa.struct([("x", pa.int64())]), pa.dictionary(pa.int32(), pa.string()), pa.time64("us"),
    pa.duration("s"), pa.null(), pa.map_(pa.string(), pa.string()),
    *([pa.string_view()] if hasattr(pa, "string_view") else []),  # pyarrow 16 and later
]


@pytest.mark.parametrize("dtype", UNSUPPORTED_TYPES, ids=str)
def test_unsupported_column_types_are_refused(dtype: pa.DataType) -> None:
    schema = pa.schema([("id", pa.int64()), ("a", pa.string()), ("x", dtype)])
    spec = chat_spec({"user": "{{ a }} {{ x }}"})
    assert compile_renderer(spec, compile_prompt(spec), schema) is None
    # A column the template does not read may have any type.
    spec = chat_spec({"user": "{{ a }}"})
    assert compile_renderer(spec, compile_prompt(spec), schema) is not None


def test_a_slice_of_another_type_is_an_error() -> None:
    spec = chat_spec({"user": "{{ a }}"})
    renderer = compile_renderer(spec, compile_prompt(spec), pa.schema([("a", pa.string())]))
    assert renderer is not None
    with pytest.raises(ValueError, match="compiled for string"):
        renderer.render(pa.table({"a": pa.array([1], pa.int64())}))
    renderer.close()
    with pytest.raises(RuntimeError, match="closed"):
        renderer.render(pa.table({"a": ["x"]}))


def test_whitespace_is_what_str_strip_removes() -> None:
    spaces = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert spaces == WHITESPACE


def test_the_run_renderer_mixes_sql_and_jinja_rows_exactly() -> None:
    # Rows SQL does not vouch for (non-ASCII into upper) go through Jinja; every row equals
    # the Jinja path's, NULL into a filter ("NONE") included.
    spec = chat_spec({"user": "{{ s | upper }} / {{ s }}"})
    prompt = compile_prompt(spec)
    values = ["plain", "Ünïcödé", None, "tab\there", "x" * 300]
    batch = pa.record_batch({"id": pa.array(range(len(values)), pa.int64()),
                             "s": pa.array(values, pa.string()),
                             "_input": pa.array([str(i) for i in range(len(values))])})
    renderer = Renderer(spec, prompt, plan.request_url(spec), exact=True)
    got = renderer.render(batch)
    renderer.close()
    fingerprints, bodies, errors, _ = Renderer(spec, prompt, plan.request_url(spec))._jinja(
        batch.to_pylist())
    assert got.column("_fingerprint").to_pylist() == fingerprints
    assert got.column("_body").to_pylist() == bodies
    assert got.column("_error").to_pylist() == errors
    assert got.column("_input").to_pylist() == [str(i) for i in range(len(values))]
    assert all(n > 0 for n in got.column("_est_tokens").to_pylist())
    with compile_renderer(spec, prompt, batch.schema) as fast:  # type: ignore[union-attr]
        assert fast.render(batch).column("_python").to_pylist() == [False, True, False, False,
                                                                    False]


def test_a_large_slice_counts_a_bounded_sample_and_estimates_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting costs tens of microseconds a row: a run counts at most SAMPLE_ROWS rows of a
    # slice exactly and scales the rest by body size, which stays close to the exact total.
    from batchsql import tokens
    from batchsql.runner import source

    rng = random.Random(3)
    words = ["refund", "invoice", "café", "Überweisung", "error", "502", "请退款", "dashboard",
             "password", "the", "and", "😊"]
    values = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 120)))
              for _ in range(20_000)]
    spec = chat_spec({"system": "Label the ticket.", "user": "Ticket: {{ s }}"})
    prompt = compile_prompt(spec)
    batch = pa.record_batch({"id": pa.array(range(len(values)), pa.int64()),
                             "s": pa.array(values, pa.string()),
                             "_input": pa.array(["x"] * len(values))})
    counted = []
    count = tokens.count_input_tokens

    def counting(url: str, body: dict[str, Any]) -> int:
        counted.append(1)
        return count(url, body)

    monkeypatch.setattr(source.tokens, "count_input_tokens", counting)
    renderer = Renderer(spec, prompt, plan.request_url(spec))
    estimated = renderer.render(batch).column("_est_tokens").to_pylist()
    renderer.close()
    assert 0 < len(counted) <= Renderer.SAMPLE_ROWS
    exact = Renderer(spec, prompt, plan.request_url(spec), exact=True)
    truth = exact.render(batch).column("_est_tokens").to_pylist()
    exact.close()
    assert len(counted) == Renderer.SAMPLE_ROWS + len(values)  # now every row
    assert abs(sum(estimated) - sum(truth)) / sum(truth) < 0.03
