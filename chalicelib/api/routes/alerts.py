"""Alerts for staff, worked as cases: search with filters and a cursor, read one with its evidence
and audit trail, acknowledge, note, escalate, resolve with an outcome, snooze the subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.core.clock import utcnow
from chalicelib.domain.access import Role
from chalicelib.domain.alerts import Alert, AlertStatus, Outcome, Severity
from chalicelib.domain.bets import Id
from chalicelib.domain.subjects import SubjectKind, SubjectRef
from chalicelib.ports import AlertQuery
from chalicelib.services.alerts import COUNT_CAP

bp = Blueprint(__name__)
STAFF = (Role.staff,)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AlertSearch(Strict):
    status: AlertStatus | None = Field(default=None, description="open, acknowledged, resolved, escalated")
    severity: Severity | None = None
    rule_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$")
    subject_kind: SubjectKind | None = Field(default=None, description="With subject_id: one subject's alerts")
    subject_id: Id | None = None
    assignee: str | None = Field(default=None, max_length=80)
    shadow: bool = Field(default=False, description="Hits of rules in shadow mode instead of alerts")
    days: int = Field(default=7, ge=1, le=31, description="How many days back (1-31)")
    limit: int = Field(default=100, ge=1, le=500, description="At most this many alerts (1-500)")
    cursor: str | None = Field(default=None, max_length=2000, description="next_cursor of the previous page")

    def query(self) -> AlertQuery:
        now = utcnow()
        subject = None
        if self.subject_kind and self.subject_id:
            subject = SubjectRef(self.subject_kind, self.subject_id)
        return AlertQuery(
            status=self.status,
            severity=self.severity,
            rule_id=self.rule_id,
            subject=subject,
            assignee=self.assignee,
            since=day_start(now - timedelta(days=self.days - 1)),
            until=now,
            shadow=self.shadow,
        )


def day_start(at: datetime) -> datetime:
    """Midnight (UTC) of at's day: `days` counts calendar days, today included (as every store reads it)."""
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class AlertPage(BaseModel):
    alerts: list[Alert]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")


class Acknowledge(Strict):
    assignee: str | None = Field(default=None, max_length=80, description="Default: whoever acknowledges.")
    note: str | None = Field(default=None, max_length=2000)


class Note(Strict):
    note: str = Field(min_length=1, max_length=2000)


class Resolve(Strict):
    outcome: Outcome
    note: str | None = Field(default=None, max_length=2000)


class Escalate(Strict):
    note: str | None = Field(default=None, max_length=2000)


class Snooze(Strict):
    hours: int = Field(ge=1, le=90 * 24, description="No alert of this rule about this subject for this long.")
    note: str | None = Field(default=None, max_length=2000)


@bp.route("/alerts", methods=["GET"])
@endpoint(
    bp, Spec("Alerts, newest first, filtered, a page at a time", roles=STAFF, response=AlertPage, query=AlertSearch)
)
def list_alerts(ctx: Ctx) -> Response:
    q: AlertSearch = ctx.query
    alerts, cursor = wiring.container().alerts.search(q.query(), q.limit, q.cursor)
    return json_response(AlertPage(alerts=alerts, next_cursor=cursor))


class CountQuery(Strict):
    status: AlertStatus = Field(default=AlertStatus.open, description="open, acknowledged, escalated or resolved")


class AlertTally(BaseModel):
    status: AlertStatus
    count: int = Field(description="How many alerts have the status (shadow hits not included), at most `cap`.")
    capped: bool = Field(description="True: there are more than `cap` (show it as 99+).")
    cap: int


@bp.route("/alerts/count", methods=["GET"])
@endpoint(
    bp,
    Spec(
        "How many alerts have a status (the menu's unresolved count)",
        roles=STAFF,
        response=AlertTally,
        query=CountQuery,
    ),
)
def count_alerts(ctx: Ctx) -> Response:
    q: CountQuery = ctx.query
    n, capped = wiring.container().alerts.count(q.status)
    return json_response(AlertTally(status=q.status, count=n, capped=capped, cap=COUNT_CAP))


@bp.route("/alerts/{alert_id}", methods=["GET"])
@endpoint(
    bp,
    Spec("One alert: rule, subject, metric, evidence, status and events", roles=STAFF, response=Alert, errors=(404,)),
)
def get_alert(ctx: Ctx, alert_id: str) -> Response:
    return json_response(wiring.container().alerts.get(alert_id))


def _action(summary: str, request: type[BaseModel]) -> Spec:
    return Spec(summary, roles=STAFF, request=request, response=Alert, errors=(404, 409))


@bp.route("/alerts/{alert_id}/acknowledge", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, _action("Acknowledge: take the case (open or escalated)", Acknowledge))
def acknowledge(ctx: Ctx, alert_id: str) -> Response:
    b: Acknowledge = ctx.body
    cases = wiring.container().alerts
    return json_response(cases.act(alert_id, "acknowledged", ctx.principal.id, b.note, assignee=b.assignee))


@bp.route("/alerts/{alert_id}/notes", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, _action("Add a note to the case", Note))
def add_note(ctx: Ctx, alert_id: str) -> Response:
    return json_response(wiring.container().alerts.act(alert_id, "noted", ctx.principal.id, ctx.body.note))


@bp.route("/alerts/{alert_id}/resolve", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, _action("Resolve with an outcome (acknowledged or escalated)", Resolve))
def resolve(ctx: Ctx, alert_id: str) -> Response:
    b: Resolve = ctx.body
    return json_response(
        wiring.container().alerts.act(alert_id, "resolved", ctx.principal.id, b.note, outcome=b.outcome)
    )


@bp.route("/alerts/{alert_id}/escalate", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, _action("Escalate (open or acknowledged)", Escalate))
def escalate(ctx: Ctx, alert_id: str) -> Response:
    return json_response(wiring.container().alerts.act(alert_id, "escalated", ctx.principal.id, ctx.body.note))


@bp.route("/alerts/{alert_id}/snooze", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, _action("Snooze this rule for this subject for some hours", Snooze))
def snooze(ctx: Ctx, alert_id: str) -> Response:
    b: Snooze = ctx.body
    return json_response(wiring.container().alerts.snooze(alert_id, b.hours, ctx.principal.id, b.note))
