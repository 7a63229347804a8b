"""Runtime settings, read from the environment once per process.

Resource names default to the names declared in `resources.py` for the stage, so a deployment only
has to set BETWATCH_STAGE; the CDK stack and the local provisioner set every variable explicitly.
Which AWS endpoint is used (real AWS, moto, LocalStack) is boto3's own AWS_ENDPOINT_URL setting,
never a branch in this code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib import resources


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    region: str = "eu-west-2"
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    # Money: the deployment's currency; every amount is kept in its minor units.
    currency: str = "GBP"
    max_body_bytes: int = 64 * 1024
    # Slip uploads.
    slip_max_bytes: int = 8 * 1024 * 1024
    slip_min_bytes: int = 1024
    slip_max_pixels: int = 40_000_000
    slip_min_side: int = 200
    presign_expires_s: int = 900
    # Threshold rules (defaults follow the Betfred tracker: £500 in 24 h).
    rule_window_hours: int = 24
    rule_stake_threshold_minor: int = 50_000
    # Auth.
    # The signing key: its Secrets Manager id (deployments, `make run`), or the key itself (tests).
    jwt_secret_id: str = ""
    jwt_secret: str = ""
    jwt_ttl_s: int = 8 * 3600
    jwt_issuer: str = "betwatch"
    # How long per-bet subject items are kept for rolling windows (days).
    history_days: int = 35

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


def from_env(env: dict[str, str] | None = None) -> Settings:
    e = dict(os.environ) if env is None else env
    stage = e.get("BETWATCH_STAGE", "local")

    def name(obj: resources.Table | resources.Queue | resources.Bucket) -> str:
        return e.get(obj.env_var) or resources.physical_name(stage, obj.logical)

    return Settings(
        stage=stage,
        region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "eu-west-2",
        tables={t.logical: name(t) for t in resources.TABLES},
        queues={q.logical: name(q) for q in resources.QUEUES},
        buckets={b.logical: name(b) for b in resources.BUCKETS},
        topics={t.logical: e.get(t.env_var, "") for t in resources.TOPICS},
        currency=e.get("BETWATCH_CURRENCY", "GBP"),
        max_body_bytes=_int(e, "BETWATCH_MAX_BODY_BYTES", 64 * 1024),
        slip_max_bytes=_int(e, "BETWATCH_SLIP_MAX_BYTES", 8 * 1024 * 1024),
        slip_max_pixels=_int(e, "BETWATCH_SLIP_MAX_PIXELS", 40_000_000),
        rule_window_hours=_int(e, "BETWATCH_RULE_WINDOW_HOURS", 24),
        rule_stake_threshold_minor=_int(e, "BETWATCH_RULE_STAKE_THRESHOLD_MINOR", 50_000),
        jwt_secret_id=e.get(resources.secret("jwt-signing-key").env_var, ""),
        jwt_secret=e.get("BETWATCH_JWT_SECRET", ""),
        jwt_ttl_s=_int(e, "BETWATCH_JWT_TTL_S", 8 * 3600),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return from_env()


def reset() -> None:
    """Forget cached settings (tests change the environment)."""
    settings.cache_clear()
