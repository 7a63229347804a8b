"""What staff watch: the live feed of bets (and knockbacks and SMS requests), and the risk feed."""

from __future__ import annotations

from decimal import Decimal

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib import wiring
from chalicelib.api.spec import Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.bets import Channel, Id
from chalicelib.domain.feed import FeedFilter, FeedRow
from chalicelib.domain.money import to_minor
from chalicelib.domain.subjects import ClientCategory

bp = Blueprint(__name__)
LEVELS = ("low", "medium", "high", "critical")


class FeedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: Id | None = None
    writer_id: Id | None = None
    shop_id: Id | None = None
    channel: Channel | None = None
    min_stake: Decimal | None = Field(
        default=None, gt=0, le=1_000_000, decimal_places=2, description="In major units, e.g. 50.00"
    )
    risk_level: str | None = Field(
        default=None, description="One or more of low, medium, high, critical (comma separated)"
    )
    category: ClientCategory | None = None
    record_type: str | None = Field(default=None, pattern=r"^(bet|knockback|sms)$")
    selection: str | None = Field(default=None, min_length=2, max_length=80, description="Part of a selection's name")
    sport: str | None = Field(default=None, max_length=60)
    hours: int = Field(default=24, ge=1, le=168, description="How far back to look")
    limit: int = Field(default=150, ge=1, le=500)
    cursor: str | None = Field(
        default=None, max_length=200, description="next_cursor of the previous page (older rows)"
    )
    since: str | None = Field(default=None, max_length=200, description="since of an earlier answer: only newer rows")

    @field_validator("risk_level")
    @classmethod
    def _levels(cls, v: str | None) -> str | None:
        if v is not None and any(x not in LEVELS for x in v.split(",")):
            raise ValueError(f"risk_level must be among {', '.join(LEVELS)}")
        return v

    def filter(self, currency: str) -> FeedFilter:
        return FeedFilter(
            customer_id=self.customer_id,
            writer_id=self.writer_id,
            shop_id=self.shop_id,
            channel=self.channel.value if self.channel else None,
            min_stake_minor=to_minor(self.min_stake, currency) if self.min_stake is not None else None,
            risk_levels=tuple(self.risk_level.split(",")) if self.risk_level else (),
            record_type=self.record_type,
            sport=self.sport,
            selection=self.selection,
        )


class FeedPage(BaseModel):
    rows: list[FeedRow] = Field(description="Newest first (oldest first when polling with since).")
    next_cursor: str | None = Field(description="Older rows: pass as cursor; null at the end of the range.")
    since: str | None = Field(
        description="Poll with since=this for rows newer than every row seen so far: the newest row's position, "
        "or the moment up to which everything was read (a quiet filter too), so a poll reads only what is new. "
        "Null on an older page (cursor given): keep polling with the first page's since."
    )


def _answer(ctx: Ctx, risk_only: bool) -> Response:
    q: FeedQuery = ctx.query
    c = wiring.container()
    f = q.filter(c.settings.currency)
    if q.since:
        newer, last = c.feed.newer(f, q.since, q.limit, q.category, risk_only)
        return json_response(FeedPage(rows=newer, next_cursor=None, since=last))
    rows, nxt, since = c.feed.page(f, q.limit, q.cursor, q.hours, q.category, risk_only)
    return json_response(FeedPage(rows=rows, next_cursor=nxt, since=since))


@bp.route("/feed", methods=["GET"])
@endpoint(
    bp,
    Spec(
        "The live feed, newest first, filtered, paged",
        roles=(Role.staff,),
        response=FeedPage,
        query=FeedQuery,
        tag="feed",
    ),
)
def feed(ctx: Ctx) -> Response:
    return _answer(ctx, risk_only=False)


@bp.route("/feed/risk", methods=["GET"])
@endpoint(
    bp,
    Spec(
        "Bets at high or critical risk, or by watch-listed customers",
        roles=(Role.staff,),
        response=FeedPage,
        query=FeedQuery,
        tag="feed",
    ),
)
def risk_feed(ctx: Ctx) -> Response:
    return _answer(ctx, risk_only=True)
