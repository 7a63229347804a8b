"""Staff decisions about writers: tag a writer to a customer (its bets then count for that
customer, and the customer's rules are evaluated again once), untag, merge two writers, split slips
off a writer. Every action is audited on the writers and customers it touched, and reversible
(untag a tag; split what a merge moved). Merges and splits run as idempotent jobs over the queue,
a chunk of slips per message, so no transaction comes near DynamoDB's 100-item limit; clustering
never moves a slip staff have placed (it only assigns new ones)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta

import numpy as np

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain import writer_linking as wl
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.subjects import SubjectRef
from chalicelib.domain.writers import JobKind, JobState, WriterJob
from chalicelib.ports import Candidate, MessageQueue, SubjectStore, Writers, WriterState
from chalicelib.services.clustering import new_writer_id

JOBS_QUEUE = "writer-jobs"
CHUNK = 25  # slips moved per queue message (each move is one small transaction)
HISTORY = timedelta(days=35)


class WriterDesk:
    def __init__(
        self,
        admin: Writers,
        subjects: SubjectStore,
        queue: MessageQueue,
        settings: wl.LinkSettings,
        clock: Clock = utcnow,
    ):
        self.admin, self.subjects, self.queue = admin, subjects, queue
        self.settings = settings
        self.clock = clock

    def _writer(self, writer_id: str) -> WriterState:
        state = self.admin.writer(writer_id)
        if state is None:
            raise NotFound(f"writer {writer_id} not found")
        return state

    def _audit(self, refs: list[SubjectRef], actor: str, action: str, **detail: object) -> None:
        event = AuditEvent(
            at=self.clock(), actor=actor, action=action, entity=",".join(f"{r.kind.value}:{r.id}" for r in refs),
            after={k: v for k, v in detail.items()},
        )  # fmt: skip
        for ref in refs:
            self.admin.record_audit(ref, event)

    # --- tags -------------------------------------------------------------------------------------

    def tag(self, writer_id: str, customer_id: str, actor: str) -> dict[str, object]:
        """The writer's bets count for the customer from now on (its past bets in the history window
        too); the customer's rules are evaluated again at the next run, without duplicate alerts."""
        self._writer(writer_id)
        now = self.clock()
        new = self.admin.tag(writer_id, customer_id, actor, now)
        writer = SubjectRef.writer(writer_id)
        copied = sum(
            self.admin.copy_bet(writer_id, b, customer_id, now)
            for b in self.subjects.bets_between(writer, now - HISTORY, now)
            if b.customer_id != customer_id
        )
        if new or copied:
            self._audit([writer, SubjectRef.customer(customer_id)], actor, "tagged", bets_copied=copied)
        return {"writer_id": writer_id, "customer_id": customer_id, "tagged": True, "bets_copied": copied}

    def untag(self, writer_id: str, customer_id: str, actor: str) -> dict[str, object]:
        self._writer(writer_id)
        now = self.clock()
        if not self.admin.untag(writer_id, customer_id):
            raise NotFound(f"writer {writer_id} is not tagged to customer {customer_id}")
        writer = SubjectRef.writer(writer_id)
        removed = sum(
            self.admin.uncopy_bet(writer_id, b, customer_id, now)
            for b in self.subjects.bets_between(writer, now - HISTORY, now)
        )
        self._audit([writer, SubjectRef.customer(customer_id)], actor, "untagged", bets_removed=removed)
        return {"writer_id": writer_id, "customer_id": customer_id, "tagged": False, "bets_removed": removed}

    # --- merge and split --------------------------------------------------------------------------

    def merge(self, target: str, source: str, actor: str, note: str | None = None) -> WriterJob:
        """Every slip of `source` joins `target` (one person after all); `source` is retired.
        One merge job per source (its id says so), so a repeated request starts nothing new."""
        if target == source:
            raise Invalid("from_writer_id: a writer cannot be merged into itself")
        t, s = self._writer(target), self._writer(source)
        existing = self.admin.job(f"merge-{source}")
        if existing is not None:
            return existing
        bet_ids = sorted(self.subjects.slips(SubjectRef.writer(source)))
        return self._start(JobKind.merge, s, t, bet_ids, actor, note, job_id=f"merge-{source}")

    def split(self, source: str, bet_ids: list[str], actor: str, note: str | None = None) -> WriterJob:
        """These slips of `source` are another person's: they move to a new writer."""
        s = self._writer(source)
        own = set(self.subjects.slips(SubjectRef.writer(source)))
        unknown = sorted(set(bet_ids) - own)
        if unknown:
            raise Invalid(f"bet_ids: not slips of writer {source}: {', '.join(unknown[:5])}")
        if len(set(bet_ids)) >= len(own):
            raise Invalid("bet_ids: a split must leave the writer at least one slip")
        target = new_writer_id()
        # Staff say these are two people: clustering's re-checks must not merge them back.
        self.admin.keep_apart(source, target, actor, "split by staff", self.clock())
        return self._start(JobKind.split_off, s, target, sorted(set(bet_ids)), actor, note)

    def _start(
        self,
        kind: JobKind,
        s: WriterState,
        target: WriterState | str,
        bet_ids: list[str],
        actor: str,
        note: str | None,
        job_id: str | None = None,
    ) -> WriterJob:
        job = WriterJob(
            job_id=job_id or "job-" + uuid.uuid4().hex[:16],
            kind=kind,
            source=s.writer_id,
            target=target if isinstance(target, str) else target.writer_id,
            bet_ids=bet_ids,
            actor=actor,
            created_at=self.clock(),
            note=note,
        )
        if not self.admin.save_job(job, None):
            raise Conflict(f"job {job.job_id} exists")
        self.queue.send(JOBS_QUEUE, json.dumps({"job_id": job.job_id}))
        return job

    def job(self, job_id: str) -> WriterJob:
        job = self.admin.job(job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job

    def run(self, job_id: str) -> WriterJob:
        """One step of a job: the next chunk of slips, or the centroids at the end. Safe to repeat:
        a slip already moved is skipped, progress is saved conditionally, the end uses the
        centroids saved when the job started."""
        job = self.job(job_id)
        if job.state is JobState.done:
            return job
        now = self.clock()
        if job.kind is JobKind.merge and job.moved >= len(job.bet_ids):
            # Slips that joined the source since the job started go too, before it is retired.
            late = sorted(set(self.subjects.slips(SubjectRef.writer(job.source))) - set(job.bet_ids))
            if late:
                grown = job.model_copy(update={"bet_ids": [*job.bet_ids, *late]})
                if self.admin.save_job(grown, job.moved):
                    job = grown
        if job.moved < len(job.bet_ids):
            chunk = job.bet_ids[job.moved : job.moved + CHUNK]
            for bet_id in chunk:
                self.admin.move_slip(bet_id, job.source, job.target, now)
            progressed = job.model_copy(update={"moved": job.moved + len(chunk)})
            if self.admin.save_job(progressed, job.moved):
                self.queue.send(JOBS_QUEUE, json.dumps({"job_id": job.job_id}))
                return progressed
            return self.job(job_id)  # another delivery did this chunk
        self._finish(job)
        done = job.model_copy(update={"state": JobState.done, "finished_at": now})
        if self.admin.save_job(done, job.moved):
            refs = [SubjectRef.writer(job.source), SubjectRef.writer(job.target)]
            action = "merged" if job.kind is JobKind.merge else "split"
            self._audit(refs, job.actor, action, job_id=job.job_id, bet_ids=job.bet_ids, note=job.note)
            logger.info(
                "writer job done", extra={"job_id": job.job_id, "kind": job.kind.value, "slips": len(job.bet_ids)}
            )
        return done

    def _embeddings(self, bet_ids: list[str]) -> list[np.ndarray]:
        return [np.asarray(e, np.float64) for b in sorted(bet_ids) if (e := self.admin.embedding(b)) is not None]

    def _rebuilt(self, writer_id: str, bet_ids: list[str], current: WriterState | None) -> WriterState | None:
        """The writer recomputed from its slips' embeddings: the same whenever it runs, so a job
        finishing twice, or slips that joined meanwhile, leave it right."""
        embs = self._embeddings(bet_ids)
        if not embs:
            return None
        if current is not None and current.n_anchor_slips_kept():
            # A kept writer keeps its own anchor (its founding slips); its mean covers every slip.
            mean = np.mean([wl.unit(e) for e in embs], axis=0)
            link = replace(current.link, mean=mean, n=len(embs), version=current.version + 1)
            return replace(current, link=link)
        link = wl.new_writer(writer_id, embs[0])
        for e in embs[1:]:
            link = wl.add_slip(link, e, self.settings)
        version = (current.version + 1) if current else link.version
        return WriterState(replace(link, version=max(version, link.version)), current.tagged if current else ())

    def _finish(self, job: WriterJob) -> None:
        now = self.clock()
        target_slips = self.subjects.slips(SubjectRef.writer(job.target))
        if job.kind is JobKind.merge:
            source = self.admin.writer(job.source)
            target = self.admin.writer(job.target)
            if target is not None and source is not None and source.n > target.n:
                # The larger writer's founding slips stay the anchor, whichever id survives.
                target = replace(target, link=replace(source.link, writer_id=job.target, version=target.version))
            rebuilt = self._rebuilt(job.target, target_slips, target)
            if rebuilt is not None:
                tags = tuple(sorted({*rebuilt.tagged, *(source.tagged if source else ())}))
                self.admin.set_writer(replace(rebuilt, tagged=tags), now)
            self.admin.retire(job.source, job.target, now)
            return
        new = self._rebuilt(job.target, target_slips, self.admin.writer(job.target))
        if new is not None:
            self.admin.set_writer(new, now)
        source = self.admin.writer(job.source)
        rest = self.subjects.slips(SubjectRef.writer(job.source))
        rebuilt = self._rebuilt(job.source, rest, None)
        if rebuilt is not None:
            version = (source.version + 1) if source else rebuilt.version
            self.admin.set_writer(
                WriterState(replace(rebuilt.link, version=version), source.tagged if source else ()), now
            )

    # --- candidate links --------------------------------------------------------------------

    def candidates(self, writer_id: str) -> list[Candidate]:
        return self.admin.candidates(writer_id)

    def confirm(self, writer_id: str, other: str, actor: str) -> WriterJob:
        """Staff: the candidate is the same person. The smaller writer merges into the larger."""
        _two(writer_id, other)
        a, b = self._writer(writer_id), self._writer(other)
        if not self.admin.decide_candidate(writer_id, other, "confirmed", actor, self.clock()):
            raise Conflict(f"no pending candidate link between {writer_id} and {other}")
        kept, absorbed = (a, b) if a.n >= b.n else (b, a)
        self._audit([SubjectRef.writer(writer_id), SubjectRef.writer(other)], actor, "candidate_confirmed")
        return self.merge(kept.writer_id, absorbed.writer_id, actor, f"candidate link confirmed by {actor}")

    def reject(self, writer_id: str, other: str, actor: str) -> None:
        """Staff: different people. Never proposed or merged again."""
        _two(writer_id, other)
        if not self.admin.decide_candidate(writer_id, other, "rejected", actor, self.clock()):
            raise Conflict(f"no pending candidate link between {writer_id} and {other}")
        self._audit([SubjectRef.writer(writer_id), SubjectRef.writer(other)], actor, "candidate_rejected")

    def audit(self, writer_id: str) -> list[AuditEvent]:
        return self.admin.audit(SubjectRef.writer(writer_id))


def _two(writer_id: str, other: str) -> None:
    if writer_id == other:
        raise Invalid("other_id: a writer is not a candidate link of itself")
