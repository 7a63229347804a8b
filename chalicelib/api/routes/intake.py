"""What the bet files bring besides bets, for staff: knockbacks (bets the operator refused) and SMS
requests (wagers texted in; the open ones are those nobody could read as a bet)."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.betfiles import Knockback
from chalicelib.domain.bets import Id
from chalicelib.domain.intake import KnockbackRecord, SmsRequest, SmsStatus
from chalicelib.domain.sms_wager import ParsedSmsBet

bp = Blueprint(__name__)
STAFF = (Role.staff,)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class KnockbackView(BaseModel):
    knockback: Knockback = Field(description="As the file gave it: reason, liability flag, maximum stake offered.")
    source: str = Field(description="The object key the file arrived under.")
    recorded_at: datetime


class KnockbackQuery(Strict):
    customer_id: Id = Field(description="The customer whose knockbacks to list.")
    days: int = Field(default=30, ge=1, le=31, description="How many days back (by when the bet was attempted)")


class KnockbackList(BaseModel):
    customer_id: str
    knockbacks: list[KnockbackView] = Field(description="Newest first.")


class SmsView(BaseModel):
    wager_number: str
    customer_id: str
    mobile: str = Field(description="Masked: the number is personal data.")
    text: str
    received_at: datetime
    status: SmsStatus
    parsed: ParsedSmsBet | None = Field(description="The text as a bet, when it was one in a common form.")
    bet_id: str | None = Field(description="The bet recorded from it (by the file, or by staff when closing).")
    problem: str | None = Field(description="Why it was left for staff.")
    source: str
    recorded_at: datetime
    closed_by: str | None = None
    closed_at: datetime | None = None
    note: str | None = None


class SmsQuery(Strict):
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=2000, description="next_cursor of the previous page")


class SmsPage(BaseModel):
    requests: list[SmsView] = Field(description="Open requests, oldest first.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")


class CloseSms(Strict):
    note: str = Field(min_length=3, max_length=1000, description="What staff did about it.")
    bet_id: Id | None = Field(default=None, description="The bet staff placed for it, if any.")


def _kb(r: KnockbackRecord) -> KnockbackView:
    return KnockbackView(knockback=r.knockback, source=r.source, recorded_at=r.recorded_at)


def _sms(r: SmsRequest) -> SmsView:
    return SmsView(mobile=r.masked_mobile, **r.model_dump(exclude={"mobile_number"}))


@bp.route("/knockbacks", methods=["GET"])
@endpoint(
    bp, Spec("A customer's knockbacks", roles=STAFF, query=KnockbackQuery, response=KnockbackList, tag="bet files")
)
def knockbacks(ctx: Ctx) -> Response:
    q: KnockbackQuery = ctx.query
    found = wiring.container().intake.knockbacks(q.customer_id, q.days)
    return json_response(KnockbackList(customer_id=q.customer_id, knockbacks=[_kb(r) for r in found]))


@bp.route("/knockbacks/{knockback_id}", methods=["GET"])
@endpoint(bp, Spec("A knockback", roles=STAFF, response=KnockbackView, errors=(404,), tag="bet files"))
def knockback(ctx: Ctx, knockback_id: str) -> Response:
    return json_response(_kb(wiring.container().intake.knockback(knockback_id)))


@bp.route("/sms-requests", methods=["GET"])
@endpoint(bp, Spec("SMS requests open for staff", roles=STAFF, query=SmsQuery, response=SmsPage, tag="bet files"))
def sms_requests(ctx: Ctx) -> Response:
    q: SmsQuery = ctx.query
    found, nxt = wiring.container().intake.open_sms(q.limit, q.cursor)
    return json_response(SmsPage(requests=[_sms(r) for r in found], next_cursor=nxt))


@bp.route("/sms-requests/{wager_number}", methods=["GET"])
@endpoint(bp, Spec("An SMS request (any status)", roles=STAFF, response=SmsView, errors=(404,), tag="bet files"))
def sms_request(ctx: Ctx, wager_number: str) -> Response:
    return json_response(_sms(wiring.container().intake.sms(wager_number)))


@bp.route("/sms-requests/{wager_number}/close", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Close an open SMS request (staff dealt with it)",
        roles=STAFF,
        request=CloseSms,
        response=SmsView,
        errors=(404, 409),
        tag="bet files",
    ),
)
def close_sms_request(ctx: Ctx, wager_number: str) -> Response:
    body: CloseSms = ctx.body
    closed = wiring.container().intake.close_sms(wager_number, ctx.principal.id, body.note, body.bet_id)
    return json_response(_sms(closed))
