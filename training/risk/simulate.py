"""Simulator A: seeded betting activity for TRAINING the bet risk model.

Everything here is synthetic. Customers are drawn from archetypes — legitimate: recreational
online, retail regulars, anonymous retail, legitimate high-rollers, Saturday accumulator punters,
night-shift workers; risky: money laundering (short prices, both sides of a market, several
shops), structuring under round sums across shops, problem gambling (escalation, chasing
bursts), bonus abuse on new accounts (odd amounts, fresh devices, many small multiples), sudden
change in a quiet account, velocity bursts, account takeover (new device far from home). Every
bet is a real ``BetIn``; its ``SubjectHistory`` holds that subject's earlier bets only (30 days,
at most 500), as the runtime reads it. Labels come from the generating pattern (a risky
customer's cover bets are 0), with 2 % label noise. Each bet also carries a ``pattern`` name so
evaluation can report recall per pattern and false positives per kind of hard negative.

Simulator B (``simulate_b``) is written separately and only ever used for testing.

Usage: ``python -m training.risk.simulate --seed 7 --customers 300`` prints a summary.
"""

from __future__ import annotations

import argparse
import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from chalicelib.domain.bets import BET_SHAPES, BetIn, BetType, Channel
from chalicelib.domain.risk_history import MAX_PAST_BETS, PastBet, SubjectHistory
from chalicelib.risk.features import past_bet

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
DAYS = 42  # six weeks: the trainer trains on the first four and tests on the last two
DAY_S = 86400.0
MAX_BETS_PER_CUSTOMER = 500
LABEL_NOISE = 0.02
FRACTIONS = ["1/5", "2/7", "1/3", "4/9", "1/2", "4/6", "4/5", "evs", "6/4", "2/1", "5/2", "3/1"]

# (archetype, weight, risky)
ARCHETYPES: list[tuple[str, float, bool]] = [
    ("recreational_online", 0.30, False),
    ("retail_regular", 0.16, False),
    ("anonymous_retail", 0.10, False),
    ("high_roller", 0.07, False),
    ("saturday_acca", 0.07, False),
    ("night_shift", 0.05, False),
    ("new_customer", 0.05, False),
    ("money_laundering", 0.035, True),
    ("structuring", 0.03, True),
    ("problem_gambling", 0.04, True),
    ("bonus_abuse", 0.035, True),
    ("sudden_change", 0.05, True),
    ("velocity_burst", 0.03, True),
    ("account_takeover", 0.035, True),
]
RISKY = {name for name, _, risky in ARCHETYPES if risky}
HARD_NEGATIVES = ("high_roller", "saturday_acca", "night_shift", "new_customer")

_H = np.arange(24)
HOURS_EVENING = np.where((_H >= 11) & (_H <= 22), 1.0, 0.05) + np.where((_H >= 17) & (_H <= 21), 1.5, 0.0)
HOURS_SHOP = np.where((_H >= 8) & (_H <= 21), 1.0, 0.0) + np.where((_H >= 12) & (_H <= 16), 1.0, 0.0)
HOURS_NIGHT = np.where(_H <= 5, 2.0, 0.0) + np.where(_H >= 20, 1.5, 0.2)
CITIES = [(51.5, -0.12), (53.48, -2.24), (52.48, -1.9), (55.95, -3.19), (53.8, -1.55), (51.45, -2.59)]


@dataclass
class Spec:
    """What to bet, before it becomes a BetIn."""

    t: float  # seconds after START
    stake: float  # major units
    bet_type: BetType
    odds: list[str]
    label: int
    pattern: str = "ordinary"
    each_way: bool = False
    market: tuple[str, str, str] | None = None  # (event, market, selection) for a single
    device: str | None = None  # forced device
    location: tuple[float, float] | None = None  # forced location
    channel: Channel | None = None


@dataclass
class SimBet:
    bet: BetIn
    history: SubjectHistory
    label: int
    archetype: str
    subject: str  # grouping key: one simulated person
    pattern: str
    day: int


def _probs(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


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


class Sim:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self._device = 0
        self._event = 0

    def new_device(self) -> str:
        self._device += 1
        return f"dev-{self._device:06d}"

    def times(self, rate: float, hours: np.ndarray, start_day: float = 0, end_day: float = DAYS) -> list[float]:
        rng = self.rng
        out: list[float] = []
        p = _probs(hours)
        for d in range(int(start_day), int(min(end_day, DAYS))):
            weekend = (START + timedelta(days=d)).weekday() >= 5
            for _ in range(rng.poisson(rate * (1.6 if weekend else 1.0) / 1.6)):
                # people bet in sessions: a few bets minutes apart is ordinary, not velocity
                t = d * DAY_S + rng.choice(24, p=p) * 3600 + rng.uniform(0, 3600)
                for _ in range(min(1 + int(rng.geometric(0.55)) - 1, 5)):
                    out.append(t)
                    t += rng.uniform(20, 900)
        return sorted(out)

    def price(self, median: float, sigma: float = 0.7, sp: float = 0.08) -> str:
        rng = self.rng
        u = rng.random()
        if u < sp:
            return "SP"
        if u < sp + 0.15:
            cands = [f for f in FRACTIONS if abs(_frac_dec(f) - median) < max(1.0, median)]
            if cands:
                return str(rng.choice(cands))
        odds = float(np.clip(1.0 + (median - 1.0) * rng.lognormal(0, sigma), 1.02, 500.0))
        return f"{odds:.2f}"

    def short_price(self, lo: float = 1.1, hi: float = 1.95) -> str:
        return f"{self.rng.uniform(lo, hi):.2f}"

    def stake(self, median: float, sigma: float, lo: float = 0.1, hi: float = 50000.0) -> float:
        return _round_stake(float(np.clip(median * self.rng.lognormal(0, sigma), lo, hi)), self.rng)

    def multi_odds(self, bet_type: BetType, median: float) -> list[str]:
        (lo, hi), _ = BET_SHAPES[bet_type]
        n = int(self.rng.integers(lo, min(hi, 8) + 1))
        return [self.price(median) for _ in range(n)]

    def two_way_market(self) -> tuple[str, str]:
        self._event += 1
        return f"Match {self._event} A v B", "match odds"


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


def _ordinary(
    sim: Sim,
    t: float,
    table: list[tuple[BetType, float]],
    median_stake: float,
    label: int = 0,
    pattern: str = "ordinary",
) -> Spec:
    """An everyday bet: the cover bets of risky customers look like this too."""
    bt = _pick(sim, table)
    if sim.rng.random() < 0.05:  # a small-unit full-cover bet (10p-50p a line)
        bt = [BetType.lucky15, BetType.yankee, BetType.heinz, BetType.lucky31, BetType.patent][
            int(sim.rng.integers(0, 5))
        ]
        stake, odds = _unit_bet(sim, bt, float(sim.rng.choice([0.1, 0.2, 0.25, 0.5])), 3.5)
        return Spec(t, stake, bt, odds, label, pattern)
    if bt in (BetType.single, BetType.each_way):
        return Spec(t, sim.stake(median_stake, 0.8), bt, [sim.price(4.0, 0.8)], label, pattern)
    unit = sim.stake(max(0.1, median_stake / BET_SHAPES[bt][1] ** 0.7), 0.6)
    stake, odds = _unit_bet(sim, bt, unit, 2.5)
    return Spec(t, stake, bt, odds, label, pattern)


@dataclass
class Person:
    archetype: str
    customer_id: str | None
    channels: list[Channel]
    shops: list[str]
    devices: list[str]
    linked: bool = True  # anonymous: is there a writer history to score against?
    fresh_device_p: float = 0.0
    no_device_p: float = 0.05
    home: tuple[float, float] | None = None
    first_seen_day: float | None = None  # account opened this day (None: before the period)
    extra: dict[str, float] = field(default_factory=dict)


# -- legitimate ----------------------------------------------------------------------------------
def _recreational(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.15, 1.3)
    hours = HOURS_EVENING + (HOURS_NIGHT * 0.15 if sim.rng.random() < 0.15 else 0)
    median = sim.rng.lognormal(np.log(5), 0.6)
    out = [_ordinary(sim, t, RECREATIONAL_TYPES, median) for t in sim.times(rate, hours)]
    for s in out:  # the odd bigger fancy, within a few times the usual
        if sim.rng.random() < 0.03:
            s.stake = _round_stake(s.stake * sim.rng.uniform(2, 4), sim.rng)
    return out


def _retail_regular(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.2, 1.0)
    median = sim.rng.lognormal(np.log(8), 0.6)
    out = []
    for t in sim.times(rate, HOURS_SHOP):
        s = _ordinary(sim, t, RETAIL_TYPES, median)
        if sim.rng.random() < 0.03:
            s.stake = float(sim.rng.choice([50, 100, 200, 250, 450]))
            s.bet_type, s.odds = BetType.single, [sim.price(3.0)]
        out.append(s)
    return out


def _anonymous_retail(sim: Sim, p: Person) -> list[Spec]:
    rate = sim.rng.uniform(0.1, 0.7)
    median = sim.rng.lognormal(np.log(10), 0.7)
    out = []
    for t in sim.times(rate, HOURS_SHOP):
        s = _ordinary(sim, t, RETAIL_TYPES, median)
        if sim.rng.random() < 0.06:
            s.stake = float(sim.rng.choice([100, 150, 200, 300, 400]))
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
        stake = sim.stake(median, 0.7, 10, 30000)
        if r < 0.30:  # big odds-on singles are normal for some legitimate high-rollers
            out.append(Spec(t, stake, BetType.single, [sim.short_price(1.15, 1.95)], 0, "high_roller"))
        elif r < 0.80:
            out.append(Spec(t, stake, BetType.single, [sim.price(3.5)], 0, "high_roller"))
        elif r < 0.90:
            out.append(Spec(t, stake, BetType.each_way, [sim.price(6.0)], 0, "high_roller"))
        else:
            out.append(_ordinary(sim, t, RECREATIONAL_TYPES, median / 5, pattern="high_roller"))
    return out


def _saturday_acca(sim: Sim, p: Person) -> list[Spec]:
    """A small weekday habit and a Saturday rush of accumulators before the 3 pm kick-offs."""
    rng = sim.rng
    median = rng.lognormal(np.log(4), 0.5)
    out = [_ordinary(sim, t, RECREATIONAL_TYPES, median) for t in sim.times(rng.uniform(0.05, 0.3), HOURS_EVENING)]
    for d in range(DAYS):
        if (START + timedelta(days=d)).weekday() != 5 or rng.random() < 0.15:
            continue
        t = d * DAY_S + rng.uniform(11, 14.5) * 3600
        for _ in range(int(rng.integers(3, 14))):
            bt = [BetType.accumulator, BetType.accumulator, BetType.treble, BetType.double, BetType.yankee][
                int(rng.integers(0, 5))
            ]
            unit = sim.stake(median / BET_SHAPES[bt][1] ** 0.6, 0.5, 0.5, 50)
            stake, odds = _unit_bet(sim, bt, unit, 1.9)
            out.append(Spec(t, stake, bt, odds, 0, "saturday_acca"))
            t += rng.uniform(20, 600)
    return out


def _night_shift(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    median = rng.lognormal(np.log(12), 0.7)
    return [
        _ordinary(sim, t, RECREATIONAL_TYPES, median, pattern="night")
        for t in sim.times(rng.uniform(0.3, 1.5), HOURS_NIGHT * 2 + 0.1)
    ]


# -- risky ---------------------------------------------------------------------------------------
def _money_laundering(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    rate = rng.uniform(0.3, 1.8)
    start = rng.uniform(0, 30)
    median = rng.lognormal(np.log(900), 0.6)
    out = [_ordinary(sim, t, RETAIL_TYPES, 15) for t in sim.times(0.3, HOURS_SHOP, 0, start)]
    for t in sim.times(rate, HOURS_SHOP, start):
        r = rng.random()
        if r < 0.45:
            stake = sim.stake(median, 0.6, 100, 20000)
            out.append(Spec(t, stake, BetType.single, [sim.short_price(1.05, 1.8)], 1, "laundering_short_odds"))
        elif r < 0.60:
            stake = sim.stake(median, 0.6, 100, 20000)
            out.append(Spec(t, stake, BetType.each_way, [sim.short_price(1.6, 3.5)], 1, "laundering_short_odds"))
        elif r < 0.85:  # both sides of a two-way market, minutes apart
            ev, mk = sim.two_way_market()
            stake = sim.stake(median, 0.5, 100, 20000)
            for k, side in enumerate(("home", "away")):
                out.append(
                    Spec(
                        t + k * rng.uniform(60, 1800),
                        _round_stake(stake * rng.uniform(0.8, 1.2), rng),
                        BetType.single,
                        [sim.short_price(1.7, 2.2)],
                        1,
                        "both_sides",
                        market=(ev, mk, side),
                    )
                )
        else:
            out.append(_ordinary(sim, t, RETAIL_TYPES, 20))
    return out


def _structuring(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    out = [_ordinary(sim, t, RETAIL_TYPES, 10) for t in sim.times(0.2, HOURS_SHOP)]
    limit = float(rng.choice([500, 1000, 2000], p=[0.6, 0.3, 0.1]))
    for day in range(int(rng.integers(0, 28)), DAYS):
        if rng.random() > 0.3:
            continue
        t = day * DAY_S + rng.uniform(9, 13) * 3600
        for _ in range(int(rng.integers(2, 8))):
            stake = min(float(round(limit * rng.uniform(0.86, 0.999) / 5) * 5), limit - 5)
            odds = sim.short_price(1.1, 1.9) if rng.random() < 0.7 else sim.price(2.5)
            out.append(Spec(t, stake, BetType.single, [odds], 1, "structuring"))
            t += rng.uniform(600, 5400)
    return out


def _problem_gambling(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    onset = rng.uniform(3, 35)
    median0 = rng.lognormal(np.log(8), 0.6)
    out = [
        _ordinary(sim, t, RECREATIONAL_TYPES, median0)
        for t in sim.times(rng.uniform(0.2, 1.0), HOURS_EVENING, 0, onset)
    ]
    growth = rng.uniform(0.03, 0.08)
    day = onset
    while day < DAYS:
        k = day - onset
        rate = min(0.3 * np.exp(growth * k), 6.0)
        median = median0 * np.exp(growth * 1.3 * k)
        night = rng.random() < 0.45
        for _ in range(min(rng.poisson(rate), 12)):
            h = rng.choice(24, p=_probs(HOURS_NIGHT if night else HOURS_EVENING))
            t = int(day) * DAY_S + h * 3600 + rng.uniform(0, 3600)
            s = _ordinary(sim, t, RECREATIONAL_TYPES[:5], median, pattern="escalation")
            s.label = int(s.stake >= 4 * median0)  # risky once the stake has visibly moved
            out.append(s)
            if rng.random() < 0.2:  # chasing: quick bets with rising stakes
                st = s.stake
                for _ in range(int(rng.integers(2, 6))):
                    t += rng.uniform(30, 600)
                    st = min(_round_stake(st * rng.uniform(1.3, 2.2), rng), 20000)
                    out.append(Spec(t, st, BetType.single, [sim.price(3.0)], 1, "chasing"))
        day += 1
    return out


def _bonus_abuse(sim: Sim, p: Person) -> list[Spec]:
    """A new account working a promotion: odd amounts (a bonus matched to the penny), quick
    qualifying bets, fresh devices. The bet shapes are ordinary; the account is not."""
    rng = sim.rng
    start = p.first_seen_day or 0.0
    span = rng.uniform(2, 8)
    out = []
    for t in sim.times(rng.uniform(2, 6), HOURS_EVENING + HOURS_NIGHT * 0.3, start, min(DAYS, start + span)):
        s = _ordinary(sim, t, RECREATIONAL_TYPES, 15, label=1, pattern="bonus_abuse")
        if rng.random() < 0.7:
            s.stake = round(float(rng.uniform(5, 60)), 2)
            if round(s.stake * 100) % 100 == 0:
                s.stake += 0.37
            s.bet_type, s.odds, s.pattern = BetType.single, [sim.price(2.0, 0.3)], "odd_amount_new_account"
        out.append(s)
    return out


def _new_customer(sim: Sim, p: Person) -> list[Spec]:
    """A legitimate new account: round stakes, ordinary bets, from its opening day."""
    rng = sim.rng
    median = rng.lognormal(np.log(8), 0.7)
    start = p.first_seen_day or 0.0
    return [
        _ordinary(sim, t, RECREATIONAL_TYPES, median, pattern="new_account")
        for t in sim.times(rng.uniform(0.3, 2.0), HOURS_EVENING, start)
    ]


def _sudden_change(sim: Sim, p: Person) -> list[Spec]:
    """A quiet small-stakes account that suddenly stakes far above its usual."""
    rng = sim.rng
    median = rng.lognormal(np.log(6), 0.6)
    table = RECREATIONAL_TYPES if p.channels[0] != Channel.retail else RETAIL_TYPES
    hours = HOURS_SHOP if p.channels[0] == Channel.retail else HOURS_EVENING
    out = [_ordinary(sim, t, table, median) for t in sim.times(rng.uniform(0.08, 0.4), hours)]
    for _ in range(int(rng.integers(1, 3))):
        d = rng.uniform(8, DAYS)
        t0 = int(d) * DAY_S + rng.choice(24, p=_probs(hours)) * 3600.0
        for j in range(int(rng.integers(1, 4))):
            stake = _round_stake(median * rng.uniform(15, 150), rng)
            odds = [sim.short_price(1.2, 2.5) if rng.random() < 0.5 else sim.price(3.0)]
            out.append(Spec(t0 + j * rng.uniform(300, 7200), stake, BetType.single, odds, 1, "sudden_change"))
    return out


def _velocity_burst(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    median = rng.lognormal(np.log(10), 0.6)
    out = [_ordinary(sim, t, RECREATIONAL_TYPES, median) for t in sim.times(rng.uniform(0.1, 0.6), HOURS_EVENING)]
    for _ in range(int(rng.integers(1, 4))):
        t = rng.uniform(5, DAYS - 0.1) * DAY_S
        st = median * rng.uniform(1.5, 6)
        for _ in range(int(rng.integers(6, 25))):
            out.append(Spec(t, sim.stake(st, 0.4), BetType.single, [sim.price(2.5, 0.5)], 1, "velocity_burst"))
            t += rng.uniform(5, 90)
    return out


def _account_takeover(sim: Sim, p: Person) -> list[Spec]:
    rng = sim.rng
    median = rng.lognormal(np.log(8), 0.6)
    out = [_ordinary(sim, t, RECREATIONAL_TYPES, median) for t in sim.times(rng.uniform(0.2, 1.0), HOURS_EVENING)]
    t = rng.uniform(10, DAYS - 0.5) * DAY_S
    dev = sim.new_device()
    far = CITIES[int(rng.integers(0, len(CITIES)))]
    loc = (far[0] + rng.normal(0, 3), far[1] + rng.normal(0, 8))
    for _ in range(int(rng.integers(2, 8))):
        out.append(
            Spec(
                t,
                _round_stake(median * rng.uniform(5, 40), rng),
                BetType.single,
                [sim.short_price(1.3, 2.5)],
                1,
                "account_takeover",
                device=dev,
                location=loc,
            )
        )
        t += rng.uniform(60, 1200)
    return out


GENERATORS = {
    "recreational_online": _recreational,
    "retail_regular": _retail_regular,
    "anonymous_retail": _anonymous_retail,
    "high_roller": _high_roller,
    "saturday_acca": _saturday_acca,
    "night_shift": _night_shift,
    "new_customer": _new_customer,
    "money_laundering": _money_laundering,
    "structuring": _structuring,
    "problem_gambling": _problem_gambling,
    "bonus_abuse": _bonus_abuse,
    "sudden_change": _sudden_change,
    "velocity_burst": _velocity_burst,
    "account_takeover": _account_takeover,
}


def _person(sim: Sim, i: int, arch: str, n_shops: int) -> Person:
    rng = sim.rng

    def shops(k: int) -> list[str]:
        return [f"shop-{int(s):04d}" for s in rng.choice(n_shops, size=k, replace=False)]

    def home() -> tuple[float, float] | None:
        if rng.random() < 0.5:
            return None
        c = CITIES[int(rng.integers(0, len(CITIES)))]
        return (c[0] + rng.normal(0, 0.05), c[1] + rng.normal(0, 0.05))

    cid = f"cust-{i:06d}"
    online = [sim.new_device() for _ in range(int(rng.integers(1, 3)))]
    if arch in ("recreational_online", "saturday_acca", "night_shift", "velocity_burst", "account_takeover"):
        ch = [Channel.online] if rng.random() < 0.85 else [Channel.online, Channel.sms]
        if arch == "saturday_acca" and rng.random() < 0.4:
            return Person(arch, cid, [Channel.retail], shops(int(rng.integers(1, 3))), [], no_device_p=1.0)
        return Person(arch, cid, ch, [], online, home=home(), fresh_device_p=0.01)
    if arch == "retail_regular":
        return Person(arch, cid, [Channel.retail], shops(int(rng.integers(1, 3))), [], no_device_p=1.0)
    if arch == "anonymous_retail":
        return Person(arch, None, [Channel.retail], shops(1), [], linked=rng.random() < 0.5, no_device_p=1.0)
    if arch == "high_roller":
        if rng.random() < 0.6:
            return Person(arch, cid, [Channel.online], [], online, no_device_p=0.02, home=home())
        return Person(arch, cid, [Channel.retail], shops(int(rng.integers(1, 3))), [], no_device_p=1.0)
    if arch == "money_laundering":
        anon = rng.random() < 0.5
        if anon or rng.random() < 0.6:
            return Person(
                arch, None if anon else cid, [Channel.retail], shops(int(rng.integers(2, 6))), [],
                linked=rng.random() < 0.6, no_device_p=1.0,
            )  # fmt: skip
        return Person(arch, cid, [Channel.online], [], online, no_device_p=0.2)
    if arch == "structuring":
        anon = rng.random() < 0.6
        return Person(
            arch, None if anon else cid, [Channel.retail], shops(int(rng.integers(3, 7))), [],
            linked=rng.random() < 0.6, no_device_p=1.0,
        )  # fmt: skip
    if arch == "problem_gambling":
        ch = [Channel.online] if rng.random() < 0.85 else [Channel.sms]
        return Person(arch, cid, ch, [], online[:1], no_device_p=0.03, home=home())
    if arch == "sudden_change":
        if rng.random() < 0.35:
            return Person(arch, cid, [Channel.retail], shops(int(rng.integers(1, 3))), [], no_device_p=1.0)
        return Person(arch, cid, [Channel.online], [], online, home=home())
    if arch == "new_customer":
        return Person(
            arch, cid, [Channel.online], [], online[:1], fresh_device_p=0.05, home=home(),
            first_seen_day=float(rng.uniform(0, DAYS - 3)),
        )  # fmt: skip
    # bonus_abuse: a new account
    return Person(
        arch, cid, [Channel.online], [], [sim.new_device()], fresh_device_p=0.5, no_device_p=0.2,
        first_seen_day=float(rng.uniform(0, DAYS - 3)),
    )  # fmt: skip


def _to_bet(sim: Sim, p: Person, s: Spec, n: int) -> BetIn:
    rng = sim.rng
    channel = s.channel or p.channels[int(rng.integers(0, len(p.channels)))]
    shop = p.shops[int(rng.integers(0, len(p.shops)))] if channel == Channel.retail else None
    device: str | None
    if channel == Channel.retail:
        device = None
    elif s.device is not None:
        device = s.device
    elif rng.random() < p.no_device_p:
        device = None
    elif rng.random() < p.fresh_device_p or not p.devices:
        device = sim.new_device()
    else:
        device = p.devices[int(rng.integers(0, len(p.devices)))]
    loc = s.location or (
        (p.home[0] + rng.normal(0, 0.02), p.home[1] + rng.normal(0, 0.02))
        if p.home and channel == Channel.online
        else None
    )
    if s.market is not None:
        ev, mk, side = s.market
        sels = [{"event": ev, "market": mk, "selection": side, "price": s.odds[0]}]
        sport = "football"
    else:
        racing = rng.random() < 0.6
        ev_id = int(rng.integers(0, 5000))
        sels = [
            {
                "event": f"{'race' if racing else 'match'} {ev_id + k}",
                "market": "win" if racing else "match odds",
                "selection": f"runner {int(rng.integers(1, 12))}",
                "price": o,
            }
            for k, o in enumerate(s.odds)
        ]
        sport = "horse_racing" if racing else "football"
    return BetIn.model_validate(
        {
            "bet_id": f"a-{n:07d}",
            "customer_id": p.customer_id,
            "shop_id": shop,
            "channel": channel,
            "stake": Decimal(f"{max(s.stake, 0.1):.2f}"),
            "bet_type": s.bet_type,
            "each_way": s.each_way,
            "selections": sels,
            "sport": sport,
            "placed_at": START + timedelta(seconds=round(s.t)),
            "device_id": device,
            "location": None if loc is None else {"lat": float(np.clip(loc[0], -90, 90)), "lon": float(loc[1])},
        }
    )


class Ledger:
    """A subject's earlier bets, answered as the runtime's one Query would (30 days, ≤ 500)."""

    def __init__(self, first_seen_at: datetime | None = None) -> None:
        self.t: list[float] = []
        self.bets: list[PastBet] = []
        self.first_seen_at = first_seen_at

    def history(self, t: float) -> SubjectHistory:
        i = len(self.t)
        i30 = max(bisect.bisect_left(self.t, t - 30 * DAY_S), i - MAX_PAST_BETS)
        # model_construct: the PastBets are already validated; this is the hot loop of training
        return SubjectHistory.model_construct(
            bets=self.bets[i30:i], whitelisted_until=None, category=None, first_seen_at=self.first_seen_at
        )

    def add(self, t: float, bet: PastBet) -> None:
        self.t.append(t)
        self.bets.append(bet)


def simulate(seed: int = 7, n_customers: int = 3000, n_shops: int = 60) -> list[SimBet]:
    """Simulated bets of ``n_customers`` people, each with its history, label and pattern."""
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
        first = START + timedelta(days=person.first_seen_day) if person.first_seen_day is not None else None
        ledger = Ledger(first)
        linked = person.customer_id is not None or person.linked
        last = -1.0
        for s in specs:
            s.t = float(round(max(s.t, last + 1.0)))  # strictly increasing, whole seconds apart
            last = s.t
            bet = _to_bet(sim, person, s, n)
            n += 1
            hist = ledger.history(s.t) if linked else SubjectHistory()
            label = s.label
            if sim.rng.random() < LABEL_NOISE:
                label = 1 - label
            out.append(SimBet(bet, hist, label, arch, f"subj-a{i:06d}", s.pattern, int(s.t // DAY_S)))
            ledger.add(s.t, past_bet(bet))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--customers", type=int, default=300)
    args = ap.parse_args()
    bets = simulate(args.seed, args.customers)
    by = Counter(b.pattern for b in bets)
    pos = Counter(b.pattern for b in bets if b.label)
    print(f"{len(bets)} bets, base rate {sum(b.label for b in bets) / len(bets):.3f}")
    for a, c in sorted(by.items()):
        print(f"  {a:24s} {c:7d} bets  {pos[a] / c:.2f} risky")


if __name__ == "__main__":
    main()
