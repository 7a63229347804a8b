"""ONNX export of the handwriting embedding pipeline with skl2onnx.

skl2onnx converts ``StandardScaler`` and ``PCA`` natively, but registers
``LinearDiscriminantAnalysis`` only as a classifier (labels + probabilities), not as the
transformer the embedding uses. ``LDAProjection`` is the transform of an already fitted LDA as an
estimator of its own, with a small skl2onnx converter (``Sub`` for the 'svd' solver's centring,
then ``MatMul``), so the whole pipeline goes through ``skl2onnx.to_onnx``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

INPUT_NAME = "features"
OUTPUT_NAME = "embedding"
TARGET_OPSET = 17  # onnxruntime 1.31 supports it; same as the risk model
GRAPH_NAME = "handwriting_embedding"


class LDAProjection(TransformerMixin, BaseEstimator):
    """``lda.transform`` of a fitted ``LinearDiscriminantAnalysis`` ('svd' or 'eigen' solver).

    ``fit`` does not train anything: it reads the fitted LDA's projection, i.e.
    ``X @ scalings_[:, :k]`` for 'eigen' and ``(X - xbar_) @ scalings_[:, :k]`` for 'svd', where
    ``k`` is the number of components ``lda.transform`` returns.
    """

    def __init__(self, lda: LinearDiscriminantAnalysis | None = None) -> None:
        self.lda = lda

    def fit(self, X: Any = None, y: Any = None) -> LDAProjection:
        lda = self.lda
        if lda is None:
            raise ValueError("LDAProjection needs a fitted LinearDiscriminantAnalysis")
        check_is_fitted(lda, "scalings_")
        if lda.solver not in ("svd", "eigen"):
            raise ValueError(f"LDA solver {lda.solver!r} has no transform")
        # lda.transform keeps min(rank, n_components) columns: scalings_ has `rank` columns
        # ('svd') or n_features ('eigen'), explained_variance_ratio_ is cut at n_components.
        k = min(lda.scalings_.shape[1], lda.explained_variance_ratio_.shape[0])
        self.scalings_ = np.asarray(lda.scalings_[:, :k], np.float64)
        self.mean_ = np.asarray(lda.xbar_, np.float64) if lda.solver == "svd" else None
        self.n_features_in_ = self.scalings_.shape[0]
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "scalings_")
        X = np.asarray(X, np.float64)
        if self.mean_ is not None:
            X = X - self.mean_
        return np.asarray(X @ self.scalings_)


def _lda_projection_shape(operator: Any) -> None:
    n = operator.inputs[0].get_first_dimension()
    input_type = operator.inputs[0].type.__class__
    operator.outputs[0].type = input_type([n, operator.raw_operator.scalings_.shape[1]])


def _lda_projection_converter(scope: Any, operator: Any, container: Any) -> None:
    from skl2onnx.algebra.onnx_ops import OnnxMatMul, OnnxSub
    from skl2onnx.common.data_types import guess_numpy_type

    op = operator.raw_operator
    opv = container.target_opset
    X = operator.inputs[0]
    dtype = guess_numpy_type(X.type)
    centred: Any = X
    if op.mean_ is not None:
        centred = OnnxSub(X, op.mean_.astype(dtype), op_version=opv)
    Y = OnnxMatMul(centred, op.scalings_.astype(dtype), op_version=opv, output_names=operator.outputs[:1])
    Y.add_to(scope, container)


def register_converter() -> None:
    from skl2onnx import update_registered_converter

    update_registered_converter(
        LDAProjection,
        "BetwatchLDAProjection",
        _lda_projection_shape,
        _lda_projection_converter,
        overwrite=True,
    )


def export_pipeline(pipe: Pipeline) -> Pipeline:
    """The fitted scaler -> PCA -> LDA pipeline with the LDA replaced by its ``LDAProjection``
    (no refit: the scaler and PCA are the fitted objects themselves)."""
    *head, (name, lda) = pipe.steps
    return Pipeline([*head, (name, LDAProjection(lda).fit())])


def export_onnx(pipe: Pipeline, n_features: int, path: Path) -> Pipeline:
    """Convert the fitted pipeline with skl2onnx to ``path`` (input ``features`` float32
    [None, n_features], output ``embedding``). Returns the exported sklearn pipeline."""
    import onnx
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    register_converter()
    export = export_pipeline(pipe)
    model = to_onnx(
        export,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        final_types=[(OUTPUT_NAME, None)],  # type None: renamed via Identity, not a Cast
        target_opset={"": TARGET_OPSET, "ai.onnx.ml": 3},
    )
    model.graph.name = GRAPH_NAME  # skl2onnx picks a random name; fixed for reproducible bytes
    model.doc_string = "betwatch handwriting embedding (synthetic training data)"
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return export
