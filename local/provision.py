"""Create every resource declared in `chalicelib/core/resources.py` on the configured AWS endpoint.

Used by `make run` (on the embedded moto server), by the tests (inside moto's `mock_aws`) and works
against LocalStack or a real account: the endpoint is boto3's own AWS_ENDPOINT_URL. There is no
list of resources here: everything is read from the declarations. Idempotent: existing resources
are compared with the declarations and only differences are applied.

    python -m local.provision [--stage local]      # prints the runtime env as KEY=value lines
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from secrets import token_urlsafe
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core import access, aws, resources
from chalicelib.core.resources import Bucket, Schedule, Table, Topic

# Endpoints subscribed when neither the arguments nor the environment name any (local demo only).
DEFAULT_ENDPOINTS = {"email": ["staff@example.com"], "sms": ["+447700900123"]}


def _err(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


# --- DynamoDB -------------------------------------------------------------------------------------


def _key_schema(pk: str, sk: str | None) -> list[dict[str, str]]:
    ks = [{"AttributeName": pk, "KeyType": "HASH"}]
    if sk:
        ks.append({"AttributeName": sk, "KeyType": "RANGE"})
    return ks


def _gsi_spec(t: Table, name: str) -> dict[str, Any]:
    ix = next(i for i in t.gsis if i.name == name)
    projection: dict[str, Any] = {"ProjectionType": "ALL"}
    if ix.projection is not None:
        # Keys of the table and of the index are always projected; DynamoDB rejects them here.
        keys = {t.pk, t.sk, ix.pk, ix.sk}
        extra = [a for a in ix.projection if a not in keys]
        projection = (
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": extra} if extra else {"ProjectionType": "KEYS_ONLY"}
        )
    return {"IndexName": ix.name, "KeySchema": _key_schema(ix.pk, ix.sk), "Projection": projection}


def _attribute_definitions(t: Table) -> list[dict[str, str]]:
    names: list[str] = []
    for a in (t.pk, t.sk, *[k for ix in t.gsis for k in (ix.pk, ix.sk)]):
        if a and a not in names:
            names.append(a)
    return [{"AttributeName": a, "AttributeType": "S"} for a in names]


def _table(ddb: Any, t: Table, name: str) -> None:
    try:
        desc = ddb.describe_table(TableName=name)["Table"]
    except ClientError as e:
        if _err(e) != "ResourceNotFoundException":
            raise
        kwargs: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": _attribute_definitions(t),
            "KeySchema": _key_schema(t.pk, t.sk),
            "Tags": [{"Key": "app", "Value": resources.APP}, {"Key": "logical", "Value": t.logical}],
        }
        if t.gsis:
            kwargs["GlobalSecondaryIndexes"] = [_gsi_spec(t, ix.name) for ix in t.gsis]
        ddb.create_table(**kwargs)
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    else:
        present = {g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", [])}
        for ix in t.gsis:
            if ix.name not in present:  # a GSI declared after the table was created
                ddb.update_table(
                    TableName=name,
                    AttributeDefinitions=_attribute_definitions(t),
                    GlobalSecondaryIndexUpdates=[{"Create": _gsi_spec(t, ix.name)}],
                )
    if t.ttl_attribute:
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl_attribute},
            )


# --- SQS ------------------------------------------------------------------------------------------


def _same_attribute(key: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if key in ("RedrivePolicy", "Policy"):
        try:
            cur = json.loads(current)
            want = json.loads(wanted)
            if key == "RedrivePolicy":
                cur["maxReceiveCount"] = int(cur.get("maxReceiveCount", 0))
                want["maxReceiveCount"] = int(want["maxReceiveCount"])
            return bool(cur == want)
        except ValueError:
            return False
    return current == wanted


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    """Create or converge one queue; returns (url, arn)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as e:
        if _err(e) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags={"app": resources.APP})["QueueUrl"]
    else:
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
        changed = {k: v for k, v in attributes.items() if not _same_attribute(k, current.get(k), v)}
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _s3_send_policy(queue_arn: str, bucket_names: list[str]) -> str:
    """Queue policy allowing S3 to deliver the notifications of these buckets."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": f"S3Notifications-{b}",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{b}"}},
                }
                for b in bucket_names
            ],
        },
        sort_keys=True,
    )


def _queues(sqs: Any, stage: str) -> dict[str, str]:
    """Every declared queue with its DLQ; returns logical name → queue ARN."""
    arns: dict[str, str] = {}
    for q in resources.QUEUES:
        _, dlq_arn = _queue(
            sqs,
            resources.physical_name(stage, q.dlq_logical),
            {"MessageRetentionPeriod": str(q.dlq_retention_s)},
        )
        attributes = {
            "VisibilityTimeout": str(q.visibility_timeout_s),
            "MessageRetentionPeriod": str(q.retention_s),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(q.max_receive_count)}),
        }
        name = resources.physical_name(stage, q.logical)
        notifying = [
            resources.physical_name(stage, b.logical) for b in resources.BUCKETS if b.notify_queue == q.logical
        ]
        if notifying:
            # The ARN is needed for the policy; it is deterministic once the queue exists.
            _, arn = _queue(sqs, name, attributes)
            attributes["Policy"] = _s3_send_policy(arn, notifying)
        _, arn = _queue(sqs, name, attributes)
        arns[q.logical] = arn
        arns[q.dlq_logical] = dlq_arn
    return arns


# --- S3 -------------------------------------------------------------------------------------------


def _bucket(s3: Any, b: Bucket, name: str, queue_arns: dict[str, str]) -> None:
    region = s3.meta.region_name or "us-east-1"
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as e:
        if _err(e) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**kwargs)
        except ClientError as ce:
            if _err(ce) != "BucketAlreadyOwnedByYou":
                raise
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    if b.expire_after_days:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "Expiration": {"Days": b.expire_after_days},
                    }
                ]
            },
        )
    if b.notify_queue:
        wanted: dict[str, Any] = {
            "Id": f"{b.logical}-to-{b.notify_queue}",
            "QueueArn": queue_arns[b.notify_queue],
            "Events": ["s3:ObjectCreated:*"],
        }
        if b.notify_prefix:
            wanted["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": b.notify_prefix}]}}
        current = s3.get_bucket_notification_configuration(Bucket=name).get("QueueConfigurations", [])
        if not _same_notifications(current, [wanted]):
            # S3 validates the destination (and sends an s3:TestEvent to it), so the queue policy
            # must already allow this bucket: `_queues` runs first.
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": [wanted]}
            )


def _same_notifications(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    def norm(c: dict[str, Any]) -> tuple[Any, ...]:
        rules = c.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        return (
            c.get("Id"),
            c.get("QueueArn"),
            tuple(sorted(c.get("Events", []))),
            tuple(sorted((r["Name"].lower(), r["Value"]) for r in rules)),
        )

    return sorted(map(norm, current)) == sorted(map(norm, wanted))


# --- SNS ------------------------------------------------------------------------------------------


def _endpoints(protocol: str, env_name: str, overrides: dict[str, list[str] | None]) -> list[str]:
    given = overrides.get(protocol)
    if given is not None:
        return [e for e in given if e]
    raw = os.environ.get(env_name, "") if env_name else ""
    if raw.strip():
        return [e.strip() for e in raw.split(",") if e.strip()]
    return list(DEFAULT_ENDPOINTS.get(protocol, []))


def _secret(sm: Any, s: resources.Secret, name: str) -> str:
    """Create the secret with a random value unless it exists (a rerun keeps the key); returns its ARN."""
    try:
        return str(sm.describe_secret(SecretId=name)["ARN"])
    except sm.exceptions.ResourceNotFoundException:
        pass
    try:
        return str(sm.create_secret(Name=name, Description=s.purpose, SecretString=token_urlsafe(48))["ARN"])
    except sm.exceptions.ResourceExistsException:  # created meanwhile by another provisioner
        return str(sm.describe_secret(SecretId=name)["ARN"])


def _topic(sns: Any, t: Topic, name: str, overrides: dict[str, list[str] | None]) -> tuple[str, dict[str, str]]:
    arn = str(sns.create_topic(Name=name, Tags=[{"Key": "app", "Value": resources.APP}])["TopicArn"])
    existing: dict[tuple[str, str], str] = {}
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
        for s in page.get("Subscriptions", []):
            existing[(s["Protocol"], s["Endpoint"])] = s["SubscriptionArn"]
    env: dict[str, str] = {}
    for sub in t.subscriptions:
        endpoints = _endpoints(sub.protocol, sub.endpoints_env, overrides)
        if sub.endpoints_env:
            env[sub.endpoints_env] = ",".join(endpoints)
        policy = json.dumps(sub.filter_policy, sort_keys=True) if sub.filter_policy else ""
        for endpoint in endpoints:
            sub_arn = existing.get((sub.protocol, endpoint))
            if sub_arn is None:
                attributes = {"FilterPolicy": policy, "FilterPolicyScope": "MessageAttributes"} if policy else {}
                sns.subscribe(
                    TopicArn=arn,
                    Protocol=sub.protocol,
                    Endpoint=endpoint,
                    Attributes=attributes,
                    ReturnSubscriptionArn=True,
                )
                continue
            if sub_arn.startswith("arn:"):  # not "PendingConfirmation" (unconfirmed email)
                current = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"].get("FilterPolicy")
                same = (json.loads(current) if current else {}) == sub.filter_policy
                if not same and policy:
                    sns.set_subscription_attributes(
                        SubscriptionArn=sub_arn, AttributeName="FilterPolicy", AttributeValue=policy
                    )
                elif not same:
                    sns.set_subscription_attributes(
                        SubscriptionArn=sub_arn, AttributeName="FilterPolicy", AttributeValue="{}"
                    )
    return arn, env


# --- EventBridge ----------------------------------------------------------------------------------


def _rate(minutes: int) -> str:
    return f"rate({minutes} {'minute' if minutes == 1 else 'minutes'})"


def _events_send_policy(queue_arn: str, rule_arn: str) -> str:
    """Queue policy allowing EventBridge to deliver this rule's events."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EventBridgeSchedule",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        },
        sort_keys=True,
    )


def _schedule(events: Any, sqs: Any, s: Schedule, name: str, stage: str, rate_minutes: int | None) -> dict[str, str]:
    """The rule, and (when declared) its local target: an SQS queue that `local/runner.py` polls.

    In AWS the rule invokes the handler's function (infra/); off Lambda the rule's real
    "Scheduled Event" goes to `Schedule.local_queue`. Returns the env var naming that queue.
    """
    expression = _rate(rate_minutes or s.rate_minutes)
    try:
        current = events.describe_rule(Name=name)
    except ClientError as e:
        if _err(e) != "ResourceNotFoundException":
            raise
        current = {}
    rule_arn = current.get("Arn", "")
    if current.get("ScheduleExpression") != expression or current.get("State") != "ENABLED":
        rule_arn = events.put_rule(
            Name=name,
            ScheduleExpression=expression,
            State="ENABLED",
            Description=(s.purpose or s.handler)[:512],
        )["RuleArn"]
    if not s.local_queue:
        return {}
    queue_name = resources.physical_name(stage, s.local_queue)
    # A missed tick is superseded by the next one: keep undelivered events for an hour only.
    attributes = {"VisibilityTimeout": "300", "MessageRetentionPeriod": "3600"}
    _, queue_arn = _queue(sqs, queue_name, attributes)
    _queue(sqs, queue_name, {**attributes, "Policy": _events_send_policy(queue_arn, rule_arn)})
    target_id = f"local-{s.local_queue}"[:64]
    targets = events.list_targets_by_rule(Rule=name).get("Targets", [])
    if [(t["Id"], t["Arn"]) for t in targets] != [(target_id, queue_arn)]:
        stale = [t["Id"] for t in targets if (t["Id"], t["Arn"]) != (target_id, queue_arn)]
        if stale:
            events.remove_targets(Rule=name, Ids=stale)
        events.put_targets(Rule=name, Targets=[{"Id": target_id, "Arn": queue_arn}])
    return {s.local_queue_env_var: queue_name}


# --- IAM ------------------------------------------------------------------------------------------


class _Arns:
    """Real ARNs of what was just provisioned, for the roles generated from the declarations."""

    def __init__(self, ddb: Any, stage: str, queue_arns: dict[str, str], env: dict[str, str]):
        self.ddb, self.stage, self.queue_arns, self.env = ddb, stage, queue_arns, env

    def table(self, logical: str) -> str:
        name = resources.physical_name(self.stage, logical)
        return str(self.ddb.describe_table(TableName=name)["Table"]["TableArn"])

    def queue(self, logical: str) -> str:
        return self.queue_arns[logical]

    def bucket(self, logical: str) -> str:
        return f"arn:aws:s3:::{resources.physical_name(self.stage, logical)}"

    def topic(self, logical: str) -> str:
        return self.env[resources.topic(logical).env_var]

    def topic_key(self, logical: str) -> str | None:
        return None  # locally the topic is not encrypted

    def secret(self, logical: str) -> str:
        return self.env[resources.secret(logical).env_var]


LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _roles(iam: Any, stage: str, arns: _Arns) -> None:
    """One role per declared function with the policy generated from its declaration (as the stack)."""
    for fn in resources.FUNCTIONS:
        name = resources.physical_name(stage, fn.name.replace("_", "-"))
        try:
            iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST, Tags=[{"Key": "app", "Value": resources.APP}]
            )
        except ClientError as e:
            if _err(e) != "EntityAlreadyExists":
                raise
        iam.put_role_policy(
            RoleName=name, PolicyName="declared-access", PolicyDocument=json.dumps(access.policy_document(fn, arns))
        )


# --- entry points ---------------------------------------------------------------------------------


def provision(
    stage: str = "local",
    alert_emails: list[str] | None = None,
    alert_phones: list[str] | None = None,
    schedule_rate_minutes: int | None = None,
) -> dict[str, str]:
    """Create every declared resource for `stage`; returns the env vars the runtime needs.

    Email/SMS endpoints come from the arguments, else from each subscription's `endpoints_env`
    variable, else from DEFAULT_ENDPOINTS. `schedule_rate_minutes` replaces every schedule's
    declared rate (e.g. 1, so a test on LocalStack sees a real scheduled event within a minute).
    """
    overrides: dict[str, list[str] | None] = {"email": alert_emails, "sms": alert_phones}
    env: dict[str, str] = {"BETWATCH_STAGE": stage}

    ddb = aws.client("dynamodb")
    for t in resources.TABLES:
        name = resources.physical_name(stage, t.logical)
        _table(ddb, t, name)
        env[t.env_var] = name

    queue_arns = _queues(aws.client("sqs"), stage)
    for q in resources.QUEUES:
        env[q.env_var] = resources.physical_name(stage, q.logical)

    s3 = aws.client("s3")
    for b in resources.BUCKETS:
        name = resources.physical_name(stage, b.logical)
        _bucket(s3, b, name, queue_arns)
        env[b.env_var] = name

    sns = aws.client("sns")
    for topic in resources.TOPICS:
        arn, endpoint_env = _topic(sns, topic, resources.physical_name(stage, topic.logical), overrides)
        env[topic.env_var] = arn
        env.update(endpoint_env)

    sm = aws.client("secretsmanager")
    for secret in resources.SECRETS:
        env[secret.env_var] = _secret(sm, secret, resources.secret_name(stage, secret.logical))

    _roles(aws.client("iam"), stage, _Arns(ddb, stage, queue_arns, env))

    events = aws.client("events")
    for s in resources.SCHEDULES:
        env.update(
            _schedule(
                events, aws.client("sqs"), s, resources.physical_name(stage, s.logical), stage, schedule_rate_minutes
            )
        )

    return env


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", default=os.environ.get("BETWATCH_STAGE", "local"))
    p.add_argument("--email", action="append", help="alert email endpoint (repeatable)")
    p.add_argument("--phone", action="append", help="alert SMS endpoint, E.164 (repeatable)")
    p.add_argument("--schedule-minutes", type=int, help="rate of every schedule rule (default: as declared)")
    args = p.parse_args(argv)
    env = provision(
        args.stage, alert_emails=args.email, alert_phones=args.phone, schedule_rate_minutes=args.schedule_minutes
    )
    for k, v in sorted(env.items()):
        sys.stdout.write(f"{k}={v}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
