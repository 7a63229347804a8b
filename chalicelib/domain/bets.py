"""Bets as the business knows them: channels, bet types and their shapes, the bet a till or a
file reports (validated) and the bet as stored. Pure Python + pydantic: no boto3, no HTTP.

Every input model forbids unknown fields and names the field in its errors. Money arrives in major
units (a JSON number or string with at most 2 decimal places) and is kept as integer minor units;
times must carry a timezone and are kept in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.domain.money import MINOR_EXPONENT, parse_odds, to_minor
from chalicelib.domain.risk import RiskAssessment
from chalicelib.domain.strings import SafeText


class Channel(StrEnum):
    online = "online"
    retail = "retail"
    sms = "sms"


class BetType(StrEnum):
    single = "single"
    each_way = "each_way"
    double = "double"
    treble = "treble"
    accumulator = "accumulator"
    forecast = "forecast"
    reverse_forecast = "reverse_forecast"
    tricast = "tricast"
    trixie = "trixie"
    patent = "patent"
    yankee = "yankee"
    lucky15 = "lucky15"
    canadian = "canadian"
    lucky31 = "lucky31"
    heinz = "heinz"
    lucky63 = "lucky63"
    super_heinz = "super_heinz"
    goliath = "goliath"


# Bet type -> (selections required (min, max), lines per unit stake).
BET_SHAPES: dict[BetType, tuple[tuple[int, int], int]] = {
    BetType.single: ((1, 1), 1),
    BetType.each_way: ((1, 1), 2),
    BetType.double: ((2, 2), 1),
    BetType.treble: ((3, 3), 1),
    BetType.accumulator: ((4, 20), 1),
    BetType.forecast: ((2, 2), 1),
    BetType.reverse_forecast: ((2, 2), 2),
    BetType.tricast: ((3, 3), 1),
    BetType.trixie: ((3, 3), 4),
    BetType.patent: ((3, 3), 7),
    BetType.yankee: ((4, 4), 11),
    BetType.lucky15: ((4, 4), 15),
    BetType.canadian: ((5, 5), 26),
    BetType.lucky31: ((5, 5), 31),
    BetType.heinz: ((6, 6), 57),
    BetType.lucky63: ((6, 6), 63),
    BetType.super_heinz: ((7, 7), 120),
    BetType.goliath: ((8, 8), 247),
}


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Text = SafeText

MAX_FUTURE_SKEW = timedelta(minutes=5)
# No bet is older than this (history imports included); live bets have a tighter window (settings).
MIN_PLACED_AT = datetime(2000, 1, 1, tzinfo=UTC)
# A stake given as a string: plain digits and at most one point ("1_000", "1e3", " 5" are refused).
STAKE_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SelectionIn(StrictModel):
    event: Text = Field(description="Event, e.g. '14:30 Cheltenham' or 'Arsenal v Spurs'.")
    market: Text = Field("win", description="Market, e.g. 'win', 'match odds', 'correct score'.")
    selection: Text = Field(description="What was backed, e.g. 'Desert Orchid'.")
    price: str | Decimal = Field(
        description="Odds: decimal (2.5), fractional ('5/2', 'evs') or 'SP' (starting price).",
        examples=["5/2", 3.5, "SP"],
    )

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, v: Any) -> Any:
        parse_odds(v)  # raises ValueError naming the problem
        return v if isinstance(v, str) else Decimal(str(v))

    @property
    def decimal_odds(self) -> Decimal | None:
        return parse_odds(self.price)


class Location(StrictModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class BetIn(StrictModel):
    """A bet as a till, website or SMS gateway reports it."""

    # The cross-field rule a schema can say: a retail bet names its shop.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "allOf": [{"if": {"properties": {"channel": {"const": "retail"}}}, "then": {"required": ["shop_id"]}}]
        },
    )

    bet_id: Id | None = Field(None, description="Client's own bet id; re-sending the same id returns the stored bet.")
    customer_id: Id | None = Field(None, description="Account id; omit for anonymous retail customers.")
    shop_id: Id | None = Field(None, description="Shop id; required for retail bets.")
    channel: Channel
    stake: Decimal = Field(
        description="Total stake paid, in major units with at most 2 decimal places.",
        examples=["25.00"],
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "GBP"
    bet_type: BetType
    each_way: bool = Field(False, description="Each-way: doubles the lines of a multiple.")
    selections: list[SelectionIn] = Field(min_length=1, max_length=20)
    sport: Text = Field(examples=["horse_racing"])
    placed_at: AwareDatetime = Field(description="When the bet was struck, with a timezone.")
    device_id: Id | None = None
    location: Location | None = None

    @field_validator("stake", mode="before")
    @classmethod
    def _stake_exact(cls, v: Any) -> Any:
        # Floats would already have lost precision: the API parses JSON numbers as Decimal.
        if isinstance(v, bool) or not isinstance(v, (str, int, Decimal)):
            raise ValueError("stake must be a number or a decimal string such as '25.00'")
        if isinstance(v, str) and not STAKE_TEXT.fullmatch(v):
            raise ValueError("stake must be digits with an optional decimal point, such as '25.00'")
        return v

    @field_validator("stake")
    @classmethod
    def _stake(cls, v: Decimal) -> Decimal:
        if not v.is_finite() or v <= 0:
            raise ValueError("stake must be greater than zero")
        if v.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("stake has more than 2 decimal places")
        if v > Decimal("1000000"):
            raise ValueError("stake must be at most 1,000,000")
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if v not in MINOR_EXPONENT:
            raise ValueError(f"currency {v} is not supported (supported: {', '.join(MINOR_EXPONENT)})")
        return v

    @field_validator("placed_at")
    @classmethod
    def _placed_at(cls, v: datetime) -> datetime:
        try:
            v = v.astimezone(UTC)
        except OverflowError as exc:  # 9999-12-31T23:59:59-23:59 is after the last representable instant
            raise ValueError("placed_at is out of range") from exc
        if v > datetime.now(UTC) + MAX_FUTURE_SKEW:
            raise ValueError("placed_at is in the future")
        if v < MIN_PLACED_AT:
            raise ValueError(f"placed_at is before {MIN_PLACED_AT:%Y-%m-%d}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> BetIn:
        (lo, hi), _ = BET_SHAPES[self.bet_type]
        n = len(self.selections)
        if not lo <= n <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ValueError(f"selections: a {self.bet_type.value} takes {want} selections, got {n}")
        if self.channel == Channel.retail and not self.shop_id:
            raise ValueError("shop_id: required for retail bets")
        return self

    @property
    def is_each_way(self) -> bool:
        """An each-way single is each-way whether or not the flag was sent."""
        return self.each_way or self.bet_type == BetType.each_way

    @property
    def lines(self) -> int:
        _, lines = BET_SHAPES[self.bet_type]
        return lines * (2 if self.each_way and self.bet_type != BetType.each_way else 1)

    @property
    def stake_minor(self) -> int:
        return to_minor(self.stake, self.currency)


class Selection(BaseModel):
    event: str
    market: str
    selection: str
    price: str
    decimal_odds: float | None


class Bet(BaseModel):
    """A stored bet."""

    bet_id: str
    customer_id: str | None
    shop_id: str | None
    channel: Channel
    stake_minor: int
    currency: str
    bet_type: BetType
    each_way: bool
    lines: int
    selections: list[Selection]
    sport: str
    placed_at: datetime
    received_at: datetime
    device_id: str | None = None
    location: Location | None = None
    # Potential return if every selection wins; None when any price is SP.
    potential_return_minor: int | None
    risk: RiskAssessment
    ingested_by: str = ""


class History(BaseModel):
    """A subject's (customer's or writer's) recent betting, read before a bet is scored."""

    bets_24h: int = 0
    stake_24h_minor: int = 0
    bets_30d: int = 0
    stake_30d_minor: int = 0
    max_stake_30d_minor: int = 0
    days_active_30d: int = 0
    seconds_since_last_bet: float | None = None
    distinct_shops_24h: int = 0
