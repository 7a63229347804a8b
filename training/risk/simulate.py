"""Seeded simulator of betting activity for training the bet risk model.

Everything here is synthetic. Customers are drawn from archetypes (legitimate: recreational
online, retail regulars, anonymous retail, legitimate high-rollers; risky: money laundering,
structuring across shops, problem gambling, bonus abuse / fraud). Each customer places a sequence
of bets over a few weeks; every bet is a real ``BetIn`` (so the simulator cannot drift from the
API), and its ``History`` is computed from that subject's earlier bets only, the way the runtime
reads it. Labels come from the generating archetype and the kind of bet, with a few per cent of
label noise, and legitimate and risky behaviour deliberately overlap.

Anonymous retail bets are scored against a *writer* history (the runtime links anonymous slips to
a writer by handwriting); the simulator assumes half of anonymous customers are linked, and the
others are scored with an empty history.

Usage: ``python -m training.risk.simulate --seed 7 --customers 200`` prints a summary.
"""

from __future__ import annotations

import argparse
import bisect
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from chalicelib.domain.bets import BET_SHAPES, BetIn, BetType, Channel, History

# Simulated period: fixed dates in the past, so output is deterministic and BetIn never sees a
# future placed_at.
START = datetime(2025, 1, 6, tzinfo=UTC)
DAYS = 35
DAY_S = 86400.0
MAX_BETS_PER_CUSTOMER = 400
LABEL_NOISE = 0.03
FRACTIONS = ["1/5", "2/7", "1/3", "4/9", "1/2", "4/6", "4/5", "evs", "6/4", "2/1", "5/2", "3/1"]

# (archetype, weight, risky)
ARCHETYPES: list[tuple[str, float, bool]] = [
    ("recreational_online", 0.40, False),
    ("retail_regular", 0.22, False),
    ("anonymous_retail", 0.15, False),
    ("high_roller", 0.07, False),
    ("money_laundering", 0.04, True),
    ("structuring", 0.03, True),
    ("problem_gambling", 0.05, True),
    ("bonus_abuse", 0.04, True),
]
RISKY = {name for name, _, risky in ARCHETYPES if risky}

# Hour-of-day weights (UTC).
_H = np.arange(24)
HOURS_EVENING = np.where((_H >= 11) & (_H <= 22), 1.0, 0.05) + np.where((_H >= 17) & (_H <= 21), 1.5, 0.0)
HOURS_SHOP = np.where((_H >= 8) & (_H <= 21), 1.0, 0.0) + np.where((_H >= 12) & (_H <= 16), 1.0, 0.0)
HOURS_NIGHT = np.where(_H <= 5, 2.0, 0.0) + np.where(_H >= 20, 1.5, 0.2)


@dataclass
class Spec:
    """What to bet, before it becomes a BetIn."""

    t: float  # seconds after START
    stake: float  # major units
    bet_type: BetType
    odds: list[str]  # price strings
    label: int
    each_way: bool = False


@dataclass
class SimBet:
    bet: BetIn
    history: History
    label: int
    archetype: str
    subject: str  # grouping key: one simulated person


def _probs(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


class Sim:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self._device = 0

    # -- small helpers ------------------------------------------------------------------------
    def new_device(self) -> str:
        self._device += 1
        return f"dev-{self._device:06d}"

    def times(self, rate: float, hours: np.ndarray, start_day: float = 0, end_day: float = DAYS) -> list[float]:
        rng = self.rng
        n_days = max(0, int(end_day - start_day))
        out: list[float] = []
        p = _probs(hours)
        for d in range(n_days):
            day = start_day + d
            weekend = (START + timedelta(days=day)).weekday() >= 5
            for _ in range(rng.poisson(rate * (1.6 if weekend else 1.0))):
                h = rng.choice(24, p=p)
                out.append(day * DAY_S + h * 3600 + rng.uniform(0, 3600))
        return sorted(out)

    def price(self, median: float, sigma: float = 0.7, sp: float = 0.08) -> str:
        rng = self.rng
        u = rng.random()
        if u < sp:
            return "SP"
        if u < sp + 0.15:
            # a fractional price near the median
            cands = [f for f in FRACTIONS if abs(_frac_dec(f) - median) < max(1.0, median)]
            if cands:
                return str(rng.choice(cands))
        odds = float(np.clip(1.0 + (median - 1.0) * rng.lognormal(0, sigma), 1.02, 500.0))
        return f"{odds:.2f}"

    def short_price(self, lo: float = 1.1, hi: float = 1.95) -> str:
        return f"{self.rng.uniform(lo, hi):.2f}"

    def stake(self, median: float, sigma: float, lo: float = 0.1, hi: float = 50000.0) -> float:
        s = float(np.clip(median * self.rng.lognormal(0, sigma), lo, hi))
        return _round_stake(s, self.rng)

    def multi_odds(self, bet_type: BetType, median: float) -> list[str]:
        (lo, hi), _ = BET_SHAPES[bet_type]
        n = int(self.rng.integers(lo, min(hi, 8) + 1))
        return [self.price(median) for _ in range(n)]


def _frac_dec(f: str) -> float:
    if f == "evs":
        return 2.0
    a, b = f.split("/")
    return int(a) / int(b) + 1


def _round_stake(s: float, rng: np.random.Generator) -> float:
    if s >= 100 and rng.random() < 0.8:
        return float(max(10, round(s / 10) * 10))
    if s >= 10 and rng.random() < 0.7:
        return float(round(s))
    return max(0.1, round(s * 2) / 2 if s >= 1 else round(s, 2))


def _unit_bet(sim: Sim, bt: BetType, unit: float, median: float) -> tuple[float, list[str]]:
    _, lines = BET_SHAPES[bt]
    return round(unit * lines, 2), sim.multi_odds(bt, median)


RECREATIONAL_TYPES = [
    (BetType.single, 0.32),
    (BetType.each_way, 0.10),
    (BetType.double, 0.10),
    (BetType.treble, 0.06),
    (BetType.accumulator, 0.20),
    (BetType.lucky15, 0.07),
    (BetType.yankee, 0.05),
    (BetType.trixie, 0.05),
    (BetType.forecast, 0.05),
]
RETAIL_TYPES = [
    (BetType.single, 0.35),
    (BetType.each_way, 0.15),
    (BetType.forecast, 0.08),
    (BetType.reverse_forecast, 0.05),
    (BetType.tricast, 0.04),
    (BetType.yankee, 0.08),
    (BetType.patent, 0.07),
    (BetType.accumulator, 0.10),
    (BetType.double, 0.08),
]


def _pick(sim: Sim, table: list[tuple[BetType, float]]) -> BetType:
    p = _probs(np.array([w for _, w in table]))
    return table[int(sim.rng.choice(len(table), p=p))][0]


def _ordinary(sim: Sim, t: float, table: list[tuple[BetType, float]], median_stake: float, label: int = 0) -> Spec:
    """An everyday bet: the cover bets of risky customers look like this too."""
    bt = _pick(sim, table)
    if bt in (BetType.single, BetType.each_way):
        stake = sim.stake(median_stake, 0.9)
        return Spec(t, stake, bt, [sim.price(4.0, 0.8)], label)
    unit = sim.stake(max(0.1, median_stake / BET_SHAPES[bt][1] ** 0.7), 0.6)
    stake, odds = _unit_bet(sim, bt, unit, 2.5)
    return Spec(t, stake, bt, odds, label)


# -- archetypes: each returns (bet specs, channel policy) ----------------------------------------
@dataclass
class Person:
    archetype: str
    customer_id: str | None
    channels: list[Channel]
    shops: list[str]
    devices: list[str]
    linked: bool = True  # anonymous: is there a writer history to score against?
    fresh_device_p: float = 0.0  # probability a bet comes from a never-seen device
    no_device_p: float = 0.05


def _recreational(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.15, 1.3)
    hours = HOURS_EVENING + (HOURS_NIGHT * 0.15 if sim.rng.random() < 0.15 else 0)
    median = sim.rng.lognormal(np.log(5), 0.6)
    return [_ordinary(sim, t, RECREATIONAL_TYPES, median) for t in sim.times(rate, hours)]


def _retail_regular(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.2, 1.0)
    median = sim.rng.lognormal(np.log(8), 0.6)
    out = []
    for t in sim.times(rate, HOURS_SHOP):
        s = _ordinary(sim, t, RETAIL_TYPES, median)
        if sim.rng.random() < 0.04:  # the occasional big fancy, sometimes a round sum
            s.stake = float(sim.rng.choice([100, 200, 250, 450, 480, 500, 900, 1000]))
            s.bet_type, s.odds = BetType.single, [sim.price(3.0)]
        out.append(s)
    return out


def _anonymous_retail(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.1, 0.7)
    median = sim.rng.lognormal(np.log(10), 0.7)
    out = []
    for t in sim.times(rate, HOURS_SHOP):
        s = _ordinary(sim, t, RETAIL_TYPES, median)
        if sim.rng.random() < 0.08:
            s.stake = float(sim.rng.choice([100, 150, 200, 300, 400, 480]))
            s.bet_type = BetType.single
            s.odds = [sim.short_price(1.3, 2.2) if sim.rng.random() < 0.4 else sim.price(3.0)]
        out.append(s)
    return out


def _high_roller(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.3, 1.5)
    median = sim.rng.lognormal(np.log(400), 0.6)
    hours = HOURS_EVENING + (HOURS_NIGHT * 0.3 if sim.rng.random() < 0.2 else 0)
    out = []
    for t in sim.times(rate, hours):
        r = sim.rng.random()
        stake = sim.stake(median, 0.9, 10, 20000)
        if r < 0.30:  # big odds-on singles are normal for some legitimate high-rollers
            out.append(Spec(t, stake, BetType.single, [sim.short_price(1.15, 1.95)], 0))
        elif r < 0.80:
            out.append(Spec(t, stake, BetType.single, [sim.price(3.5)], 0))
        elif r < 0.90:
            out.append(Spec(t, stake, BetType.each_way, [sim.price(6.0)], 0))
        else:
            out.append(_ordinary(sim, t, RECREATIONAL_TYPES, median / 5))
    return out


def _money_laundering(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.3, 1.8)
    start = sim.rng.uniform(0, 14)
    median = sim.rng.lognormal(np.log(1000), 0.6)
    out = []
    for t in sim.times(rate, HOURS_SHOP, start):
        r = sim.rng.random()
        if r < 0.55:
            stake = sim.stake(median, 0.7, 100, 20000)
            out.append(Spec(t, stake, BetType.single, [sim.short_price(1.05, 1.8)], 1))
        elif r < 0.75:  # each-way at a short price: the place part almost always returns
            stake = sim.stake(median, 0.7, 100, 20000)
            out.append(Spec(t, stake, BetType.each_way, [sim.short_price(1.6, 3.5)], 1))
        elif r < 0.85:  # both sides of a two-runner market, minutes apart
            stake = sim.stake(median, 0.6, 100, 20000)
            out.append(Spec(t, stake, BetType.single, [sim.short_price(1.7, 2.1)], 1))
            out.append(Spec(t + sim.rng.uniform(60, 900), stake, BetType.single, [sim.short_price(1.7, 2.1)], 1))
        else:  # cover bets that look ordinary
            out.append(_ordinary(sim, t, RETAIL_TYPES, 20, label=0))
    return out


def _structuring(sim: Sim, p: Person) -> list[Spec]:
    out = []
    limit = float(sim.rng.choice([500, 1000, 2000], p=[0.6, 0.3, 0.1]))
    start = int(sim.rng.integers(0, 10))
    for day in range(start, DAYS):
        if sim.rng.random() > 0.3:
            continue
        t = day * DAY_S + sim.rng.uniform(9, 13) * 3600
        for _ in range(int(sim.rng.integers(2, 8))):
            stake = float(round(limit * sim.rng.uniform(0.85, 0.999) / 5) * 5)
            stake = min(stake, limit - 5)
            odds = sim.short_price(1.1, 1.9) if sim.rng.random() < 0.7 else sim.price(2.5)
            out.append(Spec(t, stake, BetType.single, [odds], 1))
            t += sim.rng.uniform(600, 5400)
        if sim.rng.random() < 0.2:
            out.append(_ordinary(sim, t + 3600, RETAIL_TYPES, 10, label=0))
    return out


def _problem_gambling(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    onset = rng.uniform(5, 25)
    median0 = rng.lognormal(np.log(8), 0.6)
    out = [
        _ordinary(sim, t, RECREATIONAL_TYPES, median0)
        for t in sim.times(rng.uniform(0.2, 1.0), HOURS_EVENING, 0, onset)
    ]
    growth = rng.uniform(0.03, 0.10)  # per day after onset
    day = onset
    while day < DAYS:
        k = day - onset
        rate = 0.4 * np.exp(growth * k)
        median = median0 * np.exp(growth * 1.3 * k)
        n = min(rng.poisson(rate), 20)
        night = rng.random() < 0.45
        for _ in range(n):
            h = rng.choice(24, p=_probs(HOURS_NIGHT if night else HOURS_EVENING))
            t = int(day) * DAY_S + h * 3600 + rng.uniform(0, 3600)
            s = _ordinary(sim, t, RECREATIONAL_TYPES[:5], median, label=1)
            out.append(s)
            if rng.random() < 0.25:  # a chasing burst: quick bets with rising stakes
                st = s.stake
                for _ in range(int(rng.integers(1, 6))):
                    t += rng.uniform(30, 600)
                    st = min(_round_stake(st * rng.uniform(1.3, 2.2), rng), 20000)
                    out.append(Spec(t, st, BetType.single, [sim.price(3.0)], 1))
        day += 1
    return out


def _bonus_abuse(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    start = rng.uniform(0, DAYS - 5)
    span = rng.uniform(2, 8)
    out = []
    for t in sim.times(rng.uniform(2, 7), HOURS_EVENING + HOURS_NIGHT * 0.3, start, min(DAYS, start + span)):
        r = rng.random()
        if r < 0.8:
            bt = [
                BetType.lucky15,
                BetType.heinz,
                BetType.yankee,
                BetType.accumulator,
                BetType.lucky31,
                BetType.super_heinz,
                BetType.goliath,
            ][int(rng.integers(0, 7))]
            unit = float(rng.choice([0.05, 0.1, 0.1, 0.2, 0.25, 0.5, 1.0]))
            stake, odds = _unit_bet(sim, bt, unit, 3.5)
            out.append(Spec(t, max(stake, 0.1), bt, odds, 1))
        else:  # a qualifying single at about the minimum odds
            out.append(Spec(t, float(rng.choice([5, 10, 20, 25])), BetType.single, [sim.price(2.0, 0.3)], 1))
    return out


GENERATORS = {
    "recreational_online": _recreational,
    "retail_regular": _retail_regular,
    "anonymous_retail": _anonymous_retail,
    "high_roller": _high_roller,
    "money_laundering": _money_laundering,
    "structuring": _structuring,
    "problem_gambling": _problem_gambling,
    "bonus_abuse": _bonus_abuse,
}


def _person(sim: Sim, i: int, arch: str, n_shops: int) -> Person:
    rng = sim.rng

    def shops(k: int) -> list[str]:
        return [f"shop-{int(s):04d}" for s in rng.choice(n_shops, size=k, replace=False)]

    cid = f"cust-{i:06d}"
    if arch == "recreational_online":
        ch = [Channel.online] if rng.random() < 0.85 else [Channel.online, Channel.sms]
        return Person(arch, cid, ch, [], [sim.new_device() for _ in range(int(rng.integers(1, 3)))])
    if arch == "retail_regular":
        return Person(arch, cid, [Channel.retail], shops(int(rng.integers(1, 3))), [], no_device_p=1.0)
    if arch == "anonymous_retail":
        return Person(arch, None, [Channel.retail], shops(1), [], linked=rng.random() < 0.5, no_device_p=1.0)
    if arch == "high_roller":
        if rng.random() < 0.6:
            return Person(arch, cid, [Channel.online], [], [sim.new_device()], no_device_p=0.02)
        return Person(arch, cid, [Channel.retail], shops(int(rng.integers(1, 3))), [], no_device_p=1.0)
    if arch == "money_laundering":
        anon = rng.random() < 0.6
        if anon or rng.random() < 0.6:
            return Person(
                arch,
                None if anon else cid,
                [Channel.retail],
                shops(int(rng.integers(2, 6))),
                [],
                linked=rng.random() < 0.5,
                no_device_p=1.0,
            )
        return Person(arch, cid, [Channel.online], [], [sim.new_device()], no_device_p=0.2)
    if arch == "structuring":
        anon = rng.random() < 0.7
        return Person(
            arch,
            None if anon else cid,
            [Channel.retail],
            shops(int(rng.integers(3, 7))),
            [],
            linked=rng.random() < 0.5,
            no_device_p=1.0,
        )
    if arch == "problem_gambling":
        ch = [Channel.online] if rng.random() < 0.85 else [Channel.sms]
        return Person(arch, cid, ch, [], [sim.new_device()], no_device_p=0.03)
    # bonus_abuse
    return Person(arch, cid, [Channel.online], [], [sim.new_device()], fresh_device_p=0.5, no_device_p=0.3)


class _Ledger:
    """A subject's prior bets, answering History queries the way the runtime does."""

    def __init__(self) -> None:
        self.t: list[float] = []
        self.stake: list[int] = []
        self.shop: list[str | None] = []
        self.day: list[int] = []

    def history(self, t: float) -> History:
        i = len(self.t)
        if i == 0:
            return History()
        i24 = bisect.bisect_right(self.t, t - DAY_S)
        i30 = bisect.bisect_right(self.t, t - 30 * DAY_S)
        s30 = self.stake[i30:i]
        return History(
            bets_24h=i - i24,
            stake_24h_minor=sum(self.stake[i24:i]),
            bets_30d=i - i30,
            stake_30d_minor=sum(s30),
            max_stake_30d_minor=max(s30, default=0),
            days_active_30d=len(set(self.day[i30:i])),
            seconds_since_last_bet=t - self.t[-1],
            distinct_shops_24h=len({s for s in self.shop[i24:i] if s}),
        )

    def add(self, t: float, stake: int, shop: str | None) -> None:
        self.t.append(t)
        self.stake.append(stake)
        self.shop.append(shop)
        self.day.append(int(t // DAY_S))


def _to_bet(sim: Sim, p: Person, s: Spec, n: int) -> BetIn:
    rng = sim.rng
    channel = p.channels[int(rng.integers(0, len(p.channels)))]
    shop = p.shops[int(rng.integers(0, len(p.shops)))] if channel == Channel.retail else None
    device: str | None
    if rng.random() < p.no_device_p:
        device = None
    elif rng.random() < p.fresh_device_p or not p.devices:
        device = sim.new_device()
    else:
        device = p.devices[int(rng.integers(0, len(p.devices)))]
    racing = rng.random() < 0.7
    sels = [
        {
            "event": f"{'14:30 Cheltenham' if racing else 'Home v Away'} #{k}",
            "market": "win" if racing else "match odds",
            "selection": f"runner {k}",
            "price": o,
        }
        for k, o in enumerate(s.odds)
    ]
    return BetIn(
        bet_id=f"sim-{n:07d}",
        customer_id=p.customer_id,
        shop_id=shop,
        channel=channel,
        stake=Decimal(f"{max(s.stake, 0.1):.2f}"),
        bet_type=s.bet_type,
        each_way=s.each_way,
        selections=sels,  # type: ignore[arg-type]
        sport="horse_racing" if racing else "football",
        placed_at=START + timedelta(seconds=round(s.t)),
        device_id=device,
    )


def simulate(seed: int = 7, n_customers: int = 4000, n_shops: int = 60) -> list[SimBet]:
    """Simulated bets of ``n_customers`` people, each with its history and label."""
    sim = Sim(seed)
    names = [a for a, _, _ in ARCHETYPES]
    weights = _probs(np.array([w for _, w, _ in ARCHETYPES]))
    out: list[SimBet] = []
    n = 0
    for i in range(n_customers):
        arch = names[int(sim.rng.choice(len(names), p=weights))]
        person = _person(sim, i, arch, n_shops)
        specs = sorted(GENERATORS[arch](sim, person), key=lambda s: s.t)
        specs = [s for s in specs if 0 <= s.t < DAYS * DAY_S][:MAX_BETS_PER_CUSTOMER]
        ledger = _Ledger()
        last = -1.0
        for s in specs:
            s.t = max(s.t, last + 1.0)  # strictly increasing, whole seconds apart
            s.t = float(round(s.t))
            last = s.t
            bet = _to_bet(sim, person, s, n)
            n += 1
            linked = person.customer_id is not None or person.linked
            hist = ledger.history(s.t) if linked else History()
            label = s.label
            if sim.rng.random() < LABEL_NOISE:
                label = 1 - label
            out.append(SimBet(bet, hist, label, arch, f"subj-{i:06d}"))
            ledger.add(s.t, bet.stake_minor, bet.shop_id)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--customers", type=int, default=500)
    args = ap.parse_args()
    bets = simulate(args.seed, args.customers)
    by_arch = Counter(b.archetype for b in bets)
    pos = Counter(b.archetype for b in bets if b.label)
    print(f"{len(bets)} bets, base rate {sum(b.label for b in bets) / len(bets):.3f}")
    for a, c in sorted(by_arch.items()):
        print(f"  {a:22s} {c:7d} bets  {pos[a] / c:.2f} risky")


if __name__ == "__main__":
    main()
