"""Prices: the shipped table, dated snapshots, batch prices, and a target's `prices:` overrides."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from batchsql.errors import ProfileError
from batchsql.pricing import PRICES, Price, price_of, prices_from_settings
from batchsql.profiles import load_target

WHERE = "profiles.yml: profile 'batchsql', target 'prod'"


@pytest.mark.parametrize(("model", "family"), [
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"), ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4.1-2025-04-14", "gpt-4.1"), ("o3-mini-2025-01-31", "o3-mini"), ("o1-2024-12-17", "o1"),
    ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"), ("gpt-4-0613", "gpt-4"),
    ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"), ("gpt-5-mini-2025-08-07", "gpt-5-mini")])
def test_dated_snapshots_take_their_family_price(model: str, family: str) -> None:
    assert price_of(model) == PRICES[family]


def test_table_prices_and_unknown_models() -> None:
    assert price_of("gpt-4o-mini") == Price(0.15, 0.60)
    assert price_of("text-embedding-ada-002") == Price(0.10, 0.0)
    # A snapshot listed with a price of its own keeps it.
    assert price_of("gpt-4o-2024-05-13") == Price(5.00, 15.00) != price_of("gpt-4o")
    # Other suffixes are other models at other prices: unknown, never their namesake's price.
    for model in ("o1-mini", "o3-pro", "gpt-5-pro", "gpt-4o-mini-tts", "my-finetune", ""):
        assert price_of(model) is None, model


def test_batch_cost_is_half_unless_batch_prices_are_given() -> None:
    million = 1_000_000
    assert Price(1.0, 2.0).cost(million, million) == pytest.approx(0.5 + 1.0)
    assert Price(1.0, 2.0).cost(million, million, batch=False) == pytest.approx(1.0 + 2.0)
    custom = Price(1.0, 2.0, batch_input=0.8, batch_output=1.9)
    assert custom.cost(million, million) == pytest.approx(0.8 + 1.9)
    assert custom.cost(million, million, batch=False) == pytest.approx(1.0 + 2.0)
    only_input = Price(1.0, 2.0, batch_input=0.8)
    assert only_input.cost(million, million) == pytest.approx(0.8 + 2.0 * 0.5)
    assert Price(0.15, 0.6).cost(2_000, 500) == pytest.approx((2_000 * 0.075 + 500 * 0.3) / million)


def test_overrides_come_before_the_table() -> None:
    overrides = prices_from_settings({
        "gpt-4o": {"input": 2.75, "output": 11},                 # e.g. an Azure region's price
        "my-llama": {"input": "0.2", "output": "0.2", "batch_input": 0.1, "batch_output": 0.1},
        "free-local": {"input": 0, "output": 0},
    }, WHERE)
    assert overrides["my-llama"] == Price(0.2, 0.2, 0.1, 0.1)  # numeric strings from env_var
    assert price_of("gpt-4o", overrides) == Price(2.75, 11.0)
    assert price_of("gpt-4o-2024-05-13", overrides) == Price(2.75, 11.0)  # before the table
    assert price_of("my-llama-2025-01-01", overrides) == overrides["my-llama"]
    assert price_of("gpt-4o-mini", overrides) == PRICES["gpt-4o-mini"]  # the rest: the table
    assert price_of("free-local", overrides) == Price(0.0, 0.0)
    assert prices_from_settings(None, WHERE) == {}


@pytest.mark.parametrize(("raw", "message"), [
    ([{"gpt-4o": 1}], "batchsql.prices must be a mapping of model names to prices"),
    ({"gpt-4o": 0.15}, "batchsql.prices.gpt-4o must be a mapping with input and output"),
    ({4: {"input": 1, "output": 1}}, "model name 4 must be a non-empty string"),
    ({"gpt-4o": {"inptu": 1, "output": 1}},
     "batchsql.prices.gpt-4o: unknown key 'inptu' (did you mean 'input'?)"),
    ({"gpt-4o": {"input": 1, "output": 1, "batch_ouput": 1}},
     "unknown key 'batch_ouput' (did you mean 'batch_output'?)"),
    ({"gpt-4o": {"input": 1}}, "batchsql.prices.gpt-4o: missing 'output'"),
    ({"gpt-4o": {"input": -0.5, "output": 1}},
     "batchsql.prices.gpt-4o.input must be zero or more (USD per 1M tokens), got -0.5"),
    ({"gpt-4o": {"input": 1, "output": "cheap"}},
     "batchsql.prices.gpt-4o.output must be a number (USD per 1M tokens), got 'cheap'"),
    ({"gpt-4o": {"input": True, "output": 1}}, "batchsql.prices.gpt-4o.input must be a number"),
    ({"gpt-4o": {"input": 1, "output": 1, "batch_input": "nan"}},
     "batchsql.prices.gpt-4o.batch_input must be zero or more"),
    ({"gpt-4o": {"input": 1, "output": None}}, "batchsql.prices.gpt-4o.output must be a number"),
])
def test_bad_prices_name_the_model_and_key(raw: Any, message: str) -> None:
    with pytest.raises(ProfileError) as e:
        prices_from_settings(raw, WHERE)
    assert str(e.value).startswith(WHERE + ": ") and message in str(e.value)


def profiles(tmp_path: Path, prices: str) -> Path:
    (tmp_path / "profiles.yml").write_text(textwrap.dedent("""\
        batchsql:
          target: prod
          outputs:
            prod:
              type: duckdb
              batchsql:
                provider: emulator
                prices:
        """) + textwrap.indent(textwrap.dedent(prices), " " * 10))
    return tmp_path


def test_a_target_carries_its_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHSQL_TEST_PRICE", "0.12")
    folder = profiles(tmp_path, """\
        gpt-4o-mini: {input: "{{ env_var('BATCHSQL_TEST_PRICE') }}", output: 0.5}
        """)
    target = load_target(profiles_dir=folder, project_dir=folder)
    where = f"{folder / 'profiles.yml'}: profile 'batchsql', target 'prod'"
    prices = prices_from_settings(target.provider.extra["prices"], where)
    assert price_of("gpt-4o-mini-2024-07-18", prices) == Price(0.12, 0.5)
    assert "prices" in repr(target.provider)  # not a secret: shown as it is


def test_bad_prices_fail_when_the_profile_loads(tmp_path: Path) -> None:
    folder = profiles(tmp_path, """\
        gpt-4o-mini: {input: 0.15, ouput: 0.6}
        """)
    with pytest.raises(ProfileError) as e:
        load_target(profiles_dir=folder, project_dir=folder)
    assert str(e.value) == (
        f"{folder / 'profiles.yml'}: profile 'batchsql', target 'prod': batchsql.prices."
        "gpt-4o-mini: unknown key 'ouput' (did you mean 'output'?); keys are input, output, "
        "batch_input, batch_output")
