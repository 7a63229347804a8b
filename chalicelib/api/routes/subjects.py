"""Customer and writer profiles for staff."""

from __future__ import annotations

from dataclasses import asdict

from chalice import Blueprint, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.subjects import ClientCategory, SubjectRef
from chalicelib.services.profiles import SubjectSummary

bp = Blueprint(__name__)


class WindowTotals(BaseModel):
    bets: int
    stake_minor: int


class SettledWindow(BaseModel):
    settled_bets: int = Field(description="Of the window's bets, those settled by results")
    profit_minor: int = Field(description="Their P/L, the customer's side (negative: a loss)")


class KnockbackTotals(BaseModel):
    knockbacks: int = Field(description="Bets the operator refused (knockback files) in the window.")
    kb_pct: float = Field(description="Knockbacks as a % of bets + knockbacks.")


class SubjectView(BaseModel):
    id: str
    kind: str
    currency: str
    bets_total: int
    stake_total_minor: int
    first_bet_at: str | None
    settled_bets: int = 0
    profit_total_minor: int = Field(0, description="Settled P/L since the first bet, the customer's side")
    windows: dict[str, WindowTotals]
    settled_windows: dict[str, SettledWindow] = Field(default_factory=dict)
    knockbacks_total: int = 0
    knockback_windows: dict[str, KnockbackTotals] = Field(default_factory=dict)
    linked: list[str] = Field(description="Linked writer ids (for a customer) or customer ids (for a writer).")
    slips: list[str] = Field(default_factory=list, description="Bet ids of the subject's slips.")
    category: ClientCategory = ClientCategory.none
    category_reason: str | None = None
    whitelisted_until: str | None = Field(default=None, description="Staff whitelist: scores damped until then.")
    segment: int | None = Field(default=None, description="Risk segment (None: too little history).")
    segment_name: str | None = None


def _view(s: SubjectSummary) -> SubjectView:
    p = s.profile
    return SubjectView(
        id=p.subject.id,
        kind=p.subject.kind.value,
        currency=wiring.container().settings.currency,
        bets_total=p.bets_total,
        stake_total_minor=p.stake_total_minor,
        first_bet_at=p.first_bet_at,
        settled_bets=p.settled_bets,
        profit_total_minor=p.profit_total_minor,
        windows={k: WindowTotals(bets=w.bets, stake_minor=w.stake_minor) for k, w in s.windows.items()},
        settled_windows={
            k: SettledWindow(settled_bets=w.settled_bets, profit_minor=w.profit_minor) for k, w in s.windows.items()
        },
        knockbacks_total=p.knockbacks_total,
        knockback_windows={k: KnockbackTotals(knockbacks=w.knockbacks, kb_pct=w.kb_pct) for k, w in s.windows.items()},
        linked=[ref.id for ref in s.linked],
        slips=s.slips,
        category=s.status.category,
        category_reason=s.status.category_reason,
        whitelisted_until=s.status.whitelisted_until,
        segment=s.segment,
        segment_name=s.segment_name,
    )


class CategoryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category: ClientCategory
    reason: str = Field(min_length=3, max_length=500)


class WhitelistRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    until: AwareDatetime = Field(description="The whitelist ends then (at most a year ahead).")
    reason: str = Field(min_length=3, max_length=500)


class StatusView(BaseModel):
    category: ClientCategory
    category_reason: str | None = None
    category_by: str | None = None
    category_at: str | None = None
    whitelisted_until: str | None = None
    whitelist_reason: str | None = None
    whitelist_by: str | None = None


class SubjectAudit(BaseModel):
    events: list[AuditEvent]


@bp.route("/customers/{customer_id}", methods=["GET"])
@endpoint(
    bp,
    Spec("Customer profile, rolling totals, linked writers", roles=(Role.staff,), response=SubjectView, errors=(404,)),
)
def get_customer(ctx: Ctx, customer_id: str) -> Response:
    return json_response(_view(wiring.container().profiles.summary(SubjectRef.customer(customer_id))))


@bp.route("/writers/{writer_id}", methods=["GET"])
@endpoint(
    bp,
    Spec("Writer: slips, linked customers, stake totals", roles=(Role.staff,), response=SubjectView, errors=(404,)),
)
def get_writer(ctx: Ctx, writer_id: str) -> Response:
    return json_response(_view(wiring.container().profiles.summary(SubjectRef.writer(writer_id))))


@bp.route("/customers/{customer_id}/category", methods=["PUT"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Set the customer's client category (audited)",
        roles=(Role.staff,),
        request=CategoryRequest,
        response=StatusView,
    ),
)
def set_category(ctx: Ctx, customer_id: str) -> Response:
    b: CategoryRequest = ctx.body
    status = wiring.container().profiles.set_category(customer_id, b.category, b.reason, ctx.principal.id)
    return json_response(StatusView(**asdict(status)))


@bp.route("/customers/{customer_id}/whitelist", methods=["PUT"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Whitelist the customer until a time (audited)",
        roles=(Role.staff,),
        request=WhitelistRequest,
        response=StatusView,
    ),
)
def whitelist(ctx: Ctx, customer_id: str) -> Response:
    b: WhitelistRequest = ctx.body
    status = wiring.container().profiles.whitelist(customer_id, b.until, b.reason, ctx.principal.id)
    return json_response(StatusView(**asdict(status)))


@bp.route("/customers/{customer_id}/whitelist", methods=["DELETE"])
@endpoint(bp, Spec("End the customer's whitelist (audited)", roles=(Role.staff,), response=StatusView))
def clear_whitelist(ctx: Ctx, customer_id: str) -> Response:
    status = wiring.container().profiles.clear_whitelist(customer_id, ctx.principal.id)
    return json_response(StatusView(**asdict(status)))


@bp.route("/customers/{customer_id}/audit", methods=["GET"])
@endpoint(bp, Spec("Staff actions on the customer", roles=(Role.staff,), response=SubjectAudit))
def customer_audit(ctx: Ctx, customer_id: str) -> Response:
    return json_response(SubjectAudit(events=wiring.container().profiles.audit(SubjectRef.customer(customer_id))))
