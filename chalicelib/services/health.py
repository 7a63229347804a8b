"""Health: the risk model loads and every table answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.ports import HealthProbe, RiskScorer


@dataclass(frozen=True)
class HealthReport:
    model_loaded: bool
    tables_reachable: bool
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.model_loaded and self.tables_reachable


class HealthService:
    def __init__(self, scorer: RiskScorer, probe: HealthProbe):
        self.scorer, self.probe = scorer, probe

    def check(self) -> HealthReport:
        detail: dict[str, str] = {}
        try:
            loaded = self.scorer.ready()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            loaded, detail["model"] = False, type(exc).__name__
        unreachable = self.probe.unreachable()
        detail.update(unreachable)
        return HealthReport(model_loaded=loaded, tables_reachable=not unreachable, detail=detail)
