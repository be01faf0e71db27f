"""Domain errors: each names the rule that was broken, in words a crew lead can act on."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; nothing is stored."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidEventError(DomainError):
    """The event breaks a field or lifecycle rule (`invalid`, HTTP 422)."""


class EventConflictError(DomainError):
    """The event collides with what is stored (`conflict`, HTTP 409)."""

    def __init__(self, detail: str, current_version: int | None = None) -> None:
        super().__init__(detail)
        self.current_version = current_version


class NotPermittedError(DomainError):
    """The role may not do this (HTTP 403)."""


class NotFoundError(DomainError):
    """No such record, or not one this caller may see (HTTP 404)."""


class RegistryConflictError(DomainError):
    """A person or crew is already registered with other data (HTTP 409)."""
