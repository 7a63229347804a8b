"""Credentials: API keys for tills and the website, JWT bearer tokens for staff, and roles.

API keys are random 256-bit tokens; only their SHA-256 is stored (a fast hash is right for
high-entropy secrets). Staff passwords are stored with scrypt. Tokens are HS256 JWTs signed with a
key read from Secrets Manager (the secret "jwt-signing-key"), so the key never sits in the
function's environment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthenticated, Unavailable
from chalicelib.ports import AccessAudit, ApiKeyRecord, PrincipalStore, SecretSource, UserRecord

KEY_PREFIX = "bw_"
# A resolved key is cached this long per warm instance: a revoked key stops working within it.
KEY_CACHE_S = 15.0
MIN_PASSWORD = 12
MIN_SIGNING_KEY = 32
# Failed logins: counted per username and per source address in fixed windows; at the limit the
# login is refused before the password is even hashed (each scrypt costs ~50 ms of CPU).
LOGIN_WINDOW_S = 15 * 60
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_SOURCE = 20
MAX_ROTATION_GRACE_S = 24 * 3600


@dataclass(frozen=True)
class TokenSettings:
    ttl_s: int
    issuer: str


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


class SigningKeyMissing(Unavailable):
    """No usable signing key (a deployment fault): logins and bearer tokens fail closed with a 503."""


class AccessService:
    def __init__(self, principals: PrincipalStore, secret: SecretSource, tokens: TokenSettings, clock: Clock = utcnow):
        self.principals = principals
        self.secret = secret
        self.tokens = tokens
        self.clock = clock
        self._key_cache: dict[str, tuple[float, Principal | None]] = {}

    # --- administration (every action audited) --------------------------------------------

    def _audit(self, actor: str, action: str, target: str, **detail: Any) -> None:
        self.principals.audit(AccessAudit(self.clock().isoformat(), actor, action, target, detail))

    def _new_key(self, name: str, role: Role, scope: str) -> tuple[str, ApiKeyRecord]:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = key_hash(key)
        return key, ApiKeyRecord(digest, digest[:12], name, role.value, self.clock().isoformat(), scope)

    def create_api_key(self, name: str, role: str | Role, scope: str = "", actor: str = "system") -> str:
        """Create an API key and return it; it is shown once and only its hash is kept."""
        role = Role(role)
        if scope and role is not Role.ingest:
            raise Invalid("scope: only ingest keys are scoped (to a shop or a channel)")
        key, record = self._new_key(name, role, scope)
        if not self.principals.add_api_key(record):
            raise Conflict(f"an API key named {name} exists; rotate or revoke it")
        self._audit(actor, "api_key.create", name, role=role.value, scope=scope, key_id=record.key_id)
        return key

    def api_keys(self) -> list[ApiKeyRecord]:
        return self.principals.api_keys()

    def revoke_api_key(self, name: str, actor: str) -> ApiKeyRecord:
        revoked = self.principals.revoke_api_key(name, self.clock().isoformat())
        if revoked is None:
            raise NotFound(f"no active API key named {name}")
        self._key_cache.clear()
        self._audit(actor, "api_key.revoke", name, key_id=revoked.key_id)
        return revoked

    def rotate_api_key(self, name: str, actor: str, grace_s: int = 0) -> tuple[str, ApiKeyRecord]:
        """A new secret for the key of this name (same role and scope, same bets); the old one
        keeps working for grace_s seconds so a till can switch over."""
        old = self.principals.named_key(name)
        if old is None or old.revoked_at:
            raise NotFound(f"no active API key named {name}")
        key, new = self._new_key(name, Role(old.role), old.scope)
        until = (self.clock() + timedelta(seconds=grace_s)).isoformat()
        if not self.principals.rotate_api_key(old, new, until):
            raise Conflict(f"API key {name} changed meanwhile; retry")
        self._key_cache.clear()
        self._audit(actor, "api_key.rotate", name, old_key_id=old.key_id, key_id=new.key_id, grace_s=grace_s)
        return key, new

    def create_user(self, username: str, password: str, role: str | Role, actor: str = "system") -> None:
        role = Role(role)
        if len(password) < MIN_PASSWORD:
            raise Invalid(f"password: must be at least {MIN_PASSWORD} characters")
        salt = secrets.token_bytes(16)
        record = UserRecord(username, role.value, salt.hex(), scrypt(password, salt).hex(), self.clock().isoformat())
        if not self.principals.add_user(record):
            raise Conflict(f"user {username} already exists")
        self._audit(actor, "user.create", username, role=role.value)

    def set_user_disabled(self, username: str, disabled: bool, actor: str) -> None:
        """A disabled user cannot log in, and the tokens it holds are refused from now on."""
        if not self.principals.set_user_disabled(username, disabled):
            raise NotFound(f"user {username} not found")
        self._audit(actor, "user.disable" if disabled else "user.enable", username)

    def audit_trail(self, limit: int = 100) -> list[AccessAudit]:
        return self.principals.audit_trail(limit)

    # --- staff login and tokens -------------------------------------------------------------

    def _window(self) -> tuple[str, int]:
        """The current failed-login window's id and the seconds until it ends."""
        now = int(self.clock().timestamp())
        start = now - now % LOGIN_WINDOW_S
        return str(start), start + LOGIN_WINDOW_S - now

    def login(self, username: str, password: str, source: str = "") -> tuple[str, int]:
        """A signed token and its lifetime for valid credentials; too many failures lock out."""
        window, left = self._window()
        who = [(f"user:{username}", MAX_FAILURES_PER_USER)] + (
            [(f"source:{source}", MAX_FAILURES_PER_SOURCE)] if source else []
        )
        for subject, limit in who:
            if self.principals.login_failures(subject, window) >= limit:
                raise RateLimited(
                    f"too many failed logins for this {subject.split(':')[0]}; try again in {left} seconds",
                    retry_after_s=max(left, 1),
                )
        user = self.principals.user(username)
        # Hash even for unknown users so timing does not reveal which usernames exist.
        salt = bytes.fromhex(user.salt) if user else b"\0" * 16
        ok = hmac.compare_digest(scrypt(password, salt).hex(), user.hash if user else "")
        if user is None or not ok or user.disabled:
            expires = int(self.clock().timestamp()) + left + LOGIN_WINDOW_S
            for subject, _ in who:
                self.principals.count_login_failure(subject, window, expires)
            raise Unauthenticated("unknown username or wrong password", code="invalid_credentials")
        self.principals.clear_login_failures(f"user:{username}", window)
        now = int(time.time())
        claims = {
            "sub": username,
            "role": user.role,
            "iat": now,
            "exp": now + self.tokens.ttl_s,
            "iss": self.tokens.issuer,
        }
        return jwt.encode(claims, self._signing_key(), algorithm="HS256"), self.tokens.ttl_s

    def _signing_key(self) -> str:
        key = self.secret.signing_key()
        if len(key) < MIN_SIGNING_KEY:
            raise SigningKeyMissing("staff tokens are unavailable: the signing key is not configured", retry_after_s=60)
        return key

    def _from_token(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._signing_key(),
                algorithms=["HS256"],
                issuer=self.tokens.issuer,
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("bearer token has expired; log in again", code="token_expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("bearer token is not valid", code="invalid_token") from exc
        try:
            Role(claims["role"])
        except ValueError as exc:
            raise Unauthenticated("bearer token names an unknown role", code="invalid_token") from exc
        # The user as it is now: a disabled (or deleted) user's tokens are refused from then on,
        # and a changed role applies at once.
        user = self.principals.user(str(claims["sub"]))
        if user is None or user.disabled:
            raise Unauthenticated("this user is disabled; ask an administrator", code="user_disabled")
        return Principal(f"user:{claims['sub']}", Role(user.role), "user")

    def _from_key(self, key: str) -> Principal | None:
        digest = key_hash(key)
        hit = self._key_cache.get(digest)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        rec = self.principals.api_key(digest)
        principal = None
        if rec and not rec.revoked_at and not (rec.expires_at and rec.expires_at <= self.clock().isoformat()):
            principal = Principal(f"key:{rec.name}", Role(rec.role), "api_key", rec.scope)
        self._key_cache[digest] = (time.monotonic() + KEY_CACHE_S, principal)
        return principal

    # --- every request ----------------------------------------------------------------------

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        h = {k.lower(): v for k, v in headers.items()}
        if key := h.get("x-api-key"):
            principal = self._from_key(key)
            if principal is None:
                raise Unauthenticated("x-api-key is not a valid API key", code="invalid_api_key")
            return principal
        auth = h.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return self._from_token(auth[7:].strip())
        raise Unauthenticated("send an x-api-key header or an Authorization: Bearer token")

    def require(self, headers: Mapping[str, str], *roles: Role) -> Principal:
        """Authenticate and check the role; admin may do everything."""
        principal = self.authenticate(headers)
        if not principal.may(*roles):
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"role {principal.role.value} may not do this (needs: {allowed})")
        return principal

    def clear_cache(self) -> None:
        self._key_cache.clear()
