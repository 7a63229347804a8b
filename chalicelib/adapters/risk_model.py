"""The ONNX risk model behind the RiskScorer port (one onnxruntime session per process)."""

from __future__ import annotations

from chalicelib.domain.bets import BetIn, History, RiskAssessment


class OnnxRiskScorer:
    def assess(self, bet: BetIn, history: History) -> RiskAssessment:
        from chalicelib.risk import scorer

        return scorer.assess(bet, history)

    def ready(self) -> bool:
        from chalicelib.risk import scorer

        scorer.load()
        return scorer.model_loaded()
