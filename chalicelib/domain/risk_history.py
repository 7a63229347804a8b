"""What the risk model reads about a subject's earlier bets (pure: pydantic only, no AWS).

The bet path stores one item per past bet carrying exactly :class:`PastBet`'s fields (about
150 bytes) and reads them back with the one history Query. :class:`SubjectHistory` is that list,
oldest first, plus the staff-set state the scorer honours (whitelist until, client category).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chalicelib.domain.bets import BetType, Channel

HISTORY_DAYS = 30
MAX_PAST_BETS = 500  # most recent bets kept in a SubjectHistory (and read by the Query)


class PastLeg(BaseModel):
    """One selection of a past bet: enough to tell the same market and its side again."""

    model_config = ConfigDict(frozen=True)

    event: str
    market: str
    selection: str
    odds: float | None = None  # decimal odds; None for SP


class PastBet(BaseModel):
    """One earlier bet of the subject, as stored per bet per subject."""

    model_config = ConfigDict(frozen=True)

    bet_id: str
    placed_at: AwareDatetime
    stake_minor: int = Field(gt=0)
    channel: Channel
    bet_type: BetType
    each_way: bool = False
    shop_id: str | None = None
    device_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    legs: list[PastLeg] = Field(default_factory=list)
    sport: str = ""

    @classmethod
    def from_bet(cls, bet: dict[str, Any]) -> PastBet:
        """From a stored bet, e.g. ``Bet.model_dump(mode="json")`` (``schemas.Bet``)."""
        loc = bet.get("location") or {}
        placed = bet["placed_at"]
        return cls(
            bet_id=str(bet["bet_id"]),
            placed_at=datetime.fromisoformat(placed) if isinstance(placed, str) else placed,
            stake_minor=int(bet["stake_minor"]),
            channel=Channel(bet["channel"]),
            bet_type=BetType(bet["bet_type"]),
            each_way=bool(bet.get("each_way", False)),
            shop_id=bet.get("shop_id"),
            device_id=bet.get("device_id"),
            lat=loc.get("lat"),
            lon=loc.get("lon"),
            legs=[
                PastLeg(
                    event=str(s["event"]),
                    market=str(s.get("market", "win")),
                    selection=str(s["selection"]),
                    odds=None if s.get("decimal_odds") is None else float(s["decimal_odds"]),
                )
                for s in bet.get("selections", [])
            ],
            sport=str(bet.get("sport", "")),
        )

    def to_item(self) -> dict[str, Any]:
        """A JSON-able dict (what the lead stores on the BET# item); ``PastBet(**item)`` reads it back."""
        return self.model_dump(mode="json", exclude_defaults=True)


class StaffWhitelist(BaseModel):
    """A staff decision that a subject is not to be flagged until ``until`` (the opposite of the
    watchlist). The bet-recording service stores each one as an audit record and passes the
    latest unexpired ``until`` as ``SubjectHistory.whitelisted_until``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(min_length=1, max_length=80)
    until: AwareDatetime
    by: str = Field(min_length=1, max_length=120, description="Staff principal who decided it.")
    reason: str = Field(min_length=3, max_length=500)
    created_at: AwareDatetime

    def active(self, now: datetime) -> bool:
        return self.created_at <= now < self.until

    @staticmethod
    def current_until(entries: list[StaffWhitelist], now: datetime) -> datetime | None:
        """``whitelisted_until`` for a subject from its audit records (None: not whitelisted)."""
        live = [e.until for e in entries if e.active(now)]
        return max(live) if live else None


class SubjectHistory(BaseModel):
    """A subject's (customer's or linked writer's) bets before the one being scored."""

    bets: list[PastBet] = Field(default_factory=list, description="Last 30 days, oldest first, at most 500.")
    whitelisted_until: AwareDatetime | None = Field(
        default=None, description="Staff whitelist: damp scores until then."
    )
    category: str | None = Field(
        default=None, description="Staff client category (watchlist, vip…); not a model input."
    )
    first_seen_at: AwareDatetime | None = Field(default=None, description="Account's first bet (PROFILE first_bet_at).")

    @classmethod
    def of(
        cls,
        bets: list[PastBet],
        now: datetime,
        *,
        whitelisted_until: datetime | None = None,
        category: str | None = None,
        first_seen_at: datetime | None = None,
    ) -> SubjectHistory:
        """Keep the bets of the 30 days before ``now`` (sorted, capped to the most recent 500)."""
        start = now - timedelta(days=HISTORY_DAYS)
        kept = sorted((b for b in bets if start <= b.placed_at <= now), key=lambda b: (b.placed_at, b.bet_id))
        return cls(
            bets=kept[-MAX_PAST_BETS:],
            whitelisted_until=whitelisted_until,
            category=category,
            first_seen_at=first_seen_at,
        )


__all__ = ["HISTORY_DAYS", "MAX_PAST_BETS", "PastBet", "PastLeg", "StaffWhitelist", "SubjectHistory"]
