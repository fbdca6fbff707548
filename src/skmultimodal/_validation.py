"""Input validation of the estimators: the dict of arrays (or one array) and sample weights.

Checks what a user can get wrong before any TensorFlow work, and names the input, row
and fix in each message: shapes and kinds against fit, numeric dtypes, NaN/inf, token ids
in range, values that float32 cannot hold, pandas nullable dtypes, sparse matrices, and
sample weights. :class:`_InputValidation` holds the estimator methods (it replaces
SciKeras' ``_validate_data``, which only takes one 2-D array); the module functions are
stateless.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import _check_sample_weight, _num_samples, validate_data

from ._targets import _missing_target_cells, _missing_target_rows
from .architecture import (
    INPUT_KINDS,
    INPUT_NDIM,
    PRESENCE_KIND,
    SINGLE_INPUT_NAME,
    infer_input_kind,
)
from .lazy import LazyImages, take_rows
from .missing import masked_input_name, presence_key

# Name of the model's input when X is one array instead of a dict.
SINGLE_INPUT = SINGLE_INPUT_NAME
# Largest number of rows of a token input's Embedding (ids 0 .. MAX_VOCABULARY_SIZE - 1).
# A column of years, zip codes or timestamps taken for token ids would otherwise build an
# Embedding with as many rows as its largest value (10**9 ids: 22 GB, the process killed).
# TextTokenizer vocabularies are far smaller; it also keeps ids inside int32.
MAX_VOCABULARY_SIZE = 10_000_000


def _as_model_dtype(array: np.ndarray, kind: str) -> np.ndarray:
    """Cast one input to what the Keras input layer expects (no copy when it already is)."""
    if sparse.issparse(array):
        return array  # float32 CSR already (_validate_sparse_input)
    if kind == "tokens":
        return array.astype(np.int32, copy=False)
    if kind == "image" and array.dtype == np.uint8:
        return array
    if kind == PRESENCE_KIND:
        return array.astype(np.float32).reshape(-1, 1)
    return array.astype(np.float32, copy=False)


def _checked_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """``sample_weight`` as float64, refusing negative and non-finite weights.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or scalar
    n_samples : int

    Returns
    -------
    ndarray of shape (n_samples,), float64
    """
    try:
        weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        weights = np.zeros(0)  # not numbers: scikit-learn's check below says so
    for bad, what in ((~np.isfinite(weights), "NaN or infinite"), (weights < 0, "negative")):
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"sample_weight holds {int(bad.sum())} {what} weight(s), first at row {row} "
                f"({float(weights[row])!r}); weights must be finite and >= 0 (0 drops a sample)."
            )
    return _check_sample_weight(sample_weight, np.empty((n_samples, 0)), dtype=np.float64)


def _mean_one(sample_weight: np.ndarray) -> np.ndarray:
    """Weights (finite, >= 0, not all 0) scaled to mean 1, as float32.

    Computed in float64 and divided by the largest weight first, so that neither huge
    weights (1e38: a float32 sum is inf, every weight 0) nor tiny ones (1e-320: the mean
    is 0) overflow.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    weights = weights / weights.max()
    return (weights * (len(weights) / weights.sum())).astype(np.float32)


def _check_token_ids(key: str, array: np.ndarray, limit: int | None, fitted: bool) -> None:
    """Refuse token ids that are not whole numbers in ``[0, limit)`` before the int32 cast.

    Parameters
    ----------
    key : str
        Input name, for the message.
    array : ndarray
        The input as given (any integer or float dtype).
    limit : int or None
        One past the largest allowed id: ``MAX_VOCABULARY_SIZE`` in fit, the fitted
        vocabulary size at predict; None checks only that the ids are whole and >= 0.
    fitted : bool
        Whether ``limit`` is the fitted vocabulary (changes the advice in the message).
    """
    if array.size == 0:
        return
    if array.dtype.kind == "f" and not np.array_equal(array, np.floor(array)):
        row = int(np.argmax((array != np.floor(array)).reshape(len(array), -1).any(axis=1)))
        raise ValueError(
            f"Input {key!r} is used as token ids but holds non-integer values (first at "
            f"row {row}); pass input_kinds={{{key!r}: 'tabular'}} for numeric features."
        )
    low, high = array.min().item(), array.max().item()
    if low < 0:
        raise ValueError(
            f"Input {key!r} holds negative token ids (smallest {low!r}); ids must be >= 0. "
            f"Pass input_kinds={{{key!r}: 'tabular'}} if these are numeric features."
        )
    if limit is None or high < limit:
        return
    if fitted:
        raise ValueError(
            f"Input {key!r} holds token ids in [{low!r}, {high!r}], but the model was "
            f"fitted with ids in [0, {limit - 1}]; use the tokenizer fitted with this "
            "estimator."
        )
    raise ValueError(
        f"Input {key!r} is taken as token ids, but its largest id is {high!r}: an "
        f"Embedding that large cannot be built (at most MAX_VOCABULARY_SIZE = {limit:,} "
        "ids). If it holds numbers such as years, zip codes or timestamps, pass "
        f"input_kinds={{{key!r}: 'tabular'}}; if it holds text, encode it with "
        "TextTokenizer first."
    )


def _check_float32_range(key: str, original, cast) -> None:
    """Refuse finite values that became infinite in the float32 cast (e.g. 1e39)."""
    if not isinstance(cast, np.ndarray) or cast.dtype != np.float32:
        return
    if getattr(original, "dtype", None) is None or original.dtype.itemsize <= 4:
        return  # float16/float32/int8..int32 values always fit float32.
    overflow = np.isinf(cast) & np.isfinite(np.asarray(original, dtype=np.float64))
    if overflow.any():
        bad_row = int(np.argmax(overflow.reshape(len(cast), -1).any(axis=1)))
        largest = np.nanmax(np.abs(np.asarray(original, dtype=np.float64)))
        raise ValueError(
            f"Input {key!r} holds values too large for float32 (first at row {bad_row}, "
            f"largest magnitude {largest:.3g} > {np.finfo(np.float32).max:.3g}); the "
            "model computes in float32: rescale that input (e.g. StandardScaler or a "
            "log transform)."
        )


def _first_non_finite_row(array: np.ndarray) -> int | None:
    if array.dtype.kind != "f":
        return None
    finite = np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    return None if finite.all() else int(np.argmin(finite))


def _validate_sparse_input(key: str, value) -> sparse.csr_matrix:
    """A scipy sparse input as a float32 CSR matrix with sorted indices (a tabular input)."""
    if value.dtype.kind not in "biuf":
        raise TypeError(
            f"Input {key!r} is a sparse matrix of dtype {value.dtype}; expected numbers."
        )
    if value.shape[0] == 0:
        raise ValueError(f"Input {key!r} has 0 samples; at least 1 is required.")
    matrix = sparse.csr_matrix(value, dtype=np.float32, copy=True)
    matrix.sum_duplicates()  # also sorts the indices, as TensorFlow's SparseTensor needs
    bad = np.flatnonzero(~np.isfinite(matrix.data))
    if bad.size:
        row = int(np.searchsorted(matrix.indptr, bad[0], side="right") - 1)
        raise ValueError(
            f"Input {key!r} contains NaN or infinity (first at row {row}); impute or drop "
            "those values."
        )
    return matrix


def _num_rows(array) -> int:
    return array.shape[0] if sparse.issparse(array) else len(array)


def _is_pandas(value) -> bool:
    return isinstance(value, (pd.DataFrame, pd.Series))


def _from_nullable_pandas(key: str, frame) -> np.ndarray:
    """A DataFrame or Series as a numeric array, nullable dtypes (Float64, Int64, boolean) included.

    ``np.asarray`` turns a frame mixing nullable and NumPy columns into an object array,
    and ``pd.NA`` into an object that is neither a number nor NaN; both are handled here.
    """
    dtypes = list(frame.dtypes) if isinstance(frame, pd.DataFrame) else [frame.dtype]
    if not any(isinstance(dtype, pd.api.extensions.ExtensionDtype) for dtype in dtypes):
        return np.asarray(frame)
    if not all(_is_numeric_dtype(dtype) for dtype in dtypes):
        return np.asarray(frame)  # strings or categories: refused below as non-numeric
    missing = np.asarray(frame.isna()).reshape(len(frame), -1)
    if missing.any():
        row = int(np.argmax(missing.any(axis=1)))
        where = f"row {row}"
        if isinstance(frame, pd.DataFrame):
            where += f", column {frame.columns[int(np.argmax(missing[row]))]!r}"
        raise ValueError(
            f"Input {key!r} contains missing values (pd.NA/NaN), first at {where}; impute "
            "or drop those values."
        )
    numpy_dtypes = [getattr(dtype, "numpy_dtype", dtype) for dtype in dtypes]
    return frame.to_numpy(dtype=np.result_type(*numpy_dtypes))


def _is_numeric_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def check_numeric_target(y: np.ndarray) -> None:
    """Refuse a regression target that holds a value that is not a number, naming it."""
    values = np.asarray(y)
    if values.dtype.kind in "biuf":
        return
    for row, value in enumerate(values.ravel()):
        if value is None or isinstance(value, (bool, np.bool_)):
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"A regression target must hold numbers; y holds {value!r} at row "
                f"{row // (values.size // len(values))}. For labels use a "
                "classifier (task='classification', or --task classification on the "
                "command line)."
            ) from None


def check_label_types(y: np.ndarray) -> None:
    """Refuse labels of several Python types (``1`` and ``"1"``): they would be different
    classes that print alike, and scikit-learn cannot sort or type them."""
    values = np.asarray(y)
    if values.dtype != object:
        return
    if values.ndim == 2:  # one output per column: each may have its own type
        for column in range(values.shape[1]):
            check_label_types(values[:, column])
        return
    kinds = {}
    for row, value in enumerate(values.ravel()):
        if value is None or (isinstance(value, float) and value != value):
            continue  # missing: refused on its own, with its row
        kind = "number" if isinstance(value, (int, float, np.number)) else type(value).__name__
        if isinstance(value, (bool, np.bool_)):
            kind = "bool"
        kinds.setdefault(kind, (row, value))
    if len(kinds) > 1:
        examples = ", ".join(
            f"{value!r} ({kind}, row {row})" for kind, (row, value) in kinds.items()
        )
        raise ValueError(
            f"y mixes labels of different types: {examples}. Labels such as 1 and '1' would "
            "be different classes that print alike; convert y to one type first, e.g. "
            "y.astype(str)."
        )


def _checked_presence_groups(groups: Mapping, kinds: Mapping) -> dict[str, list[str]]:
    """``groups`` (``{"<input>__present": [inputs]}``, from a ``MultiInputTransformer``'s
    output) checked against the inputs of X: each key a presence mask of X, each listed
    input an input of X without a mask of its own."""
    checked = {}
    for key, names in groups.items():
        if kinds.get(key) != PRESENCE_KIND:
            raise ValueError(
                f"X's presence_groups name {key!r}, which is not a presence mask of X; X has "
                f"{sorted(kinds)}. Pass the transformer's output to fit as it is."
            )
        wrong = [
            name
            for name in names
            if name not in kinds or kinds[name] == PRESENCE_KIND or presence_key(name) in kinds
        ]
        if wrong:
            raise ValueError(
                f"X's presence_groups switch {wrong} off with {key!r}, but X has no such "
                f"input, or it has a presence mask of its own; X has {sorted(kinds)}."
            )
        checked[str(key)] = [str(name) for name in names]
    return checked


def _validate_presence(key: str, value, base: str) -> np.ndarray:
    """A presence mask: a boolean array of shape (n_samples,) (or (n_samples, 1))."""
    array = value.to_numpy() if _is_pandas(value) else np.asarray(value)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()
    if array.dtype != bool or array.ndim != 1:
        raise ValueError(
            f"Input {key!r} is read as the presence mask of input {base!r} (its name ends "
            f"in '__present'), so it must be a boolean array of shape (n_samples,); got "
            f"dtype {array.dtype} and shape {array.shape}."
        )
    if len(array) == 0:
        raise ValueError(f"Input {key!r} has 0 samples; at least 1 is required.")
    return array


def _zero_absent_rows(key: str, array, absent: np.ndarray):
    """``array`` with the rows flagged absent replaced by zeros (a copy when any is)."""
    if not absent.any() or isinstance(array, LazyImages):
        # A LazyImages decodes absent rows (no path) as blank images; the model zeroes
        # them again whatever they hold.
        return array
    array = np.array(array, copy=True)
    if array.dtype.kind not in "biuf":
        return array  # refused, naming the input, by _validate_input_array
    array[absent] = 0
    return array


def _validate_input_array(key: str, value, absent: np.ndarray | None = None) -> np.ndarray:
    if sparse.issparse(value):
        if absent is not None:
            raise ValueError(
                f"Input {key!r} is a sparse matrix with a presence mask "
                f"{presence_key(key)!r}; masks apply to dense inputs only. A sparse row of "
                "zeros (e.g. the TF-IDF of a missing text) already carries no signal: drop "
                "the mask."
            )
        return _validate_sparse_input(key, value)
    # Lazily loaded images know their shape and dtype; decoding them here would defeat them.
    if isinstance(value, LazyImages):
        array = value
    else:
        array = _from_nullable_pandas(key, value) if _is_pandas(value) else np.asarray(value)
    if absent is not None and array.ndim >= 1 and len(array) == len(absent):
        # The placeholder of an absent row may be anything, NaN included.
        array = _zero_absent_rows(key, array, absent)
    if array.ndim < 2:
        raise ValueError(
            f"Input {key!r} has shape {array.shape}; expected at least 2 dimensions "
            "(n_samples, ...). Reshape a single feature with array.reshape(-1, 1)."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Input {key!r} has dtype {array.dtype}; expected numbers. Raw strings or "
            "paths must be transformed first (TextTokenizer, ImageLoader)."
        )
    if len(array) == 0:
        raise ValueError(f"Input {key!r} has 0 samples; at least 1 is required.")
    if array.ndim == 3 and array.dtype.kind == "f":
        _check_sequence_values(key, array)
        return array
    bad_row = _first_non_finite_row(array)
    if bad_row is not None:
        raise ValueError(
            f"Input {key!r} contains NaN or infinity (first at row {bad_row}); impute or "
            "drop those values."
        )
    return array


def _check_sequence_values(key: str, array: np.ndarray) -> None:
    """A sequence input may hold padding steps (NaN in every feature), nothing else non-finite.

    Raises a ValueError naming the row (and time step) of an infinity, of a NaN in only some
    features of a step, or of a row without any real step.
    """
    nan = np.isnan(array)
    padding = nan.all(axis=2)
    partial = nan.any(axis=2) & ~padding
    infinite = np.isinf(array).any(axis=2)
    for bad, what in (
        (infinite, "an infinite value"),
        (partial, "a NaN in some but not all of its features"),
    ):
        if bad.any():
            row, step = np.argwhere(bad)[0]
            raise ValueError(
                f"Input {key!r} has {what} at row {row}, time step {step}. A time step that "
                "is NaN in every feature is padding (skipped by the model); impute or drop "
                "other missing values."
            )
    empty = padding.all(axis=1)
    if empty.any():
        raise ValueError(
            f"Input {key!r}: row {int(np.argmax(empty))} has no time step (every step is "
            "padding, NaN); drop the row, or mark it absent (on_missing='mask')."
        )


class _InputValidation:
    """Estimator methods that validate ``X``, ``y`` and ``sample_weight`` (fit and predict)."""

    def _validate_data(self, X=None, y=None, reset: bool = False, y_numeric: bool = False):
        if y is not None:
            y = self._validate_target(y, reset=reset, y_numeric=y_numeric)
        if X is not None:
            # scipy's DOK sparse format is a dict subclass: rule sparse input out first.
            if isinstance(X, Mapping) and not sparse.issparse(X):
                X = self._validate_dict(X, reset=reset)
            else:
                X = self._validate_array(X, reset=reset)
            if y is not None and _num_samples(y) != self._n_samples(X):
                raise ValueError(
                    f"X has {self._n_samples(X)} samples but y has {_num_samples(y)}; "
                    "they must have the same length."
                )
        return X, y

    @staticmethod
    def _n_samples(X) -> int:
        if isinstance(X, Mapping):
            return _num_rows(next(iter(X.values())))
        return len(X)

    def _validate_target(self, y, reset: bool, y_numeric: bool):
        if sparse.issparse(y):
            raise TypeError("A sparse y is not supported; pass a dense array.")
        y_array = np.asarray(y)
        if y_array.ndim == 2 and y_array.shape[1] == 1 and not self._multi_output_target():
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
            y = y_array = y_array.ravel()
        missing = _missing_target_rows(y_array)
        if missing.size:
            where = f"row {int(missing[0])}"
            if y_array.ndim == 2:
                column = int(np.flatnonzero(_missing_target_cells(y_array)[missing[0]])[0])
                names = getattr(y, "columns", None)
                where += f", column {names[column] if names is not None else column!r}"
            raise ValueError(
                f"y contains {missing.size} missing value(s) (NaN/None), first at {where}; "
                "drop or impute those rows before fitting."
            )
        if is_classifier(self):
            check_label_types(y_array)
        else:
            check_numeric_target(y_array)
        _, y = super()._validate_data(X=None, y=y, reset=reset, y_numeric=y_numeric)
        return y

    def _multi_output_target(self) -> bool:
        return True

    def _validate_array(self, X, reset: bool) -> np.ndarray:
        if not reset and self.input_names_ is not None:
            raise ValueError(
                f"This estimator was fitted on a dict with keys {self.input_names_}, but X "
                f"is a single {type(X).__name__}."
            )
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=False,
            allow_nd=True,
            dtype="numeric",
            ensure_all_finite=True,
        )
        kind = self._input_kind_for(SINGLE_INPUT, X, single=True)
        X = self._to_model_dtype(SINGLE_INPUT, X, kind, reset)
        if reset:
            self.input_names_ = None
            self._record_inputs({SINGLE_INPUT: X}, {SINGLE_INPUT: kind})
            self.presence_groups_ = {}
        else:
            self._check_against_fit({SINGLE_INPUT: X})
        return X

    def _validate_dict(self, X: Mapping, reset: bool) -> dict:
        if not X:
            raise ValueError("X is an empty dict; expected one array per model input.")
        for key in X:
            if not isinstance(key, str):
                raise TypeError(f"X keys must be input names (str), got {key!r}.")
        masks = {
            key: _validate_presence(key, value, masked_input_name(key))
            for key, value in X.items()
            if masked_input_name(key) in X
        }
        arrays = {}
        for key, value in X.items():
            if key in masks:
                arrays[key] = masks[key]
                continue
            mask = masks.get(presence_key(key))
            arrays[key] = _validate_input_array(key, value, None if mask is None else ~mask)
        lengths = {key: _num_rows(array) for key, array in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"All inputs in X must have the same number of samples; got {lengths}."
            )
        if reset:
            for key, mask in masks.items():
                if len(mask) and not np.asarray(mask).any():
                    base = masked_input_name(key)
                    raise ValueError(
                        f"Input {base!r} is absent from every training row (its presence "
                        f"mask {key!r} is all False): the model cannot learn what it adds, "
                        "yet rows that have it at predict time would move the predictions "
                        f"arbitrarily. Drop {base!r} (and its mask), or train on rows that "
                        "have it."
                    )
        if not reset:
            arrays = self._with_fitted_masks(arrays)
            self._check_fitted_on_dict(arrays)
            arrays = {key: arrays[key] for key in self.input_names_}
            kinds = self.input_kinds_
        else:
            kinds = {
                key: PRESENCE_KIND if key in masks else self._input_kind_for(key, array)
                for key, array in arrays.items()
            }
        arrays = {
            key: self._to_model_dtype(key, array, kinds[key], reset)
            for key, array in arrays.items()
        }
        if reset:
            for attribute in ("n_features_in_", "feature_names_in_"):
                vars(self).pop(attribute, None)
            self.input_names_ = list(arrays)
            self._record_inputs(arrays, kinds)
            self.presence_groups_ = _checked_presence_groups(
                getattr(X, "presence_groups", {}), kinds
            )
        else:
            self._check_against_fit(arrays)
            arrays = self._as_fitted_sparsity(arrays)
        return arrays

    def _with_fitted_masks(self, arrays: dict) -> dict:
        """``arrays`` with an all-present mask for each mask fitted but not given, and a
        clear error for a mask the model was fitted without."""
        fitted = self.input_names_ or []
        for key in list(arrays):
            base = masked_input_name(key)
            if base in arrays and key not in fitted:
                raise ValueError(
                    f"X has the presence mask {key!r}, but the estimator was fitted without "
                    f"one for input {base!r}, so it cannot tell absent rows apart; fit with "
                    f"the mask (e.g. on_missing='mask' in the step that makes {base!r})."
                )
        n_rows = _num_rows(next(iter(arrays.values())))
        for key in fitted:
            if key not in arrays and self.input_kinds_.get(key) == PRESENCE_KIND:
                arrays[key] = np.ones(n_rows, dtype=bool)
        return arrays

    def _to_model_dtype(self, key: str, array, kind: str, reset: bool):
        """Cast one validated input for Keras, refusing values the cast would corrupt."""
        if kind == "tokens" and not sparse.issparse(array):
            limit = MAX_VOCABULARY_SIZE if reset else self.vocabulary_sizes_.get(key)
            _check_token_ids(key, np.asarray(array), limit, fitted=not reset)
        with np.errstate(over="ignore"):  # overflow is reported below, naming the input
            cast = _as_model_dtype(array, kind)
        if cast is not array:
            _check_float32_range(key, array, cast)
        return cast

    def _as_fitted_sparsity(self, arrays: dict) -> dict:
        """Sparse where the model has a sparse input, dense elsewhere (e.g. a dense
        ``predict`` input for a model fitted on a sparse one)."""
        sparse_keys = set(getattr(self, "sparse_inputs_", ()))
        converted = {}
        for key, array in arrays.items():
            if key in sparse_keys and not sparse.issparse(array):
                array = sparse.csr_matrix(np.asarray(array, dtype=np.float32))
            elif key not in sparse_keys and sparse.issparse(array):
                array = array.toarray()
            converted[key] = array
        return converted

    def _input_kind_for(self, key: str, array: np.ndarray, single: bool = False) -> str:
        requested = self.input_kinds
        if sparse.issparse(array):
            kind = requested.get(key, "tabular") if isinstance(requested, Mapping) else "tabular"
            if kind != "tabular":
                raise ValueError(
                    f"Input {key!r} is a sparse matrix, which can only be a 'tabular' input; "
                    f"input_kinds asks for {kind!r}."
                )
            return kind
        if isinstance(requested, str):
            if not single:
                raise TypeError(
                    "input_kinds is a single kind, which only applies to a single array "
                    "input; for a dict X pass a dict {input name: kind}."
                )
            kind = requested
        elif isinstance(requested, Mapping) and key in requested:
            kind = requested[key]
        elif single:
            # A plain array is one tabular input unless it is clearly an image or a
            # sequence: integer columns of a table are not token ids.
            kind = "tabular" if array.ndim == 2 else infer_input_kind(array)
        else:
            kind = infer_input_kind(array)
        if kind not in INPUT_KINDS:
            raise ValueError(
                f"Unknown input kind {kind!r} for input {key!r}; expected one of {INPUT_KINDS}."
            )
        expected_ndim = INPUT_NDIM[kind]
        if array.ndim != expected_ndim:
            raise ValueError(
                f"Input {key!r} has shape {array.shape}, but kind {kind!r} needs a "
                f"{expected_ndim}-D array."
            )
        return kind

    def _record_inputs(self, arrays: dict, kinds: dict) -> None:
        if isinstance(self.input_kinds, Mapping):
            unknown = sorted(set(self.input_kinds) - set(arrays))
            if unknown and self.input_names_ is not None:
                raise ValueError(
                    f"input_kinds names input(s) {unknown} that are not in X; "
                    f"X has {sorted(arrays)}."
                )
        self.input_kinds_ = dict(kinds)
        self.input_shapes_ = {key: tuple(array.shape[1:]) for key, array in arrays.items()}
        self.input_dtypes_ = {key: array.dtype.name for key, array in arrays.items()}
        self.sparse_inputs_ = [key for key, array in arrays.items() if sparse.issparse(array)]
        vocabulary = {}
        backbone_size = self._text_backbone_vocabulary_size(arrays, kinds)
        for key, array in arrays.items():
            if kinds[key] == "tokens":
                if array.size and array.min() < 0:
                    raise ValueError(f"Input {key!r} holds negative token ids; ids must be >= 0.")
                vocabulary[key] = int(array.max()) + 1 if array.size else 1
                if backbone_size is not None:
                    _check_backbone_token_ids(key, vocabulary[key], backbone_size)
                    # Every id of the backbone's vocabulary may appear at predict time.
                    vocabulary[key] = backbone_size
        self.vocabulary_sizes_ = vocabulary

    def _text_backbone_vocabulary_size(self, arrays: dict, kinds: dict) -> int | None:
        """The number of ids ``text_backbone`` reads, when it reads token-id inputs."""
        backbone = getattr(self, "text_backbone", None)
        if backbone is None or "tokens" not in kinds.values():
            return None
        from .text_backbone import backbone_vocabulary_size

        return backbone_vocabulary_size(backbone)

    def _check_fitted_on_dict(self, arrays: dict) -> None:
        if self.input_names_ is None:
            raise ValueError(
                "This estimator was fitted on a single array, but X is a dict with keys "
                f"{sorted(arrays)}."
            )
        missing = [key for key in self.input_names_ if key not in arrays]
        extra = [key for key in arrays if key not in self.input_names_]
        if missing or extra:
            raise ValueError(
                f"X has keys {sorted(arrays)}, but the estimator was fitted on "
                f"{self.input_names_}: missing {missing}, unexpected {extra}."
            )

    def _check_against_fit(self, arrays: dict) -> None:
        for key, array in arrays.items():
            expected = self.input_shapes_[key]
            if tuple(array.shape[1:]) != expected:
                raise ValueError(
                    f"Input {key!r} has per-sample shape {tuple(array.shape[1:])}, but the "
                    f"estimator was fitted with per-sample shape {expected}."
                )
            vocabulary_size = self.vocabulary_sizes_.get(key)
            if vocabulary_size is not None and array.size:
                low, high = int(array.min()), int(array.max())
                if low < 0 or high >= vocabulary_size:
                    raise ValueError(
                        f"Input {key!r} holds token ids in [{low}, {high}], but the model "
                        f"was fitted with ids in [0, {vocabulary_size - 1}]; use the "
                        "tokenizer fitted with this estimator."
                    )

    def _validate_sample_weight(self, X, y, sample_weight):
        n_samples = _num_samples(y)
        sample_weight = _checked_sample_weight(sample_weight, n_samples)
        if np.all(sample_weight == 0):
            raise ValueError(
                "All sample weights are zero: there is nothing to train on "
                "(sample_weight sums to 0)."
            )
        keep = sample_weight != 0
        if keep.all():
            return X, y, sample_weight
        # Zero-weight samples are dropped, as if they were not in the data.
        return take_rows(X, keep), take_rows(y, keep), sample_weight[keep]


def _check_backbone_token_ids(key: str, n_ids: int, backbone_size: int) -> None:
    """ValueError when the token ids of ``key`` exceed the text backbone's vocabulary."""
    if n_ids > backbone_size:
        raise ValueError(
            f"Input {key!r} holds token ids up to {n_ids - 1}, but text_backbone reads ids "
            f"in [0, {backbone_size - 1}]; tokenize that column with "
            "BackboneTokenizer(<the text_backbone preset>), not TextTokenizer."
        )
