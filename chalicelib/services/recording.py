"""Recording a bet: score it against the customer's history, then store it with the customer's
aggregates in one atomic write. Used by POST /bets, bet files and history imports alike."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.bets import Bet, BetIn, Selection
from chalicelib.domain.errors import Conflict, Invalid
from chalicelib.domain.money import to_minor
from chalicelib.domain.results import EachWayTerms, EventResult
from chalicelib.domain.risk_history import HISTORY_DAYS, SubjectHistory
from chalicelib.domain.rules import WindowBet, window_bet_of
from chalicelib.domain.settlement import FORECASTS, BetToSettle, settle
from chalicelib.domain.subjects import ClientCategory, SubjectRef, SubjectStatus
from chalicelib.ports import BetStore, RiskScorer, StoredBet, SubjectStore
from chalicelib.services.history_cache import HistoryCache


def fingerprint(body: BetIn) -> str:
    """What a retry must repeat exactly: the request without its id."""
    canonical = body.model_dump(mode="json", exclude={"bet_id"})
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def idempotent_bet_id(source: str, idempotency_key: str) -> str:
    # Scoped to the client, so two tills using the same key do not collide.
    return "idem-" + hashlib.sha256(f"{source}|{idempotency_key}".encode()).hexdigest()[:32]


# The terms a potential return assumes for each-way place parts (the bet does not carry the
# event's terms; these are the usual UK ones). Settlement uses the event's real terms.
ASSUMED_EACH_WAY = EachWayTerms.model_validate({"places": 3, "fraction": "1/4"})


def potential_return(body: BetIn) -> int | None:
    """What the bet returns if every selection wins, as settlement would pay it (full-cover bets
    every line, each-way place parts at ASSUMED_EACH_WAY). None for a starting price or a
    forecast/tricast (which pays a dividend declared after the race)."""
    if any(s.decimal_odds is None for s in body.selections) or body.bet_type in FORECASTS:
        return None
    bet = BetToSettle.model_validate(
        {
            "bet_type": body.bet_type,
            "each_way": body.is_each_way,
            "stake_minor": body.stake_minor,
            "selections": [
                {"event": s.event, "market": s.market, "selection": s.selection, "price": str(s.price)}
                for s in body.selections
            ],
        }
    )
    by_event: dict[str, list[str]] = {}
    for s in body.selections:
        by_event.setdefault(s.event, []).append(s.selection)
    results = [
        EventResult.model_validate({"event": event, "positions": [[x] for x in names], "each_way": ASSUMED_EACH_WAY})
        for event, names in by_event.items()
    ]
    return settle(bet, results).returns_minor


def check_live(body: BetIn, now: datetime, max_age: timedelta) -> None:
    """A live bet (a till, the website) is recent: older ones belong to the history import, which
    does not raise alerts on events long past."""
    if body.placed_at < now - max_age:
        hours = int(max_age.total_seconds() // 3600)
        msg = f"more than {hours} hours ago; send older bets through the history import"
        raise Invalid(f"placed_at: {msg}", [{"field": "placed_at", "message": msg}])


# Bet-path monitoring: (subject, its bets up to and including this one, the bet's time, its
# category, its risk segment) -> alerts.
BetHook = Callable[[SubjectRef, list[WindowBet], datetime, str, int | None], list[Any]]


def _when(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


class BetRecorder:
    def __init__(
        self,
        bets: BetStore,
        subjects: SubjectStore,
        scorer: RiskScorer,
        currency: str,
        clock: Clock = utcnow,
        on_bet: BetHook | None = None,
    ):
        self.bets, self.subjects, self.scorer = bets, subjects, scorer
        self.currency = currency
        self.clock = clock
        self.on_bet = on_bet

    def record(
        self,
        body: BetIn,
        source: str,
        idempotency_key: str | None = None,
        monitor: bool = True,
        read_first: bool = True,
        histories: HistoryCache | None = None,
    ) -> tuple[Bet, bool]:
        """Store a new bet, or return the stored one for a retried request: (bet, created).

                `source` names who reported it (an API key, a file, an import), for audit and idempotency;
                `monitor=False` records without bet-path rules or an activity marker for the schedule (history
                imports: the past raises no alerts). `read_first=False` skips the lookup of a stored bet before
                scoring (one round trip less when almost every bet is new, as in an import): the conditional
                write still refuses a second copy, which is then answered as a replay all the same. `histories`: an
        import chunk's cache of its customers' histories (one read per customer, not per row)."""
        if body.currency != self.currency:
            raise Invalid(
                f"currency: this deployment takes {self.currency}, got {body.currency}",
                [{"field": "currency", "message": f"must be {self.currency}"}],
            )
        bet_id = body.bet_id or (idempotent_bet_id(source, idempotency_key) if idempotency_key else uuid.uuid4().hex)
        fp = fingerprint(body)
        if read_first and (existing := self.bets.get(bet_id)):
            return self._replay(existing, fp)
        subjects = [SubjectRef.customer(body.customer_id)] if body.customer_id else []
        past, status = self._past(subjects[0], body, histories) if subjects else ([], SubjectStatus())
        history = SubjectHistory.of(
            [b.past for b in past if b.past is not None],
            body.placed_at,
            whitelisted_until=_when(status.whitelisted_until),
            category=status.category.value if status.category is not ClientCategory.none else None,
        )
        bet = self.build(body, bet_id, source, history)
        if not self.bets.record(bet, fp, subjects, activity=monitor, maybe_earliest=not past):
            # A concurrent retry won the race: answer as a replay.
            if existing := self.bets.get(bet_id):
                return self._replay(existing, fp)
            raise Conflict(f"bet {bet_id} could not be recorded; retry")
        if histories is not None:
            for subject in subjects:
                histories.add(subject, bet)
        obs.count(obs.BETS_RECORDED)
        obs.count(obs.RISK_LEVEL.format(level=bet.risk.level.title()))
        logger.info(
            "bet recorded",
            extra={"bet_id": bet.bet_id, "risk_score": bet.risk.score, "risk_level": bet.risk.level},
        )
        if monitor and self.on_bet is not None:
            for subject in subjects:
                self._monitor(subject, [*past, window_bet_of(bet)], bet, status.category.value)
        return bet, True

    def _monitor(self, subject: SubjectRef, bets: list[WindowBet], bet: Bet, category: str) -> None:
        # The bet is acknowledged whatever happens here: a rule failing must not lose it.
        assert self.on_bet is not None
        try:
            self.on_bet(subject, bets, bet.placed_at, category, bet.risk.segment)
        except Exception:  # noqa: BLE001 - logged and counted; the bet stays recorded
            obs.count(obs.BET_PATH_RULE_ERRORS)
            logger.exception("bet-path rules failed", extra={"bet_id": bet.bet_id})

    def _past(
        self, subject: SubjectRef, body: BetIn, histories: HistoryCache | None = None
    ) -> tuple[list[WindowBet], SubjectStatus]:
        # One Query: the scorer's history, the bet-path rules' window and staff's status alike.
        end = body.placed_at
        start = end - timedelta(days=HISTORY_DAYS)
        if histories is None:
            return self.subjects.recent(subject, start, end)
        if (cached := histories.get(subject, start, end)) is not None:
            return cached
        # No upper bound: the cache serves the customer's later rows from the same read.
        everything, status = self.subjects.recent(subject, start, None)
        histories.fill(subject, start, everything, status)
        return [b for b in everything if b.placed_at <= end], status

    def build(self, body: BetIn, bet_id: str, source: str, history: SubjectHistory) -> Bet:
        return Bet(
            bet_id=bet_id,
            customer_id=body.customer_id,
            shop_id=body.shop_id,
            channel=body.channel,
            stake_minor=to_minor(body.stake, body.currency),
            currency=body.currency,
            bet_type=body.bet_type,
            each_way=body.is_each_way,
            lines=body.lines,
            selections=[
                Selection(
                    event=s.event,
                    market=s.market,
                    selection=s.selection,
                    price=str(s.price),
                    decimal_odds=float(d) if (d := s.decimal_odds) is not None else None,
                )
                for s in body.selections
            ],
            sport=body.sport,
            placed_at=body.placed_at,
            received_at=self.clock(),
            device_id=body.device_id,
            location=body.location,
            potential_return_minor=potential_return(body),
            risk=self.scorer.assess(body, history),
            ingested_by=source,
        )

    def get(self, bet_id: str) -> Bet | None:
        found = self.bets.get(bet_id)
        return found.bet if found else None

    @staticmethod
    def _replay(existing: StoredBet, fp: str) -> tuple[Bet, bool]:
        if existing.fingerprint != fp:
            raise Conflict(f"bet {existing.bet.bet_id} already exists with different details")
        return existing.bet, False
