"""dbt-format profiles.yml: find the file, pick a profile and target, render env_var().

One profiles.yml serves both dbt and batchsql. batchsql's settings for a target live in a
``batchsql:`` mapping inside that target; dbt's adapters ignore keys they do not know, so the
same file keeps working for ``dbt build``.

Secrets (API keys, passwords) never appear in a repr, a str or an error message.
"""

from __future__ import annotations

import ast
import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.nativetypes import NativeCodeGenerator
from jinja2.sandbox import SandboxedEnvironment

from batchsql.errors import ProfileError
from batchsql.pricing import prices_from_settings

PROVIDERS = ("emulator", "openai")
DEFAULT_PROFILE = "batchsql"
DEFAULT_TARGET = "dev"
PROFILES_FILE = "profiles.yml"

# Keys whose values are credentials. Matched on the last segment of a key, case-insensitively.
_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|api_?key|token|private_key|key_pass)$|secret|password",
    re.IGNORECASE,
)
_MASK = "***"


def _is_secret(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def _masked(value: Any) -> Any:
    """A copy of ``value`` safe to print: secret-looking keys have their values replaced."""
    if isinstance(value, Mapping):
        return {
            k: (_MASK if _is_secret(k) and v not in (None, "") else _masked(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _safe_url(url: str) -> str:
    """``url`` without user info, query or fragment, any of which may carry a credential."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    if not parts.scheme or not host:
        return "<custom url>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass(frozen=True, repr=False)
class ProviderSettings:
    """The ``batchsql:`` mapping of a target: which provider, and how to reach it."""

    provider: str = "emulator"  # "emulator" | "openai"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # secret: never printed
    poll_interval: float = 5.0  # max seconds between polls
    emulator: dict[str, Any] = field(default_factory=dict)  # knobs for the in-process emulator
    extra: dict[str, Any] = field(default_factory=dict)  # other keys, passed through

    def __repr__(self) -> str:
        return (
            f"ProviderSettings(provider={self.provider!r}, "
            f"base_url={_safe_url(self.base_url) if self.base_url else None!r}, "
            f"api_key={_MASK if self.api_key else None!r}, "
            f"poll_interval={self.poll_interval!r}, emulator={_masked(self.emulator)!r}, "
            f"extra={_masked(self.extra)!r})"
        )


@dataclass(frozen=True, repr=False)
class Target:
    """One rendered target of one profile."""

    profile: str  # profile name
    name: str  # target name, e.g. "dev"
    type: str  # dbt adapter type, e.g. "duckdb"
    fields: dict[str, Any]  # the target's dbt fields, without `type` and the batchsql mapping
    provider: ProviderSettings
    profiles_path: Path  # the file it was read from

    def __repr__(self) -> str:
        return (
            f"Target(profile={self.profile!r}, name={self.name!r}, type={self.type!r}, "
            f"fields={_masked(self.fields)!r}, provider={self.provider!r}, "
            f"profiles_path={str(self.profiles_path)!r})"
        )


# --------------------------------------------------------------------------- lookup


def find_profiles_file(
    profiles_dir: str | Path | None = None, project_dir: str | Path | None = None
) -> Path:
    """Locate profiles.yml in dbt's order.

    ``profiles_dir`` (the ``--profiles-dir`` flag), then ``$DBT_PROFILES_DIR``, then
    ``<project_dir or cwd>/profiles.yml``, then ``~/.dbt/profiles.yml``. As in dbt, an explicit
    directory (flag or env) is the only place looked: a typo there must not silently fall back
    to another environment's credentials. ``profiles_dir`` may also name the file itself.
    """
    for explicit, origin in (
        (profiles_dir, "--profiles-dir"),
        (os.environ.get("DBT_PROFILES_DIR"), "DBT_PROFILES_DIR"),
    ):
        if explicit is None or str(explicit) == "":
            continue
        place = Path(explicit).expanduser()
        if place.is_file():
            return place
        candidate = place / PROFILES_FILE
        if candidate.is_file():
            return candidate
        raise ProfileError(f"{PROFILES_FILE} not found in {place} (given by {origin})")

    base = Path(project_dir).expanduser() if project_dir is not None else Path.cwd()
    candidates = [base / PROFILES_FILE, Path.home() / ".dbt" / PROFILES_FILE]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ProfileError(
        f"{PROFILES_FILE} not found; looked in: {looked}. "
        "Create one, pass --profiles-dir, or set DBT_PROFILES_DIR"
    )


def load_target(
    profiles_dir: str | Path | None = None,
    profile: str | None = None,
    target: str | None = None,
    project_dir: str | Path | None = None,
) -> Target:
    """Find profiles.yml, select a profile and target, render it and read its provider settings.

    Profile: the argument, else ``profile:`` in ``<project_dir or cwd>/dbt_project.yml``, else
    ``"batchsql"``. Target: the argument, else the profile's ``target:``, else ``"dev"``.
    Only the selected target is rendered, so an env var another target needs may be unset.
    """
    path = find_profiles_file(profiles_dir, project_dir)
    document = _read_yaml(path)
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise ProfileError(f"{path}: expected a mapping of profile names at the top level")
    # dbt's top-level `config:` holds global flags, not a profile.
    profiles = {str(k): v for k, v in document.items() if k != "config"}

    if profile is not None:
        profile_name, origin = profile, "given"
    else:
        profile_name, origin = _project_profile(project_dir), "from dbt_project.yml"
        if profile_name is None:
            profile_name, origin = DEFAULT_PROFILE, "the default"
    if profile_name not in profiles:
        raise ProfileError(_not_found(f"{path}", "profile", profile_name, profiles, origin))
    entry = profiles[profile_name]
    where = f"{path}: profile '{profile_name}'"
    if not isinstance(entry, Mapping) or not isinstance(entry.get("outputs"), Mapping):
        raise ProfileError(f"{where}: expected a mapping with 'target:' and 'outputs:'")
    outputs = {str(k): v for k, v in entry["outputs"].items()}

    if target is not None:
        target_name, origin = target, "given"
    elif entry.get("target") is not None:
        target_name = str(_render(entry["target"], "target", where))
        origin = "the profile's target:"
    else:
        target_name, origin = DEFAULT_TARGET, "the default"
    if target_name not in outputs:
        raise ProfileError(_not_found(where, "target", target_name, outputs, origin))
    where = f"{where}, target '{target_name}'"
    raw = outputs[target_name]
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where}: expected a mapping of connection fields")

    rendered = {k: _render(v, str(k), where) for k, v in raw.items()}
    adapter = rendered.pop("type", None)
    if not isinstance(adapter, str) or not adapter:
        raise ProfileError(f"{where}: missing 'type:' (the dbt adapter, e.g. type: duckdb)")
    settings = rendered.pop("batchsql", None)
    if adapter == "duckdb":
        # dbt-duckdb's default; relative paths stay relative (dbt resolves them against the cwd).
        rendered.setdefault("path", ":memory:")
    return Target(
        profile=profile_name,
        name=target_name,
        type=adapter,
        fields=rendered,
        provider=_provider_settings(settings, where),
        profiles_path=path,
    )


def describe(target: Target) -> str:
    """One line that is safe to print, e.g.
    ``profile batchsql, target dev (duckdb batchsql.duckdb, provider emulator)``."""
    provider = target.provider.provider
    if target.provider.base_url:
        provider += f" at {_safe_url(target.provider.base_url)}"
    return (
        f"profile {target.profile}, target {target.name} "
        f"({_describe_connection(target)}, provider {provider})"
    )


# --------------------------------------------------------------------------- helpers


def _describe_connection(target: Target) -> str:
    f = target.fields
    if target.type == "duckdb":
        return f"duckdb {f.get('path', ':memory:')}"
    place = next((str(f[k]) for k in ("host", "account", "server", "project") if f.get(k)), "")
    if place and f.get("port"):
        place += f":{f['port']}"
    db = next((str(f[k]) for k in ("dbname", "database", "catalog", "dataset") if f.get(k)), "")
    location = "/".join(p for p in (place, db) if p)
    return f"{target.type} {location}" if location else target.type


def _not_found(where: str, kind: str, name: str, available: Mapping[str, Any], origin: str) -> str:
    names = sorted(available)
    text = f"{where}: {kind} '{name}' ({origin}) not found"
    text += f"; available: {', '.join(names)}" if names else f"; the file defines no {kind}s"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        text += f". Did you mean '{close[0]}'?"
    return text


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # Only the problem and position: PyYAML's full message quotes the source line,
        # which may hold a literal password.
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ProfileError(f"{path}{line}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError:
        raise ProfileError(f"{path}: invalid YAML") from None


def _project_profile(project_dir: str | Path | None) -> str | None:
    base = Path(project_dir).expanduser() if project_dir is not None else Path.cwd()
    path = base / "dbt_project.yml"
    if not path.is_file():
        return None
    project = _read_yaml(path)
    if not isinstance(project, Mapping) or project.get("profile") is None:
        return None
    return str(_render(project["profile"], "profile", str(path)))


def _provider_settings(settings: Any, where: str) -> ProviderSettings:
    if settings is None:
        return ProviderSettings()
    if not isinstance(settings, Mapping):
        raise ProfileError(f"{where}: 'batchsql:' must be a mapping of provider settings")
    options = dict(settings)

    provider = options.pop("provider", None) or "emulator"
    if not isinstance(provider, str):
        raise ProfileError(f"{where}: batchsql.provider must be a string, one of {PROVIDERS}")
    provider = provider.strip().lower()
    if provider not in PROVIDERS:
        text = f"{where}: unknown provider '{provider}'; known: {', '.join(PROVIDERS)}"
        close = difflib.get_close_matches(provider, PROVIDERS, n=1)
        raise ProfileError(text + (f". Did you mean '{close[0]}'?" if close else ""))

    base_url = options.pop("base_url", None) or None
    if base_url is not None and not isinstance(base_url, str):
        raise ProfileError(f"{where}: batchsql.base_url must be a string")

    api_key = options.pop("api_key", None) or None
    if api_key is not None and not isinstance(api_key, str):
        # Do not echo the value: it is a secret even when mistyped.
        raise ProfileError(f"{where}: batchsql.api_key must be a string")
    if provider == "openai" and api_key is None:
        api_key = os.environ.get("OPENAI_API_KEY") or None
        if api_key is None:
            raise ProfileError(
                f"{where}: provider 'openai' needs an API key. Set OPENAI_API_KEY in the "
                "environment, or add api_key: \"{{ env_var('OPENAI_API_KEY') }}\" "
                "under batchsql: in this target"
            )

    poll_interval = _positive_float(options.pop("poll_interval", 5.0), "poll_interval", where)

    emulator = options.pop("emulator", None) or {}
    if not isinstance(emulator, Mapping):
        raise ProfileError(f"{where}: batchsql.emulator must be a mapping of emulator settings")

    # Checked here so that a typo fails when the profile loads, before anything is sent; the
    # raw mapping stays in `extra` for whoever turns it into prices (pricing.prices_from_settings).
    prices_from_settings(options.get("prices"), where)

    return ProviderSettings(
        provider=provider,
        base_url=base_url,
        api_key=api_key,
        poll_interval=poll_interval,
        emulator=dict(emulator),
        extra=options,
    )


def _positive_float(value: Any, key: str, where: str) -> float:
    # Values rendered from Jinja are strings ("60"), so accept numeric strings too.
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise ProfileError(
            f"{where}: batchsql.{key} must be a number of seconds, got {value!r}"
        ) from None
    if not math.isfinite(number) or number <= 0:
        raise ProfileError(f"{where}: batchsql.{key} must be a positive number, got {value!r}")
    return number


# --------------------------------------------------------------------------- rendering
#
# dbt renders every string in the selected target with Jinja. Results stay strings unless a
# filter asks otherwise (`| as_number`, `| as_bool`, `| as_native`), exactly as in dbt; that is
# why the environment uses the native code generator but concatenates on its own terms.


class _MissingEnvVar(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Number(str):
    pass


class _Bool(str):
    pass


class _Native(str):
    pass


def _env_var(name: str, default: Any = None) -> Any:
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise _MissingEnvVar(name)


def _to_number(text: str) -> int | float:
    value = ast.literal_eval(text.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"as_number: {text!r} is not a number")
    return value


def _to_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(f"as_bool: {text!r} is not true or false")


def _concat(nodes: list[Any]) -> Any:
    if len(nodes) == 1:
        node = nodes[0]
        if isinstance(node, _Number):
            return _to_number(node)
        if isinstance(node, _Bool):
            return _to_bool(node)
        if isinstance(node, _Native):
            try:
                return ast.literal_eval(node.strip())
            except (ValueError, SyntaxError):
                return str(node)
    return "".join(str(n) for n in nodes)


class _ProfileEnvironment(SandboxedEnvironment):
    code_generator_class = NativeCodeGenerator


_ENV = _ProfileEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
_ENV.globals["env_var"] = _env_var
_ENV.filters.update(
    as_number=lambda v: _Number(v),
    as_bool=lambda v: _Bool(v),
    as_native=lambda v: _Native(v),
    as_text=lambda v: str(v),
)


def _render(value: Any, key: str, where: str) -> Any:
    """Render every string inside ``value``; ``key`` is its dotted path, for error messages."""
    if isinstance(value, Mapping):
        return {k: _render(v, f"{key}.{k}", where) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, f"{key}[{i}]", where) for i, v in enumerate(value)]
    if not isinstance(value, str) or "{" not in value:
        return value
    try:
        template = _ENV.from_string(value)
        return _concat(list(template.root_render_func(template.new_context())))
    except _MissingEnvVar as exc:
        raise ProfileError(
            f"{where}, key '{key}': Env var required but not provided: '{exc.name}'"
        ) from None
    except Exception as exc:  # any error in a user's template is a profile error
        if _is_secret(key.rsplit(".", 1)[-1]):
            # The message could quote the template, i.e. the secret itself.
            detail = "template error in a secret value (details hidden)"
        elif isinstance(exc, TemplateError):
            detail = f"template error: {exc.message or exc}"
        else:
            detail = f"template error: {exc}"
        raise ProfileError(
            f"{where}, key '{key}': {detail}. "
            "profiles.yml supports env_var('NAME') and env_var('NAME', 'default')"
        ) from None
