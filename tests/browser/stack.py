"""The real stack for the browser tests, as `make run` starts it (`python -m local.run` in a
subprocess, on free ports), and a short day of data placed through the API as tills would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import requests

ROOT = Path(__file__).resolve().parent.parent.parent
T = TypeVar("T")

STAFF_USER = "sam.staff"
STAFF_PASSWORD = "correct horse battery staple"
ADMIN_USER = "ada.admin"
ADMIN_PASSWORD = "another horse battery staple"
ALERT_CUSTOMER = "C9"
CASE_CUSTOMER = "C10"  # its alert is worked as a case (acknowledged, resolved) by the views tests
XSS = '<img src=x onerror="window.__xss=1">'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, poll: Callable[[], T | None], timeout_s: float, every_s: float = 0.5) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        got = poll()
        if got:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


class Stack:
    """moto + provisioning + `chalice local` + the event runner (rule schedule every 2 s)."""

    def __init__(self, log_path: Path):
        self.port, self.moto_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.s3_origin = f"http://127.0.0.1:{self.moto_port}"  # presigned slip images come from here
        self.ready = log_path.parent / f"ready-{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 180) -> Stack:
        env = {**os.environ, "BETWATCH_LOCAL_SCHEDULE_SECONDS": "2"}
        env.pop("AWS_ENDPOINT_URL", None)  # always the embedded moto, never a developer's endpoint
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "local.run", "--port", str(self.port), "--moto-port", str(self.moto_port),
             "--ready-file", str(self.ready), "--no-state"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"local.run exited with {self.proc.returncode}; see {self.log_path}")
            return self.ready.exists()

        wait_for("the stack (local.run's ready file)", up, timeout_s)
        return self

    def admin_key(self) -> str:
        return (ROOT / ".local" / "admin.key").read_text().strip()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # local.run stops chalice, the runner and moto itself
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class Day:
    """What the data holds, for the tests to look for."""

    alert_id: str
    alert_title: str
    alert_bets: list[str]
    writer_id: str
    xss_bet: str
    case_alert_id: str = ""
    case_alert_title: str = ""
    candidate: tuple[str, str] = ("", "")  # two writers with a pending candidate link
    bets: dict[str, Any] = field(default_factory=dict)


class Client:
    def __init__(self, base: str, headers: dict[str, str]):
        self.base, self.s = base, requests.Session()
        self.s.headers.update(headers)

    def call(self, method: str, path: str, want: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        r = self.s.request(method, self.base + path, timeout=30, **kw)
        assert r.status_code in want, f"{method} {path} answered {r.status_code}: {r.text[:300]}"
        return r.json()


def _bet(till: Client, customer: str | None, stake: str, at: datetime, selection: str = "Desert Orchid") -> str:
    body: dict[str, Any] = {
        "shop_id": "S01",
        "channel": "retail",
        "stake": stake,
        "currency": "GBP",
        "bet_type": "single",
        "selections": [{"event": "14:30 Cheltenham", "market": "win", "selection": selection, "price": "5/2"}],
        "sport": "horse_racing",
        "placed_at": at.isoformat(),
    }
    if customer:
        body["customer_id"] = customer
    return str(till.call("POST", "/bets", json=body)["bet_id"])


def _upload_slip(till: Client, bet_id: str, data: bytes) -> None:
    post = till.call("POST", f"/bets/{bet_id}/slip", json={"content_type": "image/jpeg"})
    r = requests.post(post["url"], data=post["fields"], files={"file": ("slip.jpg", data, "image/jpeg")}, timeout=30)
    assert r.status_code in (200, 201, 204), r.text[:300]


def place_day(stack: Stack) -> Day:
    """A staff user; customer C9 over £500 in 24 h (the stake rule alerts); one hand's slips on two
    anonymous bets and one of C9's (a writer linked to C9); a bet whose selection is markup."""
    from local.slipgen import make_slip

    admin = Client(stack.url, {"x-api-key": stack.admin_key()})
    till_name = f"browser-till-{time.time_ns()}"  # API key names are unique; .local/ may keep older ones
    key = admin.call("POST", "/admin/api-keys", json={"name": till_name, "role": "ingest"})["api_key"]
    admin.call("POST", "/admin/users", json={"username": STAFF_USER, "password": STAFF_PASSWORD, "role": "staff"})
    admin.call("POST", "/admin/users", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "role": "admin"})
    till = Client(stack.url, {"x-api-key": key})
    staff = Client(stack.url, {"x-api-key": stack.admin_key()})

    now = datetime.now(UTC)
    # £530 in 24 h, over the rule's £500.
    c9 = [
        _bet(till, ALERT_CUSTOMER, s, now - timedelta(hours=h))
        for s, h in (("200.00", 3), ("180.00", 2), ("150.00", 1))
    ]
    case = [_bet(till, CASE_CUSTOMER, s, now - timedelta(hours=h)) for s, h in (("300.00", 2), ("250.00", 1))]
    anon = [_bet(till, None, s, now - timedelta(minutes=m)) for s, m in (("20.00", 50), ("15.00", 40))]
    # Two more hands, two anonymous slips each: the writers of the candidate link.
    others = [_bet(till, None, "5.00", now - timedelta(minutes=20 - i)) for i in range(4)]
    xss_bet = _bet(till, None, "2.00", now - timedelta(minutes=30), selection=XSS)
    for i, bet_id in enumerate([c9[0], *anon]):
        _upload_slip(till, bet_id, make_slip(writer_seed=1, slip_seed=i))
    for i, bet_id in enumerate(others):
        _upload_slip(till, bet_id, make_slip(writer_seed=2 + i // 2, slip_seed=10 + i))

    def slips_done() -> dict[str, Any] | None:
        st = {b: staff.call("GET", f"/bets/{b}/slip") for b in [c9[0], *anon, *others]}
        return st if all(s["status"] in ("clustered", "rejected") for s in st.values()) else None

    slips = wait_for("the slips to be clustered", slips_done, 180)
    writers = {slips[b].get("writer_id") for b in [c9[0], *anon]} - {None}
    assert len(writers) == 1, f"expected one writer for one hand, got {slips}"
    writer = writers.pop()
    pair = _candidate_pair(staff, [slips[b].get("writer_id") for b in others], writer, others)

    def alert(customer: str) -> Callable[[], dict[str, Any] | None]:
        def find() -> dict[str, Any] | None:
            alerts = staff.call("GET", "/alerts", params={"days": 1})["alerts"]
            return next((a for a in alerts if a["subject"] == {"kind": "customer", "id": customer}), None)

        return find

    a = wait_for("the stake rule's alert on C9", alert(ALERT_CUSTOMER), 60)
    b = wait_for("the stake rule's alert on C10", alert(CASE_CUSTOMER), 60)
    assert len(case) == 2
    return Day(
        a["alert_id"], a["title"], a["evidence"]["bet_ids"], writer, xss_bet,
        case_alert_id=b["alert_id"], case_alert_title=b["title"], candidate=pair,
    )  # fmt: skip


def _candidate_pair(staff: Client, found: list[str | None], writer: str, bets: list[str]) -> tuple[str, str]:
    """Two writers (not the C9 hand's) with a pending candidate link between them. If the linker
    raised one between the two extra hands, that one; otherwise one is recorded the way the slip
    transaction records it (DynamoWriterStore's candidate writes): whether two synthetic hands
    land in the linker's borderline band depends on the model, and the browser test is about the
    staff deciding on a link, which the API then carries out for real."""
    ids = [w for w in dict.fromkeys(found) if w and w != writer]
    for w in ids:
        pending = [c for c in staff.call("GET", f"/writers/{w}/candidates")["candidates"] if c["status"] == "pending"]
        if pending and pending[0]["other"] != writer:
            return w, str(pending[0]["other"])
    assert len(ids) >= 2, f"expected the extra hands to found writers of their own, got {found}"
    a, b = ids[0], ids[1]
    _record_candidate(a, b, bets[-1])
    return a, b


def _record_candidate(new: str, near: str, bet_id: str) -> None:
    import boto3

    from chalicelib.adapters.dynamodb.client import Dynamo
    from chalicelib.adapters.dynamodb.keys import iso
    from chalicelib.adapters.dynamodb.writers import DynamoWriterStore
    from chalicelib.core.config import from_env
    from chalicelib.domain.writer_linking import LinkDecision

    env = dict(line.split("=", 1) for line in (ROOT / ".local" / "env").read_text().splitlines() if "=" in line)
    cfg = from_env(env)
    client = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    store = DynamoWriterStore(Dynamo(client), cfg.tables, cfg.history_days)
    decision = LinkDecision("candidate", near, 0.8, 0.7, "candidate: borderline hand (browser test)", ((near, 0.8),))
    store.db.transact(store._candidate_writes(new, near, bet_id, decision, iso(datetime.now(UTC))))
