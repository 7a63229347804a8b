"""Feature vector for the bet risk model.

Imported by both the offline trainer and the runtime scorer, so a bet is turned into numbers in
exactly one place. Pure stdlib + numpy: no sklearn here.

Money features use minor units of the bet's currency (every supported currency has 2 decimal
places) and are log-scaled with ``log1p`` of the major-unit amount.
"""

from __future__ import annotations

import math

import numpy as np

from chalicelib.domain.bets import BetIn, BetType, Channel, History

# Decimal odds assumed for a selection priced at SP (starting price): a mid-field runner.
SP_DEFAULT_ODDS = 4.0
# Combined odds are capped before taking logs (a 20-fold accumulator can exceed any sane value).
MAX_COMBINED_ODDS = 1e7
# Round stake amounts (major units) that structuring keeps just under: the 24 h rule threshold and
# the sums a shop or cashier is likely to treat as "large".
ROUND_THRESHOLDS_MAJOR = (500, 1000, 2000, 2500, 5000, 10000)
JUST_BELOW_FRACTION = 0.9  # a stake in [0.9 T, T) counts as "just below" T
# Ratio of stake to the 30-day average is clipped to this many e-folds either way.
MAX_LOG_RATIO = 8.0

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
# Everything else (trixie .. goliath) is a full-cover bet.
GROUP_NAMES = ("single", "multiple", "forecast", "full_cover")

FEATURE_NAMES: list[str] = [
    "log_stake",
    "lines",
    "log_unit_stake",
    "n_selections",
    "log_combined_odds",
    "is_sp",
    "min_odds",
    "implied_prob",
    "log_top_line_return",
    "stake_just_below_threshold",
    "channel_online",
    "channel_retail",
    "channel_sms",
    "anonymous",
    "group_single",
    "group_multiple",
    "group_forecast",
    "group_full_cover",
    "each_way",
    "hour_sin",
    "hour_cos",
    "bets_24h",
    "log_stake_24h",
    "log_stake_vs_avg_30d",
    "log_stake_vs_max_30d",
    "bets_30d",
    "days_active_30d",
    "log_secs_since_last",
    "no_previous_bet",
    "distinct_shops_24h",
    "no_device",
]
N_FEATURES = len(FEATURE_NAMES)
INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _log_major(minor: float) -> float:
    return math.log1p(max(minor, 0.0) / 100.0)


def bet_group(bet_type: BetType) -> str:
    return BET_GROUPS.get(bet_type, "full_cover")


def selection_odds(bet: BetIn) -> list[float | None]:
    """Decimal odds of each selection; None for SP."""
    out: list[float | None] = []
    for sel in bet.selections:
        d = sel.decimal_odds
        out.append(None if d is None else float(d))
    return out


def price_summary(bet: BetIn) -> tuple[float, float, bool]:
    """(combined decimal odds, minimum decimal odds, any SP) with SP at ``SP_DEFAULT_ODDS``."""
    odds = selection_odds(bet)
    filled = [SP_DEFAULT_ODDS if o is None else o for o in odds]
    combined = 1.0
    for o in filled:
        combined = min(combined * o, MAX_COMBINED_ODDS)
    return combined, min(filled), any(o is None for o in odds)


def just_below_threshold(stake_minor: int) -> bool:
    major = stake_minor / 100.0
    return any(JUST_BELOW_FRACTION * t <= major < t for t in ROUND_THRESHOLDS_MAJOR)


def vectorize(bet: BetIn, history: History) -> np.ndarray:
    """The model's input row for ``bet`` given the subject's ``history`` before it."""
    stake = bet.stake_minor
    lines = bet.lines
    unit = stake / lines
    combined, min_odds, is_sp = price_summary(bet)
    group = bet_group(bet.bet_type)

    placed = bet.placed_at  # validated to UTC by BetIn
    hour = placed.hour + placed.minute / 60.0 + placed.second / 3600.0
    angle = 2.0 * math.pi * hour / 24.0

    if history.bets_30d > 0 and history.stake_30d_minor > 0:
        avg = history.stake_30d_minor / history.bets_30d
        ratio_avg = math.log(stake / avg)
    else:
        ratio_avg = 0.0
    if history.max_stake_30d_minor > 0:
        ratio_max = math.log(stake / history.max_stake_30d_minor)
    else:
        ratio_max = 0.0
    secs = history.seconds_since_last_bet

    v = [
        _log_major(stake),
        float(lines),
        _log_major(unit),
        float(len(bet.selections)),
        math.log(combined),
        1.0 if is_sp else 0.0,
        min_odds,
        1.0 / combined,
        _log_major(unit * combined),
        1.0 if just_below_threshold(stake) else 0.0,
        1.0 if bet.channel == Channel.online else 0.0,
        1.0 if bet.channel == Channel.retail else 0.0,
        1.0 if bet.channel == Channel.sms else 0.0,
        1.0 if bet.customer_id is None else 0.0,
        *(1.0 if group == g else 0.0 for g in GROUP_NAMES),
        1.0 if bet.each_way or bet.bet_type == BetType.each_way else 0.0,
        math.sin(angle),
        math.cos(angle),
        float(history.bets_24h),
        _log_major(history.stake_24h_minor),
        max(-MAX_LOG_RATIO, min(MAX_LOG_RATIO, ratio_avg)),
        max(-MAX_LOG_RATIO, min(MAX_LOG_RATIO, ratio_max)),
        float(history.bets_30d),
        float(history.days_active_30d),
        math.log1p(max(secs, 0.0)) if secs is not None else 0.0,
        1.0 if secs is None else 0.0,
        float(history.distinct_shops_24h),
        1.0 if bet.device_id is None else 0.0,
    ]
    return np.asarray(v, dtype=np.float32)
