"""The rule catalogue (admin): list, read, create, new versions, enable/disable, delete, versions,
audit, and backtests over stored history; staff may read."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.alerts import Alert
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.rules import RULE_ID, Rule, RuleSpec

bp = Blueprint(__name__)
READ, ADMIN = (Role.staff,), (Role.admin,)


class NewRule(RuleSpec):
    rule_id: str = Field(pattern=RULE_ID, description="Lower-case letters, digits, '_' and '-'.")


class RuleList(BaseModel):
    rules: list[Rule]


class RuleVersions(BaseModel):
    versions: list[Rule]


class RuleAudit(BaseModel):
    events: list[AuditEvent]


class BacktestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=7, ge=1, le=31, description="How many days of stored history (1-31)")


class DraftBacktest(RuleSpec):
    rule_id: str = Field(default="draft", pattern=RULE_ID)


class BacktestResult(BaseModel):
    rule: Rule
    days: int
    since: datetime
    until: datetime
    subjects_evaluated: int
    bets_replayed: int
    hits_total: int
    hits: list[Alert] = Field(description="The alerts it would have raised (at most 500), none written.")
    truncated: bool = Field(description="True when the history was larger than one backtest reads.")


class VersionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: int | None = Field(default=None, ge=1, description="Refuse (409) unless this is the current one")


@bp.route("/rules", methods=["GET"])
@endpoint(bp, Spec("Every rule, current versions", roles=READ, response=RuleList, tag="rules"))
def list_rules(ctx: Ctx) -> Response:
    return json_response(RuleList(rules=wiring.container().rules.all()))


@bp.route("/rules", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp, Spec("Create a rule", roles=ADMIN, request=NewRule, response=Rule, status=201, errors=(409,), tag="rules")
)
def create_rule(ctx: Ctx) -> Response:
    b: NewRule = ctx.body
    spec = RuleSpec.model_validate(b.model_dump(exclude={"rule_id"}))
    return json_response(wiring.container().rules.create(b.rule_id, spec, ctx.principal.id), 201)


@bp.route("/rules/{rule_id}", methods=["GET"])
@endpoint(bp, Spec("One rule, current version", roles=READ, response=Rule, errors=(404,), tag="rules"))
def get_rule(ctx: Ctx, rule_id: str) -> Response:
    return json_response(wiring.container().rules.get(rule_id))


@bp.route("/rules/{rule_id}", methods=["PUT"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "A new version of the rule",
        roles=ADMIN,
        request=RuleSpec,
        response=Rule,
        query=VersionQuery,
        errors=(404, 409),
        tag="rules",
    ),
)
def update_rule(ctx: Ctx, rule_id: str) -> Response:
    rules = wiring.container().rules
    return json_response(rules.update(rule_id, ctx.body, ctx.principal.id, ctx.query.expected_version))


@bp.route("/rules/{rule_id}/enable", methods=["POST"])
@endpoint(bp, Spec("Enable the rule", roles=ADMIN, response=Rule, errors=(404, 409), tag="rules"))
def enable_rule(ctx: Ctx, rule_id: str) -> Response:
    return json_response(wiring.container().rules.set_enabled(rule_id, True, ctx.principal.id))


@bp.route("/rules/{rule_id}/disable", methods=["POST"])
@endpoint(bp, Spec("Disable the rule", roles=ADMIN, response=Rule, errors=(404, 409), tag="rules"))
def disable_rule(ctx: Ctx, rule_id: str) -> Response:
    return json_response(wiring.container().rules.set_enabled(rule_id, False, ctx.principal.id))


@bp.route("/rules/{rule_id}", methods=["DELETE"])
@endpoint(
    bp, Spec("Delete the rule (its versions and alerts stay)", roles=ADMIN, status=204, errors=(404, 409), tag="rules")
)
def delete_rule(ctx: Ctx, rule_id: str) -> Response:
    wiring.container().rules.delete(rule_id, ctx.principal.id)
    return Response(body="", status_code=204)


@bp.route("/rules/{rule_id}/backtest", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Run the rule over stored history; no alert is written",
        roles=ADMIN,
        response=BacktestResult,
        query=BacktestQuery,
        errors=(404, 422),
        tag="rules",
    ),
)
def backtest_rule(ctx: Ctx, rule_id: str) -> Response:
    c = wiring.container()
    report = c.backtests.run(c.rules.get(rule_id), ctx.query.days)
    return json_response(BacktestResult.model_validate(report.__dict__))


@bp.route("/rules/backtest", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Run a draft rule over stored history; nothing is stored",
        roles=ADMIN,
        request=DraftBacktest,
        response=BacktestResult,
        query=BacktestQuery,
        errors=(422,),
        tag="rules",
    ),
)
def backtest_draft(ctx: Ctx) -> Response:
    draft = Rule(version=1, updated_by=ctx.principal.id, **ctx.body.model_dump())
    report = wiring.container().backtests.run(draft, ctx.query.days)
    return json_response(BacktestResult.model_validate(report.__dict__))


@bp.route("/rules/{rule_id}/versions", methods=["GET"])
@endpoint(bp, Spec("Every version of the rule", roles=READ, response=RuleVersions, errors=(404,), tag="rules"))
def rule_versions(ctx: Ctx, rule_id: str) -> Response:
    return json_response(RuleVersions(versions=wiring.container().rules.versions(rule_id)))


@bp.route("/rules/{rule_id}/audit", methods=["GET"])
@endpoint(bp, Spec("Who changed the rule, when, before and after", roles=READ, response=RuleAudit, tag="rules"))
def rule_audit(ctx: Ctx, rule_id: str) -> Response:
    return json_response(RuleAudit(events=wiring.container().rules.audit(rule_id)))
