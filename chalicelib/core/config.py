"""Runtime settings: one pydantic-settings model, read from the environment once per process.

Every setting is a `BETWATCH_<NAME>` variable and its default is written here once; the slip
function reads the same model. Resource names default to the names declared in `resources.py` for
the stage, so a deployment only has to set BETWATCH_STAGE (the CDK stack and the local provisioner
set every variable explicitly). Which AWS endpoint is used (real AWS, moto, LocalStack) is boto3's
own AWS_ENDPOINT_URL setting, never a branch in this code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from chalicelib.core import resources

MB = 1024 * 1024
# The mapping `from_env` reads instead of os.environ (None: os.environ).
_explicit_env: ContextVar[Mapping[str, str] | None] = ContextVar("explicit_env", default=None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BETWATCH_", extra="ignore", frozen=True, populate_by_name=True)

    stage: str = "local"
    region: str = Field(default="eu-west-2", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    # Physical names by logical name; filled from BETWATCH_TABLE_* etc. or the stage's defaults.
    tables: dict[str, str] = Field(default_factory=dict, exclude=True)
    queues: dict[str, str] = Field(default_factory=dict, exclude=True)
    buckets: dict[str, str] = Field(default_factory=dict, exclude=True)
    topics: dict[str, str] = Field(default_factory=dict, exclude=True)

    # Money: the deployment's currency; every amount is kept in its minor units.
    currency: str = "GBP"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Live bets (POST /bets) placed longer ago than this are refused: older bets are history imports.
    live_max_age_hours: int = Field(default=7 * 24, ge=1, le=24 * 30)
    # Slip uploads (also the slip function's checks).
    slip_max_bytes: int = Field(default=8 * MB, ge=1024)
    slip_min_bytes: int = Field(default=1024, ge=1)
    slip_max_pixels: int = Field(default=40_000_000, ge=1)
    slip_min_side: int = Field(default=200, ge=1)
    # Raw bet files (bets, knockbacks, SMS wagers): anything larger is quarantined unread.
    bet_file_max_bytes: int = Field(default=64 * 1024, ge=1024, le=8 * MB)
    presign_expires_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # The default stake rule (Betfred tracker: £500 in 24 h).
    rule_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    rule_stake_threshold_minor: int = Field(default=50_000, ge=1)
    # Auth. The signing key: its Secrets Manager id (deployments, `make run`), or the key itself (tests).
    jwt_secret_id: str = Field(default="", validation_alias=AliasChoices("BETWATCH_SECRET_JWT_SIGNING_KEY"))
    jwt_secret: str = ""
    jwt_ttl_s: int = Field(default=8 * 3600, ge=60)
    jwt_issuer: str = "betwatch"
    # How long per-bet subject items are kept for rolling windows (days).
    history_days: int = Field(default=35, ge=31)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # An explicit mapping (from_env) is passed as init values: the process environment is not read.
        return (init_settings,) if _explicit_env.get() is not None else (init_settings, env_settings)

    @model_validator(mode="before")
    @classmethod
    def _resource_names(cls, data: Any) -> Any:
        # Names come from each declaration's own variable (BETWATCH_TABLE_BETS, ...), which
        # pydantic-settings cannot enumerate; `_env` is the mapping being read.
        if not isinstance(data, dict):
            return data
        env: Mapping[str, str] = _explicit_env.get() or os.environ
        stage = str(data.get("stage") or env.get("BETWATCH_STAGE") or "local")

        def name(obj: resources.Table | resources.Queue | resources.Bucket) -> str:
            return env.get(obj.env_var) or resources.physical_name(stage, obj.logical)

        data.setdefault("tables", {t.logical: name(t) for t in resources.TABLES})
        data.setdefault("queues", {q.logical: name(q) for q in resources.QUEUES})
        data.setdefault("buckets", {b.logical: name(b) for b in resources.BUCKETS})
        data.setdefault("topics", {t.logical: env.get(t.env_var, "") for t in resources.TOPICS})
        return data

    def table(self, logical: str) -> str:
        return self.tables[logical]

    def queue(self, logical: str) -> str:
        return self.queues[logical]

    def bucket(self, logical: str) -> str:
        return self.buckets[logical]

    def topic_arn(self, logical: str) -> str:
        arn = self.topics.get(logical, "")
        if not arn:
            raise RuntimeError(f"{resources.topic(logical).env_var} is not set (the topic ARN)")
        return arn


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` alone (tests, the local runner), or from os.environ."""
    if env is None:
        return Settings()
    prefix = "BETWATCH_"
    values: dict[str, Any] = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    for alias in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if env.get(alias):
            values.setdefault("region", env[alias])
    if secret_id := env.get("BETWATCH_SECRET_JWT_SIGNING_KEY"):
        values["jwt_secret_id"] = secret_id
    token = _explicit_env.set(env)
    try:
        return Settings(**values)
    finally:
        _explicit_env.reset(token)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return from_env()


def reset() -> None:
    """Forget cached settings (tests change the environment)."""
    settings.cache_clear()
