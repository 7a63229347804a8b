"""The AWS resources betwatch needs, and which function may touch which, declared once.

This module is the single source of truth: the local provisioner (`local/provision.py`, which
creates them on moto or LocalStack, with a role per function) and the CDK stack (`infra/`) both
read these declarations (IAM through `core/access.py`), and the runtime derives each physical name
from them. Pure data: no boto3, no CDK imports. Key formats are the adapters' business
(`adapters/dynamodb/keys.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

APP = "betwatch"


def _env(logical: str) -> str:
    # Lambda allows only [A-Za-z0-9_] in variable names.
    return logical.upper().replace("-", "_")


@dataclass(frozen=True)
class Index:
    name: str
    pk: str
    sk: str | None = None
    # Attributes copied into the index besides the keys; None projects ALL.
    projection: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    logical: str
    pk: str
    sk: str | None = None
    gsis: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"BETWATCH_TABLE_{_env(self.logical)}"


@dataclass(frozen=True)
class Queue:
    logical: str
    visibility_timeout_s: int = 60
    max_receive_count: int = 5
    retention_s: int = 4 * 24 * 3600
    dlq_retention_s: int = 14 * 24 * 3600
    batch_size: int = 10
    # Name of the consumer: "app:<handler>" for a Chalice handler, "fn:<folder>" for functions/.
    consumer: str = ""
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"BETWATCH_QUEUE_{_env(self.logical)}"

    @property
    def dlq_logical(self) -> str:
        return f"{self.logical}-dlq"


@dataclass(frozen=True)
class Bucket:
    logical: str
    # S3 ObjectCreated notifications for keys under this prefix go to this queue.
    notify_queue: str | None = None
    notify_prefix: str = ""
    expire_after_days: int | None = None
    # Where a consumer moves objects it refuses (with a JSON error next to each); "" for none.
    quarantine_prefix: str = ""
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"BETWATCH_BUCKET_{_env(self.logical)}"


@dataclass(frozen=True)
class Subscription:
    protocol: str  # "email" or "sms"
    # Filter policy on message attributes (SNS), e.g. {"severity": ["high", "critical"]}.
    filter_policy: dict[str, list[str]] = field(default_factory=dict)
    # Name of the configuration variable holding the endpoints (comma separated).
    endpoints_env: str = ""


@dataclass(frozen=True)
class Topic:
    logical: str
    subscriptions: tuple[Subscription, ...] = ()
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"BETWATCH_TOPIC_{_env(self.logical)}"


@dataclass(frozen=True)
class Schedule:
    logical: str
    rate_minutes: int
    handler: str  # Chalice handler name in app.py
    purpose: str = ""
    # Off Lambda (moto, LocalStack) the rule's target is this SQS queue instead of the function:
    # `local/provision.py` creates it and `local/runner.py` hands each event it receives to the
    # handler. Not part of the AWS deployment, where the rule invokes the function directly.
    local_queue: str = ""

    @property
    def local_queue_env_var(self) -> str:
        return f"BETWATCH_SCHEDULE_QUEUE_{_env(self.logical)}"


@dataclass(frozen=True)
class Secret:
    logical: str
    purpose: str = ""

    @property
    def env_var(self) -> str:
        # Holds the secret's id (ARN or name); the value itself is read at run time, never put in env.
        return f"BETWATCH_SECRET_{_env(self.logical)}"


TABLES: tuple[Table, ...] = (
    Table(
        "bets",
        pk="pk",
        purpose="One item per bet, written once with a condition so retries are idempotent.",
    ),
    Table(
        "subjects",
        pk="pk",
        sk="sk",
        ttl_attribute="expires_at",
        purpose=(
            "Customers and writers: running totals, one item per bet for exact rolling windows (TTL), "
            "links and slips; and the writers' centroids for open-set matching."
        ),
    ),
    Table(
        "slips",
        pk="pk",
        purpose="One item per slip: status, rejection reason, embedding, writer.",
    ),
    Table(
        "monitoring",
        pk="pk",
        sk="sk",
        ttl_attribute="expires_at",
        purpose=(
            "Who had new activity in each 5-minute bucket (sharded; so rules never Scan), each rule's "
            "cooldown and snoozes per subject, the schedule's checkpoint, and the feed of bets as recorded."
        ),
    ),
    Table(
        "alerts",
        pk="pk",
        sk="sk",
        gsis=(
            Index("by_day", pk="alert_day", sk="raised"),
            Index("by_status", pk="alert_status", sk="raised"),
            Index("by_subject", pk="subject_key", sk="raised"),
            Index("by_rule", pk="rule_id", sk="raised"),
            Index("by_assignee", pk="assignee", sk="raised"),
            Index("outbox", pk="outbox", sk="raised"),
        ),
        purpose=(
            "One item per alert: rule and version, subject, severity, status, metric, "
            "evidence and events; read by id, by day, status or subject, and the sparse 'outbox' index "
            "holds alerts not yet published to SNS."
        ),
    ),
    Table(
        "rules",
        pk="pk",
        sk="sk",
        purpose="The rule catalogue (current versions), every version of every rule, and their audit trail.",
    ),
    Table(
        "principals",
        pk="pk",
        ttl_attribute="expires_at",
        purpose="API keys (their SHA-256 only) and staff users (scrypt) with their roles; failed logins (TTL).",
    ),
)

QUEUES: tuple[Queue, ...] = (
    Queue(
        "slip-uploads",
        visibility_timeout_s=120,
        max_receive_count=4,
        batch_size=5,
        consumer="fn:slip_scoring",
        purpose="S3 ObjectCreated events of the slips bucket, consumed by the OpenCV slip function.",
    ),
    Queue(
        "slip-clustering",
        visibility_timeout_s=60,
        max_receive_count=5,
        batch_size=10,
        consumer="app:cluster_slips",
        purpose="Embedded slips waiting to be assigned to a writer, consumed by the Chalice app.",
    ),
    Queue(
        "writer-jobs",
        visibility_timeout_s=60,
        max_receive_count=5,
        batch_size=1,
        consumer="app:writer_jobs",
        purpose="Steps of staff merges and splits of writers (a chunk of slips per message).",
    ),
    Queue(
        "imports",
        visibility_timeout_s=300,
        max_receive_count=5,
        batch_size=1,
        consumer="app:run_imports",
        purpose="History imports: the upload's S3 notification, then one message per chunk of the CSV.",
    ),
    Queue(
        "bet-files",
        visibility_timeout_s=60,
        max_receive_count=5,
        batch_size=10,
        consumer="app:ingest_bet_files",
        purpose="S3 ObjectCreated events of the bet-files bucket (raw bet, knockback and SMS files).",
    ),
)

BUCKETS: tuple[Bucket, ...] = (
    Bucket(
        "slips",
        notify_queue="slip-uploads",
        notify_prefix="slips/",
        expire_after_days=400,
        purpose="Scanned slip images, uploaded by clients with a presigned POST; kept for audit.",
    ),
    Bucket(
        "reports",
        expire_after_days=800,
        purpose="Daily reports (HTML with inline charts, CSV, JSON) written by the schedule each night.",
    ),
    Bucket(
        "bet-files",
        notify_queue="bet-files",
        notify_prefix="incoming/",
        quarantine_prefix="quarantine/",
        expire_after_days=400,
        purpose="The operator's raw bet, knockback and SMS files (incoming/), and the refused ones (quarantine/).",
    ),
    Bucket(
        "index",
        purpose="Snapshots of the writer index, so a new container loads one object then the recent deltas.",
    ),
    Bucket(
        "imports",
        notify_queue="imports",
        notify_prefix="imports/",
        expire_after_days=30,
        purpose=(
            "History CSVs uploaded with a presigned POST (imports/<id>/source.csv) and their error CSVs; "
            "results files dropped under imports/results/ (settled by the same consumer)."
        ),
    ),
)

TOPICS: tuple[Topic, ...] = (
    Topic(
        "alerts",
        subscriptions=(
            Subscription("email", endpoints_env="BETWATCH_ALERT_EMAILS"),
            Subscription(
                "sms",
                filter_policy={"severity": ["high", "critical"]},
                endpoints_env="BETWATCH_ALERT_PHONES",
            ),
        ),
        purpose="Staff alerts: every alert by email, high and critical ones by SMS as well.",
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "daily-report",
        rate_minutes=60,
        handler="daily_report",
        purpose="Writes yesterday's daily report (final) and today's so far to the reports bucket.",
        local_queue="daily-report-events",
    ),
    Schedule(
        "compact-writer-index",
        rate_minutes=60,
        handler="compact_writer_index",
        purpose="Writes the writer index snapshot (the cached matrix new containers start from).",
        local_queue="compact-writer-index-events",
    ),
    Schedule(
        "evaluate-rules",
        rate_minutes=5,
        handler="evaluate_rules",
        purpose="Evaluates threshold rules over rolling windows and publishes new alerts.",
        local_queue="evaluate-rules-events",
    ),
)


SECRETS: tuple[Secret, ...] = (
    Secret(
        "jwt-signing-key",
        purpose="HS256 key signing staff bearer tokens; read by the API at its first token operation.",
    ),
)


@dataclass(frozen=True)
class TableUse:
    table: str
    write: bool = False
    indexes: bool = False  # Query on the table's GSIs as well


@dataclass(frozen=True)
class Function:
    """A function and everything it may touch: the stack's IAM policies and the local provisioner's
    roles are generated from this (core/access.py); nothing else lists permissions."""

    name: str  # the Chalice handler name, or the folder under functions/
    package: str  # "chalice" (the Chalice app's package) or "image" (its own container image)
    purpose: str = ""
    tables: tuple[TableUse, ...] = ()
    describe_tables: bool = False  # /health
    sends_to: tuple[str, ...] = ()  # queues
    reads_objects: tuple[str, ...] = ()  # buckets, under their notification prefix
    writes_objects: tuple[str, ...] = ()  # buckets (whole)
    presigns_uploads: tuple[str, ...] = ()  # buckets: presigned POSTs are signed with this role
    quarantines: tuple[str, ...] = ()  # buckets: moves refused objects to their quarantine prefix
    publishes: tuple[str, ...] = ()  # topics
    secrets: tuple[str, ...] = ()  # only these functions get the secret's id in their environment

    @property
    def consumes(self) -> tuple[str, ...]:
        prefix = "app:" if self.package == "chalice" else "fn:"
        return tuple(q.logical for q in QUEUES if q.consumer == prefix + self.name)

    @property
    def schedules(self) -> tuple[str, ...]:
        return tuple(s.logical for s in SCHEDULES if s.handler == self.name)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "api_handler",
        "chalice",
        purpose="Every API route.",
        tables=(
            TableUse("principals", write=True),
            TableUse("bets", write=True),
            TableUse("subjects", write=True),
            TableUse("monitoring", write=True),
            TableUse("slips", write=True),
            TableUse("alerts", write=True, indexes=True),
            TableUse("rules", write=True),
        ),
        describe_tables=True,
        reads_objects=("slips", "reports", "imports"),  # presigned GETs: slips, reports, import error CSVs
        presigns_uploads=("slips", "imports"),
        sends_to=("writer-jobs",),
        publishes=("alerts",),
        secrets=("jwt-signing-key",),
    ),
    Function(
        "cluster_slips",
        "chalice",
        purpose="Assigns embedded slips to writers (open set) and links writers to customers.",
        tables=(
            TableUse("subjects", write=True),
            TableUse("slips", write=True),
            TableUse("bets"),
            TableUse("monitoring", write=True),
            TableUse("alerts", write=True),
            TableUse("rules"),
        ),
        reads_objects=("index",),
        sends_to=("writer-jobs",),
        publishes=("alerts",),
    ),
    Function(
        "daily_report",
        "chalice",
        purpose="Writes the daily reports to S3.",
        tables=(TableUse("monitoring"), TableUse("alerts", indexes=True), TableUse("subjects")),
        reads_objects=("reports",),
        writes_objects=("reports",),
    ),
    Function(
        "compact_writer_index",
        "chalice",
        purpose="Writes the writer index snapshot to S3 every hour.",
        tables=(TableUse("subjects"),),
        reads_objects=("index",),
        writes_objects=("index",),
    ),
    Function(
        "writer_jobs",
        "chalice",
        purpose="Moves slips between writers for staff merges and splits, a chunk per message.",
        tables=(
            TableUse("subjects", write=True),
            TableUse("slips", write=True),
            TableUse("monitoring", write=True),
        ),
        sends_to=("writer-jobs",),
    ),
    Function(
        "evaluate_rules",
        "chalice",
        purpose="Evaluates the rules over rolling windows and publishes new alerts.",
        tables=(
            TableUse("monitoring", write=True),
            TableUse("alerts", write=True, indexes=True),
            TableUse("subjects"),
            TableUse("rules", write=True),
        ),
        publishes=("alerts",),
    ),
    Function(
        "run_imports",
        "chalice",
        purpose="Reads uploaded history CSVs in chunks and records their bets; settles dropped results files.",
        tables=(
            TableUse("slips"),  # the writer of a settled bet's slip
            TableUse("bets", write=True),
            TableUse("subjects", write=True),
            TableUse("monitoring", write=True),
            TableUse("alerts", write=True),
            TableUse("rules"),
        ),
        reads_objects=("imports",),
        writes_objects=("imports",),
        sends_to=("imports",),
        publishes=("alerts",),
    ),
    Function(
        "ingest_bet_files",
        "chalice",
        purpose="Records raw bet files as bets, knockbacks and SMS requests; quarantines the refused ones.",
        tables=(
            TableUse("bets", write=True),
            TableUse("subjects", write=True),
            TableUse("monitoring", write=True),
            TableUse("alerts", write=True),
            TableUse("rules", write=True),
        ),
        reads_objects=("bet-files",),
        quarantines=("bet-files",),
        publishes=("alerts",),
    ),
    Function(
        "slip_scoring",
        "image",
        purpose="Checks, pre-processes and embeds uploaded slips (OpenCV + ONNX).",
        tables=(TableUse("slips", write=True),),
        reads_objects=("slips",),
        sends_to=("slip-clustering",),
    ),
)


def physical_name(stage: str, logical: str) -> str:
    return f"{APP}-{stage}-{logical}"


def secret_name(stage: str, logical: str) -> str:
    # Secrets Manager names are paths by convention (betwatch/<stage>/<secret>).
    return f"{APP}/{stage}/{logical}"


def table(logical: str) -> Table:
    return next(t for t in TABLES if t.logical == logical)


def queue(logical: str) -> Queue:
    return next(q for q in QUEUES if q.logical == logical)


def bucket(logical: str) -> Bucket:
    return next(b for b in BUCKETS if b.logical == logical)


def topic(logical: str) -> Topic:
    return next(t for t in TOPICS if t.logical == logical)


def secret(logical: str) -> Secret:
    return next(s for s in SECRETS if s.logical == logical)


def schedule(logical: str) -> Schedule:
    return next(s for s in SCHEDULES if s.logical == logical)


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)
