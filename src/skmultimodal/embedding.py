"""Frozen image embeddings as a scikit-learn transformer, cached on disk.

:class:`ImageEmbedder` turns a column of image paths into the pooled features of a
pretrained backbone: a float32 ``(n, d)`` array, a tabular input for
:class:`~skmultimodal.MultiInputKerasClassifier` or any scikit-learn model. The backbone
is the slow part, so embeddings are cached on disk, keyed by each file's content and by
the backbone's identity: a ``GridSearchCV`` over the head's parameters then runs the
backbone once per image, not once per candidate and fold.

``import skmultimodal.embedding`` loads no TensorFlow; ``fit`` imports Keras to check the
backbone's name but builds nothing; the backbone is built on first use in ``transform``,
once per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._columns import one_column
from .image import _validate_target_size, load_image

__all__ = ["ImageEmbedder", "backbone_images_seen"]

# The number of images the backbones of this process have embedded (cache misses only):
# what ``benchmarks/bench_embedder.py`` counts. Read it with :func:`backbone_images_seen`.
_BACKBONE_IMAGES = [0]
# Bump when the way embeddings are computed changes: old cache entries are then unused.
_CACHE_FORMAT = 2  # 2: entries start with a header (magic, number of values)
# The seed of a backbone's random initial weights (weights=None): the same backbone in
# every process, so that its embeddings can be cached.
_INIT_SEED = 0


def backbone_images_seen() -> int:
    """How many images the :class:`ImageEmbedder` backbones of this process have embedded.

    Images read from the cache are not counted: this is the number of backbone forward
    passes, one per image.

    Examples
    --------
    >>> isinstance(backbone_images_seen(), int)
    True
    """
    return _BACKBONE_IMAGES[0]


def _file_digest(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    from .image import require_regular_file

    require_regular_file(path)
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# One embedding per file: its float32 values, little-endian, nothing else. Not ``.npy``:
# ``np.load`` parses the header with ``ast.literal_eval``, which on CPython 3.11 before
# 3.11.8 raises SystemError ("AST constructor recursion depth mismatch") when two threads
# parse at once (a threaded search reading the cache).
_ENTRY_SUFFIX = ".f4"
_ENTRY_DTYPE = np.dtype("<f4")
_ENTRY_MAGIC = b"skmE"


def _atomic_save(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (1-D float32) to ``path`` so that no reader ever sees a partial file.

    The values go to a temporary file in the same folder, then ``os.replace`` renames it:
    atomic on POSIX and Windows, so several processes may write the same entry (the last
    rename wins, and every version is the same).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_ENTRY_SUFFIX)
    try:
        values = np.ascontiguousarray(array, dtype=_ENTRY_DTYPE)
        with os.fdopen(handle, "wb") as file:
            file.write(_ENTRY_MAGIC + struct.pack("<I", values.size) + values.tobytes())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _load_entry(path: Path, width: int | None) -> np.ndarray | None:
    """A cached embedding, or None when it is missing or unreadable (then recomputed)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # A header (magic, number of values) first: a file cut short, or written by anything
    # else, is never read as an embedding of another width.
    header = len(_ENTRY_MAGIC) + 4
    if len(data) < header or not data.startswith(_ENTRY_MAGIC):
        return None
    (count,) = struct.unpack("<I", data[len(_ENTRY_MAGIC) : header])
    if count == 0 or len(data) != header + count * _ENTRY_DTYPE.itemsize:
        return None
    if width and count != width:
        return None
    return np.frombuffer(data, dtype=_ENTRY_DTYPE, offset=header).astype(np.float32)


# Fields of a saved Keras config that do not change what a model computes; Keras rewrites
# some of them when the model is pickled (``registered_name`` became ">Functional"), which
# changed the cache key in every joblib worker.
_VOLATILE_CONFIG = frozenset({"registered_name", "module", "build_config", "compile_config"})


def _architecture(model) -> str:
    """A canonical JSON text of ``model``'s architecture, the same after pickling."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _VOLATILE_CONFIG}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(json.loads(model.to_json())), sort_keys=True)


def _plain(value: Any) -> bool:
    """Whether ``value`` compares by value (a name, path, size), not a model."""
    return value is None or isinstance(value, (str, os.PathLike, tuple, list, int))


def _check_cache_dir(cache_dir, owner: str = "ImageEmbedder") -> None:
    """ValueError when ``cache_dir``, or a folder above it, is an existing non-folder."""
    if cache_dir is None:
        return
    if os.fspath(cache_dir) == "":
        raise ValueError(f"{owner}(cache_dir='') names no folder; give a folder or None.")
    for folder in (Path(cache_dir), *Path(cache_dir).parents):
        if folder.exists() and not folder.is_dir():
            raise ValueError(
                f"{owner}(cache_dir={os.fspath(cache_dir)!r}): {os.fspath(folder)!r} "
                "is a file, not a folder; give a folder for the embedding cache."
            )


def cached_embeddings(
    keys: list[str], items: list, folder: Path | None, embed, width
) -> np.ndarray:
    """The embedding of each item, read from ``folder`` or computed and written there.

    ``keys[i]`` is the content hash of ``items[i]``; ``embed(items)`` runs the backbone once
    per distinct key not in the cache (one call for all of them) and returns one 1-D float32
    array per item; ``width()`` is the embedding width (for an empty input). The entries of
    ``folder`` (None: no cache) are ``<key[:2]>/<key>.f4``, written atomically.
    """
    found: dict[str, np.ndarray] = {}
    if folder is not None:
        for key in dict.fromkeys(keys):
            entry = _load_entry(folder / key[:2] / f"{key}{_ENTRY_SUFFIX}", None)
            if entry is not None:
                found[key] = entry
    # One backbone pass per distinct content not in the cache.
    missing = {key: item for key, item in zip(keys, items, strict=True) if key not in found}
    if missing:
        for key, embedding in zip(missing, embed(list(missing.values())), strict=True):
            found[key] = embedding
            if folder is not None:
                _atomic_save(folder / key[:2] / f"{key}{_ENTRY_SUFFIX}", embedding)
    if not keys:
        return np.zeros((0, width()), dtype=np.float32)
    widths = {found[key].shape[0] for key in keys}
    if len(widths) > 1:
        raise ValueError(
            f"The embedding cache under {folder} holds embeddings of several widths "
            f"{sorted(widths)}; delete that folder."
        )
    return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)


class _CachedEmbedder:
    """What :class:`ImageEmbedder` and ``TextEmbedder`` share: the parameters that decide
    an embedding (``_identity_params``) may not change between fit and transform, the
    network built on first use is not pickled, and the output is a float32 table.

    A subclass defines ``_identity_params`` and ``_width()`` and calls
    ``_record_identity()`` at the end of ``fit``.
    """

    _identity_params: tuple = ()

    def _identity(self) -> tuple:
        return tuple(getattr(self, name) for name in self._identity_params)

    def _record_identity(self) -> None:
        # The network of another backbone, built by an earlier transform, is not reused.
        vars(self).pop("_embedding_model", None)
        self._fitted_identity = self._identity()

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``embedding0``, ``embedding1``, ... (builds the backbone to learn the width).

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        self._check_unchanged_since_fit()
        return np.asarray([f"embedding{i}" for i in range(self._width())], dtype=object)

    def _check_unchanged_since_fit(self) -> None:
        """ValueError when a parameter of ``_identity_params`` changed after fit: the
        embeddings would be another network's, stored under the fitted one's key."""
        fitted = vars(self).get("_fitted_identity")
        if fitted is None:  # fitted by an older version: nothing recorded
            return
        changed = [
            name
            for name, before, after in zip(
                self._identity_params, fitted, self._identity(), strict=True
            )
            if not (before is after or (_plain(before) and _plain(after) and before == after))
        ]
        if changed:
            raise ValueError(
                f"{type(self).__name__}'s {', '.join(changed)} changed since fit (set_params); "
                "call fit again before transform, which would otherwise mix two networks' "
                "embeddings and cache them under the fitted one's key."
            )

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop("_embedding_model", None)  # rebuilt on first use in the new process
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        tags.non_deterministic = False
        return tags


class ImageEmbedder(_CachedEmbedder, TransformerMixin, BaseEstimator):
    """Turn a column of image paths into a pretrained backbone's pooled features.

    Each image is loaded as :class:`~skmultimodal.ImageLoader` loads it (Pillow, RGB,
    resized to ``target_size``), preprocessed as the backbone expects, run through the
    backbone (frozen, inference mode) and average-pooled: a float32 ``(n, d)`` array.

    With ``cache_dir``, each embedding is stored in one small file of its float32
    values, named after the SHA-256 of the image file's bytes, in a folder named after
    the backbone's identity (application name or model architecture and weights, the
    weights file's SHA-256, ``target_size`` and the preprocessing). A renamed or copied
    image hits the cache; an edited one, or another backbone, does not. Entries are
    written atomically (a temporary file, then ``os.replace``), so processes of a
    parallel search can share one cache folder. The cache is never pruned: delete the
    folder to reclaim space.

    Parameters
    ----------
    backbone : str or keras.Model, default="MobileNetV3Small"
        The name of a ``keras.applications`` model, or a ``keras.Model`` mapping float32
        pixels in [0, 255] to a feature map or vector (copied, never modified).
    weights : "imagenet", str, os.PathLike or None, default="imagenet"
        As ``image_backbone_weights`` of the estimators: Keras' ImageNet weights (for a
        ``keras.Model``: its own), a weights file, or random initial weights (drawn with
        a fixed seed, so that they are the same in every process).
    target_size : tuple of (int, int), default=(224, 224)
        ``(height, width)`` the images are resized to.
    batch_size : int, default=32
        Images per backbone call.
    cache_dir : str, os.PathLike or None, default=None
        Folder of the embedding cache (created when missing); None caches nothing.

    Attributes
    ----------
    backbone_key_ : str
        The backbone's identity: the name of its folder under ``cache_dir``.
    n_features_in_ : int
        Always 1.
    feature_names_in_ : ndarray of shape (1,)
        The column name, when fit on a one-column DataFrame.

    Examples
    --------
    >>> import os, tempfile, keras
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(3)]
    >>> for i, path in enumerate(paths):
    ...     Image.new("RGB", (8, 8), (80 * i, 0, 0)).save(path)
    >>> inputs = keras.Input((8, 8, 3))
    >>> tiny = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))
    >>> embedder = ImageEmbedder(tiny, target_size=(8, 8), cache_dir=folder)
    >>> embedder.fit_transform(paths).shape
    (3, 4)
    >>> seen = backbone_images_seen()
    >>> _ = embedder.transform(paths[::-1])  # read from the cache
    >>> backbone_images_seen() - seen
    0
    """

    _identity_params = ("backbone", "weights", "target_size")
    _parameter_constraints: dict = {
        "backbone": "no_validation",
        "weights": [str, os.PathLike, None],
        "target_size": [tuple, list],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cache_dir": [str, os.PathLike, None],
    }

    def __init__(
        self,
        backbone: Any = "MobileNetV3Small",
        weights: str | os.PathLike | None = "imagenet",
        target_size: Sequence[int] = (224, 224),
        batch_size: int = 32,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        self.backbone = backbone
        self.weights = weights
        self.target_size = target_size
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> ImageEmbedder:
        """Check the parameters and record the backbone's identity; reads no image.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Image paths.
        y : None
            Ignored.

        Returns
        -------
        self : ImageEmbedder
        """
        from ._params import _check_backbone_params

        _validate_target_size(self.target_size)
        if self.backbone is None:
            raise ValueError("ImageEmbedder needs a backbone, got backbone=None.")
        try:
            _check_backbone_params(self.backbone, self.weights, False)
        except (ValueError, TypeError) as error:
            message = str(error).replace("image_backbone_weights", "weights")
            raise type(error)(message.replace("image_backbone", "backbone")) from error
        _check_cache_dir(self.cache_dir)
        one_column(X, owner=type(self).__name__, what="image paths")
        validate_data(self, X, reset=True, skip_check_array=True)
        self.n_features_in_ = 1
        self.backbone_key_ = self._backbone_key()
        self._record_identity()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed the images, reading and filling the cache.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Image paths.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features), dtype float32
        """
        check_is_fitted(self)
        self._check_unchanged_since_fit()
        values = one_column(X, owner=type(self).__name__, what="image paths").values
        missing = [row for row, value in enumerate(values) if value is None]
        if missing:
            raise ValueError(
                f"ImageEmbedder needs an image path in every row; rows {missing[:5]}"
                f"{' ...' if len(missing) > 5 else ''} have none (None/NaN). Drop those "
                "rows, or fill them with the path of a placeholder image."
            )
        paths = [os.fspath(value) for value in values]
        if getattr(X, "ndim", 1) == 2:
            validate_data(self, X, reset=False, skip_check_array=True)
        _check_cache_dir(self.cache_dir)
        digests = []
        for row, path in enumerate(paths):
            try:
                digests.append(_file_digest(path))
            except OSError as error:
                raise FileNotFoundError(
                    f"ImageEmbedder cannot read the image of row {row}: {path!r} ({error})."
                ) from error
        folder = None if self.cache_dir is None else Path(self.cache_dir, self.backbone_key_)
        return cached_embeddings(digests, paths, folder, self._embed, self._width)

    # -- the backbone -----------------------------------------------------------------
    def _backbone_key(self) -> str:
        """A hash of everything that decides an image's embedding."""
        from .architecture import IMAGENET

        if isinstance(self.backbone, str):
            source = {"application": self.backbone}
        else:
            digest = hashlib.sha256(_architecture(self.backbone).encode())
            for array in self.backbone.get_weights():
                digest.update(np.ascontiguousarray(array).tobytes())
            source = {"model": digest.hexdigest()}
        if self.weights is None or self.weights == IMAGENET:
            weights = self.weights
        else:
            weights = {"file_sha256": _file_digest(self.weights)}
        identity = {
            "format": _CACHE_FORMAT,
            **source,
            "weights": weights,
            "init_seed": _INIT_SEED,
            "target_size": list(_validate_target_size(self.target_size)),
            "preprocessing": "application" if isinstance(self.backbone, str) else "none",
            "pooling": "avg",
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]

    def _model(self):
        """The embedding model, built once per process (not part of the pickled state)."""
        model = vars(self).get("_embedding_model")
        if model is None:
            import keras

            from ._seeding import tensorflow_seed
            from .architecture import SharedBackbone

            height, width = _validate_target_size(self.target_size)
            inputs = keras.Input((height, width, 3), dtype="uint8")
            with tensorflow_seed(_INIT_SEED):
                try:
                    features = SharedBackbone(self.backbone, self.weights, False)(inputs)
                except ValueError as error:
                    message = str(error).replace("image_backbone_weights", "weights")
                    message = message.replace("image_backbone", "backbone")
                    raise ValueError(f"ImageEmbedder: {message}") from error
            model = keras.Model(inputs, features)
            self._embedding_model = model
        return model

    def _width(self) -> int:
        return int(self._model().output.shape[-1])

    def _embed(self, paths: list[str]) -> list[np.ndarray]:
        model = self._model()
        size = _validate_target_size(self.target_size)
        out = []
        for start in range(0, len(paths), self.batch_size):
            batch = np.stack([load_image(p, size) for p in paths[start : start + self.batch_size]])
            features = np.asarray(model.predict_on_batch(batch), dtype=np.float32)
            _BACKBONE_IMAGES[0] += len(batch)
            out.extend(features)
        return out
