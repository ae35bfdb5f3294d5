"""2-D embeddings of penultimate features for the feature scatter: PCA, or t-SNE as an option.

PCA is exact and fast (a few hundred ms on 3,589 x 512); its explained variance ratio
says how much of the feature spread the picture shows. t-SNE (scikit-learn, Barnes-Hut)
first reduces to 50 PCA dimensions, the usual practice; it takes seconds to minutes, so
the GUI runs it off the GUI thread. `should_stop` is checked between the stages (the
scikit-learn optimiser itself offers no hook), and a stop raises `predict.Cancelled`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .predict import Cancelled, ProgressFn, StopFn


@dataclass
class Embedding:
    points: np.ndarray  # (N, 2) float32
    method: str  # "pca" or "tsne"
    explained_variance_ratio: np.ndarray | None = None  # (2,) for PCA (sum <= 1), None for t-SNE

    @property
    def axis_labels(self) -> tuple[str, str]:
        """Axis titles, with the share of variance each PCA axis shows."""
        if self.explained_variance_ratio is None:
            return (f"{self.method}-1", f"{self.method}-2")
        return tuple(f"PC{i + 1} ({r:.1%} of variance)"
                     for i, r in enumerate(self.explained_variance_ratio))  # type: ignore[return-value]


def _as_matrix(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {x.shape}")
    return x


def _pca(x: np.ndarray, n_components: int, seed: int = 0):
    """Fitted sklearn PCA with at most the components the data allows."""
    from sklearn.decomposition import PCA

    k = max(1, min(n_components, x.shape[0], x.shape[1]))
    pca = PCA(n_components=k, random_state=seed)
    return pca, pca.fit_transform(x)


def _pad2(points: np.ndarray) -> np.ndarray:
    out = np.zeros((points.shape[0], 2), np.float32)
    out[:, :points.shape[1]] = points[:, :2]
    return out


def pca_2d(features: np.ndarray, *, progress: ProgressFn | None = None,
           should_stop: StopFn | None = None) -> Embedding:
    """Project features onto their first two principal components."""
    x = _as_matrix(features)
    if should_stop is not None and should_stop():
        raise Cancelled("PCA cancelled")
    if len(x) < 2:
        return Embedding(np.zeros((len(x), 2), np.float32), "pca", np.zeros(2))
    pca, pts = _pca(x, 2)
    ratio = np.zeros(2)
    ratio[:len(pca.explained_variance_ratio_)] = pca.explained_variance_ratio_
    if progress is not None:
        progress(1.0, "PCA: done")
    return Embedding(_pad2(pts), "pca", ratio)


def tsne_2d(features: np.ndarray, *, perplexity: float = 30.0, seed: int = 0,
            pca_dims: int = 50, progress: ProgressFn | None = None,
            should_stop: StopFn | None = None) -> Embedding:
    """t-SNE of the features (after a PCA to `pca_dims`), reproducible for a seed."""
    from sklearn.manifold import TSNE

    x = _as_matrix(features)
    if len(x) < 4:  # t-SNE needs perplexity < N; nothing meaningful below a handful of points
        return Embedding(pca_2d(x).points, "tsne")
    if progress is not None:
        progress(0.0, "t-SNE: PCA to 50 dimensions")
    if x.shape[1] > pca_dims:
        x = _pca(x, pca_dims, seed)[1].astype(np.float32)
    if should_stop is not None and should_stop():
        raise Cancelled("t-SNE cancelled")
    if progress is not None:
        progress(0.1, "t-SNE: optimising")
    tsne = TSNE(n_components=2, perplexity=min(perplexity, (len(x) - 1) / 3), init="pca",
                learning_rate="auto", random_state=seed)
    pts = tsne.fit_transform(x)
    if should_stop is not None and should_stop():
        raise Cancelled("t-SNE cancelled")
    if progress is not None:
        progress(1.0, "t-SNE: done")
    return Embedding(pts.astype(np.float32), "tsne")


#: method name -> function(features, *, progress, should_stop, **options) -> Embedding
EMBEDDINGS = {"pca": pca_2d, "tsne": tsne_2d}


def embed(features: np.ndarray, method: str = "pca", **options) -> Embedding:
    try:
        fn = EMBEDDINGS[method]
    except KeyError:
        raise ValueError(f"unknown embedding {method!r}; available: {', '.join(EMBEDDINGS)}") from None
    return fn(features, **options)
