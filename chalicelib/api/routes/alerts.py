"""Alerts for staff: the newest first, and one by id with its evidence and audit trail."""

from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.alerts import Alert

bp = Blueprint(__name__)


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=7, ge=1, le=31, description="How many days back (1-31)")
    limit: int = Field(default=100, ge=1, le=500, description="At most this many alerts (1-500)")


class AlertList(BaseModel):
    alerts: list[Alert]


@bp.route("/alerts", methods=["GET"])
@endpoint(bp, Spec("Recent alerts, newest first", roles=(Role.staff,), response=AlertList, query=AlertQuery))
def list_alerts(ctx: Ctx) -> Response:
    return json_response(AlertList(alerts=wiring.container().alerts.recent(ctx.query.days, ctx.query.limit)))


@bp.route("/alerts/{alert_id}", methods=["GET"])
@endpoint(
    bp,
    Spec(
        "One alert: rule, subject, metric, evidence, status and events",
        roles=(Role.staff,),
        response=Alert,
        errors=(404,),
    ),
)
def get_alert(ctx: Ctx, alert_id: str) -> Response:
    return json_response(wiring.container().alerts.get(alert_id))
