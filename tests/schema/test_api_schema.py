"""schemathesis against the running local stack (`python -m local.run` on free ports with its own
state directory, as `make run` starts it): cases generated from /openapi.json for every
operation, sent with an admin key (admin may call every route) and, for the ingest routes, with a
till's key; every answer must be no server error, carry a status the document lists for that
operation, and have the documented content type. At least 1,000 cases, in about a minute.

Run by `make test-schema` (part of `make test`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from tests.browser.stack import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
CASES_PER_OPERATION = 5
MIN_CASES = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]

SEEN: Counter[str] = Counter()


class LocalStack:
    def __init__(self) -> None:
        self.port, self.moto_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="betwatch-schema-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalStack:
        env = {**os.environ, "BETWATCH_LOCAL_DIR": str(self.dir), "BETWATCH_LOCAL_SCHEDULE_SECONDS": "5"}
        env.pop("AWS_ENDPOINT_URL", None)
        ready = self.dir / "ready"
        self.log = (self.dir / "stack.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "local.run", "--port", str(self.port), "--moto-port", str(self.moto_port),
             "--ready-file", str(ready)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"local.run exited with {self.proc.returncode}; see {self.dir / 'stack.log'}")
            return ready.exists()

        wait_for("the local stack", up, 180)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def admin_key(self) -> str:
        return (self.dir / "admin.key").read_text().strip()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with LocalStack() as s:
        yield s


@pytest.fixture(scope="session")
def credentials(stack: LocalStack) -> dict[str, dict[str, str]]:
    admin = {"x-api-key": stack.admin_key()}
    r = requests.post(f"{stack.url}/admin/api-keys", json={"name": "schema-till", "role": "ingest"}, headers=admin)
    r.raise_for_status()
    return {"admin": admin, "ingest": {"x-api-key": r.json()["api_key"]}}


@pytest.fixture(scope="session")
def api_schema(stack: LocalStack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url}/openapi.json")


@pytest.fixture(scope="module", autouse=True)
def enough_cases() -> Iterator[None]:
    yield
    total = sum(SEEN.values())
    print(f"\nschemathesis: {total} cases over {len(SEEN)} operations; statuses seen: {dict(STATUSES)}")
    assert total >= MIN_CASES, f"only {total} cases ran (want at least {MIN_CASES})"


STATUSES: Counter[int] = Counter()
schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case: Any, stack: LocalStack, credentials: dict[str, dict[str, str]]) -> None:
    ingest_only = case.operation.path == "/bets" and case.method.upper() == "POST"
    headers = credentials["ingest" if ingest_only else "admin"]
    response = case.call_and_validate(base_url=stack.url, headers=headers, checks=CHECKS, timeout=30)
    SEEN[f"{case.method.upper()} {case.operation.path}"] += 1
    STATUSES[response.status_code] += 1
