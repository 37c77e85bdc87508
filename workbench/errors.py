"""Typed errors a user can meet. Each carries a fix hint; views show them as alerts, the CLI as one line."""

from __future__ import annotations


class WorkbenchError(Exception):
    """An error with a message for humans and a hint that says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(WorkbenchError):
    """A setting is missing, malformed or points at nothing."""


class SourceUnavailable(WorkbenchError):
    """A store (tracking server, database, repository) did not answer or cannot be read."""


class NotFound(WorkbenchError):
    """The requested item (experiment, study, dataset, run, ...) does not exist."""


class UntrustedOperation(WorkbenchError):
    """The operation would unpickle or execute stored content, which needs trusted mode."""


class MissingDependency(WorkbenchError):
    """An optional package is needed for this feature."""

    @classmethod
    def for_package(cls, package: str, feature: str, extra: str | None = None) -> MissingDependency:
        target = f"mlops-workbench[{extra}]" if extra else package
        return cls(f"{feature} needs the package '{package}'.", f"install it with: pip install {target}")
