"""Rows with a missing modality: the presence mask that travels with an input.

A transformer asked for ``on_missing="mask"`` (:class:`~skmultimodal.ImageLoader`,
:class:`~skmultimodal.TextTokenizer`, :class:`~skmultimodal.TimeStepReshaper`,
:class:`~skmultimodal.ArrayColumnStacker`) returns a
:class:`MaskedInput`: its usual array, with a neutral placeholder (a blank image, a row of
padding, zeros) in the rows that have no value, and a boolean ``present`` vector.
:class:`~skmultimodal.MultiInputTransformer` turns the output of step ``name`` into two dict
entries: ``name`` (the array) and ``name + PRESENCE_SUFFIX`` (the mask, ``True`` where the
row has the modality).

The estimators read a key ``"<input>__present"`` holding a boolean array of shape
``(n_samples,)`` as the presence mask of input ``"<input>"``: inside the model, the input of
an absent row is replaced by zeros before its branch, the branch's output by its mean over
the present training rows, and the output logits get a learnt offset per absent branch. A
row's prediction therefore does not depend on the placeholder in an absent input. A dict
passed straight to an estimator may carry masks the same way; at ``predict``, a mask the
model was fitted with may be left out (every row is then present). No step name can end in
``"__present"`` (scikit-learn forbids ``"__"`` in step names), so a mask key never collides
with an input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, validate_data

PRESENCE_SUFFIX = "__present"


@dataclass(frozen=True, eq=False)
class MaskedInput:
    """A transformed input with a per-row presence mask.

    Parameters
    ----------
    values : ndarray or LazyImages
        The transformer's usual output, one row per sample; rows without a value hold a
        neutral placeholder.
    present : ndarray of shape (n_samples,), dtype bool
        ``True`` where the row has a value.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.missing import MaskedInput
    >>> masked = MaskedInput(np.zeros((3, 2), dtype="float32"), np.array([True, False, True]))
    >>> len(masked), masked.n_missing
    (3, 1)
    """

    values: Any
    present: np.ndarray

    def __post_init__(self) -> None:
        present = np.asarray(self.present)
        if present.dtype != bool or present.ndim != 1:
            raise ValueError(
                "MaskedInput.present must be a 1-D boolean array, got dtype "
                f"{present.dtype} and shape {present.shape}."
            )
        if len(present) != len(self.values):
            raise ValueError(
                f"MaskedInput has {len(self.values)} rows of values but {len(present)} "
                "presence flags; they must match."
            )
        object.__setattr__(self, "present", present)

    def __len__(self) -> int:
        return len(self.present)

    @property
    def n_missing(self) -> int:
        """Number of rows without a value."""
        return int(np.count_nonzero(~self.present))


def presence_key(name: str) -> str:
    """The dict key of input ``name``'s presence mask.

    Examples
    --------
    >>> presence_key("image")
    'image__present'
    """
    return f"{name}{PRESENCE_SUFFIX}"


def masked_input_name(key: str) -> str | None:
    """The input a presence-mask key belongs to, or None when ``key`` is not one.

    Examples
    --------
    >>> masked_input_name("image__present"), masked_input_name("image")
    ('image', None)
    """
    if key.endswith(PRESENCE_SUFFIX) and len(key) > len(PRESENCE_SUFFIX):
        return key[: -len(PRESENCE_SUFFIX)]
    return None


def is_missing_value(value: Any) -> bool:
    """Whether one table cell holds no value: None, NaN, ``pd.NA``, ``NaT`` or a blank string.

    Examples
    --------
    >>> [is_missing_value(v) for v in (None, float("nan"), "", "  ", "a.png", 0)]
    [True, True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (str, bytes)):
        return not value.strip()
    if isinstance(value, np.floating):
        return bool(np.isnan(value))
    return False


def missing_rows(values: list) -> np.ndarray:
    """Boolean mask of the cells of ``values`` that hold no value (see `is_missing_value`).

    Examples
    --------
    >>> missing_rows(["a", None, ""]).tolist()
    [False, True, True]
    """
    return np.fromiter((is_missing_value(v) for v in values), dtype=bool, count=len(values))


class MaskMissingRows(TransformerMixin, BaseEstimator):
    """Mark the rows whose columns are all missing as absent, and transform the others.

    Wraps a transformer of a group of table columns (numbers, categories) that is one
    modality: a row with no value in any of its columns has no such modality. The wrapped
    transformer is fitted on the other rows only; ``transform`` returns a
    :class:`MaskedInput` whose rows without a value are zeros, so that
    :class:`~skmultimodal.MultiInputTransformer` passes the mask on as ``"<step>__present"``
    and the estimators ignore those rows' placeholder. Rows with only some columns missing
    are the wrapped transformer's to handle (an imputer, say).

    Parameters
    ----------
    transformer : estimator
        A transformer whose output is 2-D (dense or sparse) with one row per input row.

    Attributes
    ----------
    transformer_ : estimator
        The fitted clone of ``transformer``.
    output_shape_ : tuple of int
        Shape of one output row.
    n_features_in_ : int
        Number of columns seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmultimodal.missing import MaskMissingRows
    >>> X = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, 4.0]])
    >>> masked = MaskMissingRows(StandardScaler()).fit_transform(X)
    >>> masked.present.tolist()
    [True, False, True]
    >>> masked.values.tolist()
    [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]
    """

    _parameter_constraints: dict = {"transformer": [HasMethods(["fit", "transform"])]}

    def __init__(self, transformer: Any) -> None:
        self.transformer = transformer

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None) -> MaskMissingRows:
        """Fit a clone of ``transformer`` on the rows that have a value.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Passed on for the rows that have a value.

        Returns
        -------
        self : MaskMissingRows
        """
        self._fit(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X: Any, y: Any = None) -> MaskedInput:
        """Fit, then transform ``X`` (see :meth:`transform`).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None

        Returns
        -------
        MaskedInput
        """
        X, present = self._fit(X, y)
        return self._masked(X, present)

    def transform(self, X: Any) -> MaskedInput:
        """Transform the rows with a value; the others become zeros, flagged absent.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        MaskedInput
            ``values`` of shape (n_samples, n_outputs) and ``present``.
        """
        check_is_fitted(self)
        X = self._checked(X, reset=False)
        return self._masked(X, self._present_rows(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The wrapped transformer's output names (the presence flags are not columns).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Passed to the wrapped transformer's ``get_feature_names_out``.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "transformer_")
        return self.transformer_.get_feature_names_out(input_features)

    def _checked(self, X: Any, reset: bool) -> Any:
        """A DataFrame as it is (one-column Series as a frame), anything else as a 2-D array
        or CSR matrix; NaN allowed, the column count checked against fit."""
        if hasattr(X, "iloc"):
            if X.ndim == 1:
                X = X.to_frame()
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        return validate_data(
            self, X, reset=reset, accept_sparse=["csr"], dtype=None, ensure_all_finite=False
        )

    def _fit(self, X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """Fit on the present rows; return the checked ``X`` and the present rows."""
        X = self._checked(X, reset=True)
        present = self._present_rows(X)
        if not present.any():
            raise ValueError(
                f"{type(self).__name__}: every row of the {self.n_features_in_} column(s) is "
                "missing; there is nothing to fit."
            )
        rows = np.flatnonzero(present)
        self.transformer_ = clone(self.transformer).fit(
            _take(X, rows), None if y is None else _take(y, rows)
        )
        sample = self.transformer_.transform(_take(X, rows[:1]))
        self.output_shape_ = tuple(np.shape(sample)[1:])
        return X, present

    def _present_rows(self, X: Any) -> np.ndarray:
        if sparse.issparse(X):
            # Implicit zeros are values; a row is absent only if it stores NaN everywhere.
            X = sparse.csr_matrix(X)
            nan = sparse.csr_matrix(
                (np.isnan(X.data).astype(np.int64), X.indices, X.indptr), X.shape
            )
            n_nan = np.asarray(nan.sum(axis=1)).ravel()
            return (n_nan < X.shape[1]) if X.shape[1] else np.ones(X.shape[0], dtype=bool)
        frame = pd.DataFrame(X) if not hasattr(X, "isna") else X
        if frame.ndim == 1:
            frame = frame.to_frame()
        missing = frame.isna().to_numpy()
        # No column at all is no evidence of absence: the wrapped step says what it needs.
        return ~missing.all(axis=1) if missing.shape[1] else np.ones(len(missing), dtype=bool)

    def _masked(self, X: Any, present: np.ndarray) -> MaskedInput:
        rows = np.flatnonzero(present)
        values = np.zeros((len(present), *self.output_shape_), dtype=np.float32)
        if len(rows):
            part = self.transformer_.transform(X if len(rows) == len(present) else _take(X, rows))
            part = part.toarray() if sparse.issparse(part) else np.asarray(part)
            values = values.astype(np.result_type(values, part), copy=False)
            values[rows] = part
        return MaskedInput(values, present)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _take(X: Any, rows) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return X[rows] if sparse.issparse(X) else np.asarray(X)[rows]
