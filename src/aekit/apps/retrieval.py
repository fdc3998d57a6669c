"""Nearest-neighbour search over the codes of a fitted model: real codes by Euclidean or cosine
distance, binary codes (semantic hashing) by Hamming distance, exact or approximate.

Codes are stored in faiss indexes. Exact search of real codes reads the flat index's memory with a
chunked matrix product and top-k in torch, which measured faster than faiss's own ``IndexFlatL2``
search on a 2-core CPU (``bench/retrieval.py``); binary codes use faiss's ``IndexBinaryFlat``, and
approximate search faiss's inverted files. Cosine search is Euclidean search of unit-length codes
(``|a - b|^2 = 2 - 2 cos`` for unit vectors: the same order).

Example
-------
>>> import numpy as np
>>> from aekit import CodeIndex
>>> codes = np.random.RandomState(0).rand(100, 8).astype(np.float32)
>>> index = CodeIndex(metric="euclidean")
>>> index.add_codes(codes)
>>> distances, ids = index.search_codes(codes[:2], k=3)
>>> ids[:, 0].tolist()
[0, 1]
"""

import os
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike

from .. import bundle, saving
from ..estimators import _params as p

FORMAT_VERSION = 1
CONFIG, DATA, MODEL = bundle.CONFIG, "index.safetensors", "model"
INDEX = bundle.Kind("code index", DATA, "data_sha256", version=FORMAT_VERSION)
METRICS = ("euclidean", "cosine", "hamming")
# Exact search works on blocks of (queries x stored codes): 64 MB of float32 distances at most.
_QUERY_BLOCK, _CODE_BLOCK = 1024, 16384


def _faiss():
    """The faiss module, imported on first use."""
    # deferred: faiss (a native library with its own OpenMP runtime) is needed by indexes only, and
    # `import aekit` must not load it
    import faiss
    return faiss


class CodeIndex:
    """A searchable collection of codes, with the model that makes them from data.

    Parameters
    ----------
    estimator : fitted estimator with ``transform``, optional
        Encodes what ``add`` and ``search`` are given (an aekit model, or e.g. scikit-learn's
        PCA). None for an index of codes computed elsewhere (``add_codes``/``search_codes``).
    metric : {"euclidean", "cosine", "hamming"}, default="euclidean"
        ``"hamming"`` binarises each code dimension at its threshold (see ``threshold``), packs
        the bits (8 per byte) and compares bit strings: semantic hashing.
    binary_bits : int, optional
        For ``metric="hamming"``: the number of bits per item, which is one per code dimension.
        Given, codes of another width are refused; None takes the width of the first codes added.
    threshold : "auto", "median" or float, default="auto"
        Where a code dimension becomes a 1 bit (strictly above). ``"median"``: each dimension's
        median over the first batch added; ``"auto"``: 0.5 for an aekit model with sigmoid or
        binary codes (e.g. :class:`aekit.SemanticHashingAutoencoder`), else the median.
    approximate : bool, default=False
        Search an inverted file (faiss ``IndexIVFFlat``, or ``IndexBinaryIVF`` for bits) instead
        of every item: for large collections. Its coarse quantiser is trained on the first batch
        added, which should therefore be representative and hold at least ``39 * n_lists`` items.
    n_lists : int, optional
        Cells of the inverted file; default sqrt(n) for a first batch of n items (at most n / 39).
    n_probe : int, default=16
        Cells visited per query: more is slower and closer to exact.

    Attributes
    ----------
    ids_ : ndarray of int64
        The ids of the items, in the order they were added.
    thresholds_ : ndarray of float32 or None
        Per-dimension thresholds of a Hamming index (set by the first ``add``).
    dim_ : int or None
        Code width (None until something is added).

    Notes
    -----
    Ids are non-negative integers (int64): by default 0, 1, ... continuing after the largest id, or
    given (unique). Results
    are exact unless ``approximate``; searches and builds are deterministic. Euclidean distances are
    distances (not squared), cosine distances are ``1 - cos``, Hamming distances counts of bits.

    Example
    -------
    >>> ae = aekit.SemanticHashingAutoencoder(bits=64).fit(X_train)  # doctest: +SKIP
    >>> index = CodeIndex(ae, metric="hamming")  # doctest: +SKIP
    >>> index.add(X_train)  # doctest: +SKIP
    >>> distances, ids = index.search(X_test, k=10)  # doctest: +SKIP
    >>> index.save("runs/index"); same = CodeIndex.load("runs/index")  # doctest: +SKIP
    """

    _param_table = {
        "estimator": p.Spec(lambda v: v is None or hasattr(v, "transform"), "an estimator with transform, or None"),
        "metric": p.one_of(*METRICS),
        "binary_bits": p.integer(1) | p.NONE,
        "threshold": p.one_of("auto", "median") | p.real(),
        "approximate": p.one_of(True, False),
        "n_lists": p.integer(1) | p.NONE,
        "n_probe": p.integer(1),
    }

    def __init__(self, estimator=None, metric="euclidean", binary_bits=None, *, threshold="auto",
                 approximate=False, n_lists=None, n_probe=16):
        p.store(self, locals())
        # Not an estimator: there is no fit to defer checks to, so bad settings fail here.
        p.check_params(self, self._param_table)
        if binary_bits is not None and metric != "hamming":
            raise ValueError(f"CodeIndex: binary_bits={binary_bits} needs metric='hamming', got metric={metric!r}")
        self.ids_ = np.empty(0, np.int64)
        self.thresholds_ = None
        self.dim_ = None
        self._index = None

    def get_params(self, deep: bool = False) -> dict[str, object]:
        """The constructor's arguments, as scikit-learn estimators give them."""
        return {name: getattr(self, name) for name in self._param_table}

    def __len__(self):
        return len(self.ids_)

    def __repr__(self):
        return (f"CodeIndex(metric={self.metric!r}, {len(self)} items of {self.dim_} dimensions"
                f"{', approximate' if self.approximate else ''})")

    # ---- adding --------------------------------------------------------------------------------
    def add(self, X: ArrayLike, ids: ArrayLike | None = None) -> None:
        """Encode the rows of ``X`` with the estimator and store their codes under ``ids``."""
        self.add_codes(self._encode(X, "X"), ids)

    def add_codes(self, Z: ArrayLike, ids: ArrayLike | None = None) -> None:
        """Store codes ``Z`` (n_items, dim) under ``ids`` (default: the next integers).

        The first call fixes the code width, the Hamming thresholds and, for ``approximate``,
        the inverted file's cells.
        """
        Z = self._codes(Z, "Z")
        ids = self._new_ids(ids, len(Z))
        if self._index is None:
            if len(Z) == 0:
                raise ValueError("CodeIndex: the first codes added must not be empty (they fix the code width)")
            self._create(Z)
        if len(Z):
            self._index.add(self._prepare(Z))
            self.ids_ = np.concatenate([self.ids_, ids])

    def _new_ids(self, ids, n):
        start = int(self.ids_.max()) + 1 if len(self.ids_) else 0
        if ids is None:
            return np.arange(start, start + n, dtype=np.int64)
        given = np.asarray(ids)
        if given.ndim != 1 or len(given) != n:
            raise ValueError(f"ids must be a 1-D array of {n} integers (one per row), got shape {given.shape}")
        if len(given) and given.dtype.kind not in "iu":
            raise ValueError(f"ids must be integers, got dtype {given.dtype}")
        given = given.astype(np.int64)
        if (given < 0).any():  # -1 marks "no result" in the searches' output
            raise ValueError(f"ids must be non-negative, got {int(given.min())}")
        if len(np.unique(given)) != n:
            raise ValueError("ids must be unique; the given ids repeat")
        taken = np.isin(given, self.ids_)
        if taken.any():
            raise ValueError(f"ids {given[taken][:5].tolist()} are already in the index")
        return given

    def _create(self, Z):
        """The faiss index for codes like ``Z`` (the first batch): width, thresholds, cells."""
        if self.metric == "hamming" and self.binary_bits not in (None, Z.shape[1]):
            raise ValueError(f"CodeIndex: binary_bits={self.binary_bits} but the codes have {Z.shape[1]} "
                             "dimensions (one bit each)")
        self.dim_ = Z.shape[1]
        if self.metric == "hamming":
            self.thresholds_ = self._thresholds(Z)
        width = self._stored_width()
        faiss = _faiss()
        if not self.approximate:
            self._index = faiss.IndexBinaryFlat(width) if self.metric == "hamming" else faiss.IndexFlatL2(width)
            return
        # 39 training points per cell is faiss's minimum for a stable k-means
        n_lists = self.n_lists or max(1, min(round(np.sqrt(len(Z))), len(Z) // 39))
        if n_lists > len(Z):
            raise ValueError(f"CodeIndex: n_lists={n_lists} needs at least as many codes in the first batch, "
                             f"got {len(Z)}")
        if self.metric == "hamming":
            index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(width), width, n_lists)
        else:
            index = faiss.IndexIVFFlat(faiss.IndexFlatL2(width), width, n_lists)
        # faiss seeds its k-means with a fixed seed: the same first batch gives the same cells
        index.train(self._prepare(Z))
        index.nprobe = min(self.n_probe, n_lists)
        self._index = index

    def _thresholds(self, Z):
        threshold = self.threshold
        if threshold == "auto":
            activation = getattr(self.estimator, "_code_activation", lambda: None)()
            threshold = 0.5 if activation in ("sigmoid", "binary") else "median"
        if threshold == "median":
            return np.median(Z, axis=0).astype(np.float32)
        return np.full(Z.shape[1], threshold, np.float32)

    def _stored_width(self):
        # faiss binary indexes hold whole bytes; padding bits are 0 in every item and add no distance
        return -(-self.dim_ // 8) * 8 if self.metric == "hamming" else self.dim_

    def _prepare(self, Z):
        """Codes (n, dim) as faiss stores them: float32 rows (unit length for cosine) or packed bits."""
        if self.metric == "hamming":
            return np.packbits(Z > self.thresholds_, axis=1)
        if self.metric == "cosine":
            norms = np.linalg.norm(Z, axis=1, keepdims=True)
            if not norms.all():
                raise ValueError(f"row {int(np.argmin(norms))} of the codes is all zeros: it has no cosine "
                                 "distance to anything; use metric='euclidean'")
            return np.ascontiguousarray(Z / norms, dtype=np.float32)
        return Z

    # ---- searching -----------------------------------------------------------------------------
    def search(self, Q: ArrayLike, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest stored items of each row of ``Q``, encoded by the estimator.

        Returns
        -------
        distances : ndarray (n_queries, k)
            float32 (Euclidean, or ``1 - cos``) or int32 (Hamming), nearest first.
        ids : ndarray of int64 (n_queries, k)
            -1 where an approximate search found fewer than ``k`` items.
        """
        return self.search_codes(self._encode(Q, "Q"), k)

    def search_codes(self, Zq: ArrayLike, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`search` for codes ``Zq`` (n_queries, dim) computed elsewhere."""
        if self._index is None or len(self) == 0:
            raise ValueError("CodeIndex: the index is empty; add items before searching")
        Zq = self._codes(Zq, "Zq")
        if not (isinstance(k, int | np.integer) and not isinstance(k, bool) and 1 <= k <= len(self)):
            raise ValueError(f"k must be an integer from 1 to the number of items ({len(self)}), got {k!r}")
        if len(Zq) == 0:
            dtype = np.int32 if self.metric == "hamming" else np.float32
            return np.empty((0, k), dtype), np.empty((0, k), np.int64)
        queries = self._prepare(Zq)
        if isinstance(self._index, _faiss().IndexFlatL2):
            distances, positions = self._exact_search(queries, int(k))
        else:
            distances, positions = self._index.search(queries, int(k))
        if self.metric == "euclidean":
            distances = np.sqrt(np.maximum(distances, 0))  # squared distances so far
        elif self.metric == "cosine":
            distances = np.maximum(distances, 0) / 2  # |a - b|^2 / 2 = 1 - cos for unit vectors
        found = positions >= 0
        ids = np.where(found, self.ids_[np.where(found, positions, 0)], -1)
        if not found.all():
            distances = np.where(found, distances, np.iinfo(np.int32).max if self.metric == "hamming" else np.inf)
        return distances, ids

    @torch.no_grad()
    def _exact_search(self, queries, k):
        """Squared Euclidean distances and positions of the ``k`` nearest stored codes, exactly."""
        n = self._index.ntotal
        # a view of the flat index's float32 storage (n, dim): no copy
        stored = torch.from_numpy(_faiss().rev_swig_ptr(self._index.get_xb(), n * self.dim_).reshape(n, self.dim_))
        queries = torch.from_numpy(queries)
        distances, positions = [], []
        for q in queries.split(_QUERY_BLOCK):
            # per block of stored codes: |x|^2 - 2 q.x (|q|^2 is added at the end), its k smallest
            best = [torch.addmm((x * x).sum(1), q, x.T, alpha=-2).topk(min(k, len(x)), dim=1, largest=False)
                    for x in stored.split(_CODE_BLOCK)]
            values = torch.cat([b.values for b in best], 1)
            where = torch.cat([b.indices + i * _CODE_BLOCK for i, b in enumerate(best)], 1)
            values, order = values.topk(k, dim=1, largest=False)
            distances.append(values + (q * q).sum(1, keepdim=True))
            positions.append(where.gather(1, order))
        return torch.cat(distances).numpy(), torch.cat(positions).numpy()

    def _encode(self, X, name):
        if self.estimator is None:
            raise ValueError(f"CodeIndex has no estimator to encode {name}: give one, or use add_codes / "
                             "search_codes with codes")
        return self.estimator.transform(X)

    def _codes(self, Z, name):
        Z = np.asarray(Z)
        if Z.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array of codes (n, dim), got shape {Z.shape}")
        if Z.dtype.kind not in "fiub":
            raise ValueError(f"{name} must hold numbers, got dtype {Z.dtype}")
        Z = np.ascontiguousarray(Z, dtype=np.float32)
        if self.dim_ is not None and Z.shape[1] != self.dim_:
            raise ValueError(f"{name} has codes of width {Z.shape[1]} but the index holds codes of width {self.dim_}")
        if not np.isfinite(Z).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return Z

    # ---- saving --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the index to the folder ``path``: ``config.json``, ``index.safetensors`` (ids,
        thresholds and the faiss index in faiss's own binary format) and the estimator in ``model/``,
        all in one step (see :mod:`aekit.bundle`)."""
        if self._index is None:
            raise ValueError("CodeIndex: nothing to save; add items first")
        path = Path(path)
        model = ()
        if self.estimator is not None:
            if not hasattr(self.estimator, "save"):
                raise ValueError(f"CodeIndex: the estimator {type(self.estimator).__name__} cannot be saved by "
                                 "aekit; index its codes with add_codes, or use an aekit model")
            model = (saving.encode(self.estimator, path / MODEL),)
        faiss = _faiss()
        serialize = faiss.serialize_index_binary if self.metric == "hamming" else faiss.serialize_index
        tensors = {"ids": self.ids_, "faiss_index": serialize(self._index)}
        if self.thresholds_ is not None:
            tensors["thresholds"] = self.thresholds_
        config = {"params": {k: v for k, v in self.get_params().items() if k != "estimator"},
                  "dim": self.dim_, "n_items": len(self),
                  "model_weights_sha256": model[0].config[saving.MODEL.checksum] if model else None}
        bundle.write(*model, bundle.encode(path, INDEX, config, tensors))

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "auto") -> "CodeIndex":
        """Read an index written by :meth:`save`, with its estimator (put on ``device``)."""
        path = Path(path)
        if not (path / CONFIG).is_file() or not (path / DATA).is_file():
            raise ValueError(f"{path}: not an index folder (needs {CONFIG} and {DATA} written by CodeIndex.save)")
        config = bundle.read_config(path, INDEX)
        bundle.require(config, path, "params", "dim", "n_items")
        tensors = {name: tensor.numpy() for name, tensor in bundle.read_tensors(path, INDEX, config).items()}
        estimator = None
        if config.get("model_weights_sha256") is not None:
            if saving.read_config(path / MODEL)[saving.MODEL.checksum] != config["model_weights_sha256"]:
                raise ValueError(f"{path / MODEL}: not the model this index was built with (weights differ)")
            estimator = saving.load(path / MODEL, device=device)
        index = cls(estimator, **config["params"])
        faiss = _faiss()
        deserialize = faiss.deserialize_index_binary if index.metric == "hamming" else faiss.deserialize_index
        index._index = deserialize(tensors["faiss_index"])
        index.ids_ = tensors["ids"]
        index.thresholds_ = tensors.get("thresholds")
        index.dim_ = config["dim"]
        if index._index.ntotal != len(index.ids_) or len(index.ids_) != config["n_items"]:
            raise ValueError(f"{path / DATA}: holds {index._index.ntotal} items and {len(index.ids_)} ids, "
                             f"expected {config['n_items']}")
        return index


__all__ = ["METRICS", "CodeIndex"]
