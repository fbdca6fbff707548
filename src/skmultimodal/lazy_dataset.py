"""Feed Keras batch by batch from inputs that hold :class:`~skmultimodal.lazy.LazyImages`.

:class:`LazyBatches` is a ``keras.utils.PyDataset`` over a dict of model inputs: each
batch decodes only its own images, so training and prediction memory does not grow
with the number of images. Keras' TensorFlow backend runs the PyDataset in a
``tf.data`` prefetch thread, so the next batch is decoded while the current one trains.
The helpers below are the glue that :mod:`skmultimodal.estimators` calls.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np
from scipy import sparse

from .lazy import has_lazy_input, load_inputs, take_rows

__all__ = [
    "LazyBatches",
    "lazy_fit_arguments",
    "lazy_predict_input",
    "surfaced_decode_errors",
    "to_model_batch",
]


class LazyBatches(keras.utils.PyDataset):
    """Batches ``(inputs[, y[, sample_weight]])`` of a dict of inputs, decoded on demand.

    Parameters
    ----------
    X : dict of str to ndarray or LazyImages
        Model inputs, all with the same number of rows.
    y : ndarray, default=None
        Targets; None for prediction (batches are then ``(inputs,)``).
    sample_weight : ndarray, default=None
    batch_size : int, default=32
    shuffle : bool, default=False
        Draw a new order of the rows for each epoch.
    seed : int, default=None
        Seed of the shuffling (None: unpredictable).

    Attributes
    ----------
    error : Exception or None
        The last exception raised while making a batch. Keras reports it wrapped in a
        TensorFlow error; :func:`surfaced_decode_errors` raises this original instead.

    Examples
    --------
    >>> import numpy as np
    >>> batches = LazyBatches({"x": np.arange(5.0).reshape(5, 1)}, np.arange(5), batch_size=2)
    >>> len(batches), batches[2][0]["x"].tolist(), batches[2][1].tolist()
    (3, [[4.0]], [4])
    """

    def __init__(
        self,
        X: Mapping[str, Any],
        y: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        *,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.X = dict(X)
        self.y = y
        self.sample_weight = sample_weight
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.error = None
        self._n_samples = len(next(iter(self.X.values())))
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(self._n_samples) if shuffle else None

    def __len__(self) -> int:
        return math.ceil(self._n_samples / self.batch_size)

    def __getitem__(self, index: int) -> tuple:
        start = index * self.batch_size
        rows = slice(start, min(start + self.batch_size, self._n_samples))
        if self._order is not None:
            # Sorted, so each batch reads its files in table order.
            rows = np.sort(self._order[rows])
        try:
            batch = (to_model_batch(load_inputs(self.X, rows)),)
        except Exception as error:
            self.error = error
            raise
        if self.y is not None:
            targets = take_rows(self.y, rows)
            # tf.data describes nested batches with tuples, not lists (several outputs).
            batch += (tuple(targets) if isinstance(targets, list) else targets,)
            if self.sample_weight is not None:
                batch += (self.sample_weight[rows],)
        return batch

    def release(self) -> None:
        """Drop the references to the inputs, targets and last error.

        TensorFlow keeps the PyDataset of every ``Model.fit`` / ``predict`` alive after
        the call (its ``tf.data`` generator stays registered), and with it the
        :class:`~skmultimodal.lazy.LazyImages` of the inputs: their decode caches
        (``lazy="cache"``) would stay on disk until the process exits. Called by
        :func:`surfaced_decode_errors` once the call is over; the dataset yields no
        batch after it.
        """
        self.X = {}
        self.y = self.sample_weight = self.error = None
        self._order = None

    def on_epoch_end(self) -> None:
        # Keras creates the next epoch's iterator before this call but reads from it
        # only after, so the new order applies to the whole next epoch.
        if self.shuffle:
            self._order = self._rng.permutation(self._n_samples)


def to_model_batch(batch: Any) -> Any:
    """A batch of inputs with every sparse matrix as a TensorFlow ``SparseTensor``.

    What a sparse ``keras.Input`` accepts in ``predict_on_batch`` and from a PyDataset
    (``Model.fit`` converts SciPy matrices itself). Anything else is returned as it is.

    Examples
    --------
    >>> from scipy import sparse
    >>> batch = to_model_batch({"x": sparse.csr_matrix([[0.0, 2.0], [1.0, 0.0]])})
    >>> type(batch["x"]).__name__, batch["x"].indices.numpy().tolist()
    ('SparseTensor', [[0, 1], [1, 0]])
    """
    if not isinstance(batch, Mapping) or not any(sparse.issparse(v) for v in batch.values()):
        return batch
    import tensorflow as tf

    converted = {}
    for key, value in batch.items():
        if sparse.issparse(value):
            coo = value.tocoo()
            value = tf.SparseTensor(
                indices=np.column_stack([coo.row, coo.col]).astype(np.int64),
                values=coo.data,
                dense_shape=coo.shape,
            )
        converted[key] = value
    return converted


def lazy_fit_arguments(
    X: Mapping[str, Any], y: Any, sample_weight: Any, fit_args: dict
) -> tuple[LazyBatches, dict]:
    """The ``x`` and the ``Model.fit`` keyword overrides for a fit on lazy inputs.

    Parameters
    ----------
    X : dict holding LazyImages
    y, sample_weight : ndarray or None
    fit_args : dict
        The ``Model.fit`` arguments the estimator would use (its routed parameters
        updated with the call's keyword arguments).

    Returns
    -------
    x : LazyBatches
    overrides : dict
        Keyword arguments for ``Model.fit``: the batching, shuffling and
        ``validation_split`` are done by the PyDataset(s), so Keras gets none of them.
    """
    batch_size = fit_args.get("batch_size") or 32
    n_samples = len(next(iter(X.values())))
    validation_data = fit_args.get("validation_data")
    split = fit_args.get("validation_split") or 0.0
    if split and validation_data is None:
        # The same hold-out as Keras' validation_split: the last rows, unshuffled.
        at = int(math.floor(n_samples * (1.0 - split)))
        validation_data = tuple(take_rows(part, slice(at, None)) for part in (X, y, sample_weight))
        X, y, sample_weight = (take_rows(part, slice(0, at)) for part in (X, y, sample_weight))
    # Python's random module is seeded from random_state for the duration of the fit
    # (``_seeding.tensorflow_seed``), so this draw is reproducible when it should be.
    seed = random.getrandbits(63)
    train = LazyBatches(
        X,
        y,
        sample_weight,
        batch_size=batch_size,
        shuffle=bool(fit_args.get("shuffle", True)),
        seed=seed,
    )
    overrides = {
        "batch_size": None,
        "validation_batch_size": None,
        "shuffle": False,
        "validation_split": 0.0,
    }
    if validation_data is not None:
        overrides["validation_data"] = _as_validation_batches(
            validation_data, fit_args.get("validation_batch_size") or batch_size
        )
    return train, overrides


def _as_validation_batches(validation_data: Any, batch_size: int) -> Any:
    if not isinstance(validation_data, (tuple, list)) or not has_lazy_input(validation_data[0]):
        return validation_data
    x, y, sample_weight = (*validation_data, None, None)[:3]
    return LazyBatches(x, y, sample_weight, batch_size=batch_size)


def lazy_predict_input(X: Any, batch_size: int) -> Any:
    """``X`` as a :class:`LazyBatches` when it holds lazy images, else unchanged."""
    return LazyBatches(X, batch_size=batch_size) if has_lazy_input(X) else X


@contextmanager
def surfaced_decode_errors(*datasets: Any):
    """Raise the original error of a :class:`LazyBatches`, not Keras' wrapped copy.

    Errors raised inside a PyDataset reach the caller of ``Model.fit`` / ``predict``
    as a TensorFlow error whose message embeds a traceback; the estimator's users
    should get the loader's own ``FileNotFoundError`` / ``ValueError`` instead.

    On exit, every :class:`LazyBatches` among ``datasets`` is released
    (:meth:`LazyBatches.release`), so that the images, and the temporary files of their
    decode caches, are freed when the caller drops them, although TensorFlow still
    holds the dataset.
    """
    try:
        yield
    except Exception:
        for dataset in datasets:
            if isinstance(dataset, LazyBatches) and dataset.error is not None:
                raise dataset.error from dataset.error.__cause__
        raise
    finally:
        for dataset in datasets:
            if isinstance(dataset, LazyBatches):
                dataset.release()
