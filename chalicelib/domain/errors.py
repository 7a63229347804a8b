"""Domain errors: plain exceptions that name the problem. The API maps them to HTTP in one place
(`chalicelib/api/errors.py`); queue consumers and the importer handle them as they see fit."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class. `code` is a stable machine-readable name; `message` is for people."""

    code = "error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    """Input that is well-formed but not acceptable (names the field in `details`)."""

    code = "validation_error"


class InvalidParameter(Invalid):
    """A query parameter the API cannot use (e.g. a cursor it did not return): a 400."""

    code = "invalid_parameter"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class Unavailable(DomainError):
    """A dependency is overloaded or down after retries; the caller may retry later."""

    code = "unavailable"

    def __init__(self, message: str, retry_after_s: int = 1, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


class RateLimited(DomainError):
    """Too many attempts (failed logins): refused without trying until retry_after_s have passed."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_s: int, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s
