"""Settling bets with results: POST /results (and result files) store each event's result, then
every bet open on the event (found by the event's index, never a Scan) is settled with
`domain/settlement.py` against the results of all its legs.

A settlement is stored on the bet with the version of the results it used (a hash of each): the
same results again change nothing; a corrected result re-settles the bets settled with it, counting
only the difference in the subjects' settled P/L. Customers' and writers' window items get the
profit and the beats-SP counts the loss and beats-SP rules read; the settlement writes an activity
marker, so the schedule evaluates those rules for the subjects at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.bets import Bet
from chalicelib.domain.errors import Conflict
from chalicelib.domain.results import EventResult, ResultFileError, event_key, parse_result_file
from chalicelib.domain.settlement import BetToSettle, Settlement, settle
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import (
    BetStore,
    FileStore,
    SettlementStore,
    SettlementWrite,
    SlipStore,
    StoredBet,
    StoredResult,
)

UK = ZoneInfo("Europe/London")
ATTEMPTS = 3


def describe(exc: ValidationError) -> str:
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())


def result_version(result: EventResult) -> str:
    """What the result says (the event as matched, '14:30 ascot', however it was spelled)."""
    doc = result.model_dump(mode="json") | {"event": result.key}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def sp_counts(bet: Bet, s: Settlement) -> tuple[int, int]:
    """(legs settled with a price taken and a returned SP, of which taken above the SP)."""
    compared = beaten = 0
    for sel, leg in zip(bet.selections, s.legs, strict=True):
        if sel.decimal_odds is None or leg.starting_price is None or leg.outcome in ("void", "open"):
            continue
        compared += 1
        beaten += sel.decimal_odds > float(leg.starting_price)
    return compared, beaten


@dataclass
class ResultReport:
    event: str
    event_key: str
    version: str
    bets: int = 0  # found on the event
    settled: int = 0  # newly settled or re-settled (a corrected result)
    unchanged: int = 0  # already settled with these results
    still_open: int = 0  # another leg waits for its result, or the result leaves it to a person
    settled_ids: list[str] = field(default_factory=list)


class Settler:
    def __init__(self, bets: BetStore, store: SettlementStore, slips: SlipStore, clock: Clock = utcnow):
        self.bets, self.store, self.slips = bets, store, slips
        self.clock = clock

    def post_results(self, results: list[EventResult]) -> list[ResultReport]:
        return [self.post_result(r) for r in results]

    def post_result(self, result: EventResult) -> ResultReport:
        version = result_version(result)
        self.store.save_result(result, version, self.clock())
        report = ResultReport(event=result.event, event_key=result.key, version=version)
        for bet_id in self.store.bets_on(result.key, result.date.isoformat() if result.date else None):
            report.bets += 1
            outcome = self.settle_bet(bet_id)
            if outcome == "settled":
                report.settled += 1
                report.settled_ids.append(bet_id)
            elif outcome == "unchanged":
                report.unchanged += 1
            else:
                report.still_open += 1
        logger.info("result settled", extra={k: v for k, v in vars(report).items() if k != "settled_ids"})
        return report

    def settle_bet(self, bet_id: str) -> str:
        """'settled', 'unchanged' or 'open' (nothing stored)."""
        for _ in range(ATTEMPTS):
            stored = self.bets.get(bet_id)
            if stored is None:
                return "open"
            outcome = self._settle(stored)
            if outcome is not None:
                return outcome
        raise Conflict(f"bet {bet_id} was settled concurrently {ATTEMPTS} times; retry")

    def _settle(self, stored: StoredBet) -> str | None:
        bet = stored.bet
        day = bet.placed_at.astimezone(UK).date()
        events = sorted({event_key(s.event) for s in bet.selections})
        results: dict[str, StoredResult] = {}
        for key in events:
            if (found := self.store.result_for(key, day)) is not None:
                results[key] = found
        try:
            to_settle = BetToSettle.model_validate(bet.model_dump())
        except ValidationError as exc:  # a shape settlement does not model (an each-way forecast): for a person
            logger.warning("bet not settled", extra={"bet_id": bet.bet_id, "reason": describe(exc)})
            return "open"
        settlement = settle(to_settle, [r.result for r in results.values()])
        if settlement.state == "open":
            return "open"  # a correction that reopens a settled bet is left to a person, as settled
        used = sorted(f"{k}={results[k].version}" for k in events if k in results)
        version = hashlib.sha256("|".join(used).encode()).hexdigest()[:16]
        if stored.settled_version == version:
            return "unchanged"
        compared, beaten = sp_counts(bet, settlement)
        write = SettlementWrite(
            bet=bet,
            settlement=settlement,
            version=version,
            previous=stored.settlement,
            previous_version=stored.settled_version,
            subjects=self._subjects(bet),
            sp_compared=compared,
            sp_beaten=beaten,
            results=results,
            events=events,
            at=self.clock(),
        )
        return "settled" if self.store.apply(write) else None

    def _subjects(self, bet: Bet) -> list[SubjectRef]:
        """The customer, and the writer a slip linked the bet to."""
        refs = [SubjectRef.customer(bet.customer_id)] if bet.customer_id else []
        slip = self.slips.get(bet.bet_id)
        if slip is not None and slip.writer_id:
            refs.append(SubjectRef.writer(slip.writer_id))
        return refs

    def view(self, bet_id: str) -> StoredBet | None:
        return self.bets.get(bet_id)


MAX_RESULT_FILE_BYTES = 5 * 1024 * 1024


class ResultFiles:
    """The file form of POST /results: a results file (the same JSON) dropped under the results prefix
    of the imports bucket settles its events; a file that is not results gets `<name>.error.json`
    next to it naming the place and the problem, and settles nothing."""

    def __init__(self, settler: Settler, files: FileStore, bucket: str, prefix: str):
        self.settler, self.files = settler, files
        self.bucket, self.prefix = bucket, prefix

    def wants(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(".json") and not key.endswith(".error.json")

    def settle_file(self, key: str) -> list[ResultReport] | None:
        data = self.files.read(self.bucket, key, MAX_RESULT_FILE_BYTES)
        try:
            if len(data) > MAX_RESULT_FILE_BYTES:
                raise ResultFileError(f"over {MAX_RESULT_FILE_BYTES:,} bytes")
            results = parse_result_file(data)
        except ResultFileError as exc:
            error = {"file": key, "error": str(exc)}
            self.files.write(self.bucket, key.removesuffix(".json") + ".error.json", json.dumps(error).encode())
            logger.warning("results file refused", extra=error)
            return None
        return self.settler.post_results(results)
