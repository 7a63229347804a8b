"""`make load`: valid bets at a fixed concurrency against `make run`, then every one of them checked.

    .venv/bin/python bench/load.py [--bets 5000] [--concurrency 8] [--customers 500] [--seed-to 50000]

Reads the API's URL, the AWS endpoint and the admin key from .local/ (written by `make run`) and
creates an ingest key. Phases, all in one run:

1. load: `--bets` bets at `--concurrency` for `--customers` new customers. Some bets go to a few
   hot customers (concurrent bets on one profile), some are idempotent retries (the same
   Idempotency-Key again: 200, replayed, counted once) and some are sent twice at once (a race that
   must store the bet once). Prints throughput, p50/p95/p99, errors by status.
2. seed (`--seed-to N`): bets for other customers (about 10 each), placed 2 to 6 days ago (in the
   risk model's 30 days, outside the rules' 24 h window), until about N bets are stored, loaded
   as history is: one CSV through POST /imports, run by `make run`'s import consumer (prints its
   rows/s).
3. at N: the load's first 1,500 requests again, for new customers, so the window around N
   stored bets is the same workload as the window around 1k (requests 500-1,500 of each).
   Prints both p50s and their ratio, and the `make run` process's memory (.local/run.pid).
4. verify: GET /bets/{id} for every acknowledged bet (stake and customer as sent) and
   GET /customers/{id} for every customer (bets_total, stake_total_minor as sent).

Exit status: 1 on an error, a lost bet or a wrong total; 3 if a target is missed (p50 ratio
<= 1.2, memory < 1 GB); else 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # local.import_file, local.history_gen
LOCAL = ROOT / ".local"
WINDOW = (500, 1500)  # requests of a phase whose latencies make "p50 around 1k / around N"
P50_RATIO_TARGET = 1.2
RSS_TARGET_MB = 1024


@dataclass(frozen=True)
class Bet:
    key: str  # Idempotency-Key
    customer: str
    stake_minor: int
    body: dict[str, Any]


@dataclass
class Outcome:
    bet: Bet
    status: int  # 0: no answer (connection error, timeout)
    ms: float
    bet_id: str | None = None
    replayed: bool = False
    error: str = ""
    expect_replay: bool = False


@dataclass
class Phase:
    name: str
    outcomes: list[Outcome]
    seconds: float
    window_cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU ms per request of the window

    @property
    def throughput(self) -> float:
        return len(self.outcomes) / self.seconds if self.seconds else 0.0

    def errors(self) -> Counter[str]:
        return Counter(str(o.status or o.error) for o in self.outcomes if o.status not in (200, 201))

    def window_p50(self) -> float:
        lo, hi = WINDOW
        window = self.outcomes[lo:hi] or self.outcomes  # a short run: all of it
        return statistics.median(o.ms for o in window)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def read_env() -> dict[str, str]:
    path = LOCAL / "env"
    if not path.exists():
        raise SystemExit(f"{path} not found: start `make run` first")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


class Api:
    """requests sessions, one per thread (keep-alive), with the ingest and admin keys."""

    def __init__(self, url: str, admin_key: str) -> None:
        self.url = url.rstrip("/")
        self.admin = {"x-api-key": admin_key}
        self.ingest: dict[str, str] = {}
        self._local = threading.local()

    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def create_ingest_key(self) -> None:
        r = self.session().post(
            f"{self.url}/admin/api-keys",
            json={"name": f"load-{uuid.uuid4().hex[:6]}", "role": "ingest"},
            headers=self.admin,
        )
        r.raise_for_status()
        self.ingest = {"x-api-key": r.json()["api_key"]}

    def post_bet(self, bet: Bet, expect_replay: bool = False) -> Outcome:
        started = time.perf_counter()
        try:
            r = self.session().post(
                f"{self.url}/bets", json=bet.body, headers={**self.ingest, "Idempotency-Key": bet.key}, timeout=60
            )
        except requests.RequestException as e:
            return Outcome(bet, 0, (time.perf_counter() - started) * 1000, error=type(e).__name__)
        ms = (time.perf_counter() - started) * 1000
        out = Outcome(bet, r.status_code, ms, expect_replay=expect_replay)
        if r.status_code in (200, 201):
            body = r.json()
            out.bet_id, out.replayed = body["bet_id"], bool(body.get("replayed"))
        else:
            out.error = r.text[:200]
        return out

    def get(self, path: str) -> requests.Response:
        return self.session().get(f"{self.url}{path}", headers=self.admin, timeout=60)


# --- the workload -------------------------------------------------------------------------------

Task = list[tuple[Bet, bool]]  # bets one worker sends in order; True: a retry expecting a replay


RECENT = (timedelta(minutes=1), timedelta(hours=6))  # inside the rules' 24 h window
HISTORY = (timedelta(days=2), timedelta(days=6))  # stored, in the 30 day history, not re-evaluated;
# inside BETWATCH_LIVE_MAX_AGE_HOURS (168 h): the live API refuses older bets


def workload(
    prefix: str, n: int, customers: int, rng: random.Random, placed: tuple[timedelta, timedelta] = RECENT
) -> list[Task]:
    """n requests: 1 in 20 to 5 hot customers, 1 in 30 a retry after the answer, 1 in 50 a race."""
    now = datetime.now(UTC)
    earliest, latest = (int(t.total_seconds()) for t in placed)
    tasks: list[Task] = []
    sent = 0
    while sent < n:
        i = len(tasks)
        hot = i % 20 == 7
        customer = f"{prefix}-{rng.randrange(5) if hot else rng.randrange(customers):04d}"
        stake_minor = rng.randrange(100, 2001)
        body = {
            "customer_id": customer,
            "shop_id": f"S{rng.randrange(40):02d}",
            "channel": "retail",
            "stake": f"{stake_minor // 100}.{stake_minor % 100:02d}",
            "currency": "GBP",
            "bet_type": "single",
            "selections": [
                {
                    "event": f"14:{rng.randrange(60):02d} Cheltenham",
                    "market": "win",
                    "selection": "Desert Orchid",
                    "price": "5/2",
                }
            ],
            "sport": "horse_racing",
            "placed_at": (now - timedelta(seconds=rng.randrange(earliest, latest))).isoformat(),
        }
        bet = Bet(f"{prefix}-{i:06d}", customer, stake_minor, body)
        if i % 30 == 11:
            tasks.append([(bet, False), (bet, True)])
            sent += 2
        elif i % 50 == 23:  # the same request twice, on two workers at once
            tasks += [[(bet, False)], [(bet, False)]]
            sent += 2
        else:
            tasks.append([(bet, False)])
            sent += 1
    return tasks


def run_phase(name: str, api: Api, tasks: list[Task], concurrency: int, progress: bool = False) -> Phase:
    """Send every task's bets (a task's in order) with `concurrency` workers; outcomes in send order."""
    lock = threading.Lock()
    outcomes: list[Outcome] = []
    total = sum(len(t) for t in tasks)
    cpu: dict[int, dict[str, float]] = {}  # outcome count -> CPU seconds of the server processes

    def run(task: Task) -> None:
        for bet, retry in task:
            out = api.post_bet(bet, expect_replay=retry)
            with lock:
                outcomes.append(out)
                if len(outcomes) in WINDOW:
                    cpu[len(outcomes)] = server_cpu_s()
                if progress and len(outcomes) % 5000 == 0:
                    print(f"  {name}: {len(outcomes)}/{total}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(run, tasks))
    phase = Phase(name, outcomes, time.perf_counter() - started)
    lo, hi = WINDOW
    if lo in cpu and hi in cpu:
        phase.window_cpu = {k: (cpu[hi][k] - cpu[lo].get(k, 0.0)) * 1000 / (hi - lo) for k in cpu[hi]}
    return phase


# --- checks -------------------------------------------------------------------------------------


@dataclass
class Verification:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    customers: int = 0
    wrong_totals: list[str] = field(default_factory=list)
    replays: int = 0
    bad_replays: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.mismatched or self.wrong_totals or self.bad_replays)


def verify(api: Api, outcomes: Iterable[Outcome], concurrency: int) -> Verification:
    v = Verification()
    by_key: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_key[o.bet.key].append(o)
    stored: dict[str, Bet] = {}  # bet id -> what was sent
    for key, group in by_key.items():
        acked = [o for o in group if o.status in (200, 201)]
        if not acked:
            continue
        ids = {o.bet_id for o in acked}
        created = [o for o in acked if o.status == 201]
        if len(ids) != 1 or len(created) > 1 or any(o.expect_replay and not o.replayed for o in acked):
            v.bad_replays.append(f"{key}: {[(o.status, o.bet_id, o.replayed) for o in group]}")
        v.replays += sum(1 for o in acked if o.replayed)
        stored[str(acked[0].bet_id)] = acked[0].bet
    v.acknowledged = len(stored)

    def check_bet(item: tuple[str, Bet]) -> None:
        bet_id, bet = item
        r = api.get(f"/bets/{bet_id}")
        if r.status_code == 404:
            v.lost.append(bet_id)
        elif r.status_code != 200:
            v.mismatched.append(f"{bet_id}: GET answered {r.status_code}")
        elif (r.json().get("stake_minor"), r.json().get("customer_id")) != (bet.stake_minor, bet.customer):
            v.mismatched.append(f"{bet_id}: stored {r.json().get('stake_minor')}, sent {bet.stake_minor}")

    expected: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for bet in stored.values():
        n, total = expected[bet.customer]
        expected[bet.customer] = (n + 1, total + bet.stake_minor)
    v.customers = len(expected)

    def check_customer(item: tuple[str, tuple[int, int]]) -> None:
        customer, want = item
        r = api.get(f"/customers/{customer}")
        got = (r.json().get("bets_total"), r.json().get("stake_total_minor")) if r.status_code == 200 else r.status_code
        if got != want:
            v.wrong_totals.append(f"{customer}: stored {got}, sent {want}")

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(check_bet, stored.items()))
        list(pool.map(check_customer, expected.items()))
    return v


def seed_by_import(api: Api, prefix: str, n: int) -> float:
    """n bets for n/10 customers placed 2-6 days ago, loaded as an operator loads history: a CSV
    through POST /imports (the job runs in `make run`'s runner, in chunks). Returns its seconds."""
    import tempfile

    from local import import_file
    from local.history_gen import HEADER, row

    start = datetime.now(UTC) - HISTORY[1]
    step_s = max(1, int((HISTORY[1] - HISTORY[0]).total_seconds() // n))
    customers = max(1, n // 10)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write(HEADER)
        for i in range(n):
            f.write(row(i, start=start, step_s=step_s, customers=customers, prefix=prefix, customer_prefix=prefix))
        path = f.name
    started = time.perf_counter()
    try:
        code = import_file.main([path, "--api", api.url, "--interval", "5"])
    finally:
        os.unlink(path)
    if code != 0:
        raise SystemExit("the seeding import failed")
    return time.perf_counter() - started


def stored_bets(env: dict[str, str]) -> int:
    """Items in the bets table (moto counts them exactly)."""
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env.get("AWS_DEFAULT_REGION", "eu-west-2"),
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    return int(ddb.describe_table(TableName=env["BETWATCH_TABLE_BETS"])["Table"]["ItemCount"])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_cpu_s() -> dict[str, float]:
    """CPU seconds used so far by `make run` (the embedded AWS) and by its children (chalice, runner)."""
    try:
        pid = int((LOCAL / "run.pid").read_text())
        out = {"make run": _cpu_s(pid), "chalice": 0.0, "runner": 0.0}
        for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            cmdline = Path(f"/proc/{c}/cmdline").read_bytes()
            out["runner" if b"local.runner" in cmdline else "chalice"] += _cpu_s(int(c))
    except (OSError, ValueError):
        return {}
    return out


def run_rss_mb() -> tuple[float, float] | None:
    """(VmRSS, VmHWM) in MB of the `make run` process, whose memory holds the embedded AWS (the
    runner and chalice are processes of their own)."""
    try:
        pid = int((LOCAL / "run.pid").read_text())
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (OSError, ValueError):
        return None
    kb: Callable[[str], float] = lambda name: int(fields[name].split()[0]) / 1024  # noqa: E731
    return kb("VmRSS"), kb("VmHWM")


# --- report -------------------------------------------------------------------------------------


def describe(phase: Phase) -> str:
    ms = [o.ms for o in phase.outcomes]
    errors = phase.errors()
    return (
        f"{phase.name}: {len(ms)} requests in {phase.seconds:.1f}s = {phase.throughput:.1f}/s; "
        f"latency p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, p99 {percentile(ms, 99):.0f} ms; "
        f"errors: {dict(errors) if errors else 'none'}"
    )


def cpu_of(phase: Phase) -> str:
    if not phase.window_cpu:
        return ""
    return " (CPU per request: " + ", ".join(f"{k} {v:.1f} ms" for k, v in phase.window_cpu.items()) + ")"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bets", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--customers", type=int, default=500)
    p.add_argument("--seed-to", type=int, default=50_000, help="stored bets for the second window (0: none)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)

    env = read_env()
    api = Api(env["BETWATCH_API"], (LOCAL / "admin.key").read_text().strip())
    api.create_ingest_key()
    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:6]
    base = stored_bets(env)
    print(f"against {api.url}: {base} bets stored before; run tag {tag}", flush=True)
    if base > WINDOW[0]:
        print(f"  note: the first window is not around 1k stored bets ({base} already): `make reset` first", flush=True)

    first = run_phase("load", api, workload(f"L{tag}", args.bets, args.customers, rng), args.concurrency)
    print(describe(first), flush=True)
    phases = [first]
    p50_1k = first.window_p50()
    rss_1k = run_rss_mb()
    second: Phase | None = None
    seed_line = ""
    if args.seed_to:
        window_n = WINDOW[1]
        # Every row stores a new bet: start the last phase so that its window's middle request
        # (1,000) comes at about --seed-to stored bets.
        to_seed = args.seed_to - 1000 - stored_bets(env)
        if to_seed > 0:
            before = stored_bets(env)
            seeded_s = seed_by_import(api, f"S{tag}", to_seed)
            added = stored_bets(env) - before
            seed_line = (
                f"seed: {to_seed} bets placed 2-6 days ago through the history import (POST /imports, "
                f"the runner's import consumer) in {seeded_s:.1f}s = {to_seed / seeded_s:.1f} rows/s; "
                f"{added} stored"
            )
            print(seed_line, flush=True)
            if added != to_seed:
                raise SystemExit(f"RESULT: FAILED: the seeding import stored {added} bets of {to_seed}")
        at = stored_bets(env)
        rng_same = random.Random(args.seed)  # the load phase's first requests again, new customers
        second = run_phase(f"at {at}", api, workload(f"M{tag}", window_n, args.customers, rng_same), args.concurrency)
        print(describe(second), flush=True)
        phases.append(second)

    stored_now = stored_bets(env)
    rss = run_rss_mb()
    print("verifying every acknowledged bet and every customer's totals ...", flush=True)
    started = time.perf_counter()
    v = verify(api, (o for ph in phases for o in ph.outcomes), args.concurrency)
    errors = sum((ph.errors() for ph in phases), Counter())

    print("\n=== make load ===")
    for ph in phases:
        print("  " + describe(ph))
    if seed_line:
        print("  " + seed_line)
    lo, hi = WINDOW
    print(
        f"  p50 over requests {lo}-{hi} of the load (stored ~{base + lo}-{base + hi}): {p50_1k:.1f} ms{cpu_of(first)}"
    )
    missed: list[str] = []
    if second is not None:
        p50_n = second.window_p50()
        ratio = p50_n / p50_1k
        ok = ratio <= P50_RATIO_TARGET
        missed += [] if ok else ["p50 ratio"]
        print(
            f"  p50 over requests {lo}-{hi} at {second.name} stored: {p50_n:.1f} ms{cpu_of(second)}; ratio {ratio:.2f} "
            f"(target <= {P50_RATIO_TARGET}) {'OK' if ok else 'MISSED'}"
        )
    if rss is not None:
        ok = rss[0] < RSS_TARGET_MB
        missed += [] if ok else ["memory"]
        at_1k = f"; at the first window {rss_1k[0]:.0f} MB" if rss_1k else ""
        print(
            f"  make run process (the embedded AWS) at {stored_now} stored bets: RSS {rss[0]:.0f} MB, "
            f"peak {rss[1]:.0f} MB{at_1k} (target < {RSS_TARGET_MB} MB) {'OK' if ok else 'MISSED'}"
        )
    else:
        print("  make run process memory: unknown (no .local/run.pid or /proc)")
    print(f"  errors: {dict(errors) if errors else 'none'}")
    print(
        f"  verified in {time.perf_counter() - started:.0f}s: {v.acknowledged} acknowledged bets, "
        f"{len(v.lost)} lost, {len(v.mismatched)} mismatched; {v.replays} replays, {len(v.bad_replays)} wrong; "
        f"{v.customers} customers, {len(v.wrong_totals)} wrong totals"
    )
    for line in (v.lost + v.mismatched + v.bad_replays + v.wrong_totals)[:20]:
        print(f"    {line}")
    if errors or not v.ok:
        print("RESULT: FAILED")
        return 1
    print(f"RESULT: {'targets missed: ' + ', '.join(missed) if missed else 'PASS'}")
    return 3 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
