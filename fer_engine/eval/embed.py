"""2-D embeddings of penultimate features for the feature scatter: PCA, or t-SNE as an option.

PCA is exact and fast (a few hundred ms on 3,589 x 512); its explained variance ratio
says how much of the feature spread the picture shows. t-SNE (scikit-learn, Barnes-Hut)
first reduces to 50 PCA dimensions, the usual practice; it takes seconds to minutes, so
the GUI runs it off the GUI thread; given `should_stop`, it runs in a spawned process
that a stop ends at once, raising `progress.Cancelled`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import Cancelled, ProgressFn, StopFn


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
    """t-SNE of the features (after a PCA to `pca_dims`), reproducible for a seed.

    With `should_stop` the optimisation runs in a spawned process that a stop
    terminates at once (scikit-learn's optimiser has no hook to stop it otherwise).
    """
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
    perplexity = min(perplexity, (len(x) - 1) / 3)
    if should_stop is None:
        pts = _tsne_points(x, perplexity, seed)
    else:
        pts = _in_subprocess(x, perplexity, seed, should_stop)
    if progress is not None:
        progress(1.0, "t-SNE: done")
    return Embedding(pts, "tsne")


def _tsne_points(x: np.ndarray, perplexity: float, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                random_state=seed)
    return tsne.fit_transform(x).astype(np.float32)


def _tsne_child(conn, x: np.ndarray, perplexity: float, seed: int) -> None:
    try:
        conn.send(("ok", _tsne_points(x, perplexity, seed)))
    except Exception as e:  # noqa: BLE001 - reported to the parent as one line
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def _in_subprocess(x: np.ndarray, perplexity: float, seed: int, should_stop: StopFn) -> np.ndarray:
    """`_tsne_points` in a spawned process, polled every 0.1 s and terminated on a stop."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_tsne_child, args=(sender, x, perplexity, seed), daemon=True)
    proc.start()
    sender.close()
    try:
        while not receiver.poll(0.1):
            if should_stop():
                raise Cancelled("t-SNE cancelled")
            if not proc.is_alive() and not receiver.poll():
                raise RuntimeError(f"the t-SNE process ended without a result (exit code {proc.exitcode})")
        status, value = receiver.recv()
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=5)
        receiver.close()
    if status != "ok":
        raise RuntimeError(f"t-SNE failed: {value}")
    return value


#: method name -> function(features, *, progress, should_stop, **options) -> Embedding
EMBEDDINGS = {"pca": pca_2d, "tsne": tsne_2d}


def embed(features: np.ndarray, method: str = "pca", **options) -> Embedding:
    try:
        fn = EMBEDDINGS[method]
    except KeyError:
        raise ValueError(f"unknown embedding {method!r}; available: {', '.join(EMBEDDINGS)}") from None
    return fn(features, **options)
