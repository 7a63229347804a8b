"""The one wiring point: adapters built once per process from the settings, handed to the services.

services = wiring.container()          # lazily built from Settings (DynamoDB, SNS, S3, SQS)
wiring.use(wiring.in_memory())         # tests: the same services over in-memory fakes
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from chalicelib.core import resources
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.config import Settings, settings
from chalicelib.domain import writer_linking as wl
from chalicelib.domain.rules import Rule, default_rules
from chalicelib.ports import (
    ActivityIndex,
    AlertStore,
    BetStore,
    FeedStore,
    FileStore,
    HealthProbe,
    ImportStore,
    IntakeStore,
    MessageQueue,
    Notifier,
    ObjectFiles,
    PrincipalStore,
    RiskScorer,
    RuleStore,
    SecretSource,
    SettlementStore,
    SlipStore,
    SubjectStore,
    Writers,
)
from chalicelib.services.access import AccessService, TokenSettings
from chalicelib.services.alerts import AlertCases
from chalicelib.services.backtest import Backtester
from chalicelib.services.bet_files import BetFileIngest, BetFileSettings
from chalicelib.services.clustering import Clusterer
from chalicelib.services.feed import FeedReader
from chalicelib.services.health import HealthService
from chalicelib.services.imports import HistoryImports, ImportLimits
from chalicelib.services.intake import IntakeDesk, window_knockbacks
from chalicelib.services.monitoring import Monitor
from chalicelib.services.profiles import ProfileReader
from chalicelib.services.recording import BetRecorder
from chalicelib.services.reports import Reports
from chalicelib.services.rules import RuleCatalogue
from chalicelib.services.settlement import ResultFiles, Settler
from chalicelib.services.slips import SlipUploads, UploadLimits
from chalicelib.services.writer_index import WriterIndexCache
from chalicelib.services.writers import WriterDesk


@dataclass
class Adapters:
    bets: BetStore
    subjects: SubjectStore
    activity: ActivityIndex
    slips: SlipStore
    writers: Writers
    alerts: AlertStore
    principals: PrincipalStore
    rules: RuleStore
    feed: FeedStore
    notifier: Notifier
    files: FileStore
    queue: MessageQueue
    scorer: RiskScorer
    secret: SecretSource
    health: HealthProbe
    settlements: SettlementStore
    imports: ImportStore
    intake: IntakeStore
    objects: ObjectFiles


@dataclass
class Container:
    settings: Settings
    adapters: Adapters
    recorder: BetRecorder
    profiles: ProfileReader
    uploads: SlipUploads
    rules: RuleCatalogue
    monitor: Monitor
    alerts: AlertCases
    writers: WriterDesk
    backtests: Backtester
    access: AccessService
    health: HealthService
    writer_index: WriterIndexCache
    linking: wl.LinkSettings
    feed: FeedReader
    reports: Reports
    settler: Settler
    imports: HistoryImports
    bet_files: BetFileIngest
    intake: IntakeDesk

    def clusterer(self) -> Clusterer:
        a = self.adapters
        return Clusterer(
            a.slips,
            a.bets,
            a.writers,
            self.writer_index,
            self.linking,
            self.monitor.clock,
            on_writer_bet=self.monitor.on_writer_bet,
            start_merge=self._auto_merge,
            feed=a.feed,
        )

    def _auto_merge(self, kept: str, absorbed: str, reason: str) -> object:
        return self.writers.merge(kept, absorbed, "system:clustering", reason)


def rules_for(cfg: Settings) -> list[Rule]:
    return default_rules(cfg.rule_window_hours, cfg.rule_stake_threshold_minor)


IMPORT_MAX_BYTES = 1024**3


def assemble(cfg: Settings, a: Adapters, clock: Clock = utcnow) -> Container:
    limits = UploadLimits(cfg.bucket("slips"), cfg.slip_min_bytes, cfg.slip_max_bytes, cfg.presign_expires_s)
    rules = RuleCatalogue(a.rules, rules_for(cfg), clock)
    linking = wl.LinkSettings.load()
    knockbacks = window_knockbacks(a.intake)
    monitor = Monitor(a.activity, a.subjects, a.alerts, a.notifier, rules, cfg.currency, clock, knockbacks)
    recorder = BetRecorder(a.bets, a.subjects, a.scorer, cfg.currency, clock, on_bet=monitor.on_bet)
    imports = ImportLimits(
        cfg.bucket("imports"), resources.bucket("imports").notify_prefix, IMPORT_MAX_BYTES, cfg.presign_expires_s
    )
    settler = Settler(a.bets, a.settlements, a.slips, clock)
    result_files = ResultFiles(settler, a.files, imports.bucket, f"{imports.prefix}results/")
    return Container(
        settings=cfg,
        adapters=a,
        recorder=recorder,
        profiles=ProfileReader(a.subjects, clock, knockbacks),
        uploads=SlipUploads(a.slips, a.bets, a.files, limits, clock),
        rules=rules,
        monitor=monitor,
        alerts=AlertCases(a.alerts, clock),
        writers=WriterDesk(a.writers, a.subjects, a.queue, linking, clock),
        backtests=Backtester(a.subjects, cfg.currency, clock),
        access=AccessService(a.principals, a.secret, TokenSettings(cfg.jwt_ttl_s, cfg.jwt_issuer), clock),
        health=HealthService(a.scorer, a.health),
        writer_index=WriterIndexCache(a.writers, a.files, cfg.bucket("index"), linking.dim, clock),
        linking=linking,
        feed=FeedReader(a.feed, a.subjects, clock),
        reports=Reports(a.feed, a.subjects, a.alerts, a.files, cfg.bucket("reports"), cfg.currency, clock, knockbacks),
        settler=settler,
        imports=HistoryImports(a.imports, a.files, a.queue, recorder, imports, clock, result_files),
        bet_files=BetFileIngest(a.objects, a.intake, recorder, bet_file_settings(cfg), clock),
        intake=IntakeDesk(a.intake, clock),
    )


def bet_file_settings(cfg: Settings) -> BetFileSettings:
    declared = resources.bucket("bet-files")
    return BetFileSettings(cfg.bet_file_max_bytes, declared.notify_prefix, declared.quarantine_prefix, cfg.currency)


class _LazyNotifier:
    """The SNS client and topic ARN are only needed when an alert is published."""

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg
        self._sns: Any = None

    def publish(self, alert: Any) -> str:
        if self._sns is None:
            from chalicelib.adapters.sns import SnsNotifier

            self._sns = SnsNotifier(_LazyClient("sns"), self.cfg.topic_arn("alerts"))
        return str(self._sns.publish(alert))


def aws_adapters(cfg: Settings) -> Adapters:
    from chalicelib.adapters.dynamodb.alerts import DynamoAlertStore
    from chalicelib.adapters.dynamodb.bets import DynamoBetStore
    from chalicelib.adapters.dynamodb.client import Dynamo
    from chalicelib.adapters.dynamodb.feed import DynamoFeed
    from chalicelib.adapters.dynamodb.health import DynamoHealthProbe
    from chalicelib.adapters.dynamodb.imports import DynamoImportStore
    from chalicelib.adapters.dynamodb.intake import DynamoIntakeStore
    from chalicelib.adapters.dynamodb.principals import DynamoPrincipalStore
    from chalicelib.adapters.dynamodb.rules import DynamoRuleStore
    from chalicelib.adapters.dynamodb.settlement import DynamoSettlementStore
    from chalicelib.adapters.dynamodb.slips import DynamoSlipStore
    from chalicelib.adapters.dynamodb.subjects import DynamoActivityIndex, DynamoSubjectStore
    from chalicelib.adapters.dynamodb.writers import DynamoWriterStore
    from chalicelib.adapters.risk_model import OnnxRiskScorer
    from chalicelib.adapters.s3 import S3FileStore
    from chalicelib.adapters.secrets import SecretsManagerSource, StaticSecret
    from chalicelib.adapters.sqs import SqsQueue
    from chalicelib.core import aws

    db = Dynamo(aws.client("dynamodb"))
    t = cfg.tables
    secret: SecretSource = (
        StaticSecret(cfg.jwt_secret)
        if cfg.jwt_secret
        else SecretsManagerSource(_LazyClient("secretsmanager"), cfg.jwt_secret_id)
    )
    files = S3FileStore(_LazyClient("s3"))
    return Adapters(
        bets=DynamoBetStore(db, t, cfg.history_days),
        subjects=DynamoSubjectStore(db, t),
        activity=DynamoActivityIndex(db, t),
        slips=DynamoSlipStore(db, t),
        writers=DynamoWriterStore(db, t, cfg.history_days),
        alerts=DynamoAlertStore(db, t),
        principals=DynamoPrincipalStore(db, t),
        rules=DynamoRuleStore(db, t),
        feed=DynamoFeed(db, t),
        notifier=_LazyNotifier(cfg),
        files=files,
        queue=SqsQueue(_LazyClient("sqs"), cfg.queues),
        scorer=OnnxRiskScorer(),
        secret=secret,
        health=DynamoHealthProbe(db, t),
        settlements=DynamoSettlementStore(db, t),
        imports=DynamoImportStore(db, t),
        intake=DynamoIntakeStore(db, t, cfg.history_days),
        objects=files,
    )


class _LazyClient:
    """A boto3 client created on first use (API-key requests never need Secrets Manager or S3)."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __getattr__(self, name: str) -> Any:
        from chalicelib.adapters.guard import Guarded
        from chalicelib.core import aws

        return getattr(Guarded(aws.client(self.service), self.service), name)


def in_memory(
    cfg: Settings | None = None, scorer: RiskScorer | None = None, jwt_secret: str = "", clock: Clock = utcnow
) -> Container:
    """Every service over in-memory fakes (unit tests; no AWS, no moto)."""
    from chalicelib.adapters import memory
    from chalicelib.adapters.secrets import StaticSecret

    cfg = cfg or settings()
    subjects = memory.MemorySubjects()
    slips = memory.MemorySlips()
    feed = memory.MemoryFeed()
    bets = memory.MemoryBets(subjects, feed)
    files = memory.MemoryFiles()
    adapters = Adapters(
        bets=bets,
        subjects=subjects,
        activity=subjects,
        slips=slips,
        writers=memory.MemoryWriters(slips, subjects),
        alerts=memory.MemoryAlerts(),
        principals=memory.MemoryPrincipals(),
        rules=memory.MemoryRules(),
        feed=feed,
        notifier=memory.MemoryNotifier(),
        files=files,
        queue=memory.MemoryQueue(),
        scorer=scorer or memory.FixedScorer(),
        secret=StaticSecret(jwt_secret or cfg.jwt_secret),
        health=memory.MemoryHealth(),
        settlements=memory.MemorySettlements(bets),
        imports=memory.MemoryImports(),
        intake=memory.MemoryIntake(subjects, feed),
        objects=files,
    )
    return assemble(cfg, adapters, clock)


_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    """The process's services, built on first use from the settings."""
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                cfg = settings()
                _container = assemble(cfg, aws_adapters(cfg))
    return _container


def use(c: Container | None) -> None:
    """Replace the process's services (tests); None rebuilds them from the settings on next use."""
    global _container
    _container = c
