"""Signals that explain a score: which feature groups moved it, in a trader's words.

A group's contribution is measured by occlusion on the model itself: the raw log-odds of the bet
minus the log-odds with that group's features set to their reference values (the median over
innocent training bets, stored in ``risk.json``). It is faithful by construction (it is the
model's own answer) and costs one extra batched ONNX run, only for bets at ≥ medium.

Training measures how often each group would be shown on innocent and on risky bets; groups
that fire about as often on innocent bets (lift below ``MIN_LIFT``) are listed in ``risk.json`` as
suppressed and never shown as a reason.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.bets import BetIn
from chalicelib.domain.money import format_minor
from chalicelib.risk.features import INDEX, Summary, bet_group, just_below_threshold, price_summary

MIN_WEIGHT = 0.25  # log-odds a group must add to be shown as a reason
MIN_LIFT = 1.5  # firing rate on risky ÷ innocent bets below which a group is suppressed (~as often)
MAX_REASONS = 4

# Feature groups: the unit a reason is about.
GROUPS: dict[str, list[str]] = {
    "stake_vs_own": ["stake_z_own", "log_stake_vs_mean_own", "log_stake_vs_max_own", "within_history"],
    "stake_vs_segment": ["stake_z_segment"],
    "stake_size": ["log_stake", "log_unit_stake"],
    "stake_24h": ["log_stake_24h_vs_mean"],
    "rising_stakes": ["rising_chain", "log_stake_vs_prev"],
    "velocity": ["bets_10m", "bets_1h", "log_bets_24h", "rate_vs_usual", "log_secs_since_last", "gap_vs_usual"],
    "threshold": ["just_below_threshold", "just_below_24h"],
    "shops": ["shops_24h", "new_shop"],
    "both_sides": ["both_sides_1h"],
    "short_odds": ["log_min_odds", "log_combined_odds", "short_odds_share_own", "is_sp"],
    "device": ["new_device", "devices_24h", "no_device"],
    "location": ["log_km_from_last", "log_speed_kmh"],
    "channel": ["new_channel", "channel_online", "channel_retail", "channel_sms", "anonymous"],
    "odd_amount": ["stake_has_pennies", "stake_not_round5", "odd_stake_new_account"],
    "new_account": ["no_history", "log_prior_bets", "log_account_age_days"],
    "quiet_account": ["days_active_30d"],
    "unusual_hour": ["hour_unusual"],
    "bet_shape": [
        "log_lines",
        "n_selections",
        "group_single",
        "group_multiple",
        "group_forecast",
        "group_full_cover",
        "each_way",
    ],
    "segment": ["segment_known"],
}
GROUP_INDEX: dict[str, list[int]] = {g: [INDEX[f] for f in fs] for g, fs in GROUPS.items()}
# Context rather than a reason ("a single", "a retail bet"): given only when nothing else is.
CONTEXT_GROUPS = frozenset({"bet_shape", "channel", "segment"})
# The stake-size groups that the history whitelist stops counting.
AMOUNT_GROUPS = ("stake_vs_own", "stake_vs_segment", "stake_size", "stake_24h")


def _m(minor: float, cur: str) -> str:
    return format_minor(round(minor), cur)


def _mins(secs: float) -> str:
    return f"{secs:.0f} s" if secs < 120 else f"{secs / 60:.0f} min"


def text(group: str, bet: BetIn, s: Summary, segment_name: str | None) -> str:
    """The reason for ``group`` on this bet, with its numbers."""
    cur = bet.currency
    stake = bet.stake_minor
    who = "this customer" if bet.customer_id else "this writer"
    fn = _TEXTS.get(group)
    return fn(bet, s, cur, stake, who, segment_name) if fn else group.replace("_", " ")


Text = Callable[[BetIn, Summary, str, int, str, "str | None"], str]


def _stake_vs_own(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    if s.n == 0:
        return f"stake {_m(stake, cur)} with no betting by {who} in the previous 30 days"
    ratio = stake / max(s.mean_stake, 1)
    return f"stake {_m(stake, cur)} is {ratio:.0f}× {who}'s 30-day average of {_m(s.mean_stake, cur)}"


def _stake_vs_segment(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    return f"stake {_m(stake, cur)} is far above what customers in segment “{seg or '?'}” usually stake"


def _stake_size(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    # The size of a stake only means something against what this subject usually stakes.
    if s.n >= 3:
        return _stake_vs_own(bet, s, cur, stake, who, seg)
    if s.n == 0 and bet.customer_id is None:
        return f"stake {_m(stake, cur)} on an anonymous slip with no linked history"
    if s.n == 0:
        return f"stake {_m(stake, cur)} with no betting by {who} in the previous 30 days"
    return f"stake {_m(stake, cur)} after only {s.n} earlier bet{'s' if s.n > 1 else ''} in 30 days"


def _stake_24h(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    n = s.bets_24h + 1
    return f"{_m(s.stake_24h + stake, cur)} staked in 24 h over {n} bet{'s' if n > 1 else ''}"


def _rising(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    if s.rising_chain >= 1:
        return (
            f"stake raised {s.rising_chain} times in a row within the session "
            f"({_m(s.chain_first_stake, cur)} → {_m(stake, cur)})"
        )
    return f"stake {_m(stake, cur)} after a previous stake of {_m(s.prev_stake, cur)}"


def _days(d: float) -> str:
    return f"{d:.0f} day{'s' if round(d) != 1 else ''}"


def _velocity(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    usual = s.n / max(1, s.days_active)
    gap, med = s.secs_since_last, s.median_gap_s
    if gap is not None and med is not None and gap > 3 * med and gap > 86400:
        every = _mins(med) if med < 7200 else f"{med / 3600:.0f} h"
        return f"first bet for {_days(gap / 86400)}; {who} usually bets every {every}"
    if s.bets_10m >= 2:
        return f"{s.bets_10m + 1} bets in 10 minutes ({who} usually places {usual:.1f} a day)"
    if s.secs_since_last is not None and s.bets_1h >= 1:
        return f"{s.bets_1h + 1} bets in the last hour, {_mins(s.secs_since_last)} after the previous one"
    return f"{s.bets_24h + 1} bets in 24 h ({who} usually places {usual:.1f} a day)"


def _threshold(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    t = just_below_threshold(stake)
    head = f"stake {_m(stake, cur)} is just under {format_minor(int(t * 100), cur)}" if t else f"stake {_m(stake, cur)}"
    if s.just_below_24h:
        return f"{head}; {s.just_below_24h} earlier stakes just under a round sum in 24 h"
    return head


def _shops(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    n = len(s.shops_24h | ({bet.shop_id} if bet.shop_id else set()))
    if bet.shop_id and s.n and bet.shop_id not in s.shops:
        return f"first bet by {who} in shop {bet.shop_id} ({n} shops in 24 h)"
    return f"bets in {n} different shops in 24 h"


def _both_sides(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    mine = bet.selections[0].selection
    others = ", ".join(s.other_sides[:3])
    return f"backs {mine} after backing {others} on the same market ({s.side_market}) within the hour"


def _short_odds(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    combined, lo, _ = price_summary(bet)
    if bet_group(bet.bet_type) != "single" and combined > 20:
        return f"{len(bet.selections)}-fold at combined odds {combined:.0f}"
    share = f" ({s.short_share:.0%} of {who}'s singles are odds-on)" if s.n >= 3 and s.short_share > 0.3 else ""
    if lo < 2.0:
        return f"odds-on price {lo:.2f} for a {_m(stake, cur)} stake{share}"
    return f"price {lo:.2f} for a {_m(stake, cur)} stake{share}"


def _device(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    if bet.device_id is None:
        return "online bet without a device id"
    n = len(s.devices_24h | {bet.device_id})
    if s.n and bet.device_id not in s.devices:
        return f"new device for {who}" + (f" ({n} devices in 24 h)" if n > 1 else "")
    return f"{n} devices in 24 h"


def _location(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    return (
        f"placed {s.km_from_last:.0f} km from the previous bet {_mins(s.mins_from_last_location * 60)} earlier"
        f" ({s.speed_kmh:.0f} km/h)"
    )


def _channel(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    if s.n and bet.channel.value not in s.channels:
        return f"first {bet.channel.value} bet for {who}"
    if bet.customer_id is None:
        return f"anonymous {bet.channel.value} bet"
    return f"{bet.channel.value} bet"


def _odd_amount(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    age = f" on an account {_days(s.account_age_days)} old" if s.age_known and s.account_age_days < 30 else ""
    return f"odd stake amount {_m(stake, cur)}{age}"


def _new_account(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    if bet.customer_id is None and s.n == 0:
        return "anonymous slip with no linked history"
    bets = f"{s.n} earlier bet{'s' if s.n != 1 else ''}"
    if s.age_known and s.account_age_days < 30:
        return f"new account: opened {_days(s.account_age_days)} ago, {bets}"
    if s.n:
        return f"little recent history: {bets} in 30 days, the first {_days(s.account_age_days)} ago"
    return f"no betting by {who} in the previous 30 days"


def _quiet(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    return f"quiet account: active on {s.days_active} of the last 30 days"


def _hour(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    return f"bet at {bet.placed_at:%H:%M} UTC, an hour {who} rarely bets ({s.hour_share:.0%} of past bets)"


def _shape(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    lines = bet.lines
    if lines > 1:
        return f"{lines}-line {bet.bet_type.value} at {_m(stake / lines, cur)} a line"
    return f"{bet.bet_type.value.replace('_', ' ')} of {len(bet.selections)} selection(s)"


def _segment(bet: BetIn, s: Summary, cur: str, stake: int, who: str, seg: str | None) -> str:
    return f"customer segment “{seg}”" if seg else "too little history for a customer segment"


_TEXTS: dict[str, Text] = {
    "stake_vs_own": _stake_vs_own,
    "stake_vs_segment": _stake_vs_segment,
    "stake_size": _stake_size,
    "stake_24h": _stake_24h,
    "rising_stakes": _rising,
    "velocity": _velocity,
    "threshold": _threshold,
    "shops": _shops,
    "both_sides": _both_sides,
    "short_odds": _short_odds,
    "device": _device,
    "location": _location,
    "channel": _channel,
    "odd_amount": _odd_amount,
    "new_account": _new_account,
    "quiet_account": _quiet,
    "unusual_hour": _hour,
    "bet_shape": _shape,
    "segment": _segment,
}


def choose(contrib: dict[str, float], suppressed: set[str], at_least_one: bool) -> list[tuple[str, float]]:
    """Groups to show: big enough, not suppressed, largest first; at least one when asked."""
    ranked = sorted(contrib.items(), key=lambda kv: -kv[1])
    hidden = suppressed | CONTEXT_GROUPS
    out = [(g, w) for g, w in ranked if w >= MIN_WEIGHT and g not in hidden][:MAX_REASONS]
    if not out and at_least_one and ranked:
        allowed = [(g, w) for g, w in ranked if g not in hidden] or [(g, w) for g, w in ranked if g not in suppressed]
        out = [(allowed or ranked)[0]]
    return out


__all__ = [
    "AMOUNT_GROUPS",
    "CONTEXT_GROUPS",
    "GROUPS",
    "GROUP_INDEX",
    "MAX_REASONS",
    "MIN_LIFT",
    "MIN_WEIGHT",
    "choose",
    "text",
]
