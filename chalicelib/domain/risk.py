"""The risk verdict on one bet, as the API returns and stores it (``domain.bets`` imports it from here).
Pure pydantic: nothing of the model runtime."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["low", "medium", "high", "critical"]


class Signal(BaseModel):
    """One reason, in a trader's words, with how much it moved the score."""

    code: str = Field(description="Stable id, e.g. 'stake_vs_own_average'.")
    text: str = Field(description="e.g. 'stake £450 is 38× this customer's 30-day average of £12'.")
    weight: float = Field(description="Contribution to the model log-odds (negative: lowered the score).")


class RiskAssessment(BaseModel):
    score: int = Field(ge=0, le=100)
    level: Level
    signals: list[str]
    recommendation: str
    model_version: str
    # Added with customer-relative scoring; defaults keep older stored bets readable.
    probability: float | None = Field(
        default=None, ge=0, le=1, description="Calibrated P(risky); score = round(100 p)."
    )
    segment: int | None = Field(default=None, description="Customer segment (None: too little history).")
    segment_name: str | None = None
    within_history: bool = Field(default=False, description="Stake within the subject's usual range: score damped.")
    whitelisted: bool = Field(default=False, description="Staff whitelist in force: score damped.")
    reasons: list[Signal] = Field(default_factory=list, description="Structured form of the signals.")


__all__ = ["Level", "RiskAssessment", "Signal"]
