"""Lazily created boto3 clients, one per service and process, with retries configured.

Nothing talks to AWS at import time, so moto can be started first and tests can swap a client.
Endpoints come from boto3's own configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
Throttling, 5xx and connection errors are retried by botocore's "standard" mode with exponential
backoff and jitter; DynamoDB transaction conflicts, which botocore does not retry, are retried by
`adapters/dynamodb/client.py`.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_session: Any = None

MAX_ATTEMPTS = 5
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 10


def _boto_session() -> Any:
    # One session per process: creating one loads botocore's data files, which is slow.
    global _session
    if _session is None:
        import boto3  # deferred: keeps import of the app cheap on cold start

        _session = boto3.session.Session()
    return _session


def client_config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_pool_connections=32,
    )


def client(service: str) -> Any:
    """The process-wide client for `service`, created on first use."""
    c = _clients.get(service)
    if c is None:
        with _lock:
            c = _clients.get(service)
            if c is None:
                c = _clients[service] = _boto_session().client(service, config=client_config())
    return c


def inject(service: str, obj: Any) -> None:
    """Use `obj` as the client for `service` (tests)."""
    _clients[service] = obj


def reset() -> None:
    """Drop every cached client, e.g. after the endpoint or credentials change."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
