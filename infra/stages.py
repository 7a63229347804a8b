"""Per-stage settings of the AWS deployment (dev, prod).

Everything that differs between stages lives here; the resources themselves come from
`chalicelib/resources.py`. Alert endpoints can be overridden at synth time without editing this file:
`cdk synth -c alert_emails=a@x.com,b@x.com -c alert_phones=+447700900001`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs


@dataclass(frozen=True)
class StageConfig:
    name: str
    # Endpoints per subscription protocol ("email", "sms"); keyed like resources.Subscription.protocol.
    endpoints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    log_retention: logs.RetentionDays = logs.RetentionDays.TWO_WEEKS
    # Deletion protection of the DynamoDB tables (prod only).
    deletion_protection: bool = False
    lambda_memory_mb: int = 1024
    slip_memory_mb: int = 2048
    slip_timeout_s: int = 90
    # Caps on concurrent invocations by the SQS event sources (MaximumConcurrency, 2..1000).
    slip_max_concurrency: int = 5
    app_queue_max_concurrency: int = 2
    account: str | None = None  # None: the CLI's current account (CDK_DEFAULT_ACCOUNT)
    region: str | None = "eu-west-2"

    @property
    def stack_name(self) -> str:
        return f"betwatch-{self.name}"


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        endpoints={"email": ("betwatch-dev-alerts@example.com",), "sms": ()},
        removal_policy=RemovalPolicy.DESTROY,
        log_retention=logs.RetentionDays.TWO_WEEKS,
    ),
    "prod": StageConfig(
        name="prod",
        endpoints={"email": ("risk-team@example.com",), "sms": ("+447700900123",)},
        removal_policy=RemovalPolicy.RETAIN,
        log_retention=logs.RetentionDays.ONE_YEAR,
        deletion_protection=True,
    ),
}


def with_overrides(stage: StageConfig, context: dict[str, str | None]) -> StageConfig:
    """Apply `-c alert_emails=...` / `-c alert_phones=...` (comma separated) to a stage."""
    endpoints = dict(stage.endpoints)
    for protocol, key in (("email", "alert_emails"), ("sms", "alert_phones")):
        raw = context.get(key)
        if raw is not None:
            endpoints[protocol] = tuple(e.strip() for e in str(raw).split(",") if e.strip())
    return replace(stage, endpoints=endpoints)
