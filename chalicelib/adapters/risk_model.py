"""The ONNX risk model behind the RiskScorer port (one onnxruntime session per process)."""

from __future__ import annotations

from chalicelib.domain.bets import BetIn, RiskAssessment
from chalicelib.domain.risk_history import SubjectHistory


class OnnxRiskScorer:
    def assess(self, bet: BetIn, history: SubjectHistory) -> RiskAssessment:
        from chalicelib.risk import scorer

        return scorer.assess(bet, history, bet.placed_at)

    def ready(self) -> bool:
        from chalicelib.risk import scorer

        scorer.load()
        return scorer.model_loaded()
