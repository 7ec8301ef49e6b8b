"""One exception family for everything batchsql reports to a user."""

from __future__ import annotations


class BatchsqlError(Exception):
    """Base class: every error batchsql raises on purpose derives from it."""


class SpecError(BatchsqlError):
    """A spec (or template inside it) is wrong; names the file and line and suggests a fix."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ProfileError(BatchsqlError):
    """profiles.yml is missing, or the profile/target/settings in it are wrong."""


class WarehouseError(BatchsqlError):
    """The warehouse refused a statement or a connection."""


class ProviderError(BatchsqlError):
    """The provider refused a call. ``transient`` errors may succeed when retried;
    ``not_found`` means the provider does not know the batch or file asked for."""

    def __init__(self, message: str, *, transient: bool = False,
                 not_found: bool = False) -> None:
        self.transient = transient
        self.not_found = not_found
        super().__init__(message)


class LockedError(BatchsqlError):
    """Another run of the same spec holds the lock."""
