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

import jwt

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, Unauthenticated, Unavailable
from chalicelib.ports import ApiKeyRecord, PrincipalStore, SecretSource, UserRecord

KEY_PREFIX = "bw_"
KEY_CACHE_S = 60.0
MIN_PASSWORD = 12
MIN_SIGNING_KEY = 32


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

    # --- administration ---------------------------------------------------------------------

    def create_api_key(self, name: str, role: str | Role) -> str:
        """Create an API key and return it; it is shown once and only its hash is kept."""
        role = Role(role)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = key_hash(key)
        self.principals.add_api_key(ApiKeyRecord(digest, digest[:12], name, role.value, self.clock().isoformat()))
        return key

    def create_user(self, username: str, password: str, role: str | Role) -> None:
        role = Role(role)
        if len(password) < MIN_PASSWORD:
            raise Invalid(f"password: must be at least {MIN_PASSWORD} characters")
        salt = secrets.token_bytes(16)
        record = UserRecord(username, role.value, salt.hex(), scrypt(password, salt).hex(), self.clock().isoformat())
        if not self.principals.add_user(record):
            raise Conflict(f"user {username} already exists")

    # --- staff login and tokens -------------------------------------------------------------

    def login(self, username: str, password: str) -> tuple[str, int]:
        """A signed token and its lifetime for valid credentials."""
        user = self.principals.user(username)
        # Hash even for unknown users so timing does not reveal which usernames exist.
        salt = bytes.fromhex(user.salt) if user else b"\0" * 16
        ok = hmac.compare_digest(scrypt(password, salt).hex(), user.hash if user else "")
        if user is None or not ok:
            raise Unauthenticated("unknown username or wrong password", code="invalid_credentials")
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
            role = Role(claims["role"])
        except ValueError as exc:
            raise Unauthenticated("bearer token names an unknown role", code="invalid_token") from exc
        return Principal(f"user:{claims['sub']}", role, "user")

    def _from_key(self, key: str) -> Principal | None:
        digest = key_hash(key)
        hit = self._key_cache.get(digest)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        rec = self.principals.api_key(digest)
        principal = Principal(f"key:{rec.key_id}:{rec.name}", Role(rec.role), "api_key") if rec else None
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
