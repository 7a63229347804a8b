"""Lazily created boto3 clients, injectable for tests.

Nothing talks to AWS at import time, so moto can be started first and tests can swap a client.
Endpoints come from boto3's own configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_resources: dict[str, Any] = {}
_session: Any = None


def _boto_session() -> Any:
    # One session per process: creating one loads botocore's data files, which is slow.
    global _session
    if _session is None:
        import boto3  # deferred: keeps import of the app cheap on cold start

        _session = boto3.session.Session()
    return _session


def client(service: str) -> Any:
    """The process-wide client for `service`, created on first use."""
    c = _clients.get(service)
    if c is None:
        with _lock:
            c = _clients.get(service)
            if c is None:
                c = _clients[service] = _boto_session().client(service)
    return c


def dynamodb_table(name: str) -> Any:
    """A boto3 DynamoDB Table resource (its Decimal-typed API suits integer money)."""
    t = _resources.get(name)
    if t is None:
        with _lock:
            t = _resources.get(name)
            if t is None:
                t = _resources[name] = _boto_session().resource("dynamodb").Table(name)
    return t


def inject(service: str, obj: Any) -> None:
    """Use `obj` as the client for `service` (tests)."""
    _clients[service] = obj


def reset() -> None:
    """Drop every cached client, e.g. after the endpoint or credentials change."""
    global _session
    with _lock:
        _clients.clear()
        _resources.clear()
        _session = None
