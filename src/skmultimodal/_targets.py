"""Target encoding of the estimators: what the Keras model learns from ``y``, and back.

The regressor's :class:`_RegressionTargetScaler` (optional log, then standardise) and the
classifier's :class:`_MultiOutputLabelEncoder` (several columns of labels, one output per
column), plus the checks on labels shared by ``fit``, ``partial_fit`` and ``score``.
SciKeras' own ``ClassifierLabelEncoder`` serves single-output classification.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._names import unique_names

TARGET_TRANSFORMS = ("standard", "log", "log1p")
# Largest absolute target (after the transform) that float32 training takes: its square
# and the sums of squares of a batch stay finite.
_MAX_TRAINED_TARGET = 1e15
# method -> (function, the test each value must pass against 0, what it needs, the way out)
_LOG_TRANSFORMS = {
    "log": (
        np.log,
        np.greater,
        "positive",
        "target_transform='log1p' for counts with zeros, 'standard'",
    ),
    "log1p": (np.log1p, np.greater_equal, "non-negative", "target_transform='standard'"),
}


def _usable_weights(sample_weight, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as float64 if it can weigh statistics, else None (unweighted).

    Invalid weights (wrong length, negative, non-finite, zero sum) are refused with a
    clear message later, by the weight validation of ``fit``.
    """
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if len(weights) != n_samples or not np.isfinite(weights).all() or (weights < 0).any():
        return None
    return weights if weights.sum() > 0 else None


class _RegressionTargetScaler(TransformerMixin, BaseEstimator):
    """Target encoder of the regressor: per column, optionally log, then standardise.

    The model learns ``(f(y) - mean) / std`` with ``f`` the identity, ``log`` or
    ``log1p``, the statistics taken over the training targets of each column (weighted by
    ``sample_weight`` when given); ``inverse_transform`` maps the model's outputs back to
    the user's units and to ``y``'s shape in fit.

    Parameters
    ----------
    method : {"standard", "log", "log1p"} or None, default="standard"
        None trains on ``y`` as it is (only the shape is handled).
    """

    def __init__(self, method="standard"):
        self.method = method

    def fit(
        self, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> _RegressionTargetScaler:
        y = np.asarray(y)
        self._y_shape = y.shape
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.n_outputs_expected_ = 1
        values = self._forward(y)
        if self.method is None:
            self.mean_ = np.zeros(values.shape[1])
            self.scale_ = np.ones(values.shape[1])
        else:
            weights = _usable_weights(sample_weight, len(values))
            self.mean_ = np.average(values, axis=0, weights=weights)
            # The spread in units of the largest deviation: squaring deviations of 1e-300
            # would underflow to 0 (and those of 1e200 overflow), the ratios cannot.
            deviation = values - self.mean_
            unit = np.max(np.abs(deviation), axis=0)
            unit = np.where(np.isfinite(unit) & (unit > 0), unit, 1.0)
            variance = np.average((deviation / unit) ** 2, axis=0, weights=weights)
            scale = np.sqrt(variance) * unit
            # A constant column keeps its scale: nothing to divide by.
            self.scale_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self._check_trainable(values)
        return self

    def _check_trainable(self, values: np.ndarray) -> None:
        """Refuse targets that float32 training cannot represent once transformed."""
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.abs((values - self.mean_) / self.scale_)
        # Squared errors of float32 outputs overflow far below float32's own maximum.
        bad = ~(scaled <= _MAX_TRAINED_TARGET).all(axis=0)
        if bad.any():
            column = int(np.flatnonzero(bad)[0])
            largest = float(np.nanmax(np.abs(values[:, column])))
            raise ValueError(
                f"Target column {column} holds values up to {largest:.3g} in absolute "
                f"value, which float32 training cannot represent with "
                f"target_transform={self.method!r} (it would train to NaN); use "
                "target_transform='standard' (the default) or 'log', or rescale y."
            )

    def _forward(self, y: np.ndarray) -> np.ndarray:
        values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
            raise ValueError(f"y holds NaN or infinity (row {row}); the target must be finite.")
        if self.method not in _LOG_TRANSFORMS:
            return values
        function, allowed, needs, instead = _LOG_TRANSFORMS[self.method]
        if not allowed(values, 0).all():
            column = int(np.argmin(values.min(axis=0)))
            raise ValueError(
                f"target_transform={self.method!r} needs {needs} targets, but target column "
                f"{column} holds {values[:, column].min()!r}; use {instead}, or shift the "
                "target."
            )
        return function(values)

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} target columns, but the regressor was fitted on "
                f"{self.n_outputs_}."
            )
        scaled = (self._forward(y) - self.mean_) / self.scale_
        return scaled.astype(np.float32).reshape(y.shape)

    def inverse_transform(self, y: np.ndarray) -> np.ndarray:
        values = np.asarray(y, dtype=np.float64).reshape(len(y), -1) * self.scale_ + self.mean_
        if self.method == "log":
            values = np.exp(values)
        elif self.method == "log1p":
            values = np.expm1(values)
        return values.reshape(-1, *self._y_shape[1:])

    def get_metadata(self) -> dict:
        return {"n_outputs_": self.n_outputs_, "n_outputs_expected_": self.n_outputs_expected_}


class _MultiOutputLabelEncoder(TransformerMixin, BaseEstimator):
    """Target encoder for several columns of class labels: one Keras output per column.

    Each column has its own classes. ``transform`` gives one ``(n_samples, 1)`` float32
    array of class indices per column (the order of the model's outputs);
    ``inverse_transform`` turns the model's list of outputs back into a
    ``(n_samples, n_outputs)`` array of labels, or with ``return_proba=True`` into a
    list of ``(n_samples, n_classes_j)`` probability arrays (scikit-learn's convention
    for multi-output classifiers). A two-class column is one sigmoid unit in the model.

    Parameters
    ----------
    target_names : list of str or None, default=None
        Column names of ``y`` (a DataFrame's columns), used in messages and, cleaned up,
        as output layer names; None names the outputs ``output_0``, ``output_1``...
    reserved_names : tuple of str, default=()
        Layer names already taken (the model's inputs); a clashing output is renamed.
    """

    def __init__(self, target_names=None, reserved_names=()):
        self.target_names = target_names
        self.reserved_names = reserved_names

    def fit(self, y: np.ndarray) -> _MultiOutputLabelEncoder:
        y = self._check_2d(np.asarray(y))
        n_outputs = y.shape[1]
        if self.target_names is not None and len(self.target_names) != n_outputs:
            raise ValueError(
                f"target_names has {len(self.target_names)} names but y has {n_outputs} columns."
            )
        self.target_names_ = (
            [str(name) for name in self.target_names]
            if self.target_names is not None
            else [f"output_{j}" for j in range(n_outputs)]
        )
        self.output_names_ = self._layer_names(self.target_names_)
        self.classes_ = []
        for j, name in enumerate(self.target_names_):
            classes = np.unique(_label_column(y[:, j], name))
            if classes.size < 2:
                raise ValueError(
                    f"Target column {name!r} holds only one class ({classes[0]!r}); each "
                    "output of a classifier needs at least 2 classes."
                )
            self.classes_.append(classes)
        self.n_classes_ = [classes.size for classes in self.classes_]
        self.n_outputs_ = n_outputs
        self.n_outputs_expected_ = n_outputs
        return self

    def _check_2d(self, y: np.ndarray) -> np.ndarray:
        if y.ndim != 2 or y.shape[1] < 2:
            raise ValueError(
                f"Expected y of shape (n_samples, n_outputs) with n_outputs >= 2, got {y.shape}."
            )
        if hasattr(self, "n_outputs_") and y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} columns, but the classifier was fitted on "
                f"{self.n_outputs_}: {self.target_names_}."
            )
        return y

    def _layer_names(self, names: list) -> list:
        # Keras layer names must be unique in the model and may not hold "/".
        cleaned = [
            "".join(c if c.isalnum() or c in "_-." else "_" for c in name) or f"output_{j}"
            for j, name in enumerate(names)
        ]
        return unique_names(cleaned, taken=self.reserved_names)

    def transform(self, y: np.ndarray) -> list:
        check_is_fitted(self, "classes_")
        y = self._check_2d(np.asarray(y))
        encoded = []
        for j, (name, classes) in enumerate(zip(self.target_names_, self.classes_, strict=True)):
            column = _label_column(y[:, j], name)
            index = np.searchsorted(classes, column).clip(0, classes.size - 1)
            unseen = classes[index] != column
            if unseen.any():
                raise ValueError(
                    f"Target column {name!r} holds label(s) {np.unique(column[unseen]).tolist()} "
                    f"that were not seen in fit; the classifier knows {classes.tolist()}."
                )
            encoded.append(index.astype(np.float32).reshape(-1, 1))
        return encoded

    def inverse_transform(self, y, return_proba: bool = False):
        check_is_fitted(self, "classes_")
        if isinstance(y, Mapping):
            y = [y[name] for name in self.output_names_]
        elif not isinstance(y, (list, tuple)):
            y = [y]
        if len(y) != self.n_outputs_:
            raise ValueError(f"Expected {self.n_outputs_} model outputs, got {len(y)}.")
        probas = []
        for output, classes in zip(y, self.classes_, strict=True):
            output = np.asarray(output)
            if output.ndim == 1:
                output = output.reshape(-1, 1)
            if output.shape[1] == 1 and classes.size == 2:
                output = np.hstack([1 - output, output])
            probas.append(output)
        if return_proba:
            return probas
        kinds = {classes.dtype.kind for classes in self.classes_}
        # Columns of strings and numbers can only share an object array.
        dtype = np.result_type(*self.classes_) if len(kinds) == 1 else object
        labels = np.empty((len(probas[0]), self.n_outputs_), dtype=dtype)
        for j, (proba, classes) in enumerate(zip(probas, self.classes_, strict=True)):
            labels[:, j] = classes[np.argmax(proba, axis=1)]
        return labels

    def get_metadata(self) -> dict:
        return {
            "classes_": self.classes_,
            "n_classes_": self.n_classes_,
            "n_outputs_": self.n_outputs_,
            "n_outputs_expected_": self.n_outputs_expected_,
            "output_names_": self.output_names_,
        }


def _label_column(column: np.ndarray, name: str) -> np.ndarray:
    """One target column as an array NumPy can sort: strings or numbers, not both."""
    if column.dtype == object:
        values = column.tolist()
        if all(isinstance(value, str) for value in values):
            column = np.asarray(values, dtype=str)
        elif not any(isinstance(value, (str, bytes)) for value in values):
            column = np.asarray(values)
        else:
            raise TypeError(
                f"Target column {name!r} mixes strings and numbers; use one type per column."
            )
    if column.dtype.kind == "f" and not np.all(np.mod(column, 1) == 0):
        raise ValueError(
            f"Unknown label type: target column {name!r} holds continuous values; a "
            "classifier needs class labels (use MultiInputKerasRegressor for numbers)."
        )
    if column.dtype.kind not in "biufUS":
        raise TypeError(f"Target column {name!r} has dtype {column.dtype}; expected labels.")
    return column


def _missing_target_cells(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind == "O":
        bad = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in y.ravel()])
        return bad.reshape(y.shape)
    return np.zeros(y.shape, dtype=bool)


def _missing_target_rows(y: np.ndarray) -> np.ndarray:
    bad = _missing_target_cells(y)
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(1, bad.ndim)))
    return np.flatnonzero(bad)


def _refuse_continuous_labels(y) -> None:
    """Raise the classifier's error for a ``y`` of non-integer numbers."""
    values = np.asarray(y, dtype=np.float64)
    fractional = (values != np.round(values)).reshape(len(values), -1).any(axis=1)
    row = int(np.argmax(fractional))
    raise ValueError(
        f"Unknown label type: y holds continuous values (first at row {row}: "
        f"{values[row].tolist()!r}), but a classifier needs class labels. Use "
        "MultiInputKerasRegressor for numeric targets, or turn them into classes "
        "first (e.g. np.round or pd.cut)."
    )


def _check_labels_in_classes(y, classes, given: bool, warm_start: bool = False) -> None:
    """Refuse labels of a 1-D ``y`` that are not among ``classes`` (partial_fit, or a fit
    with ``warm_start=True`` that goes on training the fitted model)."""
    y = np.asarray(y)
    if classes is None or y.ndim != 1:
        return
    classes = np.asarray(classes)
    try:
        unseen = np.setdiff1d(np.unique(y), classes)
    except TypeError:  # labels and classes of different types: none can match
        unseen = np.unique(y.astype(str))
    if unseen.size and warm_start:
        raise ValueError(
            f"warm_start=True goes on training the fitted model, whose classes are "
            f"{classes.tolist()}; y holds new label(s) {unseen.tolist()}, which that model "
            "has no output for. Fit with warm_start=False to learn a model of every class."
        )
    if unseen.size:
        origin = "the classes passed to partial_fit" if given else "the classifier's classes_"
        raise ValueError(
            f"y holds label(s) {unseen.tolist()} that are not in {origin} "
            f"{classes.tolist()}; pass every label that can occur as classes=... in the "
            "first partial_fit call."
        )
