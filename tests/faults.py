"""Fault injection at the HTTP layer of boto3 clients, through botocore's event hooks.

`Faults.arm(client)` registers a `before-send` hook ahead of everything else (moto's stubber
included) on one client. Each call of a planned operation takes the next fault of its plan:

- "throttle": HTTP 400 ThrottlingException (botocore's standard mode retries it);
- "5xx": HTTP 500 InternalServerError (retried);
- "timeout": ReadTimeoutError before the request is applied (retried as a connection error);
- "lost": the request IS applied (moto handles it), then the answer is lost as a read timeout,
  so botocore retries a call that already took effect;
- "conflict": TransactionCanceledException with TransactionConflict (DynamoDB transactions;
  botocore does not retry it, the app's own loop does);
- None: pass through.

Everything goes through botocore's real parsing and retry handlers, so what the app sees is what
it would see from AWS after botocore gave up (or did not).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, deque
from collections.abc import Iterable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

KINDS = ("throttle", "5xx", "timeout", "lost", "conflict")
JSON_SERVICES = {"dynamodb": "com.amazonaws.dynamodb.v20120810", "sqs": "com.amazonaws.sqs"}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


def _error(service: str, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> AWSResponse:
    if service in JSON_SERVICES:
        body = json.dumps({"__type": f"{JSON_SERVICES[service]}#{code}", "message": message, **(extra or {})})
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
        if service == "sqs":
            headers["x-amzn-query-error"] = f"{code};Sender"
        raw = body.encode()
    else:
        raw = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
        if service == "s3":
            raw = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse("https://fault.invalid/", status, headers, _Raw(raw))


def shield_moto(monkeypatch: Any) -> None:
    """Make moto's stubber skip requests a fault answered (botocore emits before-send to every
    handler and takes the first answer, so moto would otherwise apply the "failed" write)."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "betwatch_fault", False):
            return None
        return original(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", call)


class Faults:
    def __init__(self, seed: int = 7) -> None:
        self.plans: dict[str, deque[str | None]] = {}
        self.rates: dict[str, tuple[float, tuple[str, ...]]] = {}
        self.injected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    # --- planning ----------------------------------------------------------------------------

    def plan(self, op: str, *faults: str | None) -> Faults:
        """The next calls of `op` ("dynamodb.TransactWriteItems", or "dynamodb.*") fail in this order."""
        self.plans[op] = deque(faults)
        return self

    def always(self, op: str, fault: str) -> Faults:
        return self.rate(op, 1.0, fault)

    def rate(self, op: str, p: float, *kinds: str) -> Faults:
        """Each call of `op` fails with probability p, with one of `kinds` (seeded)."""
        self.rates[op] = (p, kinds)
        return self

    def clear(self) -> None:
        self.plans.clear()
        self.rates.clear()

    # --- the hook ----------------------------------------------------------------------------

    def arm(self, client: Any) -> Any:
        client.meta.events.register_first("before-send", self._hook, unique_id=f"faults-{id(self)}")
        return client

    def _pick(self, service: str, op: str) -> str | None:
        with self.lock:
            self.calls[f"{service}.{op}"] += 1
            for name in (f"{service}.{op}", f"{service}.*"):
                if (plan := self.plans.get(name)) and len(plan):
                    return plan.popleft()
                if name in self.rates:
                    p, kinds = self.rates[name]
                    if self.rng.random() < p:
                        return self.rng.choice(kinds)
            return None

    def _hook(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        _, service, op = event_name.split(".", 2)
        kind = self._pick(service, op)
        if kind == "conflict" and op != "TransactWriteItems":
            kind = None  # only a transaction conflicts
        if kind is None:
            return None
        with self.lock:
            self.injected[f"{service}.{op}:{kind}"] += 1
        if kind != "lost":
            # botocore calls every before-send handler: moto's stubber must not apply a failed call.
            request.betwatch_fault = True
        if kind == "throttle":
            code = "ThrottlingException" if service == "dynamodb" else "Throttling"
            if service == "s3":
                code = "SlowDown"
            return _error(service, 400 if service != "s3" else 503, code, "Rate exceeded (injected)")
        if kind == "5xx":
            return _error(service, 500, "InternalServerError" if service != "s3" else "InternalError", "injected")
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        if kind == "lost":
            from moto.core.models import botocore_stubber

            botocore_stubber(event_name=event_name, request=request)  # applied...
            raise ReadTimeoutError(endpoint_url=request.url)  # ...and the answer lost
        if kind == "conflict":
            reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            return _error(
                service,
                400,
                "TransactionCanceledException",
                "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
                {"CancellationReasons": reasons},
            )
        raise ValueError(f"unknown fault {kind!r}")
