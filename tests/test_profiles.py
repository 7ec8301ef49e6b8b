"""profiles.yml: dbt's lookup order, env_var(), target selection, provider settings, secrecy."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from batchsql.errors import ProfileError
from batchsql.profiles import (
    ProviderSettings,
    describe,
    find_profiles_file,
    load_target,
)

REPO = Path(__file__).resolve().parents[1]
SECRET = "sk-test-DO-NOT-PRINT-4f9a"

BASIC = """
batchsql:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: dev.duckdb
      threads: 1
    prod:
      type: duckdb
      path: prod.duckdb
      batchsql:
        provider: openai
        poll_interval: 60
"""


def write(directory: Path, text: str, name: str = "profiles.yml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's real ~/.dbt, cwd or env."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    for name in ("DBT_PROFILES_DIR", "OPENAI_API_KEY", "BATCHSQL_EMULATOR_SECONDS",
                 "BATCHSQL_EMULATOR_FAIL_RATE", "BATCHSQL_TEST_VAR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# --------------------------------------------------------------------------- lookup order


def test_lookup_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home_file = write(isolated / "home" / ".dbt", BASIC)
    assert find_profiles_file() == home_file

    cwd_file = write(isolated / "work", BASIC)
    assert find_profiles_file() == cwd_file

    project_file = write(isolated / "project", BASIC)
    assert find_profiles_file(project_dir=isolated / "project") == project_file

    env_file = write(isolated / "env", BASIC)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(isolated / "env"))
    assert find_profiles_file(project_dir=isolated / "project") == env_file

    flag_file = write(isolated / "flag", BASIC)
    assert find_profiles_file(profiles_dir=isolated / "flag") == flag_file
    assert find_profiles_file(profiles_dir=flag_file) == flag_file  # the file itself works too


def test_not_found_lists_places(isolated: Path) -> None:
    with pytest.raises(ProfileError) as info:
        find_profiles_file()
    message = str(info.value)
    assert str(isolated / "work" / "profiles.yml") in message
    assert str(isolated / "home" / ".dbt" / "profiles.yml") in message


def test_explicit_dir_does_not_fall_back(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Like dbt: a wrong --profiles-dir or DBT_PROFILES_DIR is an error, not a silent fallback.
    write(isolated / "home" / ".dbt", BASIC)
    with pytest.raises(ProfileError, match="--profiles-dir"):
        find_profiles_file(profiles_dir=isolated / "nowhere")
    monkeypatch.setenv("DBT_PROFILES_DIR", str(isolated / "nowhere"))
    with pytest.raises(ProfileError, match="DBT_PROFILES_DIR"):
        find_profiles_file()


# --------------------------------------------------------------------------- profile and target


def test_default_target(isolated: Path) -> None:
    write(isolated / "work", BASIC)
    target = load_target()
    assert (target.profile, target.name, target.type) == ("batchsql", "dev", "duckdb")
    assert target.fields == {"path": "dev.duckdb", "threads": 1}
    assert target.provider == ProviderSettings()  # no batchsql mapping -> emulator defaults
    assert target.profiles_path == isolated / "work" / "profiles.yml"


def test_target_falls_back_to_dev_and_duckdb_memory(isolated: Path) -> None:
    write(isolated / "work", "batchsql:\n  outputs:\n    dev:\n      type: duckdb\n")
    target = load_target()
    assert target.name == "dev"
    assert target.fields["path"] == ":memory:"


def test_explicit_target(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(isolated / "work", BASIC)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    target = load_target(target="prod")
    assert target.name == "prod"
    assert target.fields == {"path": "prod.duckdb"}
    assert target.provider.provider == "openai"
    assert target.provider.poll_interval == 60.0


def test_unknown_target_did_you_mean(isolated: Path) -> None:
    write(isolated / "work", BASIC)
    with pytest.raises(ProfileError) as info:
        load_target(target="prd")
    message = str(info.value)
    assert "profiles.yml" in message
    assert "'prd'" in message
    assert "dev, prod" in message
    assert "Did you mean 'prod'?" in message


def test_unknown_profile_did_you_mean(isolated: Path) -> None:
    write(isolated / "work", BASIC)
    with pytest.raises(ProfileError, match=r"Did you mean 'batchsql'\?"):
        load_target(profile="batchsq")


def test_profile_from_dbt_project(isolated: Path) -> None:
    write(isolated / "work", BASIC.replace("batchsql:\n  target", "analytics:\n  target", 1))
    write(isolated / "work", "name: demo\nprofile: analytics\n", name="dbt_project.yml")
    assert load_target().profile == "analytics"


def test_config_key_is_not_a_profile(isolated: Path) -> None:
    write(isolated / "work", "config:\n  send_anonymous_usage_stats: false\n" + BASIC)
    assert load_target().profile == "batchsql"
    with pytest.raises(ProfileError) as info:
        load_target(profile="nope")
    assert "available: batchsql" in str(info.value)
    assert "config" not in str(info.value).split("available:")[1]


# --------------------------------------------------------------------------- env_var


ENV_PROFILE = """
batchsql:
  target: "{{ env_var('BATCHSQL_TEST_TARGET', 'dev') }}"
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('BATCHSQL_TEST_VAR', 'fallback.duckdb') }}"
      threads: "{{ env_var('BATCHSQL_TEST_THREADS', '4') | as_number }}"
      batchsql:
        poll_interval: "{{ env_var('BATCHSQL_TEST_POLL', '2.5') }}"
        emulator:
          processing_seconds: "{{ env_var('BATCHSQL_TEST_VAR', '3') }}"
    needs_env:
      type: duckdb
      path: "{{ env_var('BATCHSQL_TEST_REQUIRED') }}"
"""


def test_env_var_default(isolated: Path) -> None:
    write(isolated / "work", ENV_PROFILE)
    target = load_target()
    assert target.fields["path"] == "fallback.duckdb"
    assert target.fields["threads"] == 4  # `| as_number`, as in dbt
    assert target.provider.poll_interval == 2.5
    assert target.provider.emulator == {"processing_seconds": "3"}  # rendered values stay strings


def test_env_var_set(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(isolated / "work", ENV_PROFILE)
    monkeypatch.setenv("BATCHSQL_TEST_VAR", "from_env.duckdb")
    monkeypatch.setenv("BATCHSQL_TEST_TARGET", "needs_env")
    monkeypatch.setenv("BATCHSQL_TEST_REQUIRED", "required.duckdb")
    target = load_target()
    assert target.name == "needs_env"  # the profile's target: is rendered too
    assert target.fields["path"] == "required.duckdb"
    assert load_target(target="dev").fields["path"] == "from_env.duckdb"


def test_missing_env_var(isolated: Path) -> None:
    write(isolated / "work", ENV_PROFILE)
    with pytest.raises(ProfileError) as info:
        load_target(target="needs_env")
    message = str(info.value)
    assert "Env var required but not provided: 'BATCHSQL_TEST_REQUIRED'" in message
    assert "needs_env" in message and "path" in message


def test_only_selected_target_is_rendered(isolated: Path) -> None:
    write(isolated / "work", ENV_PROFILE)
    # needs_env's variable is unset, and dev still loads.
    assert load_target(target="dev").name == "dev"


# --------------------------------------------------------------------------- providers and secrets


OPENAI_NO_KEY = """
batchsql:
  target: prod
  outputs:
    prod:
      type: duckdb
      path: prod.duckdb
      batchsql:
        provider: openai
        organization: org-123
"""


def test_openai_key_falls_back_to_env(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(isolated / "work", OPENAI_NO_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    target = load_target()
    assert target.provider.api_key == SECRET
    assert target.provider.extra == {"organization": "org-123"}


def test_openai_missing_key(isolated: Path) -> None:
    write(isolated / "work", OPENAI_NO_KEY)
    with pytest.raises(ProfileError) as info:
        load_target()
    message = str(info.value)
    assert "OPENAI_API_KEY" in message
    assert "env_var('OPENAI_API_KEY')" in message


def test_unknown_provider_did_you_mean(isolated: Path) -> None:
    write(isolated / "work", OPENAI_NO_KEY.replace("provider: openai", "provider: opnai"))
    with pytest.raises(ProfileError, match=r"Did you mean 'openai'\?"):
        load_target()


def test_bad_poll_interval(isolated: Path) -> None:
    write(isolated / "work", BASIC.replace("poll_interval: 60", "poll_interval: soon"))
    with pytest.raises(ProfileError, match="poll_interval"):
        load_target(target="prod")


SECRET_PROFILE = f"""
batchsql:
  target: prod
  outputs:
    prod:
      type: postgres
      host: db.internal
      port: 5432
      dbname: analytics
      user: loader
      password: "{{{{ env_var('BATCHSQL_TEST_VAR') }}}}"
      batchsql:
        provider: openai
        api_key: "{SECRET}"
        base_url: "https://user:{SECRET}@llm.example.com/v1?key={SECRET}"
        poll_interval: POLL
        extra_token: "{SECRET}"
"""


def test_secrets_never_printed(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHSQL_TEST_VAR", SECRET)
    write(isolated / "work", SECRET_PROFILE.replace("POLL", "30"))
    target = load_target()
    assert target.provider.api_key == SECRET
    assert target.fields["password"] == SECRET
    for text in (repr(target), str(target), repr(target.provider), str(target.provider),
                 describe(target)):
        assert SECRET not in text
    assert describe(target) == (
        "profile batchsql, target prod "
        "(postgres db.internal:5432/analytics, provider openai at https://llm.example.com/v1)"
    )


@pytest.mark.parametrize(
    ("poll", "target"),
    [("never", None), ("30", "prd")],
)
def test_secrets_not_in_errors(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, poll: str, target: str | None
) -> None:
    monkeypatch.setenv("BATCHSQL_TEST_VAR", SECRET)
    write(isolated / "work", SECRET_PROFILE.replace("POLL", poll))
    with pytest.raises(ProfileError) as info:
        load_target(target=target)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_secret_template_error_hidden(isolated: Path) -> None:
    broken = f'api_key: "{SECRET}{{{{ oops"'
    write(isolated / "work", OPENAI_NO_KEY.replace("organization: org-123", broken))
    with pytest.raises(ProfileError) as info:
        load_target()
    assert "api_key" in str(info.value)
    assert SECRET not in str(info.value)


def test_yaml_error_does_not_quote_source(isolated: Path) -> None:
    write(isolated / "work", f"batchsql:\n  outputs:\n    dev: {{password: {SECRET}\n")
    with pytest.raises(ProfileError) as info:
        load_target()
    assert "invalid YAML" in str(info.value)
    assert SECRET not in str(info.value)


# --------------------------------------------------------------------------- the repo's own file


def test_repo_profiles_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    target = load_target(profiles_dir=REPO, project_dir=REPO)
    assert (target.profile, target.name, target.type) == ("batchsql", "dev", "duckdb")
    assert target.fields["path"] == "batchsql.duckdb"
    assert target.provider.provider == "emulator"
    assert target.provider.poll_interval == 1.0
    assert target.provider.emulator == {
        "state_dir": ".batchsql/emulator",
        "processing_seconds": "2",
        "fail_rate": "0",
    }
    assert describe(target) == (
        "profile batchsql, target dev (duckdb batchsql.duckdb, provider emulator)"
    )
    monkeypatch.setenv("BATCHSQL_EMULATOR_SECONDS", "0")
    target = load_target(profiles_dir=REPO, project_dir=REPO)
    assert target.provider.emulator["processing_seconds"] == "0"


def test_repo_profiles_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProfileError, match="OPENAI_API_KEY"):
        load_target(profiles_dir=REPO, project_dir=REPO, target="prod")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    target = load_target(profiles_dir=REPO, project_dir=REPO, target="prod")
    assert target.provider.provider == "openai"
    assert target.provider.api_key == SECRET
    assert target.provider.poll_interval == 60.0
    assert SECRET not in repr(target)
