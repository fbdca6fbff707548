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

import errno
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np

__all__ = ["LazyImages", "has_lazy_input", "load_inputs", "take_rows"]


class ImageLoadWarning(UserWarning):
    """Images replaced by blank ones because they could not be loaded (``on_error="zeros"``).

    Raised as a warning by :meth:`ImageLoader.transform <skmultimodal.image.ImageLoader.transform>`
    and, with ``lazy=True``, when a batch is decoded. The loader itself keeps no record:
    ``transform`` changes no state, so the failed rows travel with the warning.

    Attributes
    ----------
    failed_paths : list of (int, object)
        ``(row position, path as given)`` of each blank row, in row order.

    Examples
    --------
    >>> import warnings
    >>> from skmultimodal.image import ImageLoader
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = ImageLoader((4, 4), on_error="zeros").fit_transform([None])
    >>> caught[0].message.failed_paths
    [(0, None)]
    """

    def __init__(self, message: str, failed_paths: list) -> None:
        # Both in args, so that the warning survives pickling (a worker process).
        super().__init__(message, failed_paths)
        self.failed_paths = failed_paths

    def __str__(self) -> str:
        return str(self.args[0])


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
        self._cache: _DiskCache | None = None
        self._cache_lock = threading.Lock()
        # Decoding threads, fixed by ImageLoader.transform where n_jobs=None is resolved
        # (None: resolve at each decode, in the decoding thread's context).
        self._n_threads: int | None = None

    def __getstate__(self) -> dict:
        # The cache is an open temporary file of this process: a copy starts without it.
        state = dict(self.__dict__)
        state["_cache"] = None
        state.pop("_cache_finalizer", None)
        del state["_cache_lock"]
        # Another process resolves its own number of threads (a worker process gets 1).
        state["_n_threads"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_n_threads", None)
        self._cache_lock = threading.Lock()

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
        subset = LazyImages(
            [self._paths[i] for i in positions], self._loader, self._labels, self._rows[positions]
        )
        subset._n_threads = self._n_threads
        return subset

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("LazyImages cannot be viewed as an array without decoding it.")
        images = self.load()
        return images if dtype is None else images.astype(dtype, copy=False)

    # -- the decode cache (lazy="cache") --------------------------------------------
    def close(self) -> None:
        """Delete the decode cache's temporary file now (``lazy="cache"`` only).

        The file is also deleted when this object is garbage-collected; ``close`` frees
        the disk space at a known point. A later :meth:`load` starts a new, empty cache.
        Do not call it while another thread is loading rows of this object.
        """
        with self._cache_lock:
            self._cache = None
            finalizer = self.__dict__.pop("_cache_finalizer", None)
        if finalizer is not None:
            finalizer()  # closes the file, once

    def __enter__(self) -> LazyImages:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
            key = slice(None)
        else:
            key = indices if isinstance(indices, slice) else np.asarray(indices)
            if isinstance(key, np.ndarray) and key.size == 0:
                key = key.astype(np.intp)
            if isinstance(key, np.ndarray) and key.ndim != 1:
                raise TypeError(f"indices must be a slice or a 1-D array of rows, got {indices!r}.")
        if getattr(self._loader, "lazy", None) == "cache":
            return self._load_cached(np.arange(len(self._paths))[key])
        return self._decode(self if indices is None else self[key])

    def _load_cached(self, positions: np.ndarray) -> np.ndarray:
        """Rows at ``positions``: read back from the cache file, decoded if not there yet."""
        with self._cache_lock:
            if self._cache is None:
                self._cache = _DiskCache(len(self._paths), self.shape[1:])
                # Deletes the file as soon as this object is collected, even if a
                # reference cycle or a leaked frame still holds the cache itself.
                self._cache_finalizer = weakref.finalize(self, self._cache.close)
            cache = self._cache
        known = cache.filled[positions]
        if known.all():  # every epoch after the first
            return cache.read(positions)
        images = np.empty((len(positions), *self.shape[1:]), dtype=np.uint8)
        if known.any():
            images[known] = cache.read(positions[known])
        missing = positions[~known]
        decoded = self._decode(self[missing])
        cache.write(missing, decoded)
        images[~known] = decoded
        return images

    def _decode(self, subset: LazyImages) -> np.ndarray:
        images = np.zeros(subset.shape, dtype=np.uint8)
        known = [i for i, path in enumerate(subset._paths) if path is not None]
        if len(known) == len(subset):
            failures = self._loader._load_all(
                subset._paths,
                self._labels,
                images,
                row_positions=subset._rows,
                resolved=True,
                n_threads=self._n_threads,
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
                n_threads=self._n_threads,
            )
            images[known] = decoded
        if failures:
            # Failure rows index the list given to _load_all: all rows, or the known ones.
            where = range(len(subset)) if len(known) == len(subset) else known
            failed = [
                (int(subset._rows[where[row]]), subset._paths[where[row]]) for row, _ in failures
            ]
            warnings.warn(
                ImageLoadWarning(
                    f"ImageLoader: {len(failures)} of {len(subset)} images could not be "
                    "decoded and were replaced by blank images (on_error='zeros'); the "
                    f"warning's failed_paths lists them. First failure: {failures[0][1]}",
                    failed,
                ),
                stacklevel=2,
            )
        return images


class _DiskCache:
    """Decoded rows of one ``LazyImages`` in an unnamed temporary file, one slot per row.

    Rows are read and written with plain file reads and writes (no memory map), so the
    pixels sit in the operating system's page cache, not in the process' memory. The
    file lives in :func:`tempfile.gettempdir` (``TMPDIR``) and is deleted when it is
    closed: by :meth:`close`, or when the cache is garbage-collected.
    """

    def __init__(self, n_rows: int, row_shape: tuple[int, ...]) -> None:
        self.row_shape = tuple(row_shape)
        self.row_bytes = int(np.prod(row_shape))
        self.n_rows = n_rows
        self.filled = np.zeros(n_rows, dtype=bool)
        self.directory = tempfile.gettempdir()
        try:
            self._file = tempfile.TemporaryFile(buffering=0, dir=self.directory)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"ImageLoader(lazy='cache') could not create the decode cache's temporary "
                f"file in {self.directory!r} (tempfile.gettempdir(), set by TMPDIR): "
                f"{exc.strerror or exc}. Point TMPDIR to a writable folder before starting "
                "Python, or use lazy=True, which decodes again each epoch and writes no file.",
            ) from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the file, which deletes it. Safe to call more than once."""
        self._file.close()

    def read(self, positions: np.ndarray) -> np.ndarray:
        """A new array of the rows at ``positions`` (all written before)."""
        out = np.empty((len(positions), *self.row_shape), dtype=np.uint8)
        flat = out.reshape(len(positions), self.row_bytes)
        order = np.argsort(positions, kind="stable")
        with self._lock:
            for start, stop in _runs(positions[order]):
                # Consecutive rows are one read; rows go back to the caller's order.
                first, n = int(positions[order[start]]), stop - start
                buffer = bytearray(n * self.row_bytes)
                self._file.seek(first * self.row_bytes)
                if self._file.readinto(buffer) != len(buffer):
                    raise OSError("The image cache file is shorter than expected.")
                flat[order[start:stop]] = np.frombuffer(buffer, np.uint8).reshape(n, -1)
        return out

    def write(self, positions: np.ndarray, images: np.ndarray) -> None:
        flat = np.ascontiguousarray(images).reshape(len(positions), self.row_bytes)
        with self._lock:
            for position, row in zip(positions, flat, strict=True):
                self._write_row(int(position), memoryview(row.tobytes()))
            self.filled[positions] = True

    def _write_row(self, position: int, data: memoryview) -> None:
        """Write one row at its slot; a raw write may write only part of it."""
        offset = position * self.row_bytes
        try:
            while len(data):
                self._file.seek(offset)
                written = self._file.write(data)
                if not written:
                    raise OSError(errno.EIO, "the write made no progress")
                data, offset = data[written:], offset + written
        except OSError as exc:
            if exc.errno in _OUT_OF_SPACE:
                raise OSError(exc.errno, self._out_of_space_message(exc)) from exc
            raise

    def _out_of_space_message(self, exc: OSError) -> str:
        needed = self.n_rows * self.row_bytes
        try:
            free = f"{_human_bytes(shutil.disk_usage(self.directory).free)} free there now"
        except OSError:
            free = "free space unknown"
        return (
            f"ImageLoader(lazy='cache'): the decode cache's temporary file ran out of disk "
            f"space ({exc.strerror or exc}). It lives in {self.directory!r} "
            f"(tempfile.gettempdir(), set by TMPDIR; {free}) and needs "
            f"{_human_bytes(needed)} ({needed} bytes: {self.n_rows} images of "
            f"{self.row_bytes} bytes). Free that much space there, point TMPDIR to a "
            "larger disk before starting Python, or use lazy=True, which decodes again "
            "each epoch and writes no file."
        )


# errno values of a full disk or an exhausted quota.
_OUT_OF_SPACE = frozenset(
    code for code in (getattr(errno, name, None) for name in ("ENOSPC", "EDQUOT")) if code
)


def _human_bytes(n: int) -> str:
    """``n`` bytes in the largest binary unit that keeps it at least 1, e.g. "1.5 GiB"."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _runs(sorted_positions: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index ranges of consecutive integers in a sorted array."""
    if len(sorted_positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(sorted_positions) != 1) + 1
    bounds = [0, *breaks.tolist(), len(sorted_positions)]
    return list(zip(bounds[:-1], bounds[1:], strict=False))


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
