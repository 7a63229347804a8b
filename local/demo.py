"""`make demo`: a short shop-and-website day played against the running system as a client would.

With `make run` up, it creates ingest keys and a staff user with the local admin key, places bets
for account customers and for anonymous retail writers, uploads their slips with the presigned
POST, waits for clustering and the rule schedule, then prints what staff received by email and SMS
as the embedded AWS recorded it. Exits 0 only if every stage produced its output.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from local.slipgen import make_slip

ROOT = Path(__file__).resolve().parent.parent
API = os.environ.get("BETWATCH_API", "http://127.0.0.1:8000")
HORSES = ["Desert Orchid", "Red Rum", "Kauto Star", "Denman", "Arkle", "Best Mate", "Sea Bird", "Shergar"]
COURSES = ["Chelt", "Aintree", "Ascot", "York", "Newbury", "Kempton"]


def _env_file() -> dict[str, str]:
    path = ROOT / ".local" / "env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


class Fail(Exception):
    pass


class Client:
    def __init__(self, headers: dict[str, str]):
        self.s = requests.Session()
        self.s.headers.update(headers)

    def call(self, method: str, path: str, want: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        r = self.s.request(method, API + path, timeout=30, **kw)
        if r.status_code not in want:
            raise Fail(f"{method} {path} answered {r.status_code}: {r.text[:300]}")
        return r.json()


def step(msg: str) -> None:
    print(f"\n== {msg}")


def main() -> int:
    env = _env_file()
    key_path = ROOT / ".local" / "admin.key"
    if not key_path.exists():
        print("no .local/admin.key: start the system with `make run` first", file=sys.stderr)
        return 2
    admin = Client({"x-api-key": key_path.read_text().strip()})
    try:
        health = admin.call("GET", "/health")
    except (requests.ConnectionError, Fail) as exc:
        print(f"the API at {API} is not up ({exc}); start it with `make run`", file=sys.stderr)
        return 2
    print(f"API {API}: {health}")
    run = secrets.token_hex(3)  # keeps ids of repeated demo runs apart

    step("Admin creates ingest keys for a shop till and the website, and a staff user")
    till = Client(
        {
            "x-api-key": admin.call("POST", "/admin/api-keys", json={"name": f"till-S01-{run}", "role": "ingest"})[
                "api_key"
            ]
        }
    )
    web = Client(
        {
            "x-api-key": admin.call("POST", "/admin/api-keys", json={"name": f"website-{run}", "role": "ingest"})[
                "api_key"
            ]
        }
    )
    password = secrets.token_urlsafe(16)
    admin.call("POST", "/admin/users", json={"username": f"compliance-{run}", "password": password, "role": "staff"})
    token = admin.call("POST", "/auth/login", json={"username": f"compliance-{run}", "password": password})[
        "access_token"
    ]
    staff = Client({"authorization": f"Bearer {token}"})
    print("  till key, website key and staff token ready")

    now = datetime.now(UTC)
    day = [now - timedelta(hours=9) + timedelta(minutes=25 * i) for i in range(20)]
    placed: list[dict[str, Any]] = []

    def bet(
        client: Client, when: datetime, stake: str, customer: str | None, channel: str, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "channel": channel,
            "stake": stake,
            "currency": "GBP",
            "bet_type": extra.pop("bet_type", "single"),
            "selections": extra.pop(
                "selections",
                [
                    {
                        "event": f"{when:%H}:30 {COURSES[len(placed) % 6]}",
                        "selection": HORSES[len(placed) % 8],
                        "price": "5/2",
                    }
                ],
            ),
            "sport": "horse_racing",
            "placed_at": when.isoformat(),
            **extra,
        }
        if customer:
            body["customer_id"] = customer
        out = client.call("POST", "/bets", json=body, headers={"Idempotency-Key": f"{run}-{len(placed)}"})
        placed.append(out)
        print(
            f"  {when:%H:%M} {channel:6} {customer or 'anonymous':>12} £{stake:>7} -> risk {out['risk']['score']:3d} "
            f"{out['risk']['level']:8} {'; '.join(out['risk']['signals'][:2])}"
        )
        return out

    step("Online customers bet through the website")
    regular, heavy = f"C-{run}-1001", f"C-{run}-1002"
    for i in range(3):
        bet(web, day[i], "5.00", regular, "online", device_id=f"dev-{run}-a")
    for i, stake in enumerate(["120.00", "150.00", "95.00", "180.00"]):
        bet(web, day[3 + i], stake, heavy, "online", device_id=f"dev-{run}-b")

    step("Retail: anonymous customers hand in slips at shop S01; one account customer too")
    slips_by_writer: dict[int, list[str]] = defaultdict(list)
    placed_slips: list[str] = []
    plan = [
        (1, "150.00", None),
        (2, "4.00", None),
        (1, "160.00", None),
        (7, "10.00", None),
        (2, "6.50", f"C-{run}-2001"),
        (1, "140.00", None),
        (7, "12.00", None),
        (2, "3.00", None),
        (1, "120.00", None),
    ]
    for n, (writer, stake, customer) in enumerate(plan):
        b = bet(till, day[8 + n], stake, customer, "retail", shop_id="S01")
        upload_slip(till, b["bet_id"], make_slip(writer_seed=writer, slip_seed=n), "image/jpeg")
        slips_by_writer[writer].append(b["bet_id"])
        placed_slips.append(b["bet_id"])
    junk = bet(till, day[19], "2.00", None, "retail", shop_id="S01")
    upload_slip(till, junk["bet_id"], b"%PDF-1.4 this is not a slip image" * 64, "image/jpeg")

    step("Waiting for the slip function and the clustering consumer")
    status = wait_for_slips(staff, [b for ids in slips_by_writer.values() for b in ids] + [junk["bet_id"]])
    writer_of = {b: s.get("writer_id") for b, s in status.items()}
    for w, ids in slips_by_writer.items():
        print(
            f"  hand #{w}: slips {', '.join(i[:8] for i in ids)} -> writers {sorted({str(writer_of[i]) for i in ids})}"
        )
    junk_status = status[junk["bet_id"]]
    print(f"  non-image upload: {junk_status['status']} ({junk_status.get('reason')})")
    if junk_status["status"] != "rejected":
        raise Fail("the non-image slip was not rejected")
    if any(writer_of[b] is None for ids in slips_by_writer.values() for b in ids):
        raise Fail("some slips were not clustered")
    heavy_writer = writer_of[slips_by_writer[1][0]]
    writer_view = staff.call("GET", f"/writers/{heavy_writer}")
    day_stake = writer_view["windows"]["24h"]["stake_minor"] / 100
    print(f"  writer {heavy_writer}: {len(writer_view['slips'])} slips, £{day_stake:.2f} in 24 h")
    customer_slip = next(b for b, (_, _, c) in zip(placed_slips, plan, strict=True) if c)
    linked_writer = writer_of[customer_slip]
    linked = staff.call("GET", f"/writers/{linked_writer}")["linked"]
    print(f"  writer {linked_writer} of customer C-{run}-2001's slip: linked customers {linked}")
    if f"C-{run}-2001" not in linked:
        raise Fail("the writer of the account customer's slip is not linked to that customer")

    step("Waiting for the rule schedule to raise alerts")
    wanted = {("customer", heavy), ("writer", heavy_writer)}

    def subject(a: dict[str, Any]) -> tuple[str, str]:
        return a["subject"]["kind"], a["subject"]["id"]

    alerts = wait_for(
        lambda: [a for a in staff.call("GET", "/alerts")["alerts"] if subject(a) in wanted],
        lambda got: {subject(a) for a in got} >= wanted,
        150,
        "alerts for the heavy customer and writer",
    )
    for a in alerts:
        one = staff.call("GET", f"/alerts/{a['alert_id']}")
        print(f"  [{a['severity']}] {a['title']}  (alert {a['alert_id']}: {len(one['evidence']['bet_ids'])} bets)")

    step("Compliance adds a rule through the API: 3 bets by one customer within 10 minutes")
    rule_id = f"quick_three_{run}"
    rule = admin.call(
        "POST",
        "/rules",
        json={
            "rule_id": rule_id,
            "name": "3 bets within 10 minutes",
            "subject_kind": "customer",
            "params": {"kind": "bet_count", "window_seconds": 600, "count": 3},
            "bands": [{"min_ratio": 1, "severity": "medium"}],
            "trigger": "bet",
        },
    )
    print(f"  rule {rule['rule_id']} version {rule['version']} ({rule['params']})")
    quick = f"C-{run}-3001"
    for k in range(3):
        bet(web, datetime.now(UTC) - timedelta(seconds=30 - k), "2.00", quick, "online", device_id=f"dev-{run}-q")
    fired = staff.call("GET", f"/alerts?rule_id={rule_id}")["alerts"]
    if not fired:
        raise Fail(f"the rule {rule_id} created through the API did not fire")
    print(f"  [{fired[0]['severity']}] {fired[0]['title']}  (raised on the bet path, alert {fired[0]['alert_id']})")
    case = staff.call("POST", f"/alerts/{fired[0]['alert_id']}/acknowledge", json={"note": "checking"})
    case = staff.call("POST", f"/alerts/{fired[0]['alert_id']}/resolve", json={"outcome": "no_action"})
    print(f"  case worked: {' -> '.join(e['action'] for e in case['events'])}")
    alerts.append(fired[0])

    step("What staff received (as recorded by the embedded AWS)")
    endpoint = env.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    from local.moto_server import sns_deliveries

    titles = {a["title"] for a in alerts}
    deliveries = wait_for(
        lambda: [d for d in sns_deliveries(endpoint) if any(t in d["message"] for t in titles)],
        lambda got: {d["protocol"] for d in got} >= {"email", "sms"},
        60,
        "email and SMS deliveries",
    )
    for d in deliveries:
        body = d["message"].strip().replace("\n", "\n      ")
        print(f"  {d['protocol'].upper():5} to {d['endpoint']}: {d.get('subject') or ''}\n      {body}")
    print("\ndemo: every stage produced its output")
    return 0


def upload_slip(client: Client, bet_id: str, data: bytes, content_type: str) -> None:
    post = client.call("POST", f"/bets/{bet_id}/slip", json={"content_type": content_type})
    r = requests.post(post["url"], data=post["fields"], files={"file": ("slip.jpg", data, content_type)}, timeout=30)
    if r.status_code not in (200, 201, 204):
        raise Fail(f"S3 presigned POST answered {r.status_code}: {r.text[:300]}")


def wait_for_slips(staff: Client, bet_ids: list[str], timeout_s: float = 120) -> dict[str, dict[str, Any]]:
    def poll() -> dict[str, dict[str, Any]]:
        return {b: staff.call("GET", f"/bets/{b}/slip") for b in bet_ids}

    return wait_for(
        poll,
        lambda st: all(s["status"] in ("clustered", "rejected") for s in st.values()),
        timeout_s,
        "every slip clustered or rejected",
    )


def wait_for(poll: Any, done: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = poll()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise Fail(f"timed out after {timeout_s:.0f} s waiting for {what}; last: {str(got)[:400]}")
        time.sleep(2)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
