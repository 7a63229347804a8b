"""The betwatch stack, built from the declarations in `chalicelib/resources.py`.

Nothing here lists tables, queues, buckets, topics or schedules by hand: each loop below walks one
tuple of `resources.py`, so adding a declaration there adds it to the cloud (and to moto/LocalStack
through `local/provision.py`). What only the cloud needs (KMS, IAM, alarms, the JWT secret, the
container image of the slip function) is added around those loops.

The Chalice part (`chalice.cdk.Chalice`) runs `chalice package` in-process on a copy of app.py and
chalicelib/ with an empty requirements.txt (`stage_chalice_source`): the deployment package is the
project's code only, and its dependencies come from the Lambda layers of `layers/`, attached to every
Chalice function. The layer zips are built (or rebuilt, when a pin changed) by `layers/build.py`
during synth; pip needs the network only until its wheel cache is filled. `-c chalice=false` leaves
the Chalice part (and the layers) out.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnResource, Duration, IgnoreMode, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.core import access, resources
from chalicelib.core.resources import Bucket, Queue, Table, Topic
from infra.stages import StageConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
# The Chalice app's code is packaged from this copy of app.py + chalicelib/ whose requirements.txt
# is empty: its dependencies come from the layers below, not from the deployment package.
CHALICE_SOURCE = REPO_ROOT / "infra" / "chalice.src"
CHALICE_ARCH = "x86_64"  # chalice package builds x86_64 functions; the layers must match

# What the slip image build context may contain (everything else in the repo is excluded, so the
# asset hash changes only when these do). Docker ignore syntax: exclude all, re-include the few.
SLIP_IMAGE_CONTEXT = (
    "functions/__init__.py",
    "functions/slip_scoring",
    "chalicelib/__init__.py",
    "chalicelib/ports.py",
    "chalicelib/core",
    "chalicelib/domain",
    "chalicelib/adapters/__init__.py",
    "chalicelib/adapters/s3.py",
    "chalicelib/adapters/guard.py",
    "chalicelib/adapters/sqs.py",
    "chalicelib/adapters/dynamodb/__init__.py",
    "chalicelib/adapters/dynamodb/client.py",
    "chalicelib/adapters/dynamodb/keys.py",
    "chalicelib/adapters/dynamodb/slips.py",
    "chalicelib/services/__init__.py",
    "chalicelib/services/slip_processing.py",
)

# Logical ids of the Chalice functions in the template `chalice package` writes, from the declarations.
CHALICE_FUNCTIONS = {
    f.name: ("APIHandler" if f.name == "api_handler" else "".join(p.title() for p in f.name.split("_")))
    for f in resources.FUNCTIONS
    if f.package == "chalice"
}


class _StackArns:
    """The stack's resources' ARNs (tokens) for `core/access.py`'s statements."""

    def __init__(self, stack: BetwatchStack) -> None:
        self.stack = stack

    def table(self, logical: str) -> str:
        return str(self.stack.tables[logical].table_arn)

    def queue(self, logical: str) -> str:
        return str(self.stack.queues[logical].queue_arn)

    def bucket(self, logical: str) -> str:
        return str(self.stack.buckets[logical].bucket_arn)

    def topic(self, logical: str) -> str:
        return str(self.stack.topics[logical].topic_arn)

    def topic_key(self, logical: str) -> str | None:
        return str(self.stack.key.key_arn)

    def secret(self, logical: str) -> str:
        return str(self.stack.secrets[logical].secret_arn)


LAMBDA_SKIPS = (
    (
        "CKV_AWS_116",
        "Invoked by SQS, EventBridge or API Gateway (synchronously): failed messages go to the queue's DLQ.",
    ),
    ("CKV_AWS_117", "Talks only to AWS APIs over TLS; no VPC resources to reach."),
    ("CKV_AWS_173", "Environment holds resource names only; Lambda encrypts it with its default KMS key."),
    (
        "CKV_AWS_115",
        "Concurrency of queue consumers is capped by the SQS event source's MaximumConcurrency; reserved "
        "concurrency fails to deploy in accounts with the default limit of 10.",
    ),
)
LOG_SKIPS = (
    ("CKV_AWS_158", "Log lines hold ids and counts, no secrets; CloudWatch Logs encrypts at rest by default."),
)
QUEUE_SKIPS = (("CKV_AWS_27", "Encrypted with SSE-SQS (SqsManagedSseEnabled), which this check does not recognise."),)


def skip_checks(resource: Any, *checks: tuple[str, str]) -> None:
    """Record checkov suppressions (id, justification) in the resource's metadata."""
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    meta = cfn.get_metadata("checkov") or {"skip": []}
    meta["skip"].extend({"id": cid, "comment": why} for cid, why in checks)
    cfn.add_metadata("checkov", meta)


def _projection(t: Table, ix: resources.Index) -> dict[str, Any]:
    """Same projection rules as local/provision.py: keys are always projected."""
    if ix.projection is None:
        return {"projection_type": ddb.ProjectionType.ALL}
    keys = {t.pk, t.sk, ix.pk, ix.sk}
    extra = [a for a in ix.projection if a not in keys]
    if not extra:
        return {"projection_type": ddb.ProjectionType.KEYS_ONLY}
    return {"projection_type": ddb.ProjectionType.INCLUDE, "non_key_attributes": extra}


class BetwatchStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, with_chalice: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.stage = stage
        self.tables: dict[str, ddb.Table] = {}
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        self.buckets: dict[str, s3.Bucket] = {}
        self.topics: dict[str, sns.Topic] = {}
        self.roles: dict[str, iam.Role] = {}
        self.functions: dict[str, Any] = {}  # name -> lambda_.IFunction (or the Chalice CfnResource)

        self.key = kms.Key(
            self,
            "MessagingKey",
            alias=f"alias/{resources.APP}-{stage.name}-messaging",
            description="Encrypts the SNS topics of betwatch",
            enable_key_rotation=True,
            removal_policy=stage.removal_policy,
        )
        # CloudWatch alarms publish to the (encrypted) ops topic.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )

        for t in resources.TABLES:
            self.tables[t.logical] = self._table(t)
        for q in resources.QUEUES:
            self.queues[q.logical], self.dlqs[q.logical] = self._queue(q)
        for b in resources.BUCKETS:
            self.buckets[b.logical] = self._bucket(b)
        for topic in resources.TOPICS:
            self.topics[topic.logical] = self._topic(topic)

        self.secrets: dict[str, secretsmanager.Secret] = {}
        for sec in resources.SECRETS:
            self.secrets[sec.logical] = secretsmanager.Secret(
                self,
                f"Secret-{sec.logical}",
                secret_name=resources.secret_name(stage.name, sec.logical),
                description=sec.purpose,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=64, exclude_punctuation=True
                ),
                removal_policy=stage.removal_policy,
            )
            skip_checks(
                self.secrets[sec.logical],
                ("CKV2_AWS_57", "Rotating the JWT key signs every staff user out; rotated by hand (put-secret-value)."),
                ("CKV_AWS_149", "Encrypted with the AWS managed key; only the reading functions' roles may read it."),
            )

        self.ops_topic = sns.Topic(
            self,
            "OpsTopic",
            topic_name=resources.physical_name(stage.name, "ops"),
            master_key=self.key,
            enforce_ssl=True,
        )
        for i, email in enumerate(stage.endpoints.get("email", ())):
            sns.Subscription(
                self, f"OpsEmail{i}", topic=self.ops_topic, endpoint=email, protocol=sns.SubscriptionProtocol.EMAIL
            )

        self._slip_function()
        if with_chalice:
            self._chalice_app()
        self._alarms()
        self._dashboard()

    # --- declarations -> resources ------------------------------------------------------------

    def _table(self, t: Table) -> ddb.Table:
        attr = ddb.AttributeType.STRING
        table = ddb.Table(
            self,
            f"Table-{t.logical}",
            table_name=resources.physical_name(self.stage.name, t.logical),
            partition_key=ddb.Attribute(name=t.pk, type=attr),
            sort_key=ddb.Attribute(name=t.sk, type=attr) if t.sk else None,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=ddb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=t.ttl_attribute,
            deletion_protection=self.stage.deletion_protection,
            removal_policy=self.stage.removal_policy,
        )
        for ix in t.gsis:
            table.add_global_secondary_index(
                index_name=ix.name,
                partition_key=ddb.Attribute(name=ix.pk, type=attr),
                sort_key=ddb.Attribute(name=ix.sk, type=attr) if ix.sk else None,
                **_projection(t, ix),
            )
        skip_checks(table, ("CKV_AWS_119", "Encrypted at rest with the AWS managed key (aws/dynamodb)."))
        return table

    def _queue(self, q: Queue) -> tuple[sqs.Queue, sqs.Queue]:
        dlq = sqs.Queue(
            self,
            f"Dlq-{q.logical}",
            queue_name=resources.physical_name(self.stage.name, q.dlq_logical),
            retention_period=Duration.seconds(q.dlq_retention_s),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=self.stage.removal_policy,
        )
        queue = sqs.Queue(
            self,
            f"Queue-{q.logical}",
            queue_name=resources.physical_name(self.stage.name, q.logical),
            visibility_timeout=Duration.seconds(q.visibility_timeout_s),
            retention_period=Duration.seconds(q.retention_s),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=q.max_receive_count),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=self.stage.removal_policy,
        )
        skip_checks(dlq, *QUEUE_SKIPS)
        skip_checks(queue, *QUEUE_SKIPS)
        return queue, dlq

    def bucket_name(self, b: Bucket) -> str:
        # Bucket names are global: the account and region make the declared name unique.
        return f"{resources.physical_name(self.stage.name, b.logical)}-{Aws.ACCOUNT_ID}-{Aws.REGION}"

    def _bucket(self, b: Bucket) -> s3.Bucket:
        name = self.bucket_name(b)
        bucket = s3.Bucket(
            self,
            f"Bucket-{b.logical}",
            bucket_name=name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire",
                    expiration=Duration.days(b.expire_after_days) if b.expire_after_days else None,
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=self.stage.removal_policy,
        )
        skip_checks(
            bucket,
            ("CKV_AWS_18", "Uploads are presigned POSTs tied to a bet; object-level audit is CloudTrail's."),
            ("CKV_AWS_144", "Single-region service; slips are re-uploadable by the bookmaker."),
            ("CKV_AWS_145", "SSE-S3: S3 notifications and presigned POSTs need no KMS grants."),
        )
        if b.notify_queue:
            # Set on the CfnBucket rather than with add_event_notification, which would add a
            # custom-resource Lambda. S3 validates the destination on create, so the queue policy
            # must exist first; it names the bucket ARN as a string, so there is no cycle.
            queue = self.queues[b.notify_queue]
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"S3Notifications{b.logical.title().replace('-', '')}",
                    principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:s3:::{name}"},
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    },
                )
            )
            cfn_bucket: s3.CfnBucket = bucket.node.default_child  # type: ignore[assignment]
            queue_conf: dict[str, Any] = {"event": "s3:ObjectCreated:*", "queue": queue.queue_arn}
            if b.notify_prefix:
                queue_conf["filter"] = s3.CfnBucket.NotificationFilterProperty(
                    s3_key=s3.CfnBucket.S3KeyFilterProperty(
                        rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=b.notify_prefix)]
                    )
                )
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                queue_configurations=[s3.CfnBucket.QueueConfigurationProperty(**queue_conf)]
            )
            bucket.node.add_dependency(queue.node.find_child("Policy"))
        return bucket

    def _topic(self, t: Topic) -> sns.Topic:
        topic = sns.Topic(
            self,
            f"Topic-{t.logical}",
            topic_name=resources.physical_name(self.stage.name, t.logical),
            master_key=self.key,
            enforce_ssl=True,
        )
        for sub in t.subscriptions:
            protocol = sns.SubscriptionProtocol[sub.protocol.upper()]
            filter_policy = {k: sns.SubscriptionFilter.string_filter(allowlist=v) for k, v in sub.filter_policy.items()}
            for i, endpoint in enumerate(self.stage.endpoints.get(sub.protocol, ())):
                sns.Subscription(
                    self,
                    f"Topic-{t.logical}-{sub.protocol}-{i}",
                    topic=topic,
                    endpoint=endpoint,
                    protocol=protocol,
                    filter_policy=filter_policy or None,
                )
        return topic

    # --- runtime environment and permissions --------------------------------------------------

    def runtime_env(self) -> dict[str, str]:
        """Every variable `chalicelib/config.py` reads for resource names (may contain tokens)."""
        env = {"BETWATCH_STAGE": self.stage.name}
        for t in resources.TABLES:
            env[t.env_var] = self.tables[t.logical].table_name
        for q in resources.QUEUES:
            env[q.env_var] = self.queues[q.logical].queue_name
        for b in resources.BUCKETS:
            env[b.env_var] = self.buckets[b.logical].bucket_name
        for topic in resources.TOPICS:
            env[topic.env_var] = self.topics[topic.logical].topic_arn
        return env

    def _statements(self, function: str) -> list[iam.PolicyStatement]:
        """Generated from the function's declaration (the local provisioner builds the same)."""
        return [
            iam.PolicyStatement(actions=list(st.actions), resources=list(st.resources))
            for st in access.statements(resources.function(function), _StackArns(self))
        ]

    def _role(self, function: str, log_group: logs.ILogGroup) -> iam.Role:
        role = iam.Role(
            self,
            f"Role-{function}",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"betwatch {self.stage.name} {function}: least privilege, from its declaration",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:log-stream:*"],
            )
        )
        for st in self._statements(function):
            role.add_to_policy(st)
        self.roles[function] = role
        return role

    def _log_group(self, function: str, name: str) -> logs.LogGroup:
        group = logs.LogGroup(
            self,
            f"Logs-{function}",
            log_group_name=name,
            retention=self.stage.log_retention,
            removal_policy=self.stage.removal_policy,
        )
        skip_checks(group, *LOG_SKIPS)
        return group

    # --- functions ------------------------------------------------------------------------------

    def _slip_function(self) -> None:
        name = f"{resources.APP}-{self.stage.name}-slip-scoring"
        log_group = self._log_group("slip_scoring", f"/aws/lambda/{name}")
        role = self._role("slip_scoring", log_group)
        code = lambda_.DockerImageCode.from_image_asset(
            str(REPO_ROOT),
            file="functions/slip_scoring/Dockerfile",
            exclude=["*", *(f"!{p}" for p in SLIP_IMAGE_CONTEXT), "**/__pycache__"],
            ignore_mode=IgnoreMode.DOCKER,
        )
        fn = lambda_.DockerImageFunction(
            self,
            "SlipScoring",
            function_name=name,
            code=code,
            memory_size=self.stage.slip_memory_mb,
            timeout=Duration.seconds(self.stage.slip_timeout_s),
            architecture=lambda_.Architecture.X86_64,
            role=role,
            log_group=log_group,
            environment={**self.runtime_env(), "POWERTOOLS_SERVICE_NAME": "betwatch-slip-scoring"},
        )
        skip_checks(fn, *LAMBDA_SKIPS)
        for q in resources.QUEUES:
            if q.consumer == "fn:slip_scoring":
                timeout = self.stage.slip_timeout_s
                assert q.visibility_timeout_s >= timeout, f"{q.logical}: visibility timeout < function timeout"
                fn.add_event_source(
                    event_sources.SqsEventSource(
                        self.queues[q.logical],
                        batch_size=q.batch_size,
                        report_batch_item_failures=True,
                        max_concurrency=self.stage.slip_max_concurrency,
                    )
                )
        self.functions["slip_scoring"] = fn

    def _chalice_app(self) -> None:
        from chalice.cdk import Chalice  # imported late: only needed (and slow) when the app is packaged

        env = self.runtime_env()
        literal = {k: v for k, v in env.items() if not _is_token(v)}
        stage_config = {
            "environment_variables": {**literal, "POWERTOOLS_SERVICE_NAME": "betwatch"},
            "autogen_policy": False,
            # Chalice's per-function roles can only come from .chalice/config.json; the single
            # placeholder below is replaced per function with the roles made here.
            "manage_iam_role": False,
            "iam_role_arn": "arn:aws:iam::000000000000:role/replaced-per-function",
            "lambda_memory_size": self.stage.lambda_memory_mb,
            "lambda_timeout": 30,
        }
        source = stage_chalice_source()
        with _packaging_context(self.stage):
            app = Chalice(self, "ChaliceApp", source_dir=str(source), stage_config=stage_config)
        self.chalice = app
        # The zip `chalice package` wrote (chalice.cdk keeps its folder in a private attribute).
        self.chalice_package = Path(app._sam_package_dir) / "deployment.zip"
        token_env = {k: v for k, v in env.items() if _is_token(v)}
        self.layers = self._layers()

        for handler, logical in CHALICE_FUNCTIONS.items():
            cfn_fn = app.get_resource(logical)
            fn_name = f"{resources.APP}-{self.stage.name}-{handler.replace('_', '-')}"
            cfn_fn.add_property_override("FunctionName", fn_name)
            log_group = self._log_group(handler, f"/aws/lambda/{fn_name}")
            role = self._role(handler, log_group)
            cfn_fn.add_property_override("Role", role.role_arn)
            cfn_fn.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
            # The role's policy (not just the role) must exist before SAM's event source mapping.
            cfn_fn.node.add_dependency(role.node.find_child("DefaultPolicy"))
            for k, v in token_env.items():
                cfn_fn.add_property_override(f"Environment.Variables.{k}", v)
            # Secrets: the id only, and only to the functions that read them (at run time; the
            # role's read grant comes from the same declaration).
            for logical in resources.function(handler).secrets:
                secret = self.secrets[logical]
                cfn_fn.add_property_override(
                    f"Environment.Variables.{resources.secret(logical).env_var}", secret.secret_arn
                )
            cfn_fn.add_property_override("Layers", [layer.layer_version_arn for layer in self.layers])
            skip_checks(cfn_fn, *LAMBDA_SKIPS)
            self.functions[handler] = cfn_fn

        api = app.get_resource("RestAPI")
        api.add_property_override("TracingEnabled", True)
        skip_checks(
            api,
            ("CKV_AWS_120", "Responses are per caller and change with every bet; caching would serve stale data."),
            (
                "CKV_AWS_76",
                "Access logs need the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account), "
                "which is managed outside this stack.",
            ),
        )

        self._chalice_event_sources()
        self._chalice_schedules()

    def _layers(self) -> list[lambda_.LayerVersion]:
        """The layers of layers/ (built, or rebuilt when their pins changed, by layers/build.py)."""
        from layers import build  # the repo root is on sys.path (infra/app.py, the tests)

        zips = build.ensure(CHALICE_ARCH)
        return [
            lambda_.LayerVersion(
                self,
                f"Layer-{name}",
                layer_version_name=f"{resources.APP}-{self.stage.name}-{name}",
                code=lambda_.Code.from_asset(str(path)),
                compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description=f"layers/{name}/requirements.txt for python3.12 {CHALICE_ARCH}",
            )
            for name, path in zips.items()
        ]

    def _chalice_event_sources(self) -> None:
        """Point Chalice's SQS events at our queues and turn on partial batch responses."""
        for q in resources.QUEUES:
            if not q.consumer.startswith("app:"):
                continue
            handler = q.consumer.removeprefix("app:")
            cfn_fn = self.functions[handler]
            event_id = f"{CHALICE_FUNCTIONS[handler]}SqsEventSource"
            path = f"Events.{event_id}.Properties"
            cfn_fn.add_property_override(f"{path}.Queue", self.queues[q.logical].queue_arn)
            cfn_fn.add_property_override(f"{path}.BatchSize", q.batch_size)
            cfn_fn.add_property_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
            cfn_fn.add_property_override(
                f"{path}.ScalingConfig", {"MaximumConcurrency": self.stage.app_queue_max_concurrency}
            )

    def _chalice_schedules(self) -> None:
        """Rate and rule name of each declared schedule (Chalice names the rule after the handler)."""
        for s in resources.SCHEDULES:
            cfn_fn = self.functions[s.handler]
            unit = "minute" if s.rate_minutes == 1 else "minutes"
            path = f"Events.{CHALICE_FUNCTIONS[s.handler]}Event.Properties"
            cfn_fn.add_property_override(f"{path}.Schedule", f"rate({s.rate_minutes} {unit})")
            cfn_fn.add_property_override(f"{path}.Name", resources.physical_name(self.stage.name, s.logical))
            cfn_fn.add_property_override(f"{path}.Description", (s.purpose or s.handler)[:512])

    # --- alarms -----------------------------------------------------------------------------------

    def _dashboard(self) -> None:
        """The operator's view of the metrics the functions emit (core/observability.py, EMF)."""
        from chalicelib.core import observability as obs

        period = Duration.minutes(5)

        def metric(name: str, service: str = "betwatch", stat: str = cw.Stats.SUM) -> cw.Metric:
            return cw.Metric(
                namespace=obs.NAMESPACE,
                metric_name=name,
                dimensions_map={"service": service},
                statistic=stat,
                period=period,
                label=name,
            )

        def graph(title: str, metrics: list[cw.IMetric]) -> cw.GraphWidget:
            return cw.GraphWidget(title=title, left=metrics, width=8, height=6)

        levels = [metric(obs.RISK_LEVEL.format(level=lvl)) for lvl in ("Low", "Medium", "High", "Critical")]
        rejected = cw.MathExpression(
            expression=f"SEARCH('{{{obs.NAMESPACE},service,reason}} MetricName=\"{obs.SLIPS_REJECTED}\"', 'Sum', 300)",
            label="rejected by reason",
            period=period,
        )
        cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{resources.APP}-{self.stage.name}",
            widgets=[
                [
                    graph("Bets recorded", [metric(obs.BETS_RECORDED)]),
                    graph("Risk levels", list(levels)),
                    graph(
                        "Rule run duration (ms)",
                        [metric(obs.RULE_RUN_MS, stat=cw.Stats.p(99)), metric(obs.RULE_RUN_MS, stat=cw.Stats.AVERAGE)],
                    ),
                ],
                [
                    graph("Slips processed", [metric(obs.SLIPS_PROCESSED, "betwatch-slip-scoring")]),
                    graph("Slips rejected by reason", [rejected]),
                    graph("Writer assignments", [metric(obs.WRITER_NEW), metric(obs.WRITER_MATCHED)]),
                ],
                [
                    graph("Alerts", [metric(obs.ALERTS_RAISED), metric(obs.ALERTS_PUBLISHED)]),
                    graph(
                        "Bet files",
                        [
                            metric(obs.BET_FILES.format(outcome=o))
                            for o in ("Bet", "Knockback", "Sms", "Duplicate", "Quarantined")
                        ],
                    ),
                ],
            ],
        )

    def _alarms(self) -> None:
        action = cw_actions.SnsAction(self.ops_topic)
        for logical, dlq in self.dlqs.items():
            alarm = cw.Alarm(
                self,
                f"DlqAlarm-{logical}",
                alarm_name=f"{resources.APP}-{self.stage.name}-{logical}-dlq-not-empty",
                alarm_description=f"Messages of {logical} failed {resources.queue(logical).max_receive_count} times",
                metric=dlq.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic=cw.Stats.MAXIMUM
                ),
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
        for name, fn in self.functions.items():
            fn_name = fn.function_name if isinstance(fn, lambda_.Function) else fn.ref
            metric = cw.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions_map={"FunctionName": fn_name},
                period=Duration.minutes(5),
                statistic=cw.Stats.SUM,
            )
            alarm = cw.Alarm(
                self,
                f"ErrorsAlarm-{name}",
                alarm_name=f"{resources.APP}-{self.stage.name}-{name.replace('_', '-')}-errors",
                metric=metric,
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)


def stage_chalice_source() -> Path:
    """A copy of the Chalice project whose requirements.txt is empty (the layers carry the deps).

    `chalice package` zips app.py, chalicelib/ and whatever requirements.txt lists; with the list
    empty the deployment package is the project's own code (about 1 MB) and packaging needs no network.
    """
    if CHALICE_SOURCE.exists():
        shutil.rmtree(CHALICE_SOURCE)
    CHALICE_SOURCE.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy2(REPO_ROOT / "app.py", CHALICE_SOURCE / "app.py")
    shutil.copytree(REPO_ROOT / "chalicelib", CHALICE_SOURCE / "chalicelib", ignore=ignore)
    (CHALICE_SOURCE / ".chalice").mkdir()
    shutil.copy2(REPO_ROOT / ".chalice" / "config.json", CHALICE_SOURCE / ".chalice" / "config.json")
    from layers import build

    pins = sorted(build.pins(REPO_ROOT / "requirements.txt"))
    (CHALICE_SOURCE / "requirements.txt").write_text(
        "# Generated by infra/betwatch_stack.py: empty on purpose. The runtime dependencies of\n"
        f"# /requirements.txt ({', '.join(pins)}) come from the Lambda layers of layers/.\n"
    )
    return CHALICE_SOURCE


@contextmanager
def _packaging_context(stage: StageConfig) -> Iterator[None]:
    """What `chalice package` needs, undone afterwards (the tests synthesize in-process).

    It needs a region name (it never calls AWS), imports app.py in this process (the stage decides
    the queue name app.py reads at import; the stack overrides it anyway) and writes `chalice.out/`
    into the working directory: infra/, where it is ignored by git.
    """
    from chalicelib.core import config

    saved_env = {k: os.environ.get(k) for k in ("AWS_DEFAULT_REGION", "BETWATCH_STAGE")}
    saved_cwd = os.getcwd()
    os.environ.setdefault("AWS_DEFAULT_REGION", stage.region or "eu-west-2")
    os.environ["BETWATCH_STAGE"] = stage.name
    config.reset()
    os.chdir(Path(__file__).resolve().parent)
    # Each synth packages into a new chalice.out/<uuid>/; the older ones are already copied to cdk.out.
    shutil.rmtree("chalice.out", ignore_errors=True)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        config.reset()


def _is_token(value: str) -> bool:
    from aws_cdk import Token

    return Token.is_unresolved(value)


def declared_summary() -> str:
    """The declarations the stack is built from (for `python -m infra.app --list`)."""
    return json.dumps(
        {
            "tables": [t.logical for t in resources.TABLES],
            "queues": [q.logical for q in resources.QUEUES],
            "buckets": [b.logical for b in resources.BUCKETS],
            "topics": [t.logical for t in resources.TOPICS],
            "schedules": [s.logical for s in resources.SCHEDULES],
        }
    )
