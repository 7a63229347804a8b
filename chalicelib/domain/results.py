"""An event's result as settlement needs it: finishing order (dead heats), starting prices, non-runners,
each-way terms and the forecast/tricast dividends. JSON form (POST /results and result files):

    {"event": "14:30 Ascot", "date": "2025-05-01",
     "positions": [["Sea Bird"], ["Blue Moon", "Red Sky"], ["Kauto Star"]],
     "starting_prices": {"Sea Bird": "9/2", "Blue Moon": "3.5"},
     "non_runners": ["Late Show"],
     "each_way": {"places": 3, "fraction": "1/4"},
     "forecast_dividend": "23.45", "tricast_dividend": null}

`positions` lists the finishers in order, a group per position; a group of k runners is a dead heat,
and the next group finishes k places lower (above: Blue Moon and Red Sky dead-heat for 2nd, Kauto Star
is 4th). A plain string stands for a group of one. Runners not listed and not non-runners have lost.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from chalicelib.domain.money import parse_odds

_SUFFIX = re.compile(r"\s*\((?:[a-z]{2,3})\)\s*$")  # 'Sea Bird (IRE)' is 'Sea Bird'
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def runner_key(name: str) -> str:
    """How runners are matched: case, spacing, apostrophes and a country suffix do not count."""
    text = _SUFFIX.sub("", " ".join(name.lower().split()))
    return re.sub(r"['’`.]", "", text)


def event_key(name: str) -> str:
    """How events are matched: 'Ascot 14:30', '14.30 ascot' and '14:30 Ascot' are the same event."""
    words = name.lower().replace(",", " ").split()
    times = [w for w in words if _TIME.match(w)]
    if len(times) != 1:
        return " ".join(words)
    h, m = _TIME.match(times[0]).groups()  # type: ignore[union-attr]
    rest = [w for w in words if w != times[0]]
    return " ".join([f"{int(h):02d}:{m}", *rest])


def exact_odds(price: str | Decimal | int | float) -> Fraction | None:
    """Decimal odds as an exact fraction ('1/3' → 4/3, not 1.3333); None for 'SP'. ValueError if not a price."""
    decimal = parse_odds(price)  # validates and names the problem
    if decimal is None:
        return None
    if isinstance(price, str) and "/" in price:
        num, _, den = price.strip().partition("/")
        return Fraction(int(num), int(den)) + 1
    if isinstance(price, str):
        return Fraction(decimal)
    return Fraction(Decimal(str(price)))


class EachWayTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    places: int = Field(ge=1, le=10, description="Places paid, e.g. 3.")
    fraction: str = Field(description="Of the win odds, e.g. '1/4' or '1/5'.", examples=["1/4"])

    @field_validator("fraction")
    @classmethod
    def _fraction(cls, v: str) -> str:
        try:
            f = Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"each-way fraction {v!r} is not of the form '1/4'") from None
        if not 0 < f <= 1:
            raise ValueError("each-way fraction must be more than 0 and at most 1")
        return f"{f.numerator}/{f.denominator}"

    @property
    def odds_fraction(self) -> Fraction:
        return Fraction(self.fraction)


class Placing(NamedTuple):
    position: int  # 1 = first
    dead_heat: int  # runners sharing the position (1 = no dead heat)


class EventResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str = Field(min_length=1, description="As bets name it: '14:30 Ascot'.")
    date: dt.date | None = Field(None, description="For finding the event's bets; settlement does not read it.")
    positions: list[list[str]] = Field(min_length=1)
    starting_prices: dict[str, str] = Field(default_factory=dict)
    non_runners: list[str] = Field(default_factory=list)
    runners: list[str] | None = Field(None, description="Every declared runner; a bet on another stays open.")
    each_way: EachWayTerms | None = Field(None, description="None: no place terms (each-way place parts void).")
    forecast_dividend: Decimal | None = Field(None, gt=0, description="Computer straight forecast, per £1.")
    tricast_dividend: Decimal | None = Field(None, gt=0, description="Tricast dividend, per £1.")

    @field_validator("positions", mode="before")
    @classmethod
    def _groups(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [[g] if isinstance(g, str) else g for g in v]
        return v

    @field_validator("starting_prices", mode="before")
    @classmethod
    def _sps(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = {}
        for runner, price in v.items():
            if parse_odds(price) is None:
                raise ValueError(f"starting price of {runner} cannot be 'SP'")
            out[runner] = price if isinstance(price, str) else str(price)
        return out

    @model_validator(mode="after")
    def _consistent(self) -> EventResult:
        seen: set[str] = set()
        for group in self.positions:
            if not group:
                raise ValueError("positions: a position with no runners")
            for runner in group:
                key = runner_key(runner)
                if key in seen:
                    raise ValueError(f"positions: {runner} finishes twice")
                seen.add(key)
        for nr in self.non_runners:
            if runner_key(nr) in seen:
                raise ValueError(f"non_runners: {nr} is also placed")
        return self

    @property
    def key(self) -> str:
        return event_key(self.event)

    def placing(self, runner: str) -> Placing | None:
        key = runner_key(runner)
        position = 1
        for group in self.positions:
            if key in {runner_key(r) for r in group}:
                return Placing(position, len(group))
            position += len(group)
        return None

    def is_non_runner(self, runner: str) -> bool:
        return runner_key(runner) in {runner_key(r) for r in self.non_runners}

    def is_declared(self, runner: str) -> bool:
        """False only when `runners` is given and the runner is nowhere in the result."""
        if self.runners is None:
            return True
        keys = {runner_key(r) for r in self.runners}
        return runner_key(runner) in keys or self.placing(runner) is not None or self.is_non_runner(runner)

    def starting_price(self, runner: str) -> Fraction | None:
        key = runner_key(runner)
        for name, price in self.starting_prices.items():
            if runner_key(name) == key:
                return exact_odds(price)
        return None

    def has_dead_heat_within(self, places: int) -> bool:
        position = 1
        for group in self.positions:
            if position > places:
                return False
            if len(group) > 1:
                return True
            position += len(group)
        return False


class ResultFileError(ValueError):
    """A results file that is not results: the message names the place ('1.positions: ...')."""


_RESULTS = TypeAdapter(list[EventResult])


def parse_result_file(data: bytes) -> list[EventResult]:
    """A results file (the JSON of POST /results): one result object, or a list of them."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"not a JSON document ({exc})") from None
    try:
        return _RESULTS.validate_python(doc if isinstance(doc, list) else [doc])
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            if not isinstance(doc, list):
                loc = loc[1:]  # a single object: no list index to name
            parts.append(f"{'.'.join(loc) or 'result'}: {err['msg'].removeprefix('Value error, ')}")
        raise ResultFileError("; ".join(parts)) from None
