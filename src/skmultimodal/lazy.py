"""Images that are decoded only when (and where) they are needed.

``ImageLoader(lazy=True).transform`` returns a :class:`LazyImages` instead of a uint8
array: the checked file paths plus the loader that decodes them. It answers ``shape``,
``dtype``, ``len`` and row indexing without reading a pixel, so a
:class:`~skmultimodal.MultiInputTransformer` can pass it on and a
:class:`~skmultimodal.MultiInputKerasClassifier` can decode one batch at a time
(:mod:`skmultimodal.lazy_dataset`). Memory then stays flat however many images there
are. NumPy only; no Keras or TensorFlow import.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np

__all__ = ["LazyImages", "has_lazy_input", "load_inputs", "take_rows"]


class LazyImages:
    """Read-only, lazily decoded stand-in for a uint8 array ``(n, height, width, channels)``.

    Made by ``ImageLoader(lazy=True).transform``; not meant to be built by hand. Indexing
    with a slice, an integer array or a boolean mask returns another ``LazyImages``
    (a subset of the paths: nothing is decoded); an integer returns one decoded image.
    :meth:`load` decodes rows with the loader's fast path (draft-mode JPEG, threads),
    and ``np.asarray(images)`` decodes them all, so code that needs a real array
    still works, only without the memory saving.

    Errors of individual files are raised when their rows are decoded, with the same
    message as the in-memory loader (the path, and the row position in the
    ``transform`` input, which subsets keep). With ``on_error="zeros"`` such rows
    decode to blank images and :meth:`load` warns once per call.

    Parameters
    ----------
    paths : list of str or None
        Resolved file paths, one per row; None for a row whose path was refused under
        ``on_error="zeros"`` (it decodes to a blank image).
    loader : ImageLoader
        The fitted loader that decodes the paths.
    labels : list or None, default=None
        Index labels of the rows of the ``transform`` input, named in errors.
    rows : array-like of int, default=None
        Row positions in the ``transform`` input (default ``0..n-1``).

    Attributes
    ----------
    shape : tuple of int
        ``(n, height, width, channels)``.
    dtype : numpy.dtype
        Always uint8.
    ndim : int
        Always 4.
    paths : list of str or None
        The resolved file path of each row.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skmultimodal.image import ImageLoader
    >>> folder = tempfile.mkdtemp()
    >>> for name, value in [("a.png", 10), ("b.png", 20), ("c.png", 30)]:
    ...     Image.new("L", (8, 8), value).save(f"{folder}/{name}")
    >>> loader = ImageLoader(target_size=(4, 4), color_mode="grayscale", base_dir=folder,
    ...                      lazy=True)
    >>> images = loader.fit_transform(["a.png", "b.png", "c.png"])
    >>> images
    LazyImages(shape=(3, 4, 4, 1), dtype=uint8)
    >>> images[1:].shape
    (2, 4, 4, 1)
    >>> images.load([2, 0])[:, 0, 0, 0].tolist()
    [30, 10]
    >>> np.asarray(images[np.array([False, True, False])])[:, 0, 0, 0].tolist()
    [20]
    """

    ndim = 4
    dtype = np.dtype(np.uint8)

    def __init__(
        self,
        paths: Sequence[str | None],
        loader: Any,
        labels: Sequence | None = None,
        rows: Sequence[int] | None = None,
    ) -> None:
        self._paths = list(paths)
        self._loader = loader
        self._labels = labels
        self._rows = (
            np.arange(len(self._paths)) if rows is None else np.asarray(rows, dtype=np.intp)
        )

    # -- array-like attributes ----------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self._paths), *self._loader.output_shape_)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Bytes the decoded array would take."""
        return self.size

    @property
    def paths(self) -> list[str | None]:
        return list(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"LazyImages(shape={self.shape}, dtype={self.dtype})"

    def __getitem__(self, key: Any) -> LazyImages | np.ndarray:
        if isinstance(key, (Integral, np.integer)) and not isinstance(key, (bool, np.bool_)):
            return self.load([key])[0]
        if isinstance(key, tuple):
            raise TypeError(
                "LazyImages supports row indexing only (an int, a slice, an integer array "
                f"or a boolean mask), got the tuple {key!r}; decode the rows first with "
                "load() or np.asarray()."
            )
        positions = np.arange(len(self._paths))[key]
        if positions.ndim != 1:
            raise TypeError(
                f"LazyImages supports row indexing only; {key!r} selects an array of shape "
                f"{positions.shape}."
            )
        return LazyImages(
            [self._paths[i] for i in positions], self._loader, self._labels, self._rows[positions]
        )

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("LazyImages cannot be viewed as an array without decoding it.")
        images = self.load()
        return images if dtype is None else images.astype(dtype, copy=False)

    # -- decoding ---------------------------------------------------------------------
    def load(self, indices: Any = None) -> np.ndarray:
        """Decode rows into a new uint8 array.

        Parameters
        ----------
        indices : slice, array-like of int or bool, default=None
            Rows to decode, as accepted by ``__getitem__``; None decodes all of them.

        Returns
        -------
        images : ndarray of shape (n_selected, height, width, channels), dtype uint8
        """
        if indices is None:
            subset = self
        else:
            key = indices if isinstance(indices, slice) else np.asarray(indices)
            if isinstance(key, np.ndarray) and key.size == 0:
                key = key.astype(np.intp)
            if isinstance(key, np.ndarray) and key.ndim != 1:
                raise TypeError(f"indices must be a slice or a 1-D array of rows, got {indices!r}.")
            subset = self[key]
        images = np.zeros(subset.shape, dtype=np.uint8)
        known = [i for i, path in enumerate(subset._paths) if path is not None]
        if len(known) == len(subset):
            failures = self._loader._load_all(
                subset._paths, self._labels, images, row_positions=subset._rows, resolved=True
            )
        else:
            # Rows refused at transform time stay blank; decode the others apart.
            decoded = np.zeros((len(known), *images.shape[1:]), dtype=np.uint8)
            failures = self._loader._load_all(
                [subset._paths[i] for i in known],
                self._labels,
                decoded,
                row_positions=subset._rows[known],
                resolved=True,
            )
            images[known] = decoded
        if failures:
            warnings.warn(
                f"ImageLoader: {len(failures)} of {len(subset)} images could not be decoded "
                f"and were replaced by blank images (on_error='zeros'). First failure: "
                f"{failures[0][1]}",
                UserWarning,
                stacklevel=2,
            )
        return images


def has_lazy_input(X: Any) -> bool:
    """Whether ``X`` (a dict of model inputs) holds any :class:`LazyImages`."""
    return isinstance(X, Mapping) and any(isinstance(v, LazyImages) for v in X.values())


def load_inputs(X: Any, indices: Any = None) -> Any:
    """``X`` with every :class:`LazyImages` decoded (and rows selected when ``indices``).

    Parameters
    ----------
    X : dict of str to array-like, or array-like
        Model inputs; anything but a dict holding ``LazyImages`` is returned as it is
        when ``indices`` is None.
    indices : slice or array-like of int, default=None
        Rows to take from every input.

    Returns
    -------
    X : same structure, with ndarrays in place of ``LazyImages``
    """
    if not isinstance(X, Mapping):
        return X if indices is None else X[indices]
    if indices is None and not has_lazy_input(X):
        return X
    return {
        key: value.load(indices)
        if isinstance(value, LazyImages)
        else (value if indices is None else value[indices])
        for key, value in X.items()
    }


def take_rows(part: Any, rows: Any) -> Any:
    """The given rows of model data, whatever its container (no image is decoded).

    ``part`` is a dict of inputs (possibly holding :class:`LazyImages`), a list of
    per-output targets, an array, or None (returned as is).

    Examples
    --------
    >>> import numpy as np
    >>> take_rows({"a": np.arange(4), "b": np.arange(8).reshape(4, 2)}, [0, 3])["b"]
    array([[0, 1],
           [6, 7]])
    >>> take_rows([np.arange(3), np.arange(3) * 2], slice(1, None))
    [array([1, 2]), array([2, 4])]
    """
    if part is None:
        return None
    if isinstance(part, Mapping):
        return {key: value[rows] for key, value in part.items()}
    if isinstance(part, list):
        return [value[rows] for value in part]
    return part[rows]
