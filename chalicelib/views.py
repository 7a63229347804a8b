"""Read models for staff: customer and writer profiles, slip status, health; the API's responses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from chalicelib import aws, subjects
from chalicelib.alerts import Alert
from chalicelib.config import settings
from chalicelib.schemas import Bet, RiskAssessment, StrictModel


class BetCreated(BaseModel):
    bet_id: str
    stake_minor: int
    currency: str
    placed_at: datetime
    risk: RiskAssessment
    replayed: bool = Field(description="True when this answers a retried request for a bet already stored.")


class WindowTotals(BaseModel):
    bets: int
    stake_minor: int


class SubjectView(BaseModel):
    id: str
    kind: str
    currency: str
    bets_total: int
    stake_total_minor: int
    first_bet_at: str | None
    windows: dict[str, WindowTotals]
    linked: list[str] = Field(description="Linked writer ids (for a customer) or customer ids (for a writer).")
    slips: list[str] = Field(default_factory=list, description="Bet ids of the writer's slips.")


class SlipUpload(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="Form fields to send, before the `file` field, in a multipart POST.")
    object_key: str
    max_bytes: int
    expires_in: int


class SlipUploadRequest(StrictModel):
    content_type: str = Field("image/jpeg", pattern=r"^image/(jpeg|png)$")


class SlipStatusView(BaseModel):
    bet_id: str
    status: str
    reason: str | None = None
    writer_id: str | None = None
    similarity: float | None = None
    updated_at: str


class AlertList(BaseModel):
    alerts: list[Alert]


class LoginRequest(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Token(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class ApiKeyRequest(StrictModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: str = Field(pattern=r"^(ingest|staff|admin)$")


class ApiKeyCreated(BaseModel):
    api_key: str = Field(description="Shown once; only its hash is stored.")
    name: str
    role: str


class UserRequest(StrictModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=12, max_length=256)
    role: str = Field(pattern=r"^(staff|admin)$")


class Health(BaseModel):
    status: str
    model_loaded: bool
    tables_reachable: bool
    detail: dict[str, str] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


def bet_created(bet: Bet, created: bool) -> BetCreated:
    return BetCreated(
        bet_id=bet.bet_id,
        stake_minor=bet.stake_minor,
        currency=bet.currency,
        placed_at=bet.placed_at,
        risk=bet.risk,
        replayed=not created,
    )


def subject_view(subject: str) -> SubjectView | None:
    profile, others = subjects.profile_items(subject)
    if profile is None:
        return None
    kind, ident = subject.split("#", 1)
    now = datetime.now(UTC)
    return SubjectView(
        id=ident,
        kind="customer" if kind == "CUST" else "writer",
        currency=settings().currency,
        bets_total=int(profile.get("bets_total", 0)),
        stake_total_minor=int(profile.get("stake_total_minor", 0)),
        first_bet_at=profile.get("first_bet_at"),
        windows={k: WindowTotals(**v) for k, v in subjects.window_totals(subject, now).items()},
        linked=sorted(o["sk"].split("#", 2)[2] for o in others if o["sk"].startswith("LINK#")),
        slips=sorted(o["bet_id"] for o in others if o["sk"].startswith("SLIP#")),
    )


def health() -> Health:
    from chalicelib.risk import scorer

    detail: dict[str, str] = {}
    try:
        scorer.load()
        loaded = scorer.model_loaded()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        loaded, detail["model"] = False, type(exc).__name__
    reachable = True
    ddb = aws.client("dynamodb")
    for logical, name in settings().tables.items():
        try:
            ddb.describe_table(TableName=name)
        except Exception as exc:  # noqa: BLE001
            reachable, detail[logical] = False, type(exc).__name__
    return Health(
        status="ok" if loaded and reachable else "degraded",
        model_loaded=loaded,
        tables_reachable=reachable,
        detail=detail,
    )
