"""Bets: record one (tills, the website), read one, and its slip upload and status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.errors import ApiError
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.bets import Bet, BetIn, RiskAssessment
from chalicelib.domain.settlement import Settlement
from chalicelib.ports import StoredBet
from chalicelib.services.recording import check_live

bp = Blueprint(__name__)
MAX_IDEMPOTENCY_KEY = 200


class BetCreated(BaseModel):
    bet_id: str
    stake_minor: int
    currency: str
    placed_at: datetime
    risk: RiskAssessment
    replayed: bool = Field(description="True when this answers a retried request for a bet already stored.")


class SlipUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    content_type: str = Field(default="image/jpeg", pattern=r"^image/(jpeg|png)$")


class SlipUpload(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="Form fields to send, before the `file` field, in a multipart POST.")
    object_key: str
    max_bytes: int
    expires_in: int


class SlipStatusView(BaseModel):
    bet_id: str
    status: str
    reason: str | None = None
    writer_id: str | None = None
    similarity: float | None = None
    link: dict[str, Any] | None = Field(
        default=None,
        description="How the slip was linked: action (join, candidate, new), score, reason, and for a "
        "candidate the writer it may belong to (candidate_of), for staff to confirm or reject.",
    )
    pinned: bool = False
    updated_at: str


@bp.route("/bets", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Record a bet and score its risk",
        roles=(Role.ingest,),
        request=BetIn,
        response=BetCreated,
        status=201,
        errors=(409, 503),
        also={200: "A retry of a bet already stored (same bet_id or Idempotency-Key): the stored bet"},
        headers={"Idempotency-Key": "Makes a retry return the bet already stored (1 to 200 characters)"},
    ),
)
def post_bet(ctx: Ctx) -> Response:
    key = ctx.request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise ApiError(400, "invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if refusal := ctx.principal.scope_refusal(ctx.body.shop_id, ctx.body.channel.value):
        raise ApiError(403, "out_of_scope", refusal)
    c = wiring.container()
    check_live(ctx.body, c.recorder.clock(), timedelta(hours=c.settings.live_max_age_hours))
    bet, created = c.recorder.record(ctx.body, ctx.principal.id, key)
    body = BetCreated(**bet.model_dump(include=set(BetCreated.model_fields)), replayed=not created)
    return json_response(body, 201 if created else 200, {"Location": f"/bets/{bet.bet_id}"})


class BetView(Bet):
    settlement: Settlement | None = Field(
        default=None, description="Once results settle it: state, returns_minor, profit_minor, legs and lines."
    )


def _readable_bet(ctx: Ctx, bet_id: str) -> StoredBet:
    """The bet (with its settlement), if this caller may see it: an ingest key sees only the bets
    it wrote (another shop's bet is a 404, as if it did not exist)."""
    stored = wiring.container().settler.view(bet_id)
    if stored is None or (ctx.principal.reads_only_its_own and not ctx.principal.owns(stored.bet.ingested_by)):
        raise ApiError(404, "not_found", f"bet {bet_id} not found")
    return stored


@bp.route("/bets/{bet_id}", methods=["GET"])
@endpoint(bp, Spec("A stored bet with its risk", roles=(Role.ingest, Role.staff), response=BetView, errors=(404,)))
def get_bet(ctx: Ctx, bet_id: str) -> Response:
    stored = _readable_bet(ctx, bet_id)
    return json_response(BetView(**stored.bet.model_dump(), settlement=stored.settlement))


@bp.route("/bets/{bet_id}/slip", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Presigned S3 POST for the bet's slip image",
        roles=(Role.ingest,),
        request=SlipUploadRequest,
        response=SlipUpload,
        status=201,
        errors=(404, 409),
    ),
)
def slip_upload(ctx: Ctx, bet_id: str) -> Response:
    p = ctx.principal
    may_read = p.owns if p.reads_only_its_own else None  # an ingest key: only for the bets it wrote
    return json_response(SlipUpload(**wiring.container().uploads.start(bet_id, ctx.body.content_type, may_read)), 201)


@bp.route("/bets/{bet_id}/slip", methods=["GET"])
@endpoint(bp, Spec("Slip processing status", roles=(Role.ingest, Role.staff), response=SlipStatusView, errors=(404,)))
def slip_status(ctx: Ctx, bet_id: str) -> Response:
    if ctx.principal.reads_only_its_own:  # staff read every slip without reading the bet
        _readable_bet(ctx, bet_id)
    record = wiring.container().uploads.status(bet_id)
    return json_response(SlipStatusView(**record.model_dump()))


class SlipImage(BaseModel):
    url: str = Field(description="A presigned GET of the slip image, valid for expires_in seconds")
    expires_in: int


@bp.route("/bets/{bet_id}/slip/image", methods=["GET"])
@endpoint(
    bp, Spec("A short-lived link to the slip's image (staff)", roles=(Role.staff,), response=SlipImage, errors=(404,))
)
def slip_image(ctx: Ctx, bet_id: str) -> Response:
    return json_response(SlipImage(**wiring.container().uploads.image_url(bet_id)))
