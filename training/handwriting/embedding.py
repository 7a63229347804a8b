"""The handwriting embedding: standardise the texture features on real slips, clip, project.

    e = normalise( clip((x - mean) / scale, -CLIP, CLIP) @ P )

``mean``/``scale`` are those of real and synthetic slips pooled at equal weight (``POOL``): with
the real slips alone, every population the fit did not see (new writers, and synthetic writers
most of all) sits off-centre and its slips look alike; the pooled centre measured better on
held-out real writers too. ``P`` is the top ``dim`` principal axes of the standardised real slips
together with a down-weighted sample of synthetic slips (which add directions of variation that a
handful of real writers do not span), followed by *within-class covariance normalisation*
(WCCN, as in speaker verification): the axes along which one real writer's own slips vary are
shrunk, ``W = ((1 - WCCN_SHRINK) * Sw + WCCN_SHRINK * I) ** -1/2`` with ``Sw`` the
within-writer covariance of the fitted real writers (trace-normalised). Half of ``W`` is the
identity, so a handful of writers cannot be learned by heart; measured writer-disjoint it
raised pairwise precision at the same recall (see the model card). The decision is made by
``chalicelib.domain.writer_linking`` with gallery-normalised scores.

Exported as a plain ONNX graph (Sub, Div, Clip, MatMul; opset 17); the runtime L2-normalises.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLIP = 8.0
SYNTH_WEIGHT = 0.5  # synthetic slips count half as much as real ones in the PCA
SYNTH_STRIDE = 4  # and only one in four is used
WCCN_SHRINK = 0.5  # weight of the identity in the within-writer covariance (0: pure WCCN)
POOL = 0.5  # weight of the synthetic slips in the standardisation (mean and variance)
INPUT_NAME, OUTPUT_NAME, OPSET = "features", "embedding", 17


@dataclass(frozen=True)
class Embedding:
    mean: np.ndarray
    scale: np.ndarray
    proj: np.ndarray  # (F, dim)

    @property
    def dim(self) -> int:
        return int(self.proj.shape[1])

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = np.clip((np.atleast_2d(np.asarray(x, np.float64)) - self.mean) / self.scale, -CLIP, CLIP)
        e = z @ self.proj
        return np.asarray(e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12))


def wccn(e: np.ndarray, writers: np.ndarray, shrink: float = WCCN_SHRINK) -> np.ndarray:
    """``W`` (dim x dim, symmetric): the inverse square root of the shrunk within-writer
    covariance of the unit embeddings ``e`` of slips by ``writers``."""
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    sw = np.zeros((e.shape[1], e.shape[1]))
    for w in sorted(set(writers.tolist())):
        d = e[writers == w] - e[writers == w].mean(axis=0)
        sw += d.T @ d
    sw *= e.shape[1] / max(float(np.trace(sw)), 1e-12)
    vals, vecs = np.linalg.eigh((1 - shrink) * sw + shrink * np.eye(e.shape[1]))
    return np.asarray((vecs * vals**-0.5) @ vecs.T)


def fit_embedding(
    x_real: np.ndarray, x_synth: np.ndarray | None, dim: int = 48, writers: np.ndarray | None = None
) -> Embedding:
    """``writers``: the real slips' writer labels, for WCCN (None: PCA only, no labels used)."""
    x_real = np.asarray(x_real, np.float64)
    mean_r, var_r = x_real.mean(axis=0), x_real.var(axis=0)
    if x_synth is not None and len(x_synth):
        xs = np.asarray(x_synth, np.float64)
        mean_s, var_s = xs.mean(axis=0), xs.var(axis=0)
        mean = (1 - POOL) * mean_r + POOL * mean_s
        var = (1 - POOL) * (var_r + (mean_r - mean) ** 2) + POOL * (var_s + (mean_s - mean) ** 2)
    else:
        mean, var = mean_r, var_r
    scale = np.sqrt(var) + 1e-3  # a feature (nearly) constant must not blow up
    rows = [np.clip((x_real - mean) / scale, -CLIP, CLIP)]
    if x_synth is not None and len(x_synth):
        zs = np.clip((np.asarray(x_synth, np.float64)[::SYNTH_STRIDE] - mean) / scale, -CLIP, CLIP)
        rows.append(SYNTH_WEIGHT * zs)
    a = np.vstack(rows)
    _, _, vt = np.linalg.svd(a, full_matrices=False)  # uncentred: the real mean is the origin
    proj = vt[:dim].T
    # Fixed sign per axis (largest loading positive): the same data gives the same bytes.
    signs = np.sign(proj[np.argmax(np.abs(proj), axis=0), np.arange(proj.shape[1])])
    proj = proj * signs
    if writers is not None:
        proj = proj @ wccn(rows[0] @ proj, np.asarray(writers))
    return Embedding(mean, scale, proj)


def export_onnx(emb: Embedding, path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    f = len(emb.mean)
    inits = [
        numpy_helper.from_array(emb.mean.astype(np.float32), "mean"),
        numpy_helper.from_array(emb.scale.astype(np.float32), "scale"),
        numpy_helper.from_array(np.asarray(-CLIP, np.float32), "lo"),
        numpy_helper.from_array(np.asarray(CLIP, np.float32), "hi"),
        numpy_helper.from_array(emb.proj.astype(np.float32), "proj"),
    ]
    nodes = [
        helper.make_node("Sub", [INPUT_NAME, "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "scale"], ["z"]),
        helper.make_node("Clip", ["z", "lo", "hi"], ["zc"]),
        helper.make_node("MatMul", ["zc", "proj"], [OUTPUT_NAME]),
    ]
    graph = helper.make_graph(
        nodes,
        "handwriting_embedding",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, f])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [None, emb.dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="betwatch")
    model.ir_version = 8  # readable by onnxruntime 1.31
    model.doc_string = "betwatch handwriting embedding (standardised texture features, PCA, WCCN)"
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
