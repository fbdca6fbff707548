"""Reshape flat time-step columns into the 3-D ``(samples, timesteps, features)`` of an RNN."""

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["TimeStepReshaper"]


class TimeStepReshaper(TransformerMixin, BaseEstimator):
    """Reshape a numeric table ``(n, f)`` into float32 ``(n, timesteps, f // timesteps)``.

    The input of a Keras ``LSTM``/``GRU`` layer. The columns must be grouped by time step:
    the first ``f // timesteps`` columns are the features at step 0, the next ones the same
    features at step 1, and so on (C order), so that row ``i`` of the output is
    ``X[i].reshape(timesteps, f // timesteps)``. Put it after a scaler in a ``Pipeline``;
    it learns nothing but the number of input columns.

    Parameters
    ----------
    timesteps : int >= 1, default=1
        Number of time steps; must divide the number of columns. ``1`` treats every row as
        a single step with ``f`` features.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when fit on a DataFrame with string column names.
    output_shape_ : tuple of int
        ``(timesteps, n_features_in_ // timesteps)``: the shape of one transformed sample,
        i.e. the ``shape`` of the matching ``keras.Input``.

    Notes
    -----
    The output is 3-D, so there is no ``get_feature_names_out`` and ``set_output`` is not
    available; use ``output_shape_`` instead. Missing or infinite values are rejected, as
    recurrent layers would propagate them to every later step.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.sequence import TimeStepReshaper
    >>> X = np.array([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])
    >>> reshaper = TimeStepReshaper(timesteps=3).fit(X)
    >>> reshaper.output_shape_
    (3, 2)
    >>> reshaper.transform(X)[0]
    array([[1., 2.],
           [3., 4.],
           [5., 6.]], dtype=float32)
    """

    _parameter_constraints: dict = {"timesteps": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, timesteps: int = 1) -> None:
        self.timesteps = timesteps

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "TimeStepReshaper":
        """Check that the number of columns is divisible by ``timesteps``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric data, columns grouped by time step.
        y : None
            Ignored.

        Returns
        -------
        self : TimeStepReshaper
            The fitted reshaper.
        """
        X = validate_data(self, X, reset=True, dtype="numeric")
        n_features = X.shape[1]
        if n_features % self.timesteps:
            raise ValueError(
                f"{type(self).__name__} cannot split {n_features} features (columns) into "
                f"timesteps={self.timesteps} equal steps: the number of features must be a "
                "multiple of timesteps."
            )
        self.output_shape_ = (self.timesteps, n_features // self.timesteps)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``X`` as a float32 array of shape ``(n_samples, *output_shape_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Numeric data with the columns seen in fit.

        Returns
        -------
        X_3d : ndarray of shape (n_samples, timesteps, n_features_in_ // timesteps)
            A new float32 array (never a view of ``X``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C", copy=True)
        return X.reshape(X.shape[0], *self.output_shape_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
