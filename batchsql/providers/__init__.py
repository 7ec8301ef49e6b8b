"""Provider construction from a target's ``batchsql:`` settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchsql.errors import ProfileError
from batchsql.plan import Limits
from batchsql.profiles import ProviderSettings
from batchsql.providers.base import BatchInfo, Provider
from batchsql.providers.openai import OpenAIProvider

__all__ = ["BatchInfo", "EmulatorProvider", "OpenAIProvider", "Provider", "make_provider",
           "provider_limits"]

# Keys of the batchsql mapping that the OpenAI client takes as they are.
_CLIENT_OPTIONS = ("organization", "project", "timeout")


class EmulatorProvider(OpenAIProvider):
    """The OpenAI adapter talking HTTP to a bundled emulator started in this process."""

    name = "emulator"

    def __init__(self, state_dir: Path, knobs: dict[str, Any]) -> None:
        from batchsql.emulator import EmulatorServer, Faults

        try:
            faults = Faults(**knobs)
        except ValueError as e:
            raise ProfileError(f"bad emulator setting in profiles.yml: {e}") from e
        self.server = EmulatorServer(state_dir=state_dir, faults=faults).start()
        super().__init__(api_key="emulator", base_url=self.server.base_url)

    def close(self) -> None:
        super().close()
        self.server.stop()


def provider_limits(settings: ProviderSettings) -> Limits:
    """What one batch of the target's provider may hold, without connecting to it."""
    if settings.provider in ("openai", "emulator"):
        return OpenAIProvider.declared_limits()
    raise ProfileError(f"unknown provider {settings.provider!r}; use 'openai' or 'emulator'")


def make_provider(settings: ProviderSettings, *, base_dir: Path) -> Provider:
    """The provider a target names; the emulator starts in-process unless given a base_url."""
    options = {k: settings.extra[k] for k in _CLIENT_OPTIONS if k in settings.extra}
    if settings.provider == "openai":
        return OpenAIProvider(api_key=settings.api_key, base_url=settings.base_url, **options)
    if settings.provider == "emulator":
        if settings.base_url:  # a standalone `batchsql emulator serve`
            provider = OpenAIProvider(api_key=settings.api_key or "emulator",
                                      base_url=settings.base_url)
            provider.name = "emulator"
            return provider
        knobs = dict(settings.emulator)
        state_dir = Path(knobs.pop("state_dir", ".batchsql/emulator"))
        return EmulatorProvider(state_dir if state_dir.is_absolute() else base_dir / state_dir,
                                knobs)
    raise ProfileError(f"unknown provider {settings.provider!r}; use 'openai' or 'emulator'")
