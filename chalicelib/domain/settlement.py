"""Settling a bet against event results: a pure function, so settling twice gives the same answer.

    settlement = settle(BetToSettle.model_validate(stored_bet.model_dump()), results)

Rules (docs/bet-files.md has the worked examples):
- The stake is split evenly over the bet's lines; each line returns unit stake × the product of its
  legs' odds, rounded DOWN to the penny per line, as bookmakers pay. A bet whose every line is void
  returns its whole stake.
- A leg: winner → its odds (the price taken, or the returned SP for an SP bet); loser → 0; non-runner
  → void, odds 1 (a multiple's fold shrinks: a treble with a void leg pays as a double). A dead heat
  of k runners for the last m paid places pays m/k of the stake at full odds.
- Each-way: every line is a win line and a place line. The place line pays 1 + (odds - 1) × the
  result's fraction (1/4, 1/5) when the runner finishes within the places paid; an event without
  each-way terms voids the place lines (stake returned).
- Full-cover bets (trixie … goliath) are every double, treble … up to the n-fold of their selections;
  patent, lucky 15/31/63 add the singles.
- Forecast and tricast lines pay the declared dividend (per £1) when the selections finish 1-2(-3) in
  order; a non-runner voids the line; a dead heat in the placings leaves the bet open for a person.
- A bet with a leg still to run stays open (returns None), unless every line it is on has lost.
- Not handled (open for a person or not modelled): Rule 4 deductions, Lucky 15 bonuses and
  consolation odds, combination forecasts/tricasts, each-way forecasts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from itertools import combinations, permutations
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.bets import BET_SHAPES, BetType
from chalicelib.domain.results import EventResult, event_key, exact_odds

Outcome = Literal["won", "placed", "lost", "void", "open"]
Part = Literal["win", "place", "forecast", "tricast"]

FULL_COVER_MIN_FOLD: dict[BetType, int] = {
    BetType.trixie: 2, BetType.patent: 1, BetType.yankee: 2, BetType.lucky15: 1, BetType.canadian: 2,
    BetType.lucky31: 1, BetType.heinz: 2, BetType.lucky63: 1, BetType.super_heinz: 2, BetType.goliath: 2,
}  # fmt: skip
FORECASTS = {BetType.forecast: 2, BetType.reverse_forecast: 2, BetType.tricast: 3}


class SelectionToSettle(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event: str
    market: str = "win"
    selection: str
    price: str = Field(description="As taken: '9/2', '5.5', 'evs' or 'SP'.")

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, v: Any) -> Any:
        exact_odds(v)
        return v if isinstance(v, str) else str(v)


class BetToSettle(BaseModel):
    """A stored bet's settlement fields; extra fields are ignored, so a stored Bet's model_dump() will do."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    bet_id: str | None = None
    bet_type: BetType
    each_way: bool = False
    stake_minor: int = Field(gt=0)
    lines: int | None = Field(None, description="Checked against bet_type and each_way when given.")
    selections: list[SelectionToSettle] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _shape(self) -> BetToSettle:
        (lo, hi), _ = BET_SHAPES[self.bet_type]
        if not lo <= len(self.selections) <= hi:
            raise ValueError(f"a {self.bet_type.value} takes {lo}-{hi} selections, got {len(self.selections)}")
        if self.bet_type in FORECASTS and self.is_each_way:
            raise ValueError(f"a {self.bet_type.value} cannot be each-way")
        if self.lines is not None and self.lines != self.line_count:
            raise ValueError(f"lines is {self.lines}, but a {self.bet_type.value} has {self.line_count}")
        return self

    @property
    def is_each_way(self) -> bool:
        return self.each_way or self.bet_type == BetType.each_way

    @property
    def line_count(self) -> int:
        base = 1 if self.bet_type == BetType.each_way else BET_SHAPES[self.bet_type][1]
        return base * (2 if self.is_each_way else 1)


class LegSettlement(BaseModel):
    model_config = ConfigDict(frozen=True)

    event: str
    selection: str
    outcome: Outcome
    position: int | None = None
    dead_heat: int = Field(1, description="Runners sharing the position.")
    odds: Decimal | None = Field(None, description="Decimal odds settled at: the price taken, or the SP.")
    at_sp: bool = False
    starting_price: Decimal | None = Field(None, description="The runner's returned SP, for beats-SP rules.")
    reason: str | None = None


class LineSettlement(BaseModel):
    model_config = ConfigDict(frozen=True)

    legs: list[int] = Field(description="Indexes into the bet's selections, in order.")
    part: Part
    outcome: Literal["won", "lost", "void", "open"]
    returns_minor: int | None


class Settlement(BaseModel):
    model_config = ConfigDict(frozen=True)

    bet_id: str | None
    state: Literal["settled", "void", "open"]
    stake_minor: int
    returns_minor: int | None
    profit_minor: int | None
    legs: list[LegSettlement]
    lines: list[LineSettlement]
    reasons: list[str] = Field(default_factory=list, description="Why the bet is still open.")


class _Leg:
    """A leg's multipliers: None while open, 0 when lost, 1 when void."""

    def __init__(self, report: LegSettlement, win: Fraction | None, place: Fraction | None) -> None:
        self.report, self.win, self.place = report, win, place


def _as_decimal(f: Fraction) -> Decimal:
    return (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("0.0001"))


def _report(sel: SelectionToSettle, outcome: Outcome, **details: Any) -> LegSettlement:
    return LegSettlement(event=sel.event, selection=sel.selection, outcome=outcome, **details)


def _settle_leg(sel: SelectionToSettle, result: EventResult | None, each_way: bool) -> _Leg:
    if result is None:
        return _Leg(_report(sel, "open", reason=f"no result for {sel.event}"), None, None)
    if result.is_non_runner(sel.selection):
        return _Leg(_report(sel, "void", reason="non-runner"), Fraction(1), Fraction(1))
    if not result.is_declared(sel.selection):
        reason = f"{sel.selection} is not among the runners of {result.event}"
        return _Leg(_report(sel, "open", reason=reason), None, None)
    placing = result.placing(sel.selection)
    terms = result.each_way
    # no place terms for this event: an each-way bet's place part is returned, however the runner ran
    void_place = Fraction(1) if each_way and terms is None else None
    places_paid = terms.places if (each_way and terms) else 1
    if placing is None or placing.position > places_paid:
        lost = Fraction(0)
        return _Leg(_report(sel, "lost"), lost, void_place if void_place is not None else lost)
    taken = exact_odds(sel.price)
    odds = taken if taken is not None else result.starting_price(sel.selection)
    if odds is None:
        reason = f"no starting price for {sel.selection} in the result"
        return _Leg(_report(sel, "open", position=placing.position, reason=reason), None, None)

    def share(places: int) -> Fraction:
        # k runners dead-heat at position p: of the places p..p+k-1, only those within `places` are paid.
        paid = min(placing.dead_heat, places - placing.position + 1)
        return Fraction(max(paid, 0), placing.dead_heat)

    win = odds * share(1) if placing.position == 1 else Fraction(0)
    place: Fraction | None = void_place
    if each_way and terms is not None:
        place = (1 + (odds - 1) * terms.odds_fraction) * share(terms.places)
    report = _report(
        sel,
        "won" if placing.position == 1 else "placed",
        position=placing.position,
        dead_heat=placing.dead_heat,
        odds=_as_decimal(odds),
        at_sp=taken is None,
    )
    return _Leg(report, win, place)


def _with_sp(report: LegSettlement, result: EventResult | None) -> LegSettlement:
    sp = result.starting_price(report.selection) if result else None
    return report.model_copy(update={"starting_price": _as_decimal(sp)}) if sp is not None else report


def _forecast_leg(sel: SelectionToSettle, result: EventResult | None) -> LegSettlement:
    """A forecast's legs are reported by where they finished; the lines carry the money."""
    if result is None:
        return _report(sel, "open", reason=f"no result for {sel.event}")
    if result.is_non_runner(sel.selection):
        return _report(sel, "void", reason="non-runner")
    placing = result.placing(sel.selection)
    if placing is None:
        return _report(sel, "lost")
    outcome: Outcome = "won" if placing.position == 1 else "placed"
    return _report(sel, outcome, position=placing.position, dead_heat=placing.dead_heat)


def _combos(bet: BetToSettle) -> list[tuple[int, ...]]:
    n = len(bet.selections)
    if bet.bet_type in FULL_COVER_MIN_FOLD:
        low = FULL_COVER_MIN_FOLD[bet.bet_type]
        return [c for k in range(low, n + 1) for c in combinations(range(n), k)]
    if bet.bet_type == BetType.reverse_forecast:
        return list(permutations(range(n)))
    return [tuple(range(n))]


def _fold(multipliers: Iterable[Fraction | None]) -> tuple[str, Fraction | None]:
    """A line's outcome and odds product from its legs' multipliers."""
    ms = list(multipliers)
    if any(m == 0 for m in ms):
        return "lost", Fraction(0)  # lost whatever the open legs do
    if any(m is None for m in ms):
        return "open", None
    product = math.prod((m for m in ms if m is not None), start=Fraction(1))
    return ("void" if all(m == 1 for m in ms) else "won"), product


def _forecast_line(
    bet: BetToSettle, order: tuple[int, ...], result: EventResult | None
) -> tuple[str, Fraction | None, str | None]:
    sels = [bet.selections[i] for i in order]
    if result is None:
        return "open", None, f"no result for {sels[0].event}"
    if any(result.is_non_runner(s.selection) for s in sels):
        return "void", Fraction(1), None
    n = len(sels)
    placings = [result.placing(s.selection) for s in sels]
    in_order = all(p is not None and p.position == i + 1 for i, p in enumerate(placings))
    if result.has_dead_heat_within(n) and (in_order or any(p and p.position <= n for p in placings)):
        return "open", None, f"a dead heat in the first {n} of {result.event}: settle the {bet.bet_type.value} by hand"
    if not in_order:
        return "lost", Fraction(0), None
    dividend = result.forecast_dividend if n == 2 else result.tricast_dividend
    if dividend is None:
        name = "forecast" if n == 2 else "tricast"
        return "open", None, f"no {name} dividend in the result of {result.event}"
    return "won", Fraction(dividend), None


def _index(results: Mapping[str, EventResult] | Iterable[EventResult]) -> dict[str, EventResult]:
    values = results.values() if isinstance(results, Mapping) else results
    return {r.key: r for r in values}


def settle(bet: BetToSettle, results: Mapping[str, EventResult] | Iterable[EventResult]) -> Settlement:
    """The bet's settlement given the results known so far (keyed by anything: events match by name)."""
    by_event = _index(results)
    each_way = bet.is_each_way
    found = [by_event.get(event_key(s.event)) for s in bet.selections]
    unit = Fraction(bet.stake_minor, bet.line_count)
    lines: list[LineSettlement] = []
    reasons: list[str] = []
    reports: list[LegSettlement]

    if bet.bet_type in FORECASTS:
        reports = [_forecast_leg(s, r) for s, r in zip(bet.selections, found, strict=True)]
        for order in _combos(bet):
            outcome, odds, reason = _forecast_line(bet, order, found[order[0]])
            if reason:
                reasons.append(reason)
            part: Part = "forecast" if FORECASTS[bet.bet_type] == 2 else "tricast"
            returns = None if odds is None else math.floor(unit * odds)
            lines.append(LineSettlement(legs=list(order), part=part, outcome=outcome, returns_minor=returns))  # type: ignore[arg-type]
    else:
        legs = [_settle_leg(s, r, each_way) for s, r in zip(bet.selections, found, strict=True)]
        reports = [_with_sp(leg.report, r) for leg, r in zip(legs, found, strict=True)]
        reasons += [leg.report.reason for leg in legs if leg.report.outcome == "open" and leg.report.reason]
        for combo in _combos(bet):
            parts: list[Part] = ["win", "place"] if each_way else ["win"]
            for p in parts:
                outcome, odds = _fold(legs[i].win if p == "win" else legs[i].place for i in combo)
                returns = None if odds is None else math.floor(unit * odds)
                lines.append(LineSettlement(legs=list(combo), part=p, outcome=outcome, returns_minor=returns))  # type: ignore[arg-type]

    assert len(lines) == bet.line_count, (bet.bet_type, len(lines))
    if any(line.outcome == "open" for line in lines):
        return Settlement(
            bet_id=bet.bet_id, state="open", stake_minor=bet.stake_minor, returns_minor=None,
            profit_minor=None, legs=reports, lines=lines, reasons=sorted(set(reasons)),
        )  # fmt: skip
    if all(line.outcome == "void" for line in lines):
        state, total = "void", bet.stake_minor  # the whole stake back, no penny lost to the split
    else:
        state, total = "settled", sum(line.returns_minor or 0 for line in lines)
    return Settlement(
        bet_id=bet.bet_id, state=state, stake_minor=bet.stake_minor, returns_minor=total,  # type: ignore[arg-type]
        profit_minor=total - bet.stake_minor, legs=reports, lines=lines, reasons=[],
    )  # fmt: skip
