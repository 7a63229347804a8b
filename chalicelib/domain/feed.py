"""The feed staff watch: bets (and, as they arrive, knockbacks and SMS requests) newest first."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from chalicelib.domain.subjects import ClientCategory


class FeedRow(BaseModel):
    record_type: str = Field(description="bet, knockback or sms")
    record_id: str
    cursor: str = Field(description="This row's position: pass as cursor (older) or since (newer).")
    recorded_at: str
    placed_at: str | None = None
    customer_id: str | None = None
    writer_id: str | None = None
    shop_id: str | None = None
    channel: str | None = None
    stake_minor: int | None = None
    bet_type: str | None = None
    sport: str | None = None
    selections: list[str] = Field(default_factory=list)
    risk_score: int | None = None
    risk_level: str | None = None
    bet_state: str | None = Field(default=None, description="settled or void once results settle the bet")
    profit_minor: int | None = Field(default=None, description="The customer's profit (negative: a loss) once settled")
    category: ClientCategory = ClientCategory.none
    detail: str | None = Field(default=None, description="A knockback's error message, an SMS request's text.")
    status: str | None = Field(default=None, description="knockback: refused, liability_exceeded; sms: recorded, open.")
    offered_minor: int | None = Field(default=None, description="A knockback's maximum stake offered instead.")


@dataclass(frozen=True)
class FeedFilter:
    """Row filters; the store applies those it can (attribute equality, minimum stake)."""

    customer_id: str | None = None
    writer_id: str | None = None
    shop_id: str | None = None
    channel: str | None = None
    min_stake_minor: int | None = None
    risk_levels: tuple[str, ...] = ()
    record_type: str | None = None
    sport: str | None = None
    selection: str | None = None  # a case-insensitive part of a selection's name
