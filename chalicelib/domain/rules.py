"""Monitoring rules as data: a versioned definition per rule, parameters validated per kind, and
each kind's evaluation as a pure function over a subject's bets in a window.

A rule decides whether it fires, with which metric and evidence, and how severe the alert is (by
the metric's ratio to its threshold, in bands). The monitoring service finds whom to evaluate and
when (on the bet path or on the schedule); the alert store enforces cooldowns and snoozes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.alerts import Alert, Evidence, Metric, Severity, alert_id
from chalicelib.domain.bets import Bet
from chalicelib.domain.money import format_minor
from chalicelib.domain.risk_history import PastBet
from chalicelib.domain.subjects import SubjectKind, SubjectRef

UK = ZoneInfo("Europe/London")
RULE_ID = r"^[a-z0-9][a-z0-9_-]{1,62}$"


@dataclass(frozen=True)
class WindowBet:
    """One bet of a subject as a rule sees it."""

    bet_id: str
    stake_minor: int
    placed_at: datetime
    shop_id: str | None = None
    has_slip: bool = False
    customer_id: str | None = None
    channel: str | None = None
    odds: float | None = None  # combined decimal odds taken; None when any leg is at SP
    selections: tuple[str, ...] = ()  # "<event>|<market>|<selection>" per leg
    profit_minor: int | None = None  # None until settled
    sp_compared: int = 0  # settled legs with a price taken and a starting price
    sp_beaten: int = 0  # of which taken above the SP
    past: Any = None  # the risk model's view of the bet (chalicelib.domain.risk_history.PastBet), when stored


@dataclass(frozen=True)
class WindowKnockback:
    """One knockback (a bet the operator refused) of a customer as a rule sees it."""

    knockback_id: str
    attempted_at: datetime
    stake_minor: int
    liability_exceeded: bool = False


@dataclass(frozen=True)
class Hit:
    """What made a rule fire."""

    metric: Metric
    bets: list[WindowBet]
    title: str
    detail: str
    subject: SubjectRef | None = None  # a different alert subject (a bet run's selection)


@dataclass(frozen=True)
class Context:
    """Everything a kind may look at besides the bets (filled by the monitoring service)."""

    currency: str = "GBP"
    linked_customers: Sequence[str] = ()  # for multi-account rules on writers and devices
    category: str | None = None  # staff's client category of the subject
    segment: int | None = None  # the subject's risk segment (None: too little history)
    knockbacks: Sequence[WindowKnockback] = ()  # the subject's knockbacks in the rule's lookback


class RuleKind(StrEnum):
    stake_window = "stake_window"
    bet_count = "bet_count"
    loss_window = "loss_window"
    structuring = "structuring"
    sudden_change = "sudden_change"
    overnight = "overnight"
    harm_screen = "harm_screen"
    bet_run = "bet_run"
    beats_sp = "beats_sp"
    multi_account = "multi_account"
    client_category = "client_category"
    knockbacks = "knockbacks"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def lookback(self) -> timedelta:
        """How much of a subject's history the kind reads."""
        return timedelta(minutes=getattr(self, "window_minutes", 24 * 60))


class StakeWindow(Params):
    """Total stake within a rolling window reaches a threshold."""

    kind: Literal["stake_window"] = "stake_window"
    window_minutes: int = Field(default=24 * 60, gt=0, le=31 * 24 * 60)
    threshold_minor: int = Field(default=50_000, gt=0)


class BetCount(Params):
    """Velocity: at least `count` bets within a short window."""

    kind: Literal["bet_count"] = "bet_count"
    window_seconds: int = Field(default=60, gt=0, le=31 * 24 * 3600)
    count: int = Field(default=10, ge=2)

    def lookback(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)


class LossWindow(Params):
    """Net loss on settled bets within a window reaches a threshold (stakes do not count)."""

    kind: Literal["loss_window"] = "loss_window"
    window_minutes: int = Field(default=24 * 60, gt=0, le=31 * 24 * 60)
    threshold_minor: int = Field(default=100_000, gt=0)


class Structuring(Params):
    """At least `min_count` stakes each between low_pct and high_pct of a reporting threshold."""

    kind: Literal["structuring"] = "structuring"
    threshold_minor: int = Field(default=50_000, gt=0)
    low_pct: float = Field(default=90, gt=0, lt=100)
    high_pct: float = Field(default=99, gt=0, lt=100)
    min_count: int = Field(default=3, ge=2)
    min_shops: int = Field(default=1, ge=1)
    window_minutes: int = Field(default=24 * 60, gt=0, le=31 * 24 * 60)

    @model_validator(mode="after")
    def _band(self) -> Structuring:
        if self.low_pct > self.high_pct:
            raise ValueError("low_pct must not exceed high_pct")
        return self


class SuddenChange(Params):
    """The newest stake is at least `multiple` times the subject's average over the baseline."""

    kind: Literal["sudden_change"] = "sudden_change"
    multiple: float = Field(default=10, gt=1)
    baseline_days: int = Field(default=30, gt=0, le=31)
    min_history_bets: int = Field(default=5, ge=1)
    min_stake_minor: int = Field(default=5_000, ge=0)

    def lookback(self) -> timedelta:
        return timedelta(days=self.baseline_days)


class Overnight(Params):
    """More than `max_bets` bets placed between start_hour and end_hour (UK time) in the window."""

    kind: Literal["overnight"] = "overnight"
    start_hour: int = Field(default=0, ge=0, le=23)
    end_hour: int = Field(default=7, ge=1, le=24)
    max_bets: int = Field(default=3, ge=0)
    window_minutes: int = Field(default=24 * 60, gt=0, le=31 * 24 * 60)


class HarmScreen(Params):
    """BetMonitor's harm screens, a point each; fires at `min_points` (clients with more than one)."""

    kind: Literal["harm_screen"] = "harm_screen"
    window_minutes: int = Field(default=24 * 60, gt=0, le=31 * 24 * 60)
    max_bets: int = Field(default=10, ge=1)  # more than this many bets
    session_hours: float = Field(default=2, gt=0)  # a session (gaps under session_gap_minutes) longer than this
    session_gap_minutes: int = Field(default=30, gt=0)
    max_staked_minor: int = Field(default=100_000, gt=0)  # over this much staked
    night_bets: int = Field(default=3, ge=0)  # more than this many bets 00:00-07:00 UK time
    chasing_odds_gap: float = Field(default=4, gt=0)  # last 30 % of bets' average odds above the first 70 %'s by
    min_points: int = Field(default=2, ge=1)


class BetRun(Params):
    """A selection backed by at least `min_bettors` different customers within the window."""

    kind: Literal["bet_run"] = "bet_run"
    window_minutes: int = Field(default=60, gt=0, le=24 * 60)
    min_bettors: int = Field(default=3, ge=2)


class BeatsSp(Params):
    """More than `min_selections - 1` settled selections, at least `min_share` taken above the SP."""

    kind: Literal["beats_sp"] = "beats_sp"
    window_days: int = Field(default=30, gt=0, le=31)
    min_selections: int = Field(default=6, ge=1)
    min_share: float = Field(default=0.5, gt=0, le=1)

    def lookback(self) -> timedelta:
        return timedelta(days=self.window_days)


class MultiAccount(Params):
    """One writer (or device) linked to at least `min_customers` customer accounts."""

    kind: Literal["multi_account"] = "multi_account"
    min_customers: int = Field(default=2, ge=2)

    def lookback(self) -> timedelta:
        return timedelta(0)


class ClientCategoryParams(Params):
    """Any bet by a subject staff put in one of these categories (a self-excluded customer's bet)."""

    kind: Literal["client_category"] = "client_category"
    categories: list[str] = Field(default_factory=lambda: ["self_excluded"], min_length=1)

    def lookback(self) -> timedelta:
        return timedelta(0)


class Knockbacks(Params):
    """At least `min_count` knockbacks in the window and, when set, a KB % (knockbacks as a share
    of bets + knockbacks) of at least `min_kb_pct`."""

    kind: Literal["knockbacks"] = "knockbacks"
    window_minutes: int = Field(default=24 * 60, gt=0, le=31 * 24 * 60)
    min_count: int = Field(default=3, ge=1)
    min_kb_pct: float | None = Field(default=None, gt=0, le=100)


AnyParams = Annotated[
    StakeWindow
    | BetCount
    | LossWindow
    | Structuring
    | SuddenChange
    | Overnight
    | HarmScreen
    | BetRun
    | BeatsSp
    | MultiAccount
    | ClientCategoryParams
    | Knockbacks,
    Field(discriminator="kind"),
]


class Band(BaseModel):
    """From this ratio of metric to threshold, alerts have this severity."""

    model_config = ConfigDict(extra="forbid")
    min_ratio: float = Field(ge=0)
    severity: Severity


class RuleMode(StrEnum):
    active = "active"  # raises and sends alerts
    shadow = "shadow"  # records hits, sends nothing


class Trigger(StrEnum):
    bet = "bet"  # evaluated as each bet is recorded (or attributed to a writer)
    schedule = "schedule"  # evaluated by the schedule, for subjects with new activity


BET_PATH_KINDS = ("bet_count", "client_category")  # evaluated as each bet is recorded, by default
DEFAULT_BANDS = (Band(min_ratio=1, severity="high"), Band(min_ratio=4, severity="critical"))
# Kinds whose subject is not a customer's or writer's own betting.
KINDS_FOR: dict[str, tuple[SubjectKind, ...]] = {
    "multi_account": (SubjectKind.writer, SubjectKind.device),
    "client_category": (SubjectKind.customer,),
    "knockbacks": (SubjectKind.customer,),
}


class RuleSpec(BaseModel):
    """What a client sends to create a rule or a new version of it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    subject_kind: SubjectKind
    params: AnyParams
    bands: list[Band] = Field(default_factory=lambda: list(DEFAULT_BANDS), min_length=1, max_length=6)
    cooldown_minutes: int | None = Field(
        default=None, gt=0, le=31 * 24 * 60, description="Default: the rule's window (at least 1 hour)."
    )
    mode: RuleMode = RuleMode.active
    enabled: bool = True
    trigger: Trigger | None = Field(default=None, description="Default: 'bet' for bet_count, else 'schedule'.")
    segment: int | None = Field(default=None, ge=0, description="Only subjects of this risk segment.")

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        allowed = KINDS_FOR.get(self.params.kind, (SubjectKind.customer, SubjectKind.writer))
        if self.subject_kind not in allowed:
            names = ", ".join(k.value for k in allowed)
            raise ValueError(f"subject_kind: a {self.params.kind} rule applies to {names}")
        ratios = [b.min_ratio for b in self.bands]
        if ratios != sorted(ratios) or len(set(ratios)) != len(ratios):
            raise ValueError("bands: min_ratio must increase from one band to the next")
        return self


class Rule(RuleSpec):
    """A stored version of a rule."""

    rule_id: str = Field(pattern=RULE_ID)
    version: int = Field(ge=1)
    updated_by: str = "system"
    updated_at: datetime | None = None

    @property
    def kind(self) -> str:
        return self.params.kind

    @property
    def lookback(self) -> timedelta:
        return self.params.lookback()

    @property
    def effective_trigger(self) -> Trigger:
        return self.trigger or (
            Trigger.bet if self.params.kind in ("bet_count", "client_category") else Trigger.schedule
        )

    @property
    def cooldown(self) -> timedelta:
        if self.cooldown_minutes:
            return timedelta(minutes=self.cooldown_minutes)
        return max(self.lookback, timedelta(hours=1))

    def severity(self, metric: Metric) -> Severity:
        ratio = metric.value / metric.threshold if metric.threshold else float("inf")
        chosen: Severity = self.bands[0].severity
        for band in self.bands:
            if ratio >= band.min_ratio:
                chosen = band.severity
        return chosen

    def evaluate(self, subject: SubjectRef, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Alert]:
        """The alerts this rule raises for `subject` at `now`, given its bets before `now`."""
        if subject.kind is not self.subject_kind:
            return []
        if self.segment is not None and ctx.segment != self.segment:
            return []  # a rule targeting one risk segment
        bets = sorted((b for b in bets if b.placed_at <= now), key=lambda b: (b.placed_at, b.bet_id))
        return [self._alert(hit, subject, now) for hit in EVALUATORS[self.params.kind](self.params, bets, now, ctx)]

    def _alert(self, hit: Hit, subject: SubjectRef, now: datetime) -> Alert:
        about = hit.subject or subject
        who = subject.describe()
        return Alert(
            alert_id=alert_id(self.rule_id, about, now),
            rule_id=self.rule_id,
            rule_version=self.version,
            subject=about,
            severity=self.severity(hit.metric),
            title=hit.title if hit.subject else f"{who} {hit.title}",
            detail=f"{who[0].upper()}{who[1:]}: {hit.detail}" if not hit.subject else hit.detail,
            metric=hit.metric,
            evidence=Evidence(
                bet_ids=[b.bet_id for b in hit.bets],
                slip_ids=[b.bet_id for b in hit.bets if b.has_slip],
                shops=sorted({b.shop_id for b in hit.bets if b.shop_id}),
            ),
            window_hours=max(1, round(self.lookback.total_seconds() / 3600)) if self.lookback else None,
            raised_at=now,
            shadow=self.mode is RuleMode.shadow,
        )


# --- the kinds ------------------------------------------------------------------------------------

Evaluator = Callable[[Params, list[WindowBet], datetime, Context], list[Hit]]


def _window(bets: list[WindowBet], now: datetime, span: timedelta) -> list[WindowBet]:
    start = now - span
    return [b for b in bets if start <= b.placed_at <= now]


def _minutes(n: int) -> str:
    if n % (24 * 60) == 0:
        return f"{n // (24 * 60) * 24} h"
    return f"{n // 60} h" if n % 60 == 0 else f"{n} min"


def _stake_window(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, StakeWindow)
    sel = _window(bets, now, p.lookback())
    total = sum(b.stake_minor for b in sel)
    if total < p.threshold_minor:
        return []
    money, span = format_minor(total, ctx.currency), _minutes(p.window_minutes)
    return [
        Hit(
            Metric(name="stake_total", value=total, threshold=p.threshold_minor, unit="minor_units"),
            sel,
            f"staked {money} in {span}",
            f"{len(sel)} bets totalling {money} in the last {span}, over the "
            f"{format_minor(p.threshold_minor, ctx.currency)} threshold.",
        )
    ]


def _bet_count(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, BetCount)
    sel = _window(bets, now, p.lookback())
    if len(sel) < p.count:
        return []
    return [
        Hit(
            Metric(name="bet_count", value=len(sel), threshold=p.count, unit="bets"),
            sel,
            f"placed {len(sel)} bets in {p.window_seconds} s",
            f"{len(sel)} bets within {p.window_seconds} seconds (the rule fires at {p.count}).",
        )
    ]


def _loss_window(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, LossWindow)
    settled = [b for b in _window(bets, now, p.lookback()) if b.profit_minor is not None]
    loss = -sum(b.profit_minor or 0 for b in settled)
    if loss < p.threshold_minor:
        return []
    money, span = format_minor(loss, ctx.currency), _minutes(p.window_minutes)
    return [
        Hit(
            Metric(name="net_loss", value=loss, threshold=p.threshold_minor, unit="minor_units"),
            settled,
            f"lost {money} in {span}",
            f"A net loss of {money} on {len(settled)} settled bets in the last {span}, over the "
            f"{format_minor(p.threshold_minor, ctx.currency)} threshold.",
        )
    ]


def _structuring(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, Structuring)
    lo, hi = p.threshold_minor * p.low_pct / 100, p.threshold_minor * p.high_pct / 100
    near = [b for b in _window(bets, now, p.lookback()) if lo <= b.stake_minor <= hi]
    shops = {b.shop_id for b in near if b.shop_id}
    if len(near) < p.min_count or (p.min_shops > 1 and len(shops) < p.min_shops):
        return []
    where = f" in {len(shops)} shops" if len(shops) > 1 else ""
    cur = ctx.currency
    return [
        Hit(
            Metric(name="stakes_just_below", value=len(near), threshold=p.min_count, unit="bets"),
            near,
            f"{len(near)} stakes just under {format_minor(p.threshold_minor, cur)}{where}",
            f"{len(near)} stakes between {format_minor(round(lo), cur)} and {format_minor(round(hi), cur)} "
            f"({p.low_pct:g}-{p.high_pct:g} % of {format_minor(p.threshold_minor, cur)}) in the last "
            f"{_minutes(p.window_minutes)}{where}.",
        )
    ]


def _sudden_change(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, SuddenChange)
    sel = _window(bets, now, p.lookback())
    if len(sel) < p.min_history_bets + 1:
        return []
    newest, before = sel[-1], sel[:-1]
    avg = sum(b.stake_minor for b in before) / len(before)
    if newest.stake_minor < p.min_stake_minor or avg <= 0 or newest.stake_minor < p.multiple * avg:
        return []
    ratio = newest.stake_minor / avg
    cur = ctx.currency
    return [
        Hit(
            Metric(name="stake_vs_average", value=round(ratio, 2), threshold=p.multiple, unit="ratio"),
            [newest],
            f"stake {format_minor(newest.stake_minor, cur)} is {ratio:.0f}× the usual",
            f"A stake of {format_minor(newest.stake_minor, cur)} is {ratio:.1f}× the average of "
            f"{format_minor(round(avg), cur)} over the previous {len(before)} bets in {p.baseline_days} days.",
        )
    ]


def _uk_hour(ts: datetime) -> int:
    return ts.astimezone(UK).hour


def _overnight(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, Overnight)
    night = [b for b in _window(bets, now, p.lookback()) if p.start_hour <= _uk_hour(b.placed_at) < p.end_hour]
    if len(night) <= p.max_bets:
        return []
    hours = f"{p.start_hour:02d}:00-{p.end_hour:02d}:00"
    return [
        Hit(
            Metric(name="night_bets", value=len(night), threshold=p.max_bets + 1, unit="bets"),
            night,
            f"{len(night)} bets between {hours} UK time",
            f"{len(night)} bets placed between {hours} UK time in the last {_minutes(p.window_minutes)}.",
        )
    ]


def _longest_session(bets: list[WindowBet], gap: timedelta) -> timedelta:
    longest = timedelta(0)
    start = prev = None
    for b in bets:
        if prev is None or b.placed_at - prev > gap:
            start = b.placed_at
        prev = b.placed_at
        assert start is not None
        longest = max(longest, prev - start)
    return longest


def harm_points(p: HarmScreen, bets: list[WindowBet]) -> list[str]:
    """The screens a subject's bets (oldest first) score on, in words."""
    out = []
    if len(bets) > p.max_bets:
        out.append(f"{len(bets)} bets")
    session = _longest_session(bets, timedelta(minutes=p.session_gap_minutes))
    if session > timedelta(hours=p.session_hours):
        out.append(f"a session of {session.total_seconds() / 3600:.1f} h")
    if len(bets) >= 4:
        half = len(bets) // 2
        first, second = bets[:half], bets[half:]
        if sum(b.stake_minor for b in second) / len(second) > sum(b.stake_minor for b in first) / len(first):
            out.append("rising stakes")
    staked = sum(b.stake_minor for b in bets)
    if staked > p.max_staked_minor:
        out.append(f"{staked / 100:,.0f} staked")
    night = sum(1 for b in bets if 0 <= _uk_hour(b.placed_at) < 7)
    if night > p.night_bets:
        out.append(f"{night} bets 00:00-07:00")
    priced = [b.odds for b in bets if b.odds is not None]
    if len(priced) >= 4:
        cut = max(1, round(len(priced) * 0.7))
        early, late = priced[:cut], priced[cut:]
        if late and sum(late) / len(late) - sum(early) / len(early) > p.chasing_odds_gap:
            out.append("chasing longer odds")
    return out


def _harm_screen(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, HarmScreen)
    sel = _window(bets, now, p.lookback())
    points = harm_points(p, sel)
    if len(points) < p.min_points:
        return []
    return [
        Hit(
            Metric(name="harm_points", value=len(points), threshold=p.min_points, unit="points"),
            sel,
            f"scored {len(points)} harm screens",
            f"In the last {_minutes(p.window_minutes)}: {'; '.join(points)}.",
        )
    ]


def _bet_run(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    """`bets` here are the recent bets of every subject with activity in the window (the service
    gathers them); a hit's alert is about the selection, not one bettor."""
    assert isinstance(p, BetRun)
    by_selection: dict[str, list[WindowBet]] = {}
    for b in _window(bets, now, p.lookback()):
        for sel in set(b.selections):
            by_selection.setdefault(sel, []).append(b)
    hits = []
    for sel, backed in sorted(by_selection.items()):
        bettors = {b.customer_id for b in backed if b.customer_id}
        if len(bettors) < p.min_bettors:
            continue
        event, _, name = sel.partition("|")
        shown = name.rpartition("|")[2] or sel
        hits.append(
            Hit(
                Metric(name="bettors", value=len(bettors), threshold=p.min_bettors, unit="customers"),
                backed,
                f"bet run on {shown} ({event})",
                f"{len(bettors)} different customers backed {shown} in {event} within "
                f"{_minutes(p.window_minutes)} ({len(backed)} bets).",
                subject=SubjectRef(SubjectKind.selection, _slug(sel)),
            )
        )
    return hits


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:-]+", "-", text)[:120].strip("-") or "selection"


def _beats_sp(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, BeatsSp)
    sel = [b for b in _window(bets, now, p.lookback()) if b.sp_compared]
    compared = sum(b.sp_compared for b in sel)
    beaten = sum(b.sp_beaten for b in sel)
    if compared < p.min_selections or beaten / compared < p.min_share:
        return []
    return [
        Hit(
            Metric(name="share_above_sp", value=round(beaten / compared, 3), threshold=p.min_share, unit="ratio"),
            sel,
            f"beat the SP on {beaten} of {compared} selections",
            f"{beaten} of {compared} settled selections in the last {p.window_days} days were taken at a "
            f"price above the starting price.",
        )
    ]


def _multi_account(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, MultiAccount)
    customers = sorted(set(ctx.linked_customers))
    if len(customers) < p.min_customers:
        return []
    return [
        Hit(
            Metric(name="linked_customers", value=len(customers), threshold=p.min_customers, unit="customers"),
            bets[-20:],
            f"linked to {len(customers)} customer accounts",
            f"Linked to {len(customers)} customer accounts: {', '.join(customers[:10])}.",
        )
    ]


def _client_category(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, ClientCategoryParams)
    if not bets or ctx.category not in p.categories:
        return []
    newest = bets[-1]
    return [
        Hit(
            Metric(name="category_bets", value=1, threshold=1, unit="bets"),
            [newest],
            f"bet while {str(ctx.category).replace('_', ' ')}",
            f"A bet of {format_minor(newest.stake_minor, ctx.currency)} at {newest.placed_at:%H:%M} UTC by a customer "
            f"staff put in the category {ctx.category}.",
        )
    ]


def _knockbacks(p: Params, bets: list[WindowBet], now: datetime, ctx: Context) -> list[Hit]:
    assert isinstance(p, Knockbacks)
    start = now - p.lookback()
    kbs = [k for k in ctx.knockbacks if start <= k.attempted_at <= now]
    placed = _window(bets, now, p.lookback())
    pct = 100 * len(kbs) / (len(kbs) + len(placed)) if kbs else 0.0
    if len(kbs) < p.min_count or (p.min_kb_pct is not None and pct < p.min_kb_pct):
        return []
    span = _minutes(p.window_minutes)
    liability = sum(1 for k in kbs if k.liability_exceeded)
    asked = format_minor(sum(k.stake_minor for k in kbs), ctx.currency)
    return [
        Hit(
            Metric(name="knockbacks", value=len(kbs), threshold=p.min_count, unit="knockbacks"),
            placed,
            f"{len(kbs)} knockbacks in {span} (KB {pct:.0f} %)",
            f"{len(kbs)} bets refused in the last {span} ({liability} over the liability limit; {asked} asked "
            f"for), against {len(placed)} bets placed: KB {pct:.1f} %. Knockbacks: "
            f"{', '.join(k.knockback_id for k in kbs[-10:])}.",
        )
    ]


EVALUATORS: dict[str, Evaluator] = {
    "stake_window": _stake_window,
    "bet_count": _bet_count,
    "loss_window": _loss_window,
    "structuring": _structuring,
    "sudden_change": _sudden_change,
    "overnight": _overnight,
    "harm_screen": _harm_screen,
    "bet_run": _bet_run,
    "beats_sp": _beats_sp,
    "multi_account": _multi_account,
    "client_category": _client_category,
    "knockbacks": _knockbacks,
}


@dataclass(frozen=True)
class Seed:
    rule_id: str
    spec: RuleSpec
    notes: list[str] = field(default_factory=list)


def default_rules(window_hours: int = 24, threshold_minor: int = 50_000) -> list[Rule]:
    """Seeded, active, on first start: the stake rule for customers and writers, velocity,
    structuring and the harm screener. Every other kind is created through the API."""
    window = window_hours * 60
    specs = {
        "stake_window_customer": RuleSpec(
            name=f"Customer stake over {format_minor(threshold_minor, 'GBP')} in {window_hours} h",
            subject_kind=SubjectKind.customer,
            params=StakeWindow(window_minutes=window, threshold_minor=threshold_minor),
        ),
        "stake_window_writer": RuleSpec(
            name=f"Writer stake over {format_minor(threshold_minor, 'GBP')} in {window_hours} h",
            subject_kind=SubjectKind.writer,
            params=StakeWindow(window_minutes=window, threshold_minor=threshold_minor),
        ),
        "velocity_customer": RuleSpec(
            name="Velocity: 10 bets in 60 s",
            subject_kind=SubjectKind.customer,
            params=BetCount(window_seconds=60, count=10),
            bands=[Band(min_ratio=1, severity="high"), Band(min_ratio=2, severity="critical")],
        ),
        "structuring_customer": RuleSpec(
            name=f"Structuring: 3 stakes at 90-99 % of {format_minor(threshold_minor, 'GBP')} in 24 h",
            subject_kind=SubjectKind.customer,
            params=Structuring(threshold_minor=threshold_minor),
            bands=[Band(min_ratio=1, severity="high"), Band(min_ratio=2, severity="critical")],
        ),
        "structuring_writer": RuleSpec(
            name=f"Structuring by an anonymous writer: 3 stakes at 90-99 % of {format_minor(threshold_minor, 'GBP')}",
            subject_kind=SubjectKind.writer,
            params=Structuring(threshold_minor=threshold_minor),
            bands=[Band(min_ratio=1, severity="high"), Band(min_ratio=2, severity="critical")],
        ),
        "self_excluded_customer": RuleSpec(
            name="A bet by a self-excluded customer",
            subject_kind=SubjectKind.customer,
            params=ClientCategoryParams(categories=["self_excluded"]),
            bands=[Band(min_ratio=1, severity="critical")],
            cooldown_minutes=1,
        ),
        "harm_screen_customer": RuleSpec(
            name="Harm screener: two or more screens in 24 h",
            subject_kind=SubjectKind.customer,
            params=HarmScreen(),
            bands=[Band(min_ratio=1, severity="medium"), Band(min_ratio=2, severity="high")],
        ),
    }
    return [Rule(rule_id=rid, version=1, **spec.model_dump()) for rid, spec in specs.items()]


def window_bet_of(bet: Bet, has_slip: bool = False) -> WindowBet:
    """A recorded bet as rules see it (before any settlement)."""
    odds: float | None = 1.0
    for s in bet.selections:
        odds = None if odds is None or s.decimal_odds is None else odds * s.decimal_odds
    return WindowBet(
        bet_id=bet.bet_id,
        stake_minor=bet.stake_minor,
        placed_at=bet.placed_at,
        shop_id=bet.shop_id,
        has_slip=has_slip,
        customer_id=bet.customer_id,
        channel=bet.channel.value,
        odds=round(odds, 4) if odds is not None else None,
        selections=tuple(f"{s.event}|{s.market}|{s.selection}".lower() for s in bet.selections),
    )


def stored_window_bet(bet: Bet, has_slip: bool = False) -> WindowBet:
    """A recorded bet as a subject's history read returns it: the rules' view and the risk model's."""
    return replace(window_bet_of(bet, has_slip), past=PastBet.from_bet(bet.model_dump(mode="json")))
