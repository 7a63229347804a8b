"""Reports for staff: the daily report (JSON, HTML with inline charts, CSV) and a customer's or
writer's report over a period."""

from __future__ import annotations

from datetime import date as Date

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.errors import ApiError
from chalicelib.api.spec import Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.reports import DailyReport, SubjectReport
from chalicelib.domain.subjects import SubjectRef

bp = Blueprint(__name__)
STAFF = (Role.staff,)
# Reports are documents staff open or save: their own inline styles and charts, nothing else.
DOC_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class DayQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: Date | None = Field(default=None, description="YYYY-MM-DD (UTC); default today")


class PeriodQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=30, ge=1, le=31, description="The last N days (history is kept 35 days)")


def _day(raw: str) -> Date:
    try:
        return Date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", f"date: {raw!r} is not YYYY-MM-DD") from exc


def _doc(body: str, content_type: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": content_type, **DOC_HEADERS})


@bp.route("/reports/daily", methods=["GET"])
@endpoint(bp, Spec("The daily report's figures", roles=STAFF, response=DailyReport, query=DayQuery, tag="reports"))
def daily(ctx: Ctx) -> Response:
    c = wiring.container()
    return json_response(c.reports.daily(ctx.query.date or c.monitor.clock().date()))


@bp.route("/reports/daily/{day}/html", methods=["GET"])
@endpoint(bp, Spec("The daily report as a page with charts", roles=STAFF, errors=(400,), tag="reports"))
def daily_html(ctx: Ctx, day: str) -> Response:
    reports = wiring.container().reports
    return _doc(reports.html_daily(reports.daily(_day(day))), "text/html; charset=utf-8")


@bp.route("/reports/daily/{day}/csv", methods=["GET"])
@endpoint(bp, Spec("The daily report as CSV", roles=STAFF, errors=(400,), tag="reports"))
def daily_csv(ctx: Ctx, day: str) -> Response:
    reports = wiring.container().reports
    return _doc(reports.csv_daily(reports.daily(_day(day))), "text/csv; charset=utf-8")


@bp.route("/reports/customers/{customer_id}", methods=["GET"])
@endpoint(
    bp, Spec("A customer's report over a period", roles=STAFF, response=SubjectReport, query=PeriodQuery, tag="reports")
)
def customer_report(ctx: Ctx, customer_id: str) -> Response:
    return json_response(wiring.container().reports.subject(SubjectRef.customer(customer_id), ctx.query.days))


@bp.route("/reports/writers/{writer_id}", methods=["GET"])
@endpoint(
    bp, Spec("A writer's report over a period", roles=STAFF, response=SubjectReport, query=PeriodQuery, tag="reports")
)
def writer_report(ctx: Ctx, writer_id: str) -> Response:
    return json_response(wiring.container().reports.subject(SubjectRef.writer(writer_id), ctx.query.days))


@bp.route("/reports/customers/{customer_id}/html", methods=["GET"])
@endpoint(bp, Spec("A customer's report as a page with charts", roles=STAFF, query=PeriodQuery, tag="reports"))
def customer_report_html(ctx: Ctx, customer_id: str) -> Response:
    reports = wiring.container().reports
    report = reports.subject(SubjectRef.customer(customer_id), ctx.query.days)
    return _doc(reports.html_subject(report), "text/html; charset=utf-8")


@bp.route("/reports/writers/{writer_id}/html", methods=["GET"])
@endpoint(bp, Spec("A writer's report as a page with charts", roles=STAFF, query=PeriodQuery, tag="reports"))
def writer_report_html(ctx: Ctx, writer_id: str) -> Response:
    reports = wiring.container().reports
    report = reports.subject(SubjectRef.writer(writer_id), ctx.query.days)
    return _doc(reports.html_subject(report), "text/html; charset=utf-8")
