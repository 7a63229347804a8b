"""Simulator B: an independent stream of bets, used ONLY to test the risk model.

Written from its own design, not from simulator A's code: customers live on a calendar of
*sessions* (a visit to a shop, a spell on the app), each session places a few bets, and the
risky behaviour is injected as episodes into otherwise ordinary lives. Different archetypes,
stake and price generators, markets, shops, cities and rates from simulator A; no label noise.

Legitimate: casual app users, shop regulars, big punters (legitimately large, often odds-on),
weekend accumulator crowds (Saturday lunchtime rushes), night workers (00-05 UTC), families
sharing devices, anonymous walk-ins. Risky episodes: bet bots (bursts of many bets in minutes),
chasers (doubling after a run of small bets), smurfs (stakes under £500 / £1,000 across shops in
a day), washers (both sides of a football market, equal large stakes), promo farmers (new
accounts, penny-odd stakes, fresh devices), dormant spikes (a quiet account suddenly staking
20-200× its usual) and hijacks (a new device far from home, large stakes).

The training pipeline never fits anything on this stream. ``pattern`` names match the
evaluation's per-pattern report.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from chalicelib.domain.bets import BET_SHAPES, BetIn, BetType, Channel
from chalicelib.domain.risk_history import HISTORY_DAYS, MAX_PAST_BETS, PastBet, SubjectHistory
from chalicelib.risk.features import past_bet

EPOCH = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, a different period from simulator A
WEEKS = 5
HOUR = 3600.0
DAY = 24 * HOUR
LADDER = [
    1.2,
    1.25,
    1.33,
    1.4,
    1.5,
    1.62,
    1.73,
    1.8,
    1.91,
    2.0,
    2.2,
    2.5,
    2.75,
    3.0,
    3.5,
    4.0,
    5.0,
    6.0,
    8.0,
    11.0,
    15.0,
    21.0,
    34.0,
]
TOWNS = [(48.86, 2.35), (52.37, 4.9), (53.35, -6.26), (51.48, -3.18), (54.6, -5.93), (50.37, -4.14), (57.15, -2.1)]


@dataclass
class Row:
    bet: BetIn
    history: SubjectHistory
    label: int
    archetype: str
    subject: str
    pattern: str
    day: int


@dataclass
class Plan:
    """One bet to place: when, what, and whether it is part of a risky episode."""

    at: float
    stake: float
    kind: BetType
    prices: list[float | None]  # None = SP
    risky: int = 0
    pattern: str = "ordinary"
    market: tuple[str, str, str] | None = None
    device: str | None = None
    where: tuple[float, float] | None = None
    shop: str | None = None


class Customer:
    def __init__(self, w: World, idx: int, archetype: str) -> None:
        self.w = w
        self.idx = idx
        self.archetype = archetype
        r = w.r
        self.account = None if archetype in ("anon_walkin",) else f"b{idx:05d}"
        self.retail = archetype in ("shop_regular", "anon_walkin", "smurf") or (
            archetype in ("weekend_acca", "washer", "dormant_spike", "big_punter") and r.random() < 0.45
        )
        self.shops = [f"B-{int(s):03d}" for s in r.choice(120, size=int(r.integers(1, 3)), replace=False)]
        self.devices = [w.device() for _ in range(4 if archetype == "family" else int(r.integers(1, 3)))]
        self.town = TOWNS[int(r.integers(0, len(TOWNS)))] if r.random() < 0.6 else None
        self.typical = float(r.gamma(2.0, 4.0)) + 1.0  # usual stake in pounds
        self.sessions_per_week = float(r.uniform(1.0, 6.0))
        self.joined: float | None = None


class World:
    def __init__(self, seed: int) -> None:
        self.r = np.random.default_rng(seed)
        self._dev = 0
        self._match = 0

    def device(self) -> str:
        self._dev += 1
        return f"bdev{self._dev:06d}"

    def match(self) -> str:
        self._match += 1
        return f"FC {self._match} vs United {self._match}"

    def price(self, around: float) -> float | None:
        if self.r.random() < 0.05:
            return None
        i = int(np.argmin([abs(np.log(x / around)) for x in LADDER]))
        return LADDER[int(np.clip(i + self.r.integers(-3, 4), 0, len(LADDER) - 1))]

    def money(self, pounds: float) -> float:
        """Punters bet round sums: whole pounds, usually fives and tens above £20."""
        p = max(0.5, pounds)
        if p >= 20:
            return float(round(p / 5) * 5)
        return float(round(p)) if p >= 2 else round(p * 2) / 2

    def session_times(self, c: Customer, hours: tuple[float, float], weekend_boost: float = 1.3) -> list[float]:
        out = []
        for d in range(WEEKS * 7):
            wd = (EPOCH + timedelta(days=d)).weekday()
            lam = c.sessions_per_week / 7 * (weekend_boost if wd >= 5 else 1.0)
            for _ in range(self.r.poisson(lam)):
                out.append(d * DAY + self.r.uniform(*hours) * HOUR)
        return sorted(out)


def _casual_bets(w: World, c: Customer, at: float, n: int, scale: float = 1.0) -> list[Plan]:
    r = w.r
    out = []
    for _ in range(n):
        u = r.random()
        if u < 0.5:
            out.append(Plan(at, w.money(c.typical * scale * r.lognormal(0, 0.5)), BetType.single, [w.price(3.5)]))
        elif u < 0.75:
            k = int(r.integers(4, 9))
            out.append(
                Plan(
                    at,
                    w.money(c.typical * scale * 0.6 * r.lognormal(0, 0.4)),
                    BetType.accumulator,
                    [w.price(2.0) for _ in range(k)],
                )
            )
        elif u < 0.88:
            out.append(
                Plan(at, w.money(c.typical * scale * r.lognormal(0, 0.5)), BetType.double, [w.price(2.2), w.price(2.2)])
            )
        else:
            unit = max(0.1, round(c.typical * scale / 15, 1))
            out.append(Plan(at, round(unit * 15, 2), BetType.lucky15, [w.price(4.0) for _ in range(4)]))
        at += r.uniform(30, 900)
    return out


def plans_for(w: World, c: Customer) -> list[Plan]:
    r = w.r
    a = c.archetype
    plans: list[Plan] = []
    hours = (8.5, 21.0) if c.retail else (10.0, 23.0)
    if a == "night_worker":
        hours = (0.0, 5.0)
    if a == "big_punter":
        c.typical = float(r.uniform(150, 1500))
    if a == "promo_farmer":
        c.joined = r.uniform(0, WEEKS * 7 - 4) * DAY
        c.sessions_per_week = 0.0
    quiet = a == "dormant_spike"
    if quiet:
        c.sessions_per_week = float(r.uniform(0.4, 1.5))
    for at in w.session_times(c, hours):
        n = int(r.integers(1, 4))
        if a == "big_punter":
            for _ in range(n):
                odds = [float(r.choice(LADDER[:8]))] if r.random() < 0.4 else [w.price(3.0)]
                plans.append(
                    Plan(at, w.money(c.typical * r.lognormal(0, 0.45)), BetType.single, odds, 0, "high_roller")
                )
                at += r.uniform(120, 2400)
        else:
            pat = "night" if a == "night_worker" else "ordinary"
            for p in _casual_bets(w, c, at, n):
                p.pattern = pat
                plans.append(p)
    if a == "weekend_acca":
        for d in range(WEEKS * 7):
            if (EPOCH + timedelta(days=d)).weekday() == 5 and r.random() < 0.85:
                at = d * DAY + r.uniform(11.5, 14.8) * HOUR
                for _ in range(int(r.integers(4, 18))):
                    k = int(r.integers(3, 11))
                    kind = BetType.treble if k == 3 else BetType.accumulator
                    plans.append(
                        Plan(at, w.money(r.uniform(1, 10)), kind, [w.price(1.8) for _ in range(k)], 0, "saturday_acca")
                    )
                    at += r.uniform(10, 400)
    # risky episodes
    t_ep = r.uniform(6, WEEKS * 7 - 1) * DAY
    if a == "bet_bot":
        for _ in range(int(r.integers(1, 3))):
            at = r.uniform(4, WEEKS * 7 - 0.2) * DAY
            size = c.typical * r.uniform(2, 10)
            for _ in range(int(r.integers(10, 40))):
                plans.append(
                    Plan(at, w.money(size * r.uniform(0.7, 1.3)), BetType.single, [w.price(2.5)], 1, "velocity_burst")
                )
                at += r.uniform(3, 45)
    elif a == "chaser":
        for _ in range(int(r.integers(2, 5))):
            at = r.uniform(3, WEEKS * 7 - 0.3) * DAY
            st = c.typical
            for _ in range(int(r.integers(3, 8))):
                st *= r.uniform(1.6, 2.4)
                plans.append(Plan(at, w.money(st), BetType.single, [w.price(2.8)], 1, "chasing"))
                at += r.uniform(60, 420)
    elif a == "smurf":
        for d in sorted(r.choice(WEEKS * 7, size=int(r.integers(3, 10)), replace=False)):
            cap = 500 if r.random() < 0.7 else 1000
            at = d * DAY + r.uniform(10, 15) * HOUR
            for _ in range(int(r.integers(2, 6))):
                st = float(cap - r.choice([1, 5, 10, 20, 25, 40, 50, 60]))
                plans.append(
                    Plan(
                        at,
                        st,
                        BetType.single,
                        [float(r.choice(LADDER[:10]))],
                        1,
                        "structuring",
                        shop=f"B-{int(r.integers(0, 120)):03d}",
                    )
                )
                at += r.uniform(900, 7200)
    elif a == "washer":
        for _ in range(int(r.integers(2, 7))):
            at = r.uniform(2, WEEKS * 7 - 0.2) * DAY
            m = w.match()
            mk, sides = (
                ("over/under 2.5", ["over 2.5", "under 2.5"])
                if r.random() < 0.5
                else ("both teams to score", ["yes", "no"])
            )
            st = float(r.choice([300, 500, 750, 1000, 1500, 2500]))
            for side in sides:
                plans.append(
                    Plan(
                        at,
                        st,
                        BetType.single,
                        [float(r.choice([1.8, 1.85, 1.91, 1.95, 2.0]))],
                        1,
                        "both_sides",
                        market=(m, mk, side),
                    )
                )
                at += r.uniform(20, 2400)
    elif a == "promo_farmer":
        assert c.joined is not None
        at = c.joined + r.uniform(9, 22) * HOUR
        for _ in range(int(r.integers(4, 15))):
            pounds = float(r.uniform(5, 80))
            st = round(pounds, 2) if round(pounds * 100) % 100 else pounds + 0.01
            plans.append(
                Plan(
                    at,
                    st,
                    BetType.single,
                    [w.price(1.9)],
                    1,
                    "odd_amount_new_account",
                    device=w.device() if r.random() < 0.6 else None,
                )
            )
            at += r.uniform(120, 5 * HOUR)
    elif a == "dormant_spike":
        at = t_ep
        for _ in range(int(r.integers(1, 3))):
            plans.append(
                Plan(at, w.money(c.typical * r.uniform(20, 200)), BetType.single, [w.price(2.2)], 1, "sudden_change")
            )
            at += r.uniform(600, 3 * HOUR)
    elif a == "hijack":
        at = t_ep
        dev = w.device()
        far = TOWNS[int(r.integers(0, len(TOWNS)))]
        for _ in range(int(r.integers(2, 6))):
            plans.append(
                Plan(
                    at,
                    w.money(c.typical * r.uniform(8, 60)),
                    BetType.single,
                    [w.price(1.8)],
                    1,
                    "account_takeover",
                    device=dev,
                    where=(far[0] + r.normal(0, 1), far[1] + r.normal(0, 1)),
                )
            )
            at += r.uniform(120, 900)
    return [p for p in plans if 0 <= p.at < WEEKS * 7 * DAY]


ARCHETYPES: list[tuple[str, float]] = [
    ("casual_app", 0.28),
    ("shop_regular", 0.15),
    ("anon_walkin", 0.08),
    ("big_punter", 0.08),
    ("weekend_acca", 0.09),
    ("night_worker", 0.06),
    ("family", 0.05),
    ("bet_bot", 0.03),
    ("chaser", 0.04),
    ("smurf", 0.03),
    ("washer", 0.03),
    ("promo_farmer", 0.03),
    ("dormant_spike", 0.04),
    ("hijack", 0.03),
]


def _bet(w: World, c: Customer, p: Plan, n: int) -> BetIn:
    r = w.r
    retail = c.retail
    sels: list[dict[str, Any]]
    if p.market is not None:
        sels = [{"event": p.market[0], "market": p.market[1], "selection": p.market[2], "price": str(p.prices[0])}]
        sport = "football"
    else:
        sport = "football" if r.random() < 0.55 else "horse_racing"
        sels = [
            {
                "event": f"{'Race' if sport == 'horse_racing' else 'Fixture'} {int(r.integers(0, 20000))}",
                "market": "win" if sport == "horse_racing" else "1x2",
                "selection": f"sel {int(r.integers(1, 16))}",
                "price": "SP" if o is None else str(o),
            }
            for o in p.prices
        ]
    (lo, hi), _ = BET_SHAPES[p.kind]
    sels = sels[:hi]
    device = None
    where = None
    if not retail:
        device = p.device or c.devices[int(r.integers(0, len(c.devices)))]
        if p.where is not None:
            where = p.where
        elif c.town is not None:
            where = (c.town[0] + r.normal(0, 0.03), c.town[1] + r.normal(0, 0.03))
    shop = (p.shop or c.shops[int(r.integers(0, len(c.shops)))]) if retail else None
    return BetIn.model_validate(
        {
            "bet_id": f"b-{n:07d}",
            "customer_id": c.account,
            "shop_id": shop,
            "channel": Channel.retail if retail else (Channel.sms if r.random() < 0.03 else Channel.online),
            "stake": Decimal(f"{max(p.stake, 0.1):.2f}"),
            "bet_type": p.kind,
            "selections": sels,
            "sport": sport,
            "placed_at": EPOCH + timedelta(seconds=int(p.at)),
            "device_id": device,
            "location": None if where is None else {"lat": where[0], "lon": where[1]},
        }
    )


def simulate(seed: int = 101, n_customers: int = 1500) -> list[Row]:
    w = World(seed)
    names = [a for a, _ in ARCHETYPES]
    probs = np.array([p for _, p in ARCHETYPES])
    probs = probs / probs.sum()
    out: list[Row] = []
    n = 0
    for i in range(n_customers):
        c = Customer(w, i, names[int(w.r.choice(len(names), p=probs))])
        plans = sorted(plans_for(w, c), key=lambda p: p.at)
        past: list[PastBet] = []
        times: list[float] = []
        first = EPOCH + timedelta(seconds=c.joined) if c.joined is not None else None
        prev = -1.0
        for p in plans:
            p.at = float(int(max(p.at, prev + 1)))
            prev = p.at
            try:
                bet = _bet(w, c, p, n)
            except ValueError:
                continue  # a shape the generator got wrong: skip rather than bend it
            n += 1
            if c.account is None:
                hist = SubjectHistory()  # anonymous walk-ins: no linked history
            else:
                lo = 0
                while lo < len(times) and times[lo] < p.at - HISTORY_DAYS * DAY:
                    lo += 1
                lo = max(lo, len(past) - MAX_PAST_BETS)
                hist = SubjectHistory.model_construct(
                    bets=past[lo:], whitelisted_until=None, category=None, first_seen_at=first
                )
            out.append(Row(bet, hist, p.risky, c.archetype, f"subj-b{seed}-{i:05d}", p.pattern, int(p.at // DAY)))
            past.append(past_bet(bet))
            times.append(p.at)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--customers", type=int, default=300)
    args = ap.parse_args()
    rows = simulate(args.seed, args.customers)
    by = Counter(r.pattern for r in rows)
    pos = Counter(r.pattern for r in rows if r.label)
    print(f"{len(rows)} bets, base rate {sum(r.label for r in rows) / len(rows):.3f}")
    for k, v in sorted(by.items()):
        print(f"  {k:24s} {v:7d} bets  {pos[k] / v:.2f} risky")


if __name__ == "__main__":
    main()
