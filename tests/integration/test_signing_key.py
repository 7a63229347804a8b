"""The JWT signing key is read from Secrets Manager (as deployed), cached, and picked up when rotated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.adapters.secrets import SecretsManagerSource
from chalicelib.core import aws, config, resources

SECRET_ENV = resources.secret("jwt-signing-key").env_var


@pytest.fixture
def client(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.delenv("BETWATCH_JWT_SECRET", raising=False)
    config.reset()
    wiring.use(None)
    wiring.container().access.create_user("carol", "a long enough password", "staff")
    import app as app_module

    with Client(app_module.app) as c:
        yield c


def _login(client: Client) -> Any:
    return client.http.post(
        "/auth/login",
        body=json.dumps({"username": "carol", "password": "a long enough password"}),
        headers={"content-type": "application/json"},
    )


def _alerts(client: Client, token: str) -> int:
    return int(client.http.get("/alerts", headers={"authorization": f"Bearer {token}"}).status_code)


def test_token_signed_with_the_key_in_secrets_manager(client: Client, provisioned: dict[str, str]) -> None:
    import jwt

    r = _login(client)
    assert r.status_code == 200, r.body
    token = r.json_body["access_token"]
    key = aws.client("secretsmanager").get_secret_value(SecretId=provisioned[SECRET_ENV])["SecretString"]
    claims = jwt.decode(token, key, algorithms=["HS256"], issuer="betwatch")
    assert claims["sub"] == "carol" and claims["role"] == "staff"
    assert _alerts(client, token) == 200


def test_key_is_read_once_then_cached(client: Client) -> None:
    token = _login(client).json_body["access_token"]
    source = wiring.container().adapters.secret
    assert isinstance(source, SecretsManagerSource)
    calls: list[str] = []
    sm = aws.client("secretsmanager")
    original = sm.get_secret_value

    def counting(**kw: Any) -> Any:
        calls.append(kw["SecretId"])
        return original(**kw)

    sm.get_secret_value = counting
    try:
        for _ in range(5):
            assert _alerts(client, token) == 200
    finally:
        sm.get_secret_value = original
    assert calls == []  # cached by the first login, within SECRET_MAX_AGE_S


def test_rotated_key_rejects_old_tokens(client: Client, provisioned: dict[str, str]) -> None:
    old = _login(client).json_body["access_token"]
    aws.client("secretsmanager").put_secret_value(SecretId=provisioned[SECRET_ENV], SecretString="n" * 64)
    source = wiring.container().adapters.secret
    assert isinstance(source, SecretsManagerSource)
    source._provider = None  # what SECRET_MAX_AGE_S does on its own after rotation
    assert _alerts(client, old) == 401
    new = _login(client).json_body["access_token"]
    assert _alerts(client, new) == 200


def test_without_a_key_login_fails_closed(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV)
    config.reset()
    wiring.use(None)
    r = _login(client)
    assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    assert "access_token" not in (r.json_body or {})
