"""The rule catalogue: list, create, new versions, enable/disable, delete — each change audited —
and the cached view the monitors evaluate (defaults seeded on first start)."""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.rules import Rule, RuleSpec
from chalicelib.ports import RuleStore

CACHE_S = 30.0  # a change reaches every warm function within this long


class RuleCatalogue:
    def __init__(self, store: RuleStore, defaults: list[Rule], clock: Clock = utcnow, cache_s: float = CACHE_S):
        self.store = store
        self.defaults = defaults
        self.clock = clock
        self.cache_s = cache_s
        self._cached: tuple[float, list[Rule]] | None = None
        self._lock = threading.Lock()

    # --- what the monitors evaluate ---------------------------------------------------------------

    def enabled(self) -> list[Rule]:
        """Enabled rules (active and shadow), from a per-process cache; seeds the defaults once."""
        cached = self._cached
        if cached and cached[0] > time.monotonic():
            return cached[1]
        with self._lock:
            rules = self.store.catalogue()
            if not rules:
                rules = self._seed()
            enabled = [r for r in rules if r.enabled]
            self._cached = (time.monotonic() + self.cache_s, enabled)
            return enabled

    def _seed(self) -> list[Rule]:
        now = self.clock()
        for rule in self.defaults:
            seeded = rule.model_copy(update={"updated_at": now, "updated_by": "system"})
            audit = AuditEvent(
                at=now,
                actor="system",
                action="seeded",
                entity=f"rule:{rule.rule_id}",
                after=seeded.model_dump(mode="json"),
            )
            self.store.save(seeded, None, audit)  # False: another process seeded it first
        return self.store.catalogue()

    def invalidate(self) -> None:
        self._cached = None

    # --- administration ---------------------------------------------------------------------------

    def all(self) -> list[Rule]:
        self.enabled()  # seeds on first start
        return sorted(self.store.catalogue(), key=lambda r: r.rule_id)

    def get(self, rule_id: str) -> Rule:
        self.enabled()
        rule = self.store.get(rule_id)
        if rule is None:
            raise NotFound(f"rule {rule_id} not found")
        return rule

    def create(self, rule_id: str, spec: RuleSpec, actor: str) -> Rule:
        self.enabled()
        rule = Rule(rule_id=rule_id, version=1, updated_by=actor, updated_at=self.clock(), **_fields(spec))
        audit = self._audit(actor, "created", rule_id, None, rule)
        if not self.store.save(rule, None, audit):
            raise Conflict(f"rule {rule_id} already exists")
        return self._done(rule)

    def update(self, rule_id: str, spec: RuleSpec, actor: str, expected_version: int | None = None) -> Rule:
        """A new version; `expected_version` (If-Match) guards against overwriting a concurrent change."""
        current = self.get(rule_id)
        if expected_version is not None and expected_version != current.version:
            raise Conflict(f"rule {rule_id} is at version {current.version}, not {expected_version}")
        rule = Rule(
            rule_id=rule_id, version=current.version + 1, updated_by=actor, updated_at=self.clock(), **_fields(spec)
        )
        if not self.store.save(rule, current.version, self._audit(actor, "updated", rule_id, current, rule)):
            raise Conflict(f"rule {rule_id} changed concurrently; read it again")
        return self._done(rule)

    def set_enabled(self, rule_id: str, enabled: bool, actor: str) -> Rule:
        current = self.get(rule_id)
        if current.enabled == enabled:
            return current
        rule = current.model_copy(update={"enabled": enabled, "updated_by": actor, "updated_at": self.clock()})
        action = "enabled" if enabled else "disabled"
        if not self.store.save(rule, current.version, self._audit(actor, action, rule_id, current, rule)):
            raise Conflict(f"rule {rule_id} changed concurrently; read it again")
        return self._done(rule)

    def delete(self, rule_id: str, actor: str) -> None:
        current = self.get(rule_id)
        if not self.store.remove(rule_id, current.version, self._audit(actor, "deleted", rule_id, current, None)):
            raise Conflict(f"rule {rule_id} changed concurrently; read it again")
        self.invalidate()

    def versions(self, rule_id: str) -> list[Rule]:
        found = self.store.versions(rule_id)
        if not found:
            raise NotFound(f"rule {rule_id} not found")
        return found

    def audit(self, rule_id: str) -> list[AuditEvent]:
        return self.store.audit(rule_id)

    def _audit(self, actor: str, action: str, rule_id: str, before: Rule | None, after: Rule | None) -> AuditEvent:
        return AuditEvent(
            at=self.clock(),
            actor=actor,
            action=action,
            entity=f"rule:{rule_id}",
            before=before.model_dump(mode="json") if before else None,
            after=after.model_dump(mode="json") if after else None,
        )

    def _done(self, rule: Rule) -> Rule:
        self.invalidate()
        return rule


def _fields(spec: RuleSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in RuleSpec.model_fields}
