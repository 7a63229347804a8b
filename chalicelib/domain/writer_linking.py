"""Precision-first open-set writer linking: the one implementation (numpy only).

Used by the clustering consumer at run time and by ``training/handwriting/evaluate.py``; the
settings are written by training to ``chalicelib/models/writer_linking.json``.

Scores
------
Embeddings are L2-normalised. A writer keeps ``mean``, the average of its slips' embeddings, so
``e @ mean`` is the *average-linkage* similarity of slip ``e`` to all of the writer's slips
(one dot product, however many slips), and ``anchor``, the same over its first
``max_anchor`` slips, frozen afterwards: a join needs both, so a chain of borderline slips cannot
drag a writer onto another person.

Raw similarities do not transfer between writer populations (a population the embedding was
not fitted on sits off-centre and all its slips look alike), so they are normalised by the
impostor statistics of the slip against the *rest of the gallery* (the slips of every writer but
the best, from slip-weighted totals of the index, plus ``within_sd`` for the spread of slips
around their writer's mean), shrunk towards a pessimistic prior for an unseen population
(``prior_mean``, ``prior_sd``, worth ``prior_slips`` slips): an empty or tiny gallery decides as
strictly as that prior; a grown gallery decides by its own statistics. (``strict_prior`` lets the
gallery only raise the bar; measured too costly in recall, off by default.)

    z = (score - mu) / sd - penalty(W)        margin = (best - second best) / sd

``penalty(W)`` is 0 for galleries up to ``calibrated_writers`` writers (the size the settings were
measured at) and then grows like the expected best of W impostors: with 100k writers the best
impostor is ~4.3 sd above the mean, not ~1.8, and a fixed z would merge strangers.

Decision (:func:`decide`): **join** when ``z``, the anchor's ``z`` and the margin clear their
join settings; **candidate** when ``z`` clears ``candidate_z`` (the slip founds a writer of its
own and the candidate link waits for staff: never a silent merge); otherwise **new**. Every
decision carries its score, similarity and a reason naming the numbers that decided it.

Re-check (:func:`merge_check`, after each change of a writer): a writer of at least
``merge_min_slips`` slips that matches another such writer over *all* pairs of their slips
(``a.mean @ b.mean``, normalised the same way) at ``merge_z`` is the same person: ``merged(kept,
absorbed)`` gives the kept writer's new state (its anchor stays its own); the absorbed writer's
slips move to it (or alias it) and its index row is removed (a tombstone delta, ``n = 0``).
With ``auto_merge`` false a merge is only proposed.

API (plain lists in and out, so DynamoDB items work directly)
-------------------------------------------------------------
``LinkSettings.load(path=None)``
    settings (frozen); ``settings.to_dict()`` round-trips.
``decide(embedding, index, settings) -> LinkDecision``
    ``index`` is a :class:`~chalicelib.domain.writer_index.WriterIndex` or a sequence of
    :class:`WriterState`. ``LinkDecision(action, writer_id, score, similarity, reason,
    candidates=((writer_id, z), ...))``: ``writer_id`` is the writer joined (join) or the best
    candidate (candidate), ``None`` for new.
``new_writer(writer_id, embedding) -> WriterState`` and ``add_slip(state, embedding, settings)
-> WriterState``
    pure updates; ``version`` goes up by one each write (use it as the conditional-write token).
``WriterState.to_item() / WriterState.from_item(d)``
    what to persist per writer: ``writer_id, mean[D], anchor[D], n, n_anchor, exemplars[<=K][D],
    version`` (exemplars = the anchor slips' embeddings, for re-checks without a query).
``state.delta(seq) -> WriterDelta``
    the row to apply to cached indexes.
``recheck(embeddings, settings) -> Recheck``
    average linkage of each of a writer's slips to the others; members below ``recheck_z`` are
    ``outliers`` (suggest detaching them for review).
``merge_score(a, b, settings) -> float``
    average-linkage similarity of two writers (``a.mean @ b.mean``), for "same person?" reviews.
``merge_check(state, index, settings) -> MergeDecision | None`` and ``merged(kept, absorbed,
settings) -> WriterState``
    the re-check above; ``MergeDecision(kept, absorbed, score, similarity, reason)``.
``link_batch(embeddings, index, new_id, settings, states, merges) -> list[(writer_id, LinkDecision)]``
    sequential linking of a batch, merges included (the evaluation's path; the runtime calls
    ``decide``, ``add_slip``/``new_writer`` and ``merge_check`` per slip inside its transaction);
    ``resolve(writer_id, merges)`` follows merges.

Candidate links, for the API: store per slip ``{writer_id: its own new writer, candidate_of:
decision.writer_id, score: decision.score, reason: decision.reason, candidates: [[id, z], ...],
status: "pending"}``; *confirm* moves the slip to the candidate writer (``add_slip`` there,
remove it from its own one-slip writer); *reject* records the pair so it is not proposed again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from chalicelib.domain.writer_index import SearchResult, WriterDelta, WriterIndex

SETTINGS_PATH = Path(__file__).resolve().parents[1] / "models" / "writer_linking.json"

Action = Literal["join", "candidate", "new"]
Vector = Sequence[float] | np.ndarray
Vectors = Sequence[Vector] | np.ndarray


@dataclass(frozen=True)
class LinkSettings:
    join_z: float = 1.25  # normalised average-linkage score needed to join a writer
    anchor_z: float = 1.0  # ... against the writer's anchor slips
    join_margin: float = 0.0  # best minus second best writer, in sd units
    candidate_z: float = 0.75  # below join, at least this: a candidate link for staff
    merge_z: float = 1.25  # two writers of >= merge_min_slips slips each are the same person
    merge_min_slips: int = 2
    auto_merge: bool = True  # False: a merge is only proposed (MergeDecision), never applied
    prior_mean: float = 0.4  # impostor similarity of an *unseen* population (pessimistic, from CV)
    prior_sd: float = 0.3
    prior_slips: float = 30.0  # the prior counts as this many gallery slips
    within_sd: float = 0.15  # spread of a writer's slips around its mean (writer means hide it)
    strict_prior: bool = False  # True: the gallery may only raise the bar, never lower it
    calibrated_writers: int = 20  # galleries up to this size decide as calibrated; larger ones
    # need more, by the growth of the expected best impostor score (max of W draws) beyond it
    max_anchor: int = 6  # slips that found a writer (frozen anchor, stored as exemplars)
    top_k: int = 5
    max_candidates: int = 3
    recheck_z: float = 0.5  # a member whose z to the rest of its writer is below this is suspect
    model_version: str = ""
    dim: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinkSettings:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def load(cls, path: Path | str | None = None) -> LinkSettings:
        data = json.loads(Path(path or SETTINGS_PATH).read_text())
        return cls.from_dict(data.get("settings", data))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LinkDecision:
    action: Action
    writer_id: str | None
    score: float  # normalised (z) score of the best writer; -inf with an empty gallery
    similarity: float  # its average-linkage similarity
    reason: str
    candidates: tuple[tuple[str, float], ...] = ()  # (writer_id, z) above candidate_z, best first


@dataclass(frozen=True)
class WriterState:
    writer_id: str
    mean: np.ndarray
    anchor: np.ndarray
    n: int
    n_anchor: int
    exemplars: np.ndarray  # (n_anchor, D)
    version: int = 1

    def to_item(self) -> dict[str, Any]:
        return {
            "writer_id": self.writer_id,
            "mean": [float(x) for x in self.mean],
            "anchor": [float(x) for x in self.anchor],
            "n": int(self.n),
            "n_anchor": int(self.n_anchor),
            "exemplars": [[float(x) for x in row] for row in self.exemplars],
            "version": int(self.version),
        }

    @classmethod
    def from_item(cls, d: Mapping[str, Any]) -> WriterState:
        mean = np.asarray(d["mean"], np.float64).ravel()
        ex = np.asarray(d.get("exemplars") or [], np.float64).reshape(-1, len(mean))
        return cls(
            writer_id=str(d["writer_id"]),
            mean=mean,
            anchor=np.asarray(d.get("anchor", d["mean"]), np.float64).ravel(),
            n=int(d["n"]),
            n_anchor=int(d.get("n_anchor", min(int(d["n"]), len(ex)) or 1)),
            exemplars=ex,
            version=int(d.get("version", 1)),
        )

    def delta(self, seq: int = 0) -> WriterDelta:
        return WriterDelta(self.writer_id, self.mean, self.anchor, self.n, self.version, seq)


def unit(v: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64).ravel()
    norm = float(np.linalg.norm(v))
    if norm == 0.0 or not math.isfinite(norm):
        raise ValueError("embedding has zero or non-finite norm")
    return v / norm


def new_writer(writer_id: str, embedding: Sequence[float] | np.ndarray) -> WriterState:
    e = unit(embedding)
    return WriterState(writer_id, e.copy(), e.copy(), 1, 1, e[None, :].copy(), 1)


def add_slip(state: WriterState, embedding: Sequence[float] | np.ndarray, settings: LinkSettings) -> WriterState:
    """The writer after one more slip: running mean; the anchor only while it is not full."""
    e = unit(embedding)
    mean = (state.mean * state.n + e) / (state.n + 1)
    anchor, n_anchor, ex = state.anchor, state.n_anchor, state.exemplars
    if n_anchor < settings.max_anchor:
        anchor = (anchor * n_anchor + e) / (n_anchor + 1)
        n_anchor += 1
        ex = np.vstack([ex, e[None, :]])
    return replace(state, mean=mean, anchor=anchor, n=state.n + 1, n_anchor=n_anchor, exemplars=ex,
                   version=state.version + 1)  # fmt: skip


def index_of(states: Sequence[WriterState], dim: int | None = None) -> WriterIndex:
    d = dim or (len(states[0].mean) if states else 1)
    idx = WriterIndex(d, capacity=max(16, len(states)))
    idx.apply(s.delta() for s in states)
    return idx


def impostor_stats(result: SearchResult, exclude: Sequence[int], s: LinkSettings) -> tuple[float, float]:
    """(mu, sd) of impostor scores for this query: the slips of every writer but the ``exclude``
    rows (positions in the top k), shrunk towards the prior of an unseen population."""
    k = float(result.total_n)
    ns, ns2 = result.total_ns, result.total_ns2
    for i in exclude:
        n_i, sc = float(result.n[i]), float(result.scores[i])
        k, ns, ns2 = k - n_i, ns - n_i * sc, ns2 - n_i * sc * sc
    k = max(k, 0.0)
    ns2 += k * s.within_sd**2  # a writer's mean hides how its slips spread around it
    w0 = s.prior_slips
    mu = (w0 * s.prior_mean + ns) / (w0 + k)
    var = (w0 * (s.prior_sd**2 + s.prior_mean**2) + ns2) / (w0 + k) - mu * mu
    sd = math.sqrt(max(var, 1e-6))
    if s.strict_prior:
        mu, sd = max(mu, s.prior_mean), max(sd, s.prior_sd)
    return mu, sd


@lru_cache(maxsize=4096)
def _expected_max(writers: int) -> float:
    """Median of the largest of ``writers`` standard normal draws: how far the best of that many
    impostors lies above their mean, in sd (0 for one writer, ~1.8 for 20, ~4.3 for 100k)."""
    if writers <= 1:
        return 0.0
    p = 0.5 ** (1.0 / writers)
    lo, hi = 0.0, 10.0
    for _ in range(60):  # bisection on the normal CDF (no scipy in the Chalice app)
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def size_penalty(writers: int, s: LinkSettings) -> float:
    """Extra z a decision needs in a gallery of ``writers`` writers (0 up to the calibrated size)."""
    return max(0.0, _expected_max(writers) - _expected_max(s.calibrated_writers))


def decide_from(result: SearchResult, s: LinkSettings) -> LinkDecision:
    """The decision for one slip from its search result (see the module docstring)."""
    if not result.writer_ids:
        return LinkDecision("new", None, float("-inf"), float("nan"), "new writer: the gallery is empty")
    mu, sd = impostor_stats(result, [0], s)
    # Reported scores include the gallery-size penalty, so thresholds stay comparable.
    z = (result.scores - mu) / sd - size_penalty(result.total_writers, s)
    za = float((result.anchor_scores[0] - mu) / sd - size_penalty(result.total_writers, s))
    best, sim, n_best = result.writer_ids[0], float(result.scores[0]), int(result.n[0])
    z0 = float(z[0])
    margin = float((result.scores[0] - result.scores[1]) / sd) if len(result.scores) > 1 else float("inf")
    cands = tuple((w, round(float(zz), 3)) for w, zz in zip(result.writer_ids, z, strict=True) if zz >= s.candidate_z)
    cands = cands[: s.max_candidates]
    facts = f"z {z0:.2f} (similarity {sim:.3f}, impostor mean {mu:.3f} sd {sd:.3f}) to {best} of {n_best} slip(s)"
    checks = [
        (z0 >= s.join_z, f"z {z0:.2f} < {s.join_z:.2f}"),
        (za >= s.anchor_z, f"anchor z {za:.2f} < {s.anchor_z:.2f}"),
        (margin >= s.join_margin, f"margin to next writer {margin:.2f} < {s.join_margin:.2f}"),
    ]
    failed = [why for ok, why in checks if not ok]
    if not failed:
        return LinkDecision("join", best, z0, sim, f"join: {facts}; anchor z {za:.2f}; margin {margin:.2f}", cands)
    if z0 >= s.candidate_z:
        return LinkDecision("candidate", best, z0, sim, f"candidate: {facts}; not joined: {'; '.join(failed)}", cands)
    return LinkDecision("new", None, z0, sim, f"new writer: best {facts} is below candidate z {s.candidate_z:.2f}")


@dataclass(frozen=True)
class MergeDecision:
    """Writer ``absorbed`` is the same person as ``kept`` (both have several slips)."""

    kept: str
    absorbed: str
    score: float  # normalised average-linkage similarity of the two writers
    similarity: float
    reason: str


def merge_check(state: WriterState, index: WriterIndex, settings: LinkSettings) -> MergeDecision | None:
    """After a writer changed: is it, over all pairs of slips, the same person as its nearest
    writer? Both need ``merge_min_slips`` slips, so a single slip never merges writers."""
    s = settings
    if state.n < s.merge_min_slips or len(index) < 2:
        return None
    res = index.search(np.asarray(state.mean, np.float64)[None, :], s.top_k + 1)[0]
    pos = [i for i, w in enumerate(res.writer_ids) if w != state.writer_id]
    self_pos = [i for i, w in enumerate(res.writer_ids) if w == state.writer_id]
    if not pos:
        return None
    b = pos[0]
    other, n_other = res.writer_ids[b], int(res.n[b])
    if n_other < s.merge_min_slips:
        return None
    mu, sd = impostor_stats(res, [b, *self_pos], s)
    sim = float(res.scores[b])
    z = (sim - mu) / sd - size_penalty(res.total_writers, s)
    if z < s.merge_z:
        return None
    kept, absorbed = (state.writer_id, other) if state.n >= n_other else (other, state.writer_id)
    return MergeDecision(
        kept, absorbed, z, sim,
        f"merge: writers {state.writer_id} ({state.n} slips) and {other} ({n_other}) average-link z {z:.2f} "
        f">= {s.merge_z:.2f} (similarity {sim:.3f}, impostor mean {mu:.3f} sd {sd:.3f})",
    )  # fmt: skip


def merged(kept: WriterState, absorbed: WriterState, settings: LinkSettings) -> WriterState:
    """``kept`` after taking over ``absorbed``'s slips (its anchor stays ``kept``'s own)."""
    n = kept.n + absorbed.n
    mean = (kept.mean * kept.n + absorbed.mean * absorbed.n) / n
    return replace(kept, mean=mean, n=n, version=kept.version + 1)


def decide(
    embedding: Sequence[float] | np.ndarray, index: WriterIndex | Sequence[WriterState], settings: LinkSettings
) -> LinkDecision:
    e = unit(embedding)
    idx = index if isinstance(index, WriterIndex) else index_of(index, len(e))
    if len(idx) == 0:
        return decide_from(idx.search(np.zeros((1, idx.dim)), settings.top_k)[0], settings)
    return decide_from(idx.search(e[None, :], settings.top_k)[0], settings)


@dataclass(frozen=True)
class Recheck:
    cohesion: float  # mean pairwise similarity of the writer's slips
    member_z: tuple[float, ...]  # each slip's normalised average linkage to the others
    outliers: tuple[int, ...] = field(default=())  # indices of suspect slips


def recheck(embeddings: Vectors, settings: LinkSettings) -> Recheck:
    """Average linkage of each slip of one writer to its other slips, against the prior."""
    e = np.stack([unit(v) for v in embeddings]) if len(embeddings) else np.zeros((0, 1))
    m = len(e)
    if m < 3:  # with two slips both would be "outliers" of each other: nothing to say
        return Recheck(1.0 if m < 2 else float(e[0] @ e[1]), (), ())
    sims = e @ e.T
    link = (sims.sum(axis=1) - 1.0) / (m - 1)
    z = (link - settings.prior_mean) / settings.prior_sd
    cohesion = float((sims.sum() - m) / (m * (m - 1)))
    outliers = tuple(int(i) for i in np.flatnonzero(z < settings.recheck_z))
    return Recheck(cohesion, tuple(round(float(v), 3) for v in z), outliers)


def merge_score(a: WriterState, b: WriterState, settings: LinkSettings) -> float:
    """Normalised average-linkage similarity of two writers (all pairs of their slips)."""
    return float((a.mean @ b.mean - settings.prior_mean) / settings.prior_sd)


def link_batch(
    embeddings: Vectors,
    index: WriterIndex,
    new_id: Callable[[], str],
    settings: LinkSettings,
    states: dict[str, WriterState],
    merges: list[MergeDecision] | None = None,
) -> list[tuple[str, LinkDecision]]:
    """Link slips one after another; returns (writer the slip was put in, decision) per slip.

    A join updates that writer; a candidate or a new slip founds a writer of its own (the
    candidate link stays in the decision for review). With ``settings.auto_merge`` a writer that
    now matches another writer over all their slips absorbs it (appended to ``merges``; writer ids
    returned earlier may then point to an absorbed writer: follow ``merges`` to resolve them).
    ``index`` and ``states`` are updated."""
    out: list[tuple[str, LinkDecision]] = []
    for emb in embeddings:
        d = decide(emb, index, settings)
        if d.action == "join" and d.writer_id is not None:
            st = add_slip(states[d.writer_id], emb, settings)
        else:
            st = new_writer(new_id(), emb)
        states[st.writer_id] = st
        index.apply([st.delta(index.seq + 1)])
        out.append((st.writer_id, d))
        if settings.auto_merge and (m := merge_check(st, index, settings)) is not None:
            kept = merged(states[m.kept], states.pop(m.absorbed), settings)
            states[kept.writer_id] = kept
            index.remove(m.absorbed)  # (a store writes the absorbed writer's tombstone: n = 0)
            index.apply([kept.delta(index.seq + 1)])
            if merges is not None:
                merges.append(m)
    return out


def resolve(writer_id: str, merges: Sequence[MergeDecision]) -> str:
    """The writer that ``writer_id`` ended up in after ``merges`` (in order)."""
    for m in merges:
        if writer_id == m.absorbed:
            writer_id = m.kept
    return writer_id
