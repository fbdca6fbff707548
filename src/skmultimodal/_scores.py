"""Cross-fitted scores of a classical model, handed to a network as one more dense input.

The machinery that `~skmultimodal.text.TextLinearScores` and
`~skmultimodal.sequence.SequenceLinearScores` share: the target's task and classes, the
out-of-fold scores of ``fit_transform``, the scores of the model refitted on every row in
``transform``, and the scores' format. A subclass says how it reads ``X``
(``_inputs``) and which model it fits (``_model``).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

#: Floor of the out-of-fold log-probabilities (a class absent from one fold's training rows).
LOG_PROBA_FLOOR = float(np.log(1e-7))


@contextmanager
def _inner_fits():
    """The context of the inner models' fits, folds and scores.

    Their steps' outputs stay NumPy / sparse whatever ``set_output`` says globally, and
    scikit-learn's warning about a class with fewer rows than folds is silenced: that
    class's rows still go to some folds, and a fold's model that never saw it scores it
    at the floor.
    """
    with config_context(transform_output="default"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        yield


class CrossFittedScores(TransformerMixin, BaseEstimator):
    """Base class: scores of a model of the target, out-of-fold at ``fit_transform``.

    Subclasses define ``_inputs(X, reset)`` (the rows, indexable by an integer array),
    ``_model()`` (an unfitted estimator with ``predict`` / ``predict_log_proba``), the
    parameters ``task``, ``cv`` and ``random_state``, and may define ``_check_settings()``.
    The inner models run under ``transform_output="default"``, so a global
    ``set_output(transform="pandas")`` never reaches their steps.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> CrossFittedScores:
        """Fit the model on every row.

        Parameters
        ----------
        X : the rows, as the class reads them
        y : array-like of shape (n_samples,)
            The target.

        Returns
        -------
        self
        """
        rows, y = self._validate_fit(X, y)
        with _inner_fits():
            self.model_ = self._fitted(self._model().fit(rows, y))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any) -> np.ndarray:
        """Fit on every row; return each row's scores from a model fitted without it.

        Parameters
        ----------
        X, y
            As in :meth:`fit`.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_scores), dtype float32
            Out-of-fold scores (see the class's Notes).
        """
        rows, y = self._validate_fit(X, y)
        with _inner_fits():
            self.model_ = self._fitted(self._model().fit(rows, y))
            scores = np.empty((len(rows), self._n_scores()), dtype=np.float32)
            for train, test in self._folds(rows, y):
                model = self._model().fit(rows[train], y[train])
                scores[test] = self._scores_of(model, rows[test])
        return scores

    def transform(self, X: Any) -> np.ndarray:
        """Scores of the model fitted on every row.

        Parameters
        ----------
        X : the rows, as the class reads them

        Returns
        -------
        scores : ndarray of shape (n_samples, n_scores), dtype float32
        """
        check_is_fitted(self, "model_")
        with _inner_fits():
            return self._scores_of(self.model_, self._inputs(X, reset=False))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``score`` for one column, else ``score_<class>`` per class."""
        check_is_fitted(self, "model_")
        if self._n_scores() == 1:
            return np.array(["score"], dtype=object)
        return np.array([f"score_{label}" for label in self.classes_], dtype=object)

    # -- helpers ---------------------------------------------------------------------------
    def _check_settings(self) -> None:
        """Raise ValueError for parameters that cannot work together (subclasses)."""

    def _fitted(self, model: Any) -> Any:
        """The fitted model to keep as ``model_`` (subclasses may slim it down)."""
        return model

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} scores its input by a model of the target: fit needs y.")
        rows = self._inputs(X, reset=True)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(rows):
            raise ValueError(
                f"{name} needs one target value per row: got y of shape {y.shape} for "
                f"{len(rows)} rows."
            )
        self._check_settings()
        self.regression_ = self.task == "regression" or (
            self.task == "auto" and y.dtype.kind == "f"
        )
        if self.regression_:
            y = y.astype(np.float64)
            if not np.isfinite(y).all():
                row = int(np.flatnonzero(~np.isfinite(y))[0])
                raise ValueError(f"{name}: the target at row {row} is {y[row]}, not finite.")
            self.target_mean_ = float(y.mean())
            self.target_scale_ = float(y.std()) or 1.0
            vars(self).pop("classes_", None)
        else:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{name} needs at least 2 classes in the target, got {self.classes_.tolist()}."
                )
        return rows, y

    def _n_scores(self) -> int:
        return 1 if self.regression_ or len(self.classes_) == 2 else len(self.classes_)

    def _folds(self, rows: np.ndarray, y: np.ndarray) -> list:
        from sklearn.model_selection import KFold, StratifiedKFold

        if self.regression_:
            n_splits = min(self.cv, len(rows))
            splitter = KFold(n_splits, shuffle=True, random_state=self.random_state)
        else:
            smallest = int(np.unique(y, return_counts=True)[1].min())
            n_splits = min(self.cv, max(smallest, 2), len(rows))
            splitter = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
        if n_splits < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows to cross-fit, got {len(rows)}."
            )
        with _inner_fits():
            return list(splitter.split(np.zeros(len(rows)), y))

    def _scores_of(self, model: Any, rows: np.ndarray) -> np.ndarray:
        if self.regression_:
            predictions = model.predict(rows)
            scores = (predictions - self.target_mean_) / self.target_scale_
            return scores.reshape(-1, 1).astype(np.float32)
        log_proba = np.full((len(rows), len(self.classes_)), LOG_PROBA_FLOOR)
        columns = np.searchsorted(self.classes_, model.classes_)
        with np.errstate(divide="ignore"):
            log_proba[:, columns] = np.maximum(model.predict_log_proba(rows), LOG_PROBA_FLOOR)
        if len(self.classes_) == 2:
            return (log_proba[:, 1:] - log_proba[:, :1]).astype(np.float32)
        return log_proba.astype(np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
