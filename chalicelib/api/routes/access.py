"""Staff login, and the administration of API keys and users."""

from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role
from chalicelib.domain.bets import Channel, Id
from chalicelib.ports import ApiKeyRecord

bp = Blueprint(__name__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Token(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class ApiKeyRequest(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Unique.")
    role: Role
    shop_id: Id | None = Field(None, description="An ingest key for one shop's tills: records that shop's bets only.")
    channel: Channel | None = Field(None, description="An ingest key for one channel (e.g. the website: online).")

    @model_validator(mode="after")
    def _one_scope(self) -> ApiKeyRequest:
        if self.shop_id and self.channel:
            raise ValueError("shop_id: give a shop or a channel, not both")
        if (self.shop_id or self.channel) and self.role is not Role.ingest:
            raise ValueError("role: only ingest keys are scoped to a shop or a channel")
        return self

    @property
    def scope(self) -> str:
        return f"shop:{self.shop_id}" if self.shop_id else f"channel:{self.channel.value}" if self.channel else ""


class ApiKeyCreated(BaseModel):
    api_key: str = Field(description="Shown once; only its hash is stored.")
    name: str
    role: Role
    key_id: str
    scope: str = Field(description="shop:<id>, channel:<channel>, or empty (any shop and channel).")


class ApiKeyView(BaseModel):
    name: str
    key_id: str = Field(description="The first 12 hex digits of the key's SHA-256: never the key.")
    role: Role
    scope: str
    created_at: str
    revoked_at: str | None = None


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyView]


class RotateQuery(Strict):
    grace_minutes: int = Field(0, ge=0, le=1440, description="How long the old key keeps working.")


class UserChanged(BaseModel):
    username: str
    disabled: bool


class AuditEntry(BaseModel):
    at: str
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditTrail(BaseModel):
    events: list[AuditEntry]


class AuditQuery(Strict):
    limit: int = Field(100, ge=1, le=500)


class UserRequest(Strict):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=12, max_length=256)
    role: Literal["staff", "admin"]


class UserCreated(BaseModel):
    username: str
    role: str


@bp.route("/auth/login", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Staff login: a bearer token (failed logins lock out per user and per source)",
        roles=None,
        request=LoginRequest,
        response=Token,
        errors=(401, 429, 503),
    ),
)
def login(ctx: Ctx) -> Response:
    source = str((ctx.request.context.get("identity") or {}).get("sourceIp") or "")
    token, ttl = wiring.container().access.login(ctx.body.username, ctx.body.password, source)
    return json_response(Token(access_token=token, expires_in=ttl))


def _key_view(k: ApiKeyRecord) -> ApiKeyView:
    return ApiKeyView(
        name=k.name,
        key_id=k.key_id,
        role=Role(k.role),
        scope=k.scope,
        created_at=k.created_at,
        revoked_at=k.revoked_at or None,
    )


@bp.route("/admin/api-keys", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Create an API key (an ingest key may be scoped to a shop or a channel)",
        roles=(Role.admin,),
        request=ApiKeyRequest,
        response=ApiKeyCreated,
        status=201,
        errors=(409,),
    ),
)
def create_api_key(ctx: Ctx) -> Response:
    b = ctx.body
    key = wiring.container().access.create_api_key(b.name, b.role, b.scope, actor=ctx.principal.id)
    key_id = wiring.container().access.principals.named_key(b.name)
    created = ApiKeyCreated(
        api_key=key, name=b.name, role=b.role, key_id=key_id.key_id if key_id else "", scope=b.scope
    )
    return json_response(created, 201)


@bp.route("/admin/api-keys", methods=["GET"])
@endpoint(bp, Spec("Every API key by name (never a secret)", roles=(Role.admin,), response=ApiKeyList))
def list_api_keys(ctx: Ctx) -> Response:
    return json_response(ApiKeyList(api_keys=[_key_view(k) for k in wiring.container().access.api_keys()]))


@bp.route("/admin/api-keys/{name}/revoke", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, Spec("Revoke an API key", roles=(Role.admin,), response=ApiKeyView, errors=(404,)))
def revoke_api_key(ctx: Ctx, name: str) -> Response:
    return json_response(_key_view(wiring.container().access.revoke_api_key(name, actor=ctx.principal.id)))


@bp.route("/admin/api-keys/{name}/rotate", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "A new secret for an API key (same name, role, scope and bets); the old one works for grace_minutes",
        roles=(Role.admin,),
        query=RotateQuery,
        response=ApiKeyCreated,
        status=201,
        errors=(404, 409),
    ),
)
def rotate_api_key(ctx: Ctx, name: str) -> Response:
    grace = ctx.query.grace_minutes * 60
    key, rec = wiring.container().access.rotate_api_key(name, actor=ctx.principal.id, grace_s=grace)
    body = ApiKeyCreated(api_key=key, name=rec.name, role=Role(rec.role), key_id=rec.key_id, scope=rec.scope)
    return json_response(body, 201)


@bp.route("/admin/users", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Create a staff user", roles=(Role.admin,), request=UserRequest, response=UserCreated, status=201, errors=(409,)
    ),
)
def create_user(ctx: Ctx) -> Response:
    b = ctx.body
    wiring.container().access.create_user(b.username, b.password, b.role, actor=ctx.principal.id)
    return json_response(UserCreated(username=b.username, role=b.role), 201)


def _set_disabled(ctx: Ctx, username: str, disabled: bool) -> Response:
    wiring.container().access.set_user_disabled(username, disabled, actor=ctx.principal.id)
    return json_response(UserChanged(username=username, disabled=disabled))


@bp.route("/admin/users/{username}/disable", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec("Disable a user: no login, its tokens refused", roles=(Role.admin,), response=UserChanged, errors=(404,)),
)
def disable_user(ctx: Ctx, username: str) -> Response:
    return _set_disabled(ctx, username, True)


@bp.route("/admin/users/{username}/enable", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, Spec("Enable a disabled user", roles=(Role.admin,), response=UserChanged, errors=(404,)))
def enable_user(ctx: Ctx, username: str) -> Response:
    return _set_disabled(ctx, username, False)


@bp.route("/admin/audit", methods=["GET"])
@endpoint(
    bp,
    Spec(
        "Administrative actions on keys and users, newest first",
        roles=(Role.admin,),
        query=AuditQuery,
        response=AuditTrail,
    ),
)
def access_audit(ctx: Ctx) -> Response:
    events = wiring.container().access.audit_trail(ctx.query.limit)
    return json_response(AuditTrail(events=[AuditEntry(**e.__dict__) for e in events]))
