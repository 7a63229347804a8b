"""CDK entry point: one stack per stage (dev, prod) built from chalicelib/resources.py.

cd infra && npx cdk synth                      # both stages
npx cdk synth -c stage=dev                     # one stage
npx cdk synth -c chalice=false                 # without the Chalice app (no `chalice package`)
npx cdk synth -c alert_emails=a@x.com -c alert_phones=+447700900001
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402

from infra.betwatch_stack import BetwatchStack  # noqa: E402
from infra.stages import STAGES, with_overrides  # noqa: E402


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    return str(value).lower() not in ("0", "false", "no", "off")


def build(app: cdk.App) -> list[BetwatchStack]:
    only = app.node.try_get_context("stage")
    with_chalice = _flag(app.node.try_get_context("chalice"), True)
    context = {k: app.node.try_get_context(k) for k in ("alert_emails", "alert_phones")}
    stacks = []
    for name, stage in STAGES.items():
        if only and name != only:
            continue
        stage = with_overrides(stage, context)
        env = cdk.Environment(
            account=stage.account or os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=stage.region or os.environ.get("CDK_DEFAULT_REGION"),
        )
        stacks.append(
            BetwatchStack(
                app,
                stage.stack_name,
                stage=stage,
                with_chalice=with_chalice,
                env=env,
                description=f"betwatch ({name}): bet monitoring, built from chalicelib/resources.py",
            )
        )
        cdk.Tags.of(stacks[-1]).add("app", "betwatch")
        cdk.Tags.of(stacks[-1]).add("stage", name)
    return stacks


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
