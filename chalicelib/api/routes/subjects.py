"""Customer and writer profiles for staff."""

from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from chalicelib import wiring
from chalicelib.api.spec import Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.subjects import SubjectRef
from chalicelib.services.profiles import SubjectSummary

bp = Blueprint(__name__)


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
    slips: list[str] = Field(default_factory=list, description="Bet ids of the subject's slips.")


def _view(s: SubjectSummary) -> SubjectView:
    p = s.profile
    return SubjectView(
        id=p.subject.id,
        kind=p.subject.kind.value,
        currency=wiring.container().settings.currency,
        bets_total=p.bets_total,
        stake_total_minor=p.stake_total_minor,
        first_bet_at=p.first_bet_at,
        windows={k: WindowTotals(bets=w.bets, stake_minor=w.stake_minor) for k, w in s.windows.items()},
        linked=[ref.id for ref in s.linked],
        slips=s.slips,
    )


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
