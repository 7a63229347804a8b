"""Credentials: API keys for ingest clients, JWT bearer tokens for staff, and roles.

API keys are random 256-bit tokens; only their SHA-256 is stored (a fast hash is right for
high-entropy secrets). Staff passwords are stored with scrypt. Tokens are HS256 JWTs signed with a
key read from Secrets Manager (the secret "jwt-signing-key" of resources.py; moto's under `make run`),
so the key never sits in the function's environment. BETWATCH_JWT_SECRET, the key itself, is for tests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import jwt

from chalicelib import aws, resources
from chalicelib.config import settings
from chalicelib.http import ApiError

KEY_PREFIX = "bw_"
_CACHE_S = 60.0
_key_cache: dict[str, tuple[float, Principal | None]] = {}
# A rotated signing key is picked up within this many seconds (tokens signed before then stop working).
SECRET_MAX_AGE_S = 300
_secrets_provider: Any = None


class Role(StrEnum):
    ingest = "ingest"
    staff = "staff"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    id: str
    role: Role
    kind: str  # "api_key" or "user"


def _table() -> Any:
    return aws.dynamodb_table(settings().table("principals"))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(name: str, role: str | Role) -> str:
    """Create an API key and return it; it is shown once and only its hash is kept."""
    role = Role(role)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = _key_hash(key)
    _table().put_item(
        Item={
            "pk": f"KEY#{digest}",
            "key_id": digest[:12],
            "name": name,
            "role": role.value,
            "created_at": datetime.now(UTC).isoformat(),
        },
        ConditionExpression="attribute_not_exists(pk)",
    )
    return key


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def create_user(username: str, password: str, role: str | Role) -> None:
    role = Role(role)
    if len(password) < 12:
        raise ApiError(422, "validation_error", "password: must be at least 12 characters")
    salt = secrets.token_bytes(16)
    try:
        _table().put_item(
            Item={
                "pk": f"USER#{username}",
                "role": role.value,
                "salt": salt.hex(),
                "hash": _scrypt(password, salt).hex(),
                "created_at": datetime.now(UTC).isoformat(),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except aws.client("dynamodb").exceptions.ConditionalCheckFailedException as exc:
        raise ApiError(409, "conflict", f"user {username} already exists") from exc


def login(username: str, password: str) -> tuple[str, int]:
    """Return a signed token and its lifetime for valid credentials."""
    item = _table().get_item(Key={"pk": f"USER#{username}"}).get("Item")
    # Hash even for unknown users so timing does not reveal which usernames exist.
    salt = bytes.fromhex(item["salt"]) if item else b"\0" * 16
    ok = hmac.compare_digest(_scrypt(password, salt).hex(), item["hash"] if item else "")
    if not item or not ok:
        raise ApiError(401, "invalid_credentials", "unknown username or wrong password")
    cfg = settings()
    now = int(time.time())
    claims = {"sub": username, "role": item["role"], "iat": now, "exp": now + cfg.jwt_ttl_s, "iss": cfg.jwt_issuer}
    return jwt.encode(claims, _secret(), algorithm="HS256"), cfg.jwt_ttl_s


def _secret() -> str:
    """The HS256 key: from Secrets Manager when an id is configured, cached for SECRET_MAX_AGE_S."""
    cfg = settings()
    secret = cfg.jwt_secret
    if not secret and cfg.jwt_secret_id:
        secret = _secrets().get(cfg.jwt_secret_id, max_age=SECRET_MAX_AGE_S) or ""
    if len(secret) < 32:
        env = resources.secret("jwt-signing-key").env_var
        raise RuntimeError(f"the JWT signing key must be at least 32 characters (set {env} or BETWATCH_JWT_SECRET)")
    return str(secret)


def _secrets() -> Any:
    """Powertools' Secrets Manager provider over our lazily created client (one per process).

    Imported on first use: only token logins and bearer requests need it, API-key calls never do.
    """
    global _secrets_provider
    if _secrets_provider is None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        _secrets_provider = SecretsProvider(boto3_client=aws.client("secretsmanager"))
    return _secrets_provider


def _from_key(key: str) -> Principal | None:
    digest = _key_hash(key)
    hit = _key_cache.get(digest)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    item = _table().get_item(Key={"pk": f"KEY#{digest}"}).get("Item")
    principal = Principal(f"key:{item['key_id']}:{item['name']}", Role(item["role"]), "api_key") if item else None
    _key_cache[digest] = (time.monotonic() + _CACHE_S, principal)
    return principal


def _from_token(token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            _secret(),
            algorithms=["HS256"],
            issuer=settings().jwt_issuer,
            options={"require": ["exp", "sub", "role"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(401, "token_expired", "bearer token has expired; log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise ApiError(401, "invalid_token", "bearer token is not valid") from exc
    return Principal(f"user:{claims['sub']}", Role(claims["role"]), "user")


def authenticate(headers: dict[str, str]) -> Principal:
    h = {k.lower(): v for k, v in headers.items()}
    if key := h.get("x-api-key"):
        principal = _from_key(key)
        if principal is None:
            raise ApiError(401, "invalid_api_key", "x-api-key is not a valid API key")
        return principal
    auth = h.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return _from_token(auth[7:].strip())
    raise ApiError(401, "unauthenticated", "send an x-api-key header or an Authorization: Bearer token")


def require(headers: dict[str, str], *roles: Role) -> Principal:
    """Authenticate and check the role; admin may do everything."""
    principal = authenticate(headers)
    if principal.role is not Role.admin and principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise ApiError(403, "forbidden", f"role {principal.role.value} may not do this (needs: {allowed})")
    return principal


def clear_cache() -> None:
    global _secrets_provider
    _key_cache.clear()
    _secrets_provider = None
