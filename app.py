"""betwatch: the Chalice app. Routes, the clustering queue consumer and the rule schedule.

Each handler is a few lines over `chalicelib`; auth, parsing and errors are in `endpoint`.
"""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Rate, Response

from chalicelib import alerts, auth, bets, clustering, openapi, rules, slips, subjects, views
from chalicelib.auth import Role
from chalicelib.config import settings
from chalicelib.endpoints import ANY_CONTENT, Ctx, Spec, endpoint
from chalicelib.http import ApiError, json_response, not_found
from chalicelib.resources import queue, schedule
from chalicelib.schemas import Bet, BetIn

app = Chalice(app_name="betwatch")
INGEST, STAFF, ADMIN = Role.ingest, Role.staff, Role.admin


@app.route("/health", methods=["GET"])
@endpoint(app, Spec("Model loaded and tables reachable", roles=None, response=views.Health))
def health(ctx: Ctx) -> Response:
    h = views.health()
    return json_response(h, 200 if h.status == "ok" else 503)


@app.route("/openapi.json", methods=["GET"])
def openapi_json() -> dict[str, Any]:
    return openapi.document(app)


@app.route("/docs", methods=["GET"])
def docs() -> Response:
    return Response(body=openapi.SWAGGER_HTML, headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/auth/login", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(app, Spec("Staff login: a bearer token", roles=None, request=views.LoginRequest, response=views.Token))
def login(ctx: Ctx) -> Response:
    token, ttl = auth.login(ctx.body.username, ctx.body.password)
    return json_response(views.Token(access_token=token, expires_in=ttl))


@app.route("/admin/api-keys", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    app,
    Spec("Create an API key", roles=(ADMIN,), request=views.ApiKeyRequest, response=views.ApiKeyCreated, status=201),
)
def create_api_key(ctx: Ctx) -> Response:
    key = auth.create_api_key(ctx.body.name, ctx.body.role)
    return json_response(views.ApiKeyCreated(api_key=key, name=ctx.body.name, role=ctx.body.role), 201)


@app.route("/admin/users", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(app, Spec("Create a staff user", roles=(ADMIN,), request=views.UserRequest, status=201, errors=(409,)))
def create_user(ctx: Ctx) -> Response:
    auth.create_user(ctx.body.username, ctx.body.password, ctx.body.role)
    return json_response({"username": ctx.body.username, "role": ctx.body.role}, 201)


@app.route("/bets", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    app,
    Spec(
        "Record a bet and score its risk",
        roles=(INGEST,),
        request=BetIn,
        response=views.BetCreated,
        status=201,
        errors=(409,),
    ),
)
def post_bet(ctx: Ctx) -> Response:
    bet, created = bets.create_bet(ctx.body, ctx.principal, ctx.request.headers.get("idempotency-key"))
    return json_response(views.bet_created(bet, created), 201 if created else 200, {"Location": f"/bets/{bet.bet_id}"})


@app.route("/bets/{bet_id}", methods=["GET"])
@endpoint(app, Spec("A stored bet with its risk", roles=(INGEST, STAFF), response=Bet, errors=(404,)))
def get_bet(ctx: Ctx, bet_id: str) -> Response:
    found = bets.get_bet(bet_id) or (None, None)
    return json_response(found[0] or _raise(not_found(f"bet {bet_id}")))


@app.route("/bets/{bet_id}/slip", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    app,
    Spec(
        "Presigned S3 POST for the bet's slip image",
        roles=(INGEST,),
        request=views.SlipUploadRequest,
        response=views.SlipUpload,
        status=201,
        errors=(404, 409),
    ),
)
def slip_upload(ctx: Ctx, bet_id: str) -> Response:
    if bets.get_bet(bet_id) is None:
        raise not_found(f"bet {bet_id}")
    post = slips.start_upload(bet_id, ctx.body.content_type)
    return json_response(
        post or _raise(ApiError(409, "conflict", f"the slip of bet {bet_id} is already processed")), 201
    )


@app.route("/bets/{bet_id}/slip", methods=["GET"])
@endpoint(app, Spec("Slip processing status", roles=(INGEST, STAFF), response=views.SlipStatusView, errors=(404,)))
def slip_status(ctx: Ctx, bet_id: str) -> Response:
    record = slips.get(bet_id) or _raise(not_found(f"slip of bet {bet_id}"))
    return json_response(views.SlipStatusView(**record.model_dump()))


@app.route("/customers/{customer_id}", methods=["GET"])
@endpoint(
    app,
    Spec("Customer profile, rolling totals, linked writers", roles=(STAFF,), response=views.SubjectView, errors=(404,)),
)
def get_customer(ctx: Ctx, customer_id: str) -> Response:
    view = views.subject_view(subjects.customer_key(customer_id))
    return json_response(view or _raise(not_found(f"customer {customer_id}")))


@app.route("/writers/{writer_id}", methods=["GET"])
@endpoint(
    app,
    Spec("Writer: slips, linked customers, stake totals", roles=(STAFF,), response=views.SubjectView, errors=(404,)),
)
def get_writer(ctx: Ctx, writer_id: str) -> Response:
    view = views.subject_view(subjects.writer_key(writer_id))
    return json_response(view or _raise(not_found(f"writer {writer_id}")))


@app.route("/alerts", methods=["GET"])
@endpoint(
    app,
    Spec(
        "Recent alerts, newest first",
        roles=(STAFF,),
        response=views.AlertList,
        query={"days": "how many days back (1-31, default 7)", "limit": "at most (1-500, default 100)"},
    ),
)
def list_alerts(ctx: Ctx) -> Response:
    q: dict[str, str] = dict(ctx.request.query_params or {})
    days, limit = _int_param(q, "days", 7, 1, 31), _int_param(q, "limit", 100, 1, 500)
    return json_response(views.AlertList(alerts=alerts.recent(days=days, limit=limit)))


@app.on_sqs_message(queue=settings().queue("slip-clustering"), batch_size=queue("slip-clustering").batch_size)
def cluster_slips(event: Any) -> dict[str, Any]:
    return clustering.handle_sqs(event.to_dict(), event.context)


@app.schedule(Rate(schedule("evaluate-rules").rate_minutes, unit=Rate.MINUTES))
def evaluate_rules(event: Any) -> dict[str, int]:
    return rules.run_schedule(rules.event_time(event.to_dict()))


def _raise(exc: ApiError) -> Any:
    raise exc


def _int_param(q: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = q.get(name, str(default))
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)
