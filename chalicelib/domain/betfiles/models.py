"""What a bet file holds once parsed: a website bet, a knockback or an SMS wager (pydantic, `kind` tells)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

from chalicelib.domain.betfiles.text import parse_race_time
from chalicelib.domain.bets import BetType, Channel
from chalicelib.domain.money import parse_odds
from chalicelib.domain.sms_wager import ParsedSmsBet

# The same pattern as the API's ids (chalicelib.domain.bets.Id), so a parsed file always passes BetIn.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{7,14}$")]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, v: Any) -> Any:
        return v.astimezone(UTC) if isinstance(v, datetime) else v


class FileSelection(Record):
    """One selection line: 'Ascot, 14:30, - Sea Bird at 5.5'."""

    event: str = Field(description="'14:30 Ascot': the race time first, as BetIn and results name events.")
    meeting: str
    race_time: str | None = Field(None, description="'HH:MM' UK local, as printed.")
    selection: str
    price: str = Field(description="'5.5', '9/2', 'evs' or 'SP'.")
    sport: str

    @property
    def decimal_odds(self) -> Decimal | None:
        return parse_odds(self.price)

    def selection_fields(self) -> dict[str, Any]:
        return {"event": self.event, "market": "win", "selection": self.selection, "price": self.price}


class WebsiteBet(Record):
    kind: Literal["bet"] = "bet"
    wager_number: Id
    customer_ref: Id
    risk_category: str | None = Field(None, description="The operator's customer risk letter, e.g. 'W'.")
    placed_at: AwareDatetime
    placed_at_ambiguous: bool = Field(default=False, description="In the repeated autumn hour (BST taken).")
    selections: list[FileSelection] = Field(min_length=1, max_length=20)
    wager_name: str = Field(description="As the 'Wagers' line wrote it, e.g. 'Lucky 15'.")
    bet_type: BetType
    each_way: bool
    lines: int = Field(ge=1)
    unit_stake: Decimal = Field(description="Pounds per line.")
    stake: Decimal = Field(description="Pounds paid (the 'Payment'): unit stake × lines.")
    currency: Literal["GBP"] = "GBP"
    sport: str

    @property
    def stake_minor(self) -> int:
        return int(self.stake.scaleb(2))

    def bet_fields(self) -> dict[str, Any]:
        """The bet as BetIn's fields (plain dict): `BetIn.model_validate(record.bet_fields())`."""
        return {
            "bet_id": self.wager_number,
            "customer_id": self.customer_ref,
            "channel": Channel.online.value,
            "stake": str(self.stake),
            "currency": self.currency,
            "bet_type": self.bet_type.value,
            "each_way": self.each_way,
            "selections": [s.selection_fields() for s in self.selections],
            "sport": self.sport,
            "placed_at": self.placed_at.isoformat(),
        }


class KnockbackSelection(Record):
    meeting: str = Field(description="As written: 'Ascot', 'Ascot 14:30' or '14:30 Ascot'.")
    selection: str
    price: str

    @property
    def event(self) -> str:
        """'Ascot 14:30' → '14:30 Ascot', the bets' spelling of events, so the two can be compared."""
        words = self.meeting.split()
        times = [w for w in words if parse_race_time(w)]
        if len(times) != 1:
            return self.meeting
        rest = " ".join(w for w in words if w != times[0]).strip(" ,")
        return f"{parse_race_time(times[0])} {rest}" if rest else self.meeting

    @property
    def decimal_odds(self) -> Decimal | None:
        return parse_odds(self.price)


class Knockback(Record):
    """A bet the operator's system refused (or cut down): why, and what it would have taken instead."""

    kind: Literal["knockback"] = "knockback"
    knockback_id: Id
    customer_ref: Id
    error_message: str
    liability_exceeded: bool
    max_stake_minor: int | None = Field(None, ge=0, description="Pence offered instead; None when not given.")
    attempted_at: AwareDatetime
    attempted_at_ambiguous: bool = False
    selections: list[KnockbackSelection] = Field(min_length=1)
    wager_name: str
    bet_type: BetType | None = Field(None, description="wager_name as a BetType, when it is one.")
    each_way: bool = False
    total_stake_minor: int = Field(ge=0, description="Pence the customer asked to stake.")
    currency: Literal["GBP"] = "GBP"


class SmsWager(Record):
    """A wager texted in. The mobile number is personal data: kept normalised, out of repr and logs."""

    kind: Literal["sms"] = "sms"
    wager_number: Id
    customer_ref: Id
    mobile_number: E164 = Field(repr=False)
    text: str = Field(min_length=1)
    received_at: AwareDatetime | None = Field(None, description="From a date/time line, when the file has one.")
    received_at_ambiguous: bool = False
    parsed: ParsedSmsBet | None = Field(None, description="The text as a bet, when it is one in a common form.")

    @property
    def masked_mobile(self) -> str:
        """For logs and screens: '+4477009•••••'."""
        return self.mobile_number[:-5] + "•" * 5

    def bet_fields(self, received_at: datetime | None = None) -> dict[str, Any] | None:
        """The parsed text as BetIn's fields, or None when staff must read it.

        placed_at is the file's own date/time line when it has one, else `received_at` (the S3 object's
        time, say); ValueError when there is neither.
        """
        if self.parsed is None:
            return None
        placed_at = self.received_at or received_at
        if placed_at is None:
            raise ValueError("an SMS wager without a date/time line needs received_at")
        if placed_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        p = self.parsed
        return {
            "bet_id": self.wager_number,
            "customer_id": self.customer_ref,
            "channel": Channel.sms.value,
            "stake": str(p.stake),
            "currency": "GBP",
            "bet_type": BetType.single.value,
            "each_way": p.each_way,
            "selections": [p.selection_fields()],
            "sport": p.sport,
            "placed_at": placed_at.astimezone(UTC).isoformat(),
        }


BetFileRecord = Annotated[WebsiteBet | Knockback | SmsWager, Field(discriminator="kind")]
RECORD_ADAPTER: TypeAdapter[WebsiteBet | Knockback | SmsWager] = TypeAdapter(BetFileRecord)
