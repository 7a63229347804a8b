"""Feature vector for the bet risk model: the bet itself and the bet relative to its subject.

Imported by the offline trainer and the runtime scorer alike, so a bet is turned into numbers in
exactly one place (``vectorize``). Pure stdlib + numpy: no sklearn here.

Customer-relative features compare the bet with the subject's own last 30 days (``SubjectHistory``,
raw past bets, oldest first): stake vs its own mean/std and vs its segment, time since the last
bet vs its usual gaps, new device / shop / channel, location jumps, both sides of a market within
the hour, rising-stake chains, odd amounts on new accounts. The absolute hour of day is *not* a
feature (night-shift punters are ordinary); only "an hour this subject rarely bets" is.

One pass over the history builds a :class:`Summary` that both the features and the signal texts
read, so the history is walked once per bet (≈ 0.3 ms for 500 past bets).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from chalicelib.domain.bets import BetIn, BetType, Channel
from chalicelib.domain.risk_history import PastBet, PastLeg, SubjectHistory

# Decimal odds assumed for a selection priced at SP (starting price): a mid-field runner.
SP_DEFAULT_ODDS = 4.0
MAX_COMBINED_ODDS = 1e7  # combined odds are capped before taking logs
# Round sums (major units) that structuring keeps just under.
ROUND_THRESHOLDS_MAJOR = (500, 1000, 2000, 2500, 5000, 10000)
JUST_BELOW_FRACTION = 0.85  # a stake in [0.85 T, T) counts as "just below" T
SHORT_ODDS = 2.0  # decimal odds below evens+: "short"
MAX_LOG_RATIO = 6.0
MIN_LOG_STD = 0.35  # floor of a subject's log-stake std: three identical £5 bets are not a std of 0
MIN_BETS_RELATIVE = 3  # own mean/std features need this many past bets
NEW_ACCOUNT_DAYS = 7.0
CHAIN_GAP_S = 1800.0  # bets closer than this belong to one session (rising-stake chains)
EARTH_KM = 6371.0
MAX_SPEED_KMH = 5000.0

BET_GROUPS: dict[BetType, str] = {
    BetType.single: "single",
    BetType.each_way: "single",
    BetType.double: "multiple",
    BetType.treble: "multiple",
    BetType.accumulator: "multiple",
    BetType.forecast: "forecast",
    BetType.reverse_forecast: "forecast",
    BetType.tricast: "forecast",
}
GROUP_NAMES = ("single", "multiple", "forecast", "full_cover")

FEATURE_NAMES: list[str] = [
    # the bet
    "log_stake",
    "log_unit_stake",
    "log_lines",
    "n_selections",
    "log_combined_odds",
    "log_min_odds",
    "is_sp",
    "group_single",
    "group_multiple",
    "group_forecast",
    "group_full_cover",
    "each_way",
    "channel_online",
    "channel_retail",
    "channel_sms",
    "anonymous",
    "no_device",
    "just_below_threshold",
    "stake_has_pennies",
    "stake_not_round5",
    # the subject
    "no_history",
    "log_prior_bets",
    "log_account_age_days",
    "days_active_30d",
    "odd_stake_new_account",
    "stake_z_own",
    "log_stake_vs_mean_own",
    "log_stake_vs_max_own",
    "log_stake_vs_prev",
    "stake_z_segment",
    "within_history",
    "log_secs_since_last",
    "gap_vs_usual",
    "bets_10m",
    "bets_1h",
    "log_bets_24h",
    "rate_vs_usual",
    "log_stake_24h_vs_mean",
    "rising_chain",
    "new_device",
    "new_shop",
    "new_channel",
    "devices_24h",
    "shops_24h",
    "just_below_24h",
    "log_km_from_last",
    "log_speed_kmh",
    "short_odds_share_own",
    "both_sides_1h",
    "hour_unusual",
    "segment_known",
]
N_FEATURES = len(FEATURE_NAMES)
INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def bet_group(bet_type: BetType) -> str:
    return BET_GROUPS.get(bet_type, "full_cover")


def price_summary(bet: BetIn) -> tuple[float, float, bool]:
    """(combined decimal odds, minimum decimal odds, any SP) with SP at ``SP_DEFAULT_ODDS``."""
    combined, lo, sp = 1.0, math.inf, False
    for sel in bet.selections:
        d = sel.decimal_odds
        o = SP_DEFAULT_ODDS if d is None else float(d)
        sp = sp or d is None
        combined = min(combined * o, MAX_COMBINED_ODDS)
        lo = min(lo, o)
    return combined, lo, sp


def just_below_threshold(stake_minor: int) -> float:
    """The round sum (major units) the stake sits just under, or 0."""
    major = stake_minor / 100.0
    for t in ROUND_THRESHOLDS_MAJOR:
        if JUST_BELOW_FRACTION * t <= major < t:
            return float(t)
    return 0.0


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _hour(ts: datetime) -> float:
    return ts.hour + ts.minute / 60.0


@dataclass
class Summary:
    """The subject's history as the features and the signal texts see it (one pass)."""

    n: int = 0
    mean_stake: float = 0.0  # minor units
    max_stake: int = 0
    prev_stake: int = 0
    mean_log: float = 0.0  # of major units
    std_log: float = 0.0
    secs_since_last: float | None = None
    median_gap_s: float | None = None
    bets_10m: int = 0
    bets_1h: int = 0
    bets_24h: int = 0
    stake_24h: int = 0
    days_active: int = 0
    account_age_days: float = 0.0  # from first_seen_at when known, else from the oldest past bet
    age_known: bool = False
    rising_chain: int = 0
    chain_first_stake: int = 0
    devices: set[str] = field(default_factory=set)
    shops: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    devices_24h: set[str] = field(default_factory=set)
    shops_24h: set[str] = field(default_factory=set)
    just_below_24h: int = 0
    km_from_last: float = 0.0
    speed_kmh: float = 0.0
    mins_from_last_location: float = 0.0
    short_share: float = 0.0
    other_sides: list[str] = field(default_factory=list)  # selections already backed on this market
    side_market: str = ""
    hour_share: float = 0.0  # share of past bets within ±2 h of this bet's hour of day
    # per-customer profile (segment input)
    share_online: float = 0.0
    share_retail: float = 0.0
    share_multi: float = 0.0
    share_night: float = 0.0
    log_bets_per_day: float = 0.0


def _log_major(minor: float) -> float:
    return math.log(max(minor, 1.0) / 100.0 + 1.0)


def summarise(bet: BetIn | None, history: SubjectHistory, now: datetime | None = None) -> Summary:
    """Summarise the subject's past bets (oldest first) relative to ``bet`` at ``now``.

    Without a bet only the per-customer profile (segment input) is meaningful. Whole-history
    figures come from one list comprehension per field and numpy; the 24 h / 1 h windows walk
    only the tail (found by bisection), so 500 past bets cost well under a millisecond.
    """
    s = Summary()
    bets: list[PastBet] = history.bets
    n = len(bets)
    if now is None:
        now = bet.placed_at if bet is not None else (bets[-1].placed_at if bets else None)
    t_now = now.timestamp() if now is not None else 0.0
    first = history.first_seen_at.timestamp() if history.first_seen_at else None
    s.age_known = first is not None
    if n == 0:
        if first is not None:
            s.account_age_days = max(0.0, (t_now - first) / 86400.0)
        return s
    s.n = n
    times = [b.placed_at.timestamp() for b in bets]
    stakes = np.fromiter((b.stake_minor for b in bets), dtype=np.float64, count=n)
    logs = np.log(stakes / 100.0 + 1.0)
    s.mean_stake = float(stakes.mean())
    s.max_stake = int(stakes.max())
    s.prev_stake = bets[-1].stake_minor
    s.mean_log = float(logs.mean())
    if n >= 2:
        s.std_log = float(logs.std(ddof=1))
    t_arr = np.asarray(times)
    s.secs_since_last = max(0.0, t_now - times[-1])
    if n >= 3:
        s.median_gap_s = float(np.sort(np.diff(t_arr))[(n - 1) // 2])
    s.days_active = len(set((t_arr // 86400).tolist()))
    start = min(times[0], first) if first is not None else times[0]
    s.account_age_days = max(0.0, (t_now - start) / 86400.0)
    s.devices = {b.device_id for b in bets if b.device_id}
    s.shops = {b.shop_id for b in bets if b.shop_id}
    chans = [b.channel for b in bets]
    s.channels = {c.value for c in set(chans)}
    s.share_online = chans.count(Channel.online) / n
    s.share_retail = chans.count(Channel.retail) / n
    singles = [b for b in bets if BET_GROUPS.get(b.bet_type) == "single"]
    s.share_multi = 1.0 - len(singles) / n
    if singles:
        short = sum(1 for b in singles if b.legs and (b.legs[0].odds or SP_DEFAULT_ODDS) < SHORT_ODDS)
        s.short_share = short / len(singles)
    hours = np.fromiter((b.placed_at.hour + b.placed_at.minute / 60.0 for b in bets), dtype=np.float64, count=n)
    s.share_night = float(np.count_nonzero(hours < 6.0)) / n
    if bet is not None:
        dh = np.abs(hours - _hour(bet.placed_at))
        s.hour_share = float(np.count_nonzero(np.minimum(dh, 24.0 - dh) <= 2.0)) / n
    s.log_bets_per_day = math.log(n / max(1, s.days_active))

    # the last 24 h / 1 h / 10 min: only the tail of the list
    i24 = bisect.bisect_left(times, t_now - 86400.0)
    markets = {(sel.event, sel.market): sel.selection for sel in bet.selections} if bet is not None else {}
    other: dict[tuple[str, str], set[str]] = {}
    for k in range(i24, n):
        b = bets[k]
        st = b.stake_minor
        age = t_now - times[k]
        s.bets_24h += 1
        s.stake_24h += st
        if b.device_id:
            s.devices_24h.add(b.device_id)
        if b.shop_id:
            s.shops_24h.add(b.shop_id)
        if just_below_threshold(st):
            s.just_below_24h += 1
        if age <= 3600:
            s.bets_1h += 1
            s.bets_10m += age <= 600
            for leg in b.legs:
                key = (leg.event, leg.market)
                mine = markets.get(key)
                if mine is not None and leg.selection != mine:
                    other.setdefault(key, set()).add(leg.selection)
    if other:
        key, sides = max(other.items(), key=lambda kv: len(kv[1]))
        s.other_sides = sorted(sides)
        s.side_market = f"{key[0]} {key[1]}"

    # rising-stake chain ending at this bet: consecutive increases within one session
    chain, t_next, st_next = 0, t_now, bet.stake_minor if bet is not None else 0
    for k in range(n - 1, -1, -1):
        st = bets[k].stake_minor
        if t_next - times[k] > CHAIN_GAP_S or st >= st_next:
            break
        chain += 1
        s.chain_first_stake = st
        t_next, st_next = times[k], st
    s.rising_chain = chain
    if bet is not None and bet.location is not None:
        for k in range(n - 1, -1, -1):
            b = bets[k]
            if b.lat is not None and b.lon is not None:
                km = _km(b.lat, b.lon, bet.location.lat, bet.location.lon)
                hours_apart = max((t_now - times[k]) / 3600.0, 1 / 60.0)
                s.km_from_last = km
                s.speed_kmh = min(km / hours_apart, MAX_SPEED_KMH)
                s.mins_from_last_location = (t_now - times[k]) / 60.0
                break
    return s


def profile_vector(s: Summary) -> list[float]:
    """Per-customer features the segments are clustered on (order = ``PROFILE_NAMES``)."""
    return [
        s.mean_log,
        s.std_log,
        s.log_bets_per_day,
        s.share_online,
        s.share_retail,
        s.share_multi,
        s.short_share,
        s.share_night,
    ]


PROFILE_NAMES = [
    "mean_log_stake",
    "std_log_stake",
    "log_bets_per_active_day",
    "share_online",
    "share_retail",
    "share_multiples",
    "share_short_odds_singles",
    "share_night",
]


def _clip(x: float, lim: float = MAX_LOG_RATIO) -> float:
    return max(-lim, min(lim, x))


def within_history(bet: BetIn, s: Summary, ratio: float, min_bets: int, min_days: int) -> bool:
    """The fraud lab's whitelist from history: stake at most ``ratio``× the subject's own average."""
    return s.n >= min_bets and s.days_active >= min_days and bet.stake_minor <= ratio * s.mean_stake


# Defaults of the history whitelist (the scorer's WhitelistPolicy uses the same numbers).
WITHIN_RATIO = 3.0
WITHIN_MIN_BETS = 5
WITHIN_MIN_DAYS = 3


def vectorize(
    bet: BetIn,
    history: SubjectHistory,
    now: datetime | None = None,
    *,
    segment_stats: tuple[float, float] | None = None,
    summary: Summary | None = None,
) -> np.ndarray:
    """The model's input row for ``bet`` given the subject's ``history`` before it.

    ``segment_stats`` is (mean, std) of log stake in the subject's segment (None: no segment).
    """
    s = summary if summary is not None else summarise(bet, history, now)
    stake = bet.stake_minor
    lines = bet.lines
    combined, min_odds, is_sp = price_summary(bet)
    group = bet_group(bet.bet_type)
    log_stake = math.log(stake / 100.0 + 1.0)
    pennies = stake % 100 != 0
    not5 = not pennies and (stake // 100) % 5 != 0 and stake >= 1000
    n = s.n
    rel = n >= MIN_BETS_RELATIVE
    new_acct = s.account_age_days < NEW_ACCOUNT_DAYS

    if rel:
        z_own = _clip((log_stake - s.mean_log) / max(s.std_log, MIN_LOG_STD), 10.0)
        vs_mean = _clip(math.log(stake / s.mean_stake))
        vs_max = _clip(math.log(stake / max(s.max_stake, 1)))
    else:
        z_own = vs_mean = vs_max = 0.0
    if segment_stats is not None:
        z_seg = _clip((log_stake - segment_stats[0]) / max(segment_stats[1], MIN_LOG_STD), 10.0)
    else:
        z_seg = 0.0
    secs = s.secs_since_last
    if secs is not None and s.median_gap_s is not None:
        gap_vs = _clip(math.log((secs + 60.0) / (s.median_gap_s + 60.0)))
    else:
        gap_vs = 0.0
    if n:
        usual_per_day = n / max(1, s.days_active)
        rate_vs = _clip(math.log((s.bets_24h + 1.0) / (usual_per_day + 1.0)))
        stake24_vs = _clip(math.log((s.stake_24h + stake) / max(s.mean_stake, 1.0)))
    else:
        rate_vs = stake24_vs = 0.0
    has_dev = bet.device_id is not None
    v = [
        log_stake,
        math.log(stake / lines / 100.0 + 1.0),
        math.log(lines),
        float(len(bet.selections)),
        math.log(combined),
        math.log(min_odds),
        1.0 if is_sp else 0.0,
        *(1.0 if group == g else 0.0 for g in GROUP_NAMES),
        1.0 if bet.each_way or bet.bet_type == BetType.each_way else 0.0,
        1.0 if bet.channel == Channel.online else 0.0,
        1.0 if bet.channel == Channel.retail else 0.0,
        1.0 if bet.channel == Channel.sms else 0.0,
        1.0 if bet.customer_id is None else 0.0,
        1.0 if not has_dev and bet.channel == Channel.online else 0.0,
        1.0 if just_below_threshold(stake) else 0.0,
        1.0 if pennies else 0.0,
        1.0 if not5 else 0.0,
        1.0 if n == 0 else 0.0,
        math.log1p(n),
        math.log1p(min(s.account_age_days, 365.0)),
        float(s.days_active),
        1.0 if pennies and new_acct and bet.customer_id is not None else 0.0,
        z_own,
        vs_mean,
        vs_max,
        _clip(math.log(stake / s.prev_stake)) if n else 0.0,
        z_seg,
        1.0 if within_history(bet, s, WITHIN_RATIO, WITHIN_MIN_BETS, WITHIN_MIN_DAYS) else 0.0,
        math.log1p(secs) if secs is not None else math.log1p(30 * 86400.0),
        gap_vs,
        float(min(s.bets_10m, 30)),
        float(min(s.bets_1h, 60)),
        math.log1p(s.bets_24h),
        rate_vs,
        stake24_vs,
        float(min(s.rising_chain, 10)),
        1.0 if n and has_dev and bet.device_id not in s.devices else 0.0,
        1.0 if n and bet.shop_id and bet.shop_id not in s.shops else 0.0,
        1.0 if n and bet.channel.value not in s.channels else 0.0,
        float(len(s.devices_24h | ({bet.device_id} if has_dev else set()))),  # type: ignore[arg-type]
        float(len(s.shops_24h | ({bet.shop_id} if bet.shop_id else set()))),  # type: ignore[arg-type]
        float(min(s.just_below_24h, 20)),
        math.log1p(s.km_from_last),
        math.log1p(s.speed_kmh),
        s.short_share if rel else 0.0,
        float(min(len(s.other_sides), 5)),
        1.0 - s.hour_share if n >= 5 else 0.0,
        1.0 if segment_stats is not None else 0.0,
    ]
    return np.asarray(v, dtype=np.float32)


__all__ = [
    "FEATURE_NAMES",
    "INDEX",
    "N_FEATURES",
    "PROFILE_NAMES",
    "Summary",
    "bet_group",
    "just_below_threshold",
    "past_bet",
    "price_summary",
    "profile_vector",
    "summarise",
    "vectorize",
    "within_history",
]


def past_bet(bet: BetIn, bet_id: str | None = None) -> PastBet:
    """The stored form of a scored bet (training builds histories with it; ``PastBet.from_bet``
    reads the same fields from a stored ``Bet``: a test checks both give the same vector)."""
    return PastBet(
        bet_id=bet_id or bet.bet_id or "",
        placed_at=bet.placed_at,
        stake_minor=bet.stake_minor,
        channel=bet.channel,
        bet_type=bet.bet_type,
        each_way=bet.each_way,
        shop_id=bet.shop_id,
        device_id=bet.device_id,
        lat=bet.location.lat if bet.location else None,
        lon=bet.location.lon if bet.location else None,
        legs=[
            PastLeg(
                event=s.event,
                market=s.market,
                selection=s.selection,
                odds=None if (d := s.decimal_odds) is None else float(d),
            )
            for s in bet.selections
        ],
        sport=bet.sport,
    )
