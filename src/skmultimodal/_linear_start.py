"""The linear start of a model with sequence inputs: a classical model as its first logits.

A logistic regression (classification) or ridge regression (regression) on the series'
summary statistics (:func:`~skmultimodal.sequence.sequence_statistics`, the same values
as the model's :class:`~skmultimodal.architecture.SequenceSummary` layer), fitted on the
training rows before the network trains, its penalty chosen by an inner 3-fold
cross-validation. Its coefficients go into the model's frozen
:class:`~skmultimodal.architecture.LinearLogits` layer, whose logits are added to the
network's: the network starts from the linear model and learns what it misses. This
module is scikit-learn only (no Keras).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: ``sequence_linear="auto"`` fits the linear start from this many training rows; below,
#: its layer stays at zero (on real series sets of 36-67 training rows it cost up to 1.6
#: points where the linear model was weak; from 200 rows it gained up to 5.6).
AUTO_MIN_ROWS = 100
#: Inverse L2 penalties tried by the inner search (ridge alphas are their inverses).
LINEAR_START_CS = (0.01, 0.1, 1.0, 10.0, 100.0)
#: Rows the inner search may read (the chosen model is then fitted on every row).
_SEARCH_ROWS = 20_000
#: Rows summarised at a time (float64 statistics of a large table stay small).
_CHUNK_ROWS = 4_096
#: Logit offset of a class that no training row holds: about ``log(1e-7)``.
_ABSENT_CLASS_LOGIT = -16.0


@dataclass
class LinearModel:
    """A fitted linear model in the form ``LinearLogits.set_linear_model`` takes."""

    center: np.ndarray
    scale: np.ndarray
    kernel: np.ndarray
    bias: np.ndarray
    penalty: float


def summary_statistics(series: Sequence[np.ndarray]) -> np.ndarray:
    """The statistics of each row's series, the inputs side by side, read in chunks.

    Examples
    --------
    >>> import numpy as np
    >>> summary_statistics([np.zeros((3, 4, 2)), np.ones((3, 5, 1))]).shape
    (3, 23)
    """
    from .sequence import sequence_statistics

    parts = []
    for values in series:
        values = np.asarray(values)
        chunks = [
            sequence_statistics(values[start : start + _CHUNK_ROWS])
            for start in range(0, len(values), _CHUNK_ROWS)
        ]
        parts.append(np.concatenate(chunks) if chunks else np.zeros((0, 0)))
    return np.concatenate(parts, axis=1)


def fit_linear_start(
    statistics: np.ndarray,
    target: np.ndarray,
    n_outputs: int,
    regression: bool,
    sample_weight: np.ndarray | None = None,
    random_state: int | None = None,
) -> LinearModel | None:
    """Fit the linear model of the target on standardised statistics.

    Parameters
    ----------
    statistics : ndarray of shape (n_samples, n_statistics)
    target : ndarray of shape (n_samples,)
        Class indices ``0..n_outputs-1`` (or 0/1 for one sigmoid output), or the
        regression target as the network learns it.
    n_outputs : int
        The model's logits: 1 for a sigmoid or a regression, else the number of classes.
    regression : bool
    sample_weight : ndarray of shape (n_samples,), default=None
    random_state : int or None
        Rows of the inner search when the table is large.

    Returns
    -------
    LinearModel, or None when the rows hold a single class (nothing to start from).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 1, 2], 20)
    >>> stats = rng.normal(size=(60, 3)) + 2.0 * y[:, None]
    >>> model = fit_linear_start(stats, y, 3, regression=False)
    >>> model.kernel.shape, model.bias.shape
    ((3, 3), (3,))
    >>> logits = (stats - model.center) / model.scale @ model.kernel + model.bias
    >>> bool((logits.argmax(axis=1) == y).mean() > 0.8)
    True
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    statistics = np.asarray(statistics, np.float64)
    target = np.asarray(target).ravel()
    center = statistics.mean(axis=0)
    scale = statistics.std(axis=0)
    scale[~(scale > 1e-12)] = 1.0
    scaled = (statistics - center) / scale
    if regression:
        target = target.astype(np.float64)
        alpha = 1.0 / _chosen_c(scaled, target, sample_weight, True, random_state)
        model = Ridge(alpha=alpha).fit(scaled, target, sample_weight=sample_weight)
        return LinearModel(
            center, scale, model.coef_.reshape(-1, 1), np.atleast_1d(model.intercept_), alpha
        )
    target = target.astype(np.intp)
    present = np.unique(target)
    if len(present) < 2:
        return None
    c = _chosen_c(scaled, target, sample_weight, False, random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence on separable rows: still a good start
        model = LogisticRegression(C=c, max_iter=2000).fit(
            scaled, target, sample_weight=sample_weight
        )
    kernel = np.zeros((scaled.shape[1], n_outputs))
    bias = np.zeros(n_outputs)
    if n_outputs == 1:  # one sigmoid output: the log-odds of class 1
        kernel[:, 0], bias[0] = model.coef_[0], model.intercept_[0]
    elif len(model.classes_) == 2:  # two classes present among more: class b against a
        kernel[:, model.classes_[1]], bias[model.classes_[1]] = model.coef_[0], model.intercept_[0]
        absent = np.setdiff1d(np.arange(n_outputs), model.classes_)
        bias[absent] = _ABSENT_CLASS_LOGIT + min(0.0, model.intercept_[0])
    else:
        kernel[:, model.classes_] = model.coef_.T
        bias[model.classes_] = model.intercept_
        absent = np.setdiff1d(np.arange(n_outputs), model.classes_)
        bias[absent] = _ABSENT_CLASS_LOGIT + model.intercept_.min()
    return LinearModel(center, scale, kernel, bias, 1.0 / c)


def _chosen_c(scaled, target, sample_weight, regression: bool, random_state) -> float:
    """The inverse penalty of ``LINEAR_START_CS`` with the best inner 3-fold score."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

    rows = np.arange(len(target))
    if len(rows) > _SEARCH_ROWS:
        rows = np.sort(np.random.RandomState(random_state).choice(rows, _SEARCH_ROWS, False))
    if regression:
        n_splits = min(3, len(rows))
        splitter = KFold(n_splits, shuffle=True, random_state=0) if n_splits >= 2 else None
        estimator, grid = Ridge(), {"alpha": [1.0 / c for c in LINEAR_START_CS]}
    else:
        smallest = int(np.unique(target[rows], return_counts=True)[1].min())
        n_splits = min(3, max(smallest, 2), len(rows))
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=0)
        estimator, grid = LogisticRegression(max_iter=2000), {"C": list(LINEAR_START_CS)}
    if splitter is None or len(rows) < 2 * n_splits:
        return 1.0
    weights = None if sample_weight is None else np.asarray(sample_weight)[rows]
    with warnings.catch_warnings():
        # A class with fewer rows than folds, or an unconverged fit on separable rows.
        warnings.simplefilter("ignore")
        search = GridSearchCV(estimator, grid, cv=splitter).fit(
            scaled[rows], target[rows], sample_weight=weights
        )
    chosen = search.best_params_
    return 1.0 / chosen["alpha"] if regression else float(chosen["C"])
