"""What is still failing after botocore's retries becomes `Unavailable` (HTTP 503 with
Retry-After; a queue message retried), never an unexplained 500: throttling, 5xx and connection
errors and timeouts, for every AWS client the adapters use."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from chalicelib.domain.errors import Unavailable

# Error codes that mean "busy or down, try again": the services' throttling and server errors.
RETRIABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TransactionInProgressException",
    "KMSThrottlingException",
}
RETRY_AFTER_S = 1


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def unavailable(exc: Exception, service: str) -> Unavailable | None:
    """The Unavailable that `exc` means, or None when it is an answer (a failed condition, a missing key)."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in RETRIABLE or status >= 500:
            return Unavailable(f"{service} is busy ({code or status}); retry shortly", retry_after_s=RETRY_AFTER_S)
        return None
    if isinstance(exc, (ConnectionError, HTTPClientError)):  # timeouts, refused or dropped connections
        return Unavailable(f"{service} did not answer ({type(exc).__name__}); retry shortly", RETRY_AFTER_S)
    return None


def guarded(fn: Callable[..., Any], service: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ClientError, ConnectionError, HTTPClientError) as exc:
            if (busy := unavailable(exc, service)) is not None:
                raise busy from exc
            raise

    return call


class Guarded:
    """A boto3 client whose API calls raise Unavailable for what botocore could not retry away."""

    def __init__(self, client: Any, service: str) -> None:
        self._client, self._service = client, service

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name in ("meta", "exceptions") or not callable(attr) or name.startswith("generate_presigned"):
            return attr
        return guarded(attr, self._service)
