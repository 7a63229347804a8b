"""The staff-token signing key: from Secrets Manager (Powertools' provider, cached), or given."""

from __future__ import annotations

from typing import Any

# A rotated signing key is picked up within this many seconds (tokens signed before then stop working).
SECRET_MAX_AGE_S = 300


class SecretsManagerSource:
    def __init__(self, client: Any, secret_id: str):
        self.client = client
        self.secret_id = secret_id
        self._provider: Any = None

    def signing_key(self) -> str:
        if not self.secret_id:
            return ""
        if self._provider is None:
            # Imported on first use: only token logins and bearer requests need it.
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=self.client)
        return str(self._provider.get(self.secret_id, max_age=SECRET_MAX_AGE_S) or "")


class StaticSecret:
    """The key itself (tests, BETWATCH_JWT_SECRET)."""

    def __init__(self, key: str):
        self.key = key

    def signing_key(self) -> str:
        return self.key
