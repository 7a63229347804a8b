"""Staff login, and the administration of API keys and users."""

from __future__ import annotations

from typing import Literal

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.api.spec import ANY_CONTENT, Ctx, Spec, endpoint, json_response
from chalicelib.domain.access import Role

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
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: Role


class ApiKeyCreated(BaseModel):
    api_key: str = Field(description="Shown once; only its hash is stored.")
    name: str
    role: Role


class UserRequest(Strict):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=12, max_length=256)
    role: Literal["staff", "admin"]


class UserCreated(BaseModel):
    username: str
    role: str


@bp.route("/auth/login", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(bp, Spec("Staff login: a bearer token", roles=None, request=LoginRequest, response=Token, errors=(401,)))
def login(ctx: Ctx) -> Response:
    token, ttl = wiring.container().access.login(ctx.body.username, ctx.body.password)
    return json_response(Token(access_token=token, expires_in=ttl))


@bp.route("/admin/api-keys", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec("Create an API key", roles=(Role.admin,), request=ApiKeyRequest, response=ApiKeyCreated, status=201),
)
def create_api_key(ctx: Ctx) -> Response:
    key = wiring.container().access.create_api_key(ctx.body.name, ctx.body.role)
    return json_response(ApiKeyCreated(api_key=key, name=ctx.body.name, role=ctx.body.role), 201)


@bp.route("/admin/users", methods=["POST"], content_types=ANY_CONTENT)
@endpoint(
    bp,
    Spec(
        "Create a staff user", roles=(Role.admin,), request=UserRequest, response=UserCreated, status=201, errors=(409,)
    ),
)
def create_user(ctx: Ctx) -> Response:
    wiring.container().access.create_user(ctx.body.username, ctx.body.password, ctx.body.role)
    return json_response(UserCreated(username=ctx.body.username, role=ctx.body.role), 201)
