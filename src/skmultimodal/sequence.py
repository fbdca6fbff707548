"""Turn sequences stored in a table into the arrays of a Keras model.

`TimeStepReshaper` reshapes flat time-step columns into the 3-D ``(samples, timesteps,
features)`` of an RNN; `ArrayColumnStacker` stacks one column whose cells hold equal-shape
arrays (a pre-computed embedding, a raw series per row) into one array.
"""

import warnings
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._columns import one_column
from ._scores import CrossFittedScores
from .missing import MaskedInput, missing_rows

__all__ = [
    "ArrayColumnStacker",
    "SequenceLinearScores",
    "SequencePadder",
    "TimeStepReshaper",
    "sequence_statistics",
    "series_from_long",
]

_ARRAY_CELL = (list, tuple, np.ndarray)


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
    on_missing : {"error", "mask"}, default="error"
        What a row whose values are all missing (NaN) means. "error": it is refused like
        any other missing value. "mask": the row has no series, which is legal; its values
        become zeros and ``transform`` returns a :class:`~skmultimodal.missing.MaskedInput`
        whose ``present`` flags the other rows, which
        :class:`~skmultimodal.MultiInputTransformer` passes on as the dict entry
        ``"<step>__present"`` (see :mod:`skmultimodal.missing`). A row with only some
        values missing is still refused. A ``StandardScaler`` before this step ignores
        NaN when fitting and passes them through.
    standardize : bool, default=False
        Centre and scale each feature by its mean and standard deviation over every time
        step of the fit data (one statistic per feature, so the series keeps its shape;
        a ``StandardScaler`` before this step scales every (step, feature) column alone).
        Padding steps are left out of the statistics.
    padding : {"auto"} or None, default="auto"
        Series shorter than ``timesteps`` padded at the end, as a wide table holds them.
        ``"auto"``: a trailing run of steps is padding when every feature of each step is
        NaN, or equals the value that pads that (step, feature) column, found at fit: the
        column's most frequent value, shared by at least ``max(2, 1%)`` of the rows (zero
        padding stays a per-column constant after a ``StandardScaler``, so it is found
        there too). Such values are taken for padding only if they end series of at least
        two lengths and at least 90% of their occurrences after the first step are in
        trailing runs (a series of small integers repeats its values inside too).
        Padding steps become NaN in the output, which the network masks (see
        :class:`~skmultimodal.architecture.PaddingSteps`), so the padding never reaches
        the cell nor the summary statistics. The first step of a row is never padding, and
        a row whose first step is made of padding values has none (a duplicated row). A
        series whose real values end in its columns' most frequent values (a counter that
        ends at 0) loses that tail too: use None there. None: every step is data, and a
        NaN is refused.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when fit on a DataFrame with string column names.
    output_shape_ : tuple of int
        ``(timesteps, n_features_in_ // timesteps)``: the shape of one transformed sample,
        i.e. the ``shape`` of the matching ``keras.Input``.
    mean_, scale_ : ndarray of shape (n_features_in_ // timesteps,)
        Per-feature statistics, with ``standardize=True``.
    pad_values_ : ndarray of shape output_shape_, or None
        With ``padding="auto"``: the value that pads each (step, feature) column (NaN
        where none does), or None when no row of the fit data ends in padding other than
        NaN.
    padded_rows_ : int
        With ``padding="auto"``: the rows of the fit data that end in padding.

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

    _parameter_constraints: dict = {
        "timesteps": [Interval(Integral, 1, None, closed="left")],
        "on_missing": [StrOptions({"error", "mask"})],
        "standardize": ["boolean"],
        "padding": [StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        timesteps: int = 1,
        on_missing: str = "error",
        standardize: bool = False,
        padding: str | None = "auto",
    ) -> None:
        self.timesteps = timesteps
        self.on_missing = on_missing
        self.standardize = standardize
        self.padding = padding

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
        _refuse_array_cells(self, X)
        X = validate_data(
            self,
            X,
            reset=True,
            dtype="numeric",
            ensure_all_finite="allow-nan" if self._allows_nan() else True,
        )
        absent = np.zeros(len(X), dtype=bool)
        if self.on_missing == "mask":
            absent = _missing_series_rows(self, X, self.padding is not None)
        n_features = X.shape[1]
        if n_features % self.timesteps:
            raise ValueError(
                f"{type(self).__name__} cannot split {n_features} features (columns) into "
                f"timesteps={self.timesteps} equal steps: the number of features must be a "
                "multiple of timesteps."
            )
        self.output_shape_ = (self.timesteps, n_features // self.timesteps)
        X_3d = X.astype(np.float32).reshape(len(X), *self.output_shape_)
        if self.padding is not None:
            self.pad_values_ = _pad_values(X_3d[~absent])
            padded = _trailing_padding(self, X_3d, self.pad_values_, absent)
            nan_padded = _trailing_padding(self, X_3d, None, absent)
            if not _looks_like_padding(X_3d, self.pad_values_, padded & ~nan_padded, absent):
                self.pad_values_, padded = None, nan_padded
            self.padded_rows_ = int(padded.any(axis=1).sum())
            X_3d[padded] = np.nan
        steps = X_3d[~absent].reshape(-1, self.output_shape_[1])
        if self.standardize:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a feature missing everywhere
                mean, std = np.nanmean(steps, axis=0), np.nanstd(steps, axis=0)
            self.mean_ = np.nan_to_num(mean)
            self.scale_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        return self

    def transform(self, X: Any) -> np.ndarray | MaskedInput:
        """Return ``X`` as a float32 array of shape ``(n_samples, *output_shape_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Numeric data with the columns seen in fit.

        Returns
        -------
        X_3d : ndarray of shape (n_samples, timesteps, n_features_in_ // timesteps)
            A new float32 array (never a view of ``X``). With ``on_missing="mask"``, a
            :class:`~skmultimodal.missing.MaskedInput` of it.
        """
        check_is_fitted(self)
        _refuse_array_cells(self, X)
        mask = self.on_missing == "mask"
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=np.float32,
            order="C",
            copy=True,
            ensure_all_finite="allow-nan" if self._allows_nan() else True,
        )
        X_3d = X.reshape(X.shape[0], *self.output_shape_)
        absent = np.zeros(len(X), dtype=bool)
        if mask:
            absent = _missing_series_rows(self, X, self.padding is not None)
        if self.padding is not None:
            padded = _trailing_padding(self, X_3d, getattr(self, "pad_values_", None), absent)
            X_3d[padded] = np.nan
        if self.standardize:
            X_3d -= self.mean_.astype(np.float32)
            X_3d /= self.scale_.astype(np.float32)
        if not mask:
            return X_3d
        X_3d[absent] = 0.0
        return MaskedInput(X_3d, ~absent)

    def _allows_nan(self) -> bool:
        return self.on_missing == "mask" or self.padding is not None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _pad_values(X_3d: np.ndarray) -> np.ndarray:
    """Per (step, feature) column, its most frequent value if ``max(2, 1%)`` of the rows
    share it, else NaN (no padding value)."""
    n_rows = len(X_3d)
    least = max(2, int(np.ceil(0.01 * n_rows)))
    columns = X_3d.reshape(n_rows, -1)
    values = np.full(columns.shape[1], np.nan, dtype=np.float32)
    for j in range(columns.shape[1]):
        column = columns[:, j]
        uniques, counts = np.unique(column[~np.isnan(column)], return_counts=True)
        if len(counts) and counts.max() >= least:
            values[j] = uniques[np.argmax(counts)]
    return values.reshape(X_3d.shape[1:])


def _looks_like_padding(
    X_3d: np.ndarray, pad_values: np.ndarray, padded: np.ndarray, absent: np.ndarray
) -> bool:
    """Whether the steps ``padded`` by value are padding rather than repeated data values.

    Padding ends series of several lengths (at least two distinct padded lengths), and its
    values occur almost only there: of the steps after the first that equal their columns'
    padding values, at least 90% must be trailing. Series of small integers, whose most
    frequent values recur inside the series too, are data.
    """
    padded, X_3d = padded[~absent], X_3d[~absent]
    if not padded.any():
        return False
    lengths = padded.shape[1] - padded.sum(axis=1)
    if len(np.unique(lengths[padded.any(axis=1)])) < 2:
        return False
    equal = (X_3d == pad_values[None]).all(axis=2)[:, 1:]
    return padded[:, 1:].sum() >= 0.9 * equal.sum()


def _trailing_padding(
    owner: Any, X_3d: np.ndarray, pad_values: np.ndarray | None, absent: np.ndarray
) -> np.ndarray:
    """Boolean ``(n, timesteps)``: the trailing steps that are padding (see ``padding``).

    A step is padding when each feature is NaN, or each equals ``pad_values``, and every
    later step is padding too; the first step never is, and a row whose first step equals
    ``pad_values`` has no value padding (a duplicated row would otherwise be). Absent rows
    (``on_missing``) are left to the caller. Raises a ValueError naming the row and step of
    a NaN elsewhere.
    """
    nan = np.isnan(X_3d)
    matches = nan.all(axis=2)
    stray = nan.any(axis=2) & ~matches
    if pad_values is not None:
        values = (X_3d == pad_values[None]).all(axis=2)
        # A row made of padding values from its first step on is data (a duplicated row).
        values[values[:, 0]] = False
        matches |= values
    padded = np.cumprod(matches[:, ::-1], axis=1)[:, ::-1].astype(bool)
    padded[:, 0] = False
    padded[absent] = False
    stray |= nan.all(axis=2) & ~padded
    stray[absent] = False
    if stray.any():
        row, step = (int(i) for i in np.argwhere(stray)[0])
        raise ValueError(
            f"{type(owner).__name__}: row {row} has a missing value (NaN) at time step {step}, "
            "which is not trailing padding (NaN in every feature of that step and of every "
            "later one, after at least one real step). Impute it, or drop the row."
        )
    return padded


def _missing_series_rows(owner: Any, X: np.ndarray, padding: bool = False) -> np.ndarray:
    """Rows of ``X`` whose values are all NaN; refuse a row with only some of them NaN
    (unless ``padding``: the reshaper then checks where they are)."""
    nan = np.isnan(X)
    absent = nan.all(axis=1) if X.shape[1] else np.zeros(len(X), dtype=bool)
    partial = np.flatnonzero(nan.any(axis=1) & ~absent)
    if len(partial) and not padding:
        row = int(partial[0])
        raise ValueError(
            f"{type(owner).__name__}: row {row} has {int(nan[row].sum())} missing value(s) "
            f"out of {X.shape[1]}; with on_missing='mask' a row must have all of its values "
            "(a present series) or none (an absent one). Impute the gaps first."
        )
    return absent


def _refuse_array_cells(owner: Any, X: Any) -> None:
    """ValueError naming the column, row and lengths when a cell of ``X`` holds a sequence."""
    if isinstance(X, pd.DataFrame):
        columns = [(column, X[column]) for column in X.columns if X[column].dtype == object]
    elif isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
        columns = [(j, pd.Series(X[:, j])) for j in range(X.shape[1])]
    else:
        return
    for column, values in columns:
        is_array = values.map(lambda value: isinstance(value, _ARRAY_CELL)).to_numpy()
        if not is_array.any():
            continue
        row = int(np.flatnonzero(is_array)[0])
        lengths = sorted({len(value) for value in values[is_array]})
        raise ValueError(
            f"{type(owner).__name__} needs one number per cell, but column {column!r} holds "
            f"sequences: row {row} has {len(values.iloc[row])} values (lengths seen: "
            f"{lengths[:10]}). For a column of equal-length arrays use ArrayColumnStacker "
            "(skmultimodal.sequence) instead, or expand the cells into one column per time "
            "step."
        )


class ArrayColumnStacker(TransformerMixin, BaseEstimator):
    """Stack a column whose cells hold equal-shape arrays into one float32 array.

    For a table with a pre-computed embedding (cells of shape ``(d,)``) or a raw series
    per row (cells of shape ``(timesteps, features)``) in a single column: the output is
    ``(n_samples, *cell shape)``, a tabular input of a Keras model for vectors, a
    sequence input (an LSTM branch) for 2-D cells. Cells may be lists, tuples or NumPy
    arrays of numbers. Use it as a step of a
    :class:`~skmultimodal.compose.MultiInputTransformer`, selecting the column by name.

    Every cell must hold an array of the shape seen in fit: a missing cell (``None``,
    NaN), a scalar, a ragged or non-numeric cell, or another shape raise a ``ValueError``
    naming the column, the row (and index label) and the shapes; nothing is padded or cut.

    Parameters
    ----------
    on_missing : {"error", "mask"}, default="error"
        What a missing cell (None, NaN, ``pd.NA``) means. "error": it is refused. "mask":
        the row has no array, which is legal; it becomes zeros and ``transform`` returns a
        :class:`~skmultimodal.missing.MaskedInput` whose ``present`` flags the other rows,
        which :class:`~skmultimodal.MultiInputTransformer` passes on as the dict entry
        ``"<step>__present"`` (see :mod:`skmultimodal.missing`).

    Attributes
    ----------
    n_features_in_ : int
        Always 1: the transformer reads one column.
    feature_names_in_ : ndarray of shape (1,)
        The column name, when fit on a one-column DataFrame or a named Series.
    output_shape_ : tuple of int
        The shape of every cell: the ``shape`` of the matching ``keras.Input``.

    See Also
    --------
    TimeStepReshaper : For a series spread over one column per time step.

    Notes
    -----
    The output may be 3-D, so there is no ``get_feature_names_out``; use
    ``output_shape_``. Missing or infinite values inside the arrays are kept; the
    estimators refuse them at their input with the row.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmultimodal.sequence import ArrayColumnStacker
    >>> X = pd.DataFrame({"embedding": [np.array([0.1, 0.2, 0.3]), [1, 2, 3]]})
    >>> stacker = ArrayColumnStacker().fit(X)
    >>> stacker.output_shape_
    (3,)
    >>> stacker.transform(X)
    array([[0.1, 0.2, 0.3],
           [1. , 2. , 3. ]], dtype=float32)
    """

    _parameter_constraints: dict = {"on_missing": [StrOptions({"error", "mask"})]}

    def __init__(self, on_missing: str = "error") -> None:
        self.on_missing = on_missing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "ArrayColumnStacker":
        """Check that every cell holds a numeric array of one shape; record the shape.

        Parameters
        ----------
        X : DataFrame of one column, Series, or object array of shape (n,) or (n, 1)
            One array (list, tuple or ndarray) per row.
        y : None
            Ignored.

        Returns
        -------
        self : ArrayColumnStacker
            The fitted stacker.
        """
        name, cells, labels = _array_column(X)
        present = self._present(cells)
        arrays = [a for a in _cell_arrays(name, cells, labels, present) if a is not None]
        if not arrays:
            raise ValueError(f"ArrayColumnStacker: every cell of column {name!r} is missing.")
        shapes = sorted({array.shape for array in arrays}, key=str)
        if len(shapes) > 1:
            row = next(i for i, array in enumerate(arrays) if array.shape != arrays[0].shape)
            raise ValueError(
                f"ArrayColumnStacker: column {name!r} holds arrays of different shapes: "
                f"{_where(0, labels)} has {arrays[0].shape}, {_where(row, labels)} has "
                f"{arrays[row].shape} (shapes seen: {shapes[:10]}). Pad or cut the arrays "
                "to one shape first."
            )
        self.n_features_in_ = 1
        if isinstance(name, str):
            self.feature_names_in_ = np.array([name], dtype=object)
        self.output_shape_ = arrays[0].shape
        return self

    def transform(self, X: Any) -> np.ndarray | MaskedInput:
        """Stack the cells into an array of shape ``(n_samples, *output_shape_)``.

        Parameters
        ----------
        X : DataFrame of one column, Series, or object array of shape (n,) or (n, 1)
            One array of shape ``output_shape_`` per row.

        Returns
        -------
        stacked : ndarray of shape (n_samples, *output_shape_), dtype float32
            With ``on_missing="mask"``, a :class:`~skmultimodal.missing.MaskedInput` of it
            (zeros in the rows without an array).
        """
        check_is_fitted(self)
        name, cells, labels = _array_column(X)
        present = self._present(cells)
        arrays = _cell_arrays(name, cells, labels, present)
        zeros = np.zeros(self.output_shape_)
        for row, array in enumerate(arrays):
            if array is None:
                arrays[row] = zeros
            elif array.shape != self.output_shape_:
                raise ValueError(
                    f"ArrayColumnStacker: column {name!r}, {_where(row, labels)}: array of "
                    f"shape {array.shape}, but the arrays seen in fit have shape "
                    f"{self.output_shape_}."
                )
        stacked = np.stack(arrays).astype(np.float32, copy=False)
        return stacked if present is None else MaskedInput(stacked, present)

    def _present(self, cells: list) -> np.ndarray | None:
        """The rows with a cell when ``on_missing="mask"``, else None (every row needed)."""
        return ~missing_rows(cells) if self.on_missing == "mask" else None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _where(row: int, labels: list | None) -> str:
    return f"row {row}" if labels is None else f"row {row} (index {labels[row]!r})"


def _array_column(X: Any, owner: str = "ArrayColumnStacker") -> tuple[Any, list, list | None]:
    """The column name (or ``"X"``), its cells and the index labels of a one-column input."""
    column = one_column(
        X,
        owner=owner,
        what="arrays",
        hint=f" Use one {owner} per column.",
        cells_are_arrays=True,
    )
    return ("X" if column.name is None else column.name), column.values, column.labels


def _cell_arrays(
    name: Any,
    cells: list,
    labels: list | None,
    present: np.ndarray | None = None,
    owner: str = "ArrayColumnStacker",
) -> list[np.ndarray | None]:
    """One float64 array per cell (None for the rows ``present`` flags absent)."""
    if not cells:
        raise ValueError(f"{owner}: column {name!r} has no rows.")
    arrays = []
    for row, cell in enumerate(cells):
        if present is not None and not present[row]:
            arrays.append(None)
            continue
        where = f"{owner}: column {name!r}, {_where(row, labels)}"
        if not isinstance(cell, _ARRAY_CELL):
            what = "is missing" if cell is None or bool(pd.isna(cell)) else "is not an array"
            raise ValueError(
                f"{where} {what} ({cell!r}); every row needs an array (list, tuple or "
                "ndarray) of numbers: fill or drop that row."
            )
        try:
            array = np.asarray(cell, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            lengths = sorted({len(part) for part in cell if isinstance(part, _ARRAY_CELL)})
            detail = f" (inner lengths seen: {lengths[:10]})" if len(lengths) > 1 else ""
            raise ValueError(
                f"{where} is not a rectangular array of numbers{detail}: {exc}"
            ) from exc
        if array.ndim not in (1, 2) or array.size == 0:
            raise ValueError(
                f"{where}: array of shape {array.shape}; expected a non-empty vector (d,) "
                "or a series (timesteps, features)."
            )
        arrays.append(array)
    return arrays


class SequencePadder(TransformerMixin, BaseEstimator):
    """Pad a column of series of different lengths into float32 ``(n, max_len, features)``.

    Each cell is one series: a 2-D array ``(length_i, features)`` or, for a single
    feature, a 1-D array ``(length_i,)``. The output has NaN in every feature of the
    padding steps, which the estimators' sequence branch masks (see
    :func:`~skmultimodal.architecture.build_sequence_branch`): a series gives the same
    prediction whatever it is padded to. With ``standardize=True`` every feature is
    centred and scaled by its mean and standard deviation over the real time steps seen
    in fit (a sequence branch trains badly on raw units).

    Parameters
    ----------
    max_len : int or None, default=None
        Time steps of the output; None: the longest series seen in fit. A longer series
        is cut (``truncating``).
    padding : {"post", "pre"}, default="post"
        Where the padding goes; with masking, either gives the same predictions.
    truncating : {"pre", "post"}, default="pre"
        Which end of a series longer than ``max_len_`` is dropped: ``"pre"`` keeps the
        last (most recent) steps.
    standardize : bool, default=True
        Centre and scale each feature (statistics of the real steps seen in fit).
    on_missing : {"error", "mask"}, default="error"
        What a missing cell (None, NaN, ``pd.NA``) means: refused, or a row without the
        series (``transform`` returns a :class:`~skmultimodal.missing.MaskedInput`).

    Attributes
    ----------
    max_len_ : int
        Time steps of the output.
    n_features_ : int
        Features per time step.
    mean_, scale_ : ndarray of shape (n_features_,)
        The standardisation (zeros and ones when ``standardize=False``).
    lengths_ : tuple of (int, int)
        Shortest and longest series seen in fit.
    output_shape_ : tuple of int
        ``(max_len_, n_features_)``: the shape of one transformed sample.
    n_features_in_ : int
        1.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.sequence import SequencePadder
    >>> X = [np.array([[1.0], [2.0], [3.0]]), [4.0, 5.0]]
    >>> padder = SequencePadder(standardize=False).fit(X)
    >>> padder.output_shape_, padder.lengths_
    ((3, 1), (2, 3))
    >>> padder.transform(X)[:, :, 0]
    array([[ 1.,  2.,  3.],
           [ 4.,  5., nan]], dtype=float32)
    """

    _parameter_constraints: dict = {
        "max_len": [Interval(Integral, 1, None, closed="left"), None],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "standardize": ["boolean"],
        "on_missing": [StrOptions({"error", "mask"})],
    }

    def __init__(
        self,
        max_len: int | None = None,
        padding: str = "post",
        truncating: str = "pre",
        standardize: bool = True,
        on_missing: str = "error",
    ) -> None:
        self.max_len = max_len
        self.padding = padding
        self.truncating = truncating
        self.standardize = standardize
        self.on_missing = on_missing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "SequencePadder":
        """Learn the length, the number of features and the standardisation.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or object array of shape (n,) or (n, 1)
            One series per row.
        y : None
            Ignored.

        Returns
        -------
        self : SequencePadder
        """
        name, series, _ = self._series(X, fitted=False)
        real = [s for s in series if s is not None]
        if not real:
            raise ValueError(f"SequencePadder: every cell of column {name!r} is missing.")
        lengths = [len(s) for s in real]
        self.n_features_in_ = 1
        if isinstance(name, str):
            self.feature_names_in_ = np.array([name], dtype=object)
        self.lengths_ = (min(lengths), max(lengths))
        self.max_len_ = self.max_len or max(lengths)
        self.n_features_ = real[0].shape[1]
        steps = np.concatenate(real)
        if self.standardize:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN feature
                mean, std = np.nanmean(steps, axis=0), np.nanstd(steps, axis=0)
            self.mean_ = np.nan_to_num(mean)
            self.scale_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(self.n_features_), np.ones(self.n_features_)
        self.output_shape_ = (self.max_len_, self.n_features_)
        return self

    def transform(self, X: Any) -> np.ndarray | MaskedInput:
        """Pad (NaN), cut and standardise the series.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or object array of shape (n,) or (n, 1)
            One series per row, with ``n_features_`` features.

        Returns
        -------
        padded : ndarray of shape (n_samples, max_len_, n_features_), dtype float32
            NaN in the padding steps; a :class:`~skmultimodal.missing.MaskedInput` with
            ``on_missing="mask"`` (a row without a series holds zeros).
        """
        check_is_fitted(self)
        _, series, present = self._series(X, fitted=True)
        out = np.full((len(series), *self.output_shape_), np.nan, dtype=np.float32)
        for row, values in enumerate(series):
            if values is None:
                out[row] = 0.0
                continue
            if len(values) > self.max_len_:
                values = (
                    values[-self.max_len_ :]
                    if self.truncating == "pre"
                    else values[: self.max_len_]
                )
            scaled = (values - self.mean_) / self.scale_
            if self.padding == "post":
                out[row, : len(scaled)] = scaled
            else:
                out[row, self.max_len_ - len(scaled) :] = scaled
        return out if present is None else MaskedInput(out, present)

    def _series(self, X: Any, *, fitted: bool) -> tuple[Any, list, np.ndarray | None]:
        """The column name, one ``(length, features)`` float64 array per row (None when
        absent) and the presence flags (``on_missing="mask"``)."""
        name, cells, labels = _array_column(X, owner="SequencePadder")
        present = ~missing_rows(cells) if self.on_missing == "mask" else None
        arrays = _cell_arrays(name, cells, labels, present, owner="SequencePadder")
        series = [None if a is None else (a[:, None] if a.ndim == 1 else a) for a in arrays]
        expected = self.n_features_ if fitted else None
        for row, values in enumerate(series):
            if values is None:
                continue
            if expected is None:
                expected = values.shape[1]
            elif values.shape[1] != expected:
                raise ValueError(
                    f"SequencePadder: column {name!r}, {_where(row, labels)}: a series of "
                    f"{values.shape[1]} features per time step, but "
                    f"{'the series seen in fit have' if fitted else 'the first series has'} "
                    f"{expected}."
                )
        return name, series, present

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def series_from_long(
    frame: pd.DataFrame,
    id_column: str,
    time_column: str,
    value_columns: list[str] | None = None,
    index: Any = None,
) -> pd.Series:
    """One series per id from a long table (one row per id and time step).

    Event logs, sensor readings and sessions often come as a long table: an id column, a
    time column and the measurements. A scikit-learn pipeline keeps one row per sample, so
    the long table is turned into one cell per sample first: a float64 array ``(steps,
    len(value_columns))`` per id, its steps in time order. Put the result in a column of your
    sample table and read it with :class:`SequencePadder` (``make_multimodal_pipeline``
    does so by itself).

    The time column only orders the steps: irregular intervals are not resampled. Nothing
    is dropped or imputed: a missing value, a repeated ``(id, time)`` or a missing id is
    an error naming it.

    Parameters
    ----------
    frame : DataFrame
        The long table.
    id_column : str
        The column naming the sample each row belongs to.
    time_column : str
        The column that orders a sample's rows (numbers or timestamps).
    value_columns : list of str, default=None
        The measurement columns, numeric; None: every column but the id and time columns.
    index : array-like, default=None
        The ids to return, in this order (e.g. your sample table's id column); each must
        have rows in ``frame``. None: every id, in order of first appearance.

    Returns
    -------
    Series of ndarray of shape (steps_i, len(value_columns)), indexed by id

    Examples
    --------
    >>> import pandas as pd
    >>> from skmultimodal.sequence import series_from_long
    >>> long = pd.DataFrame({"id": ["b", "a", "b", "a", "a"], "t": [2, 1, 1, 3, 2],
    ...                      "temp": [5.0, 1.0, 4.0, 3.0, 2.0]})
    >>> series = series_from_long(long, "id", "t", index=["a", "b"])
    >>> series["a"].ravel().tolist(), series["b"].ravel().tolist()
    ([1.0, 2.0, 3.0], [4.0, 5.0])
    """
    name = "series_from_long"
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} needs a pandas DataFrame, got {type(frame).__name__}.")
    key_column, time = id_column, time_column
    values = (
        [c for c in frame.columns if c not in (key_column, time)]
        if value_columns is None
        else list(value_columns)
    )
    absent = [c for c in [key_column, time, *values] if c not in frame.columns]
    if absent:
        raise ValueError(
            f"{name}: no column {absent} in the table; its columns are {list(frame.columns)}."
        )
    if not values:
        raise ValueError(f"{name}: no value column besides {key_column!r} and {time!r}.")
    for column in values:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise ValueError(
                f"{name}: column {column!r} holds {frame[column].dtype} values; the "
                "measurements must be numbers (encode or drop it)."
            )
    for column in (key_column, time):
        blank = frame[column].isna().to_numpy()
        if blank.any():
            where = _plain(frame.index[blank.argmax()])
            raise ValueError(f"{name}: column {column!r} is missing at row {where!r}.")
    measured = frame[values].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(measured)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        key, when = _plain(frame[key_column].iloc[row]), _plain(frame[time].iloc[row])
        raise ValueError(
            f"{name}: {values[col]!r} is {measured[row, col]} for id {key!r} at time "
            f"{when!r}; impute it or drop the row first (a missing step would be read as "
            "padding)."
        )
    repeated = frame.duplicated([key_column, time]).to_numpy()
    if repeated.any():
        row = int(repeated.argmax())
        raise ValueError(
            f"{name}: id {_plain(frame[key_column].iloc[row])!r} has several rows at time "
            f"{_plain(frame[time].iloc[row])!r}; aggregate them first."
        )
    # Rows by id (in order of first appearance), then by time; one split per id.
    codes, ids = pd.factorize(frame[key_column])
    order = np.lexsort((frame[time].to_numpy(), codes))
    ends = np.cumsum(np.bincount(codes))[:-1]
    cells = dict(zip(ids, np.split(measured[order], ends), strict=True))
    if index is not None:
        wanted = list(index)
        missing = [key for key in wanted if key not in cells]
        if missing:
            raise ValueError(
                f"{name}: {len(missing)} id(s) have no row in the long table, e.g. {missing[:5]}."
            )
        ids = wanted
    return pd.Series(
        [cells[key] for key in ids], index=pd.Index(ids, name=key_column), dtype=object
    )


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def sequence_statistics(X: Any) -> np.ndarray:
    """Summary statistics of each series over its real time steps (NaN padding skipped).

    The same statistics, in the same order, as the model's
    :class:`~skmultimodal.architecture.SequenceSummary` layer: per feature the mean,
    standard deviation, minimum, maximum, first and last value and the rise of a
    least-squares line (its slope times the number of steps less one), then
    ``log(1 + length)``. A time step whose every feature is NaN is padding.

    Parameters
    ----------
    X : array-like of shape (n_samples, timesteps, features)
        Series as :class:`SequencePadder` or :class:`TimeStepReshaper` return them.

    Returns
    -------
    statistics : ndarray of shape (n_samples, 7 * features + 1), dtype float64

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.sequence import sequence_statistics
    >>> x = np.array([[[1.0], [3.0], [np.nan]]])
    >>> np.round(sequence_statistics(x), 3).tolist()
    [[2.0, 1.0, 1.0, 3.0, 1.0, 3.0, 2.0, 1.099]]
    """
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(
            f"sequence_statistics needs series of shape (samples, timesteps, features), "
            f"got an array of shape {values.shape}."
        )
    real = ~np.all(np.isnan(values), axis=-1)  # (n, steps)
    weights = real[:, :, None].astype(np.float64)
    filled = np.where(np.isnan(values), 0.0, values)
    count = weights.sum(axis=1)  # (n, 1)
    safe = np.maximum(count, 1.0)
    mean = (filled * weights).sum(axis=1) / safe
    centred = (filled - mean[:, None, :]) * weights
    std = np.sqrt((centred**2).sum(axis=1) / safe)
    present = count > 0
    low = np.where(present, np.where(weights > 0, filled, np.inf).min(axis=1), 0.0)
    high = np.where(present, np.where(weights > 0, filled, -np.inf).max(axis=1), 0.0)
    rows = np.arange(len(values))
    first = filled[rows, real.argmax(axis=1)]
    last = filled[rows, values.shape[1] - 1 - real[:, ::-1].argmax(axis=1)]
    time = np.arange(values.shape[1], dtype=np.float64)[None, :, None]
    time_mean = (time * weights).sum(axis=1, keepdims=True) / safe[:, None, :]
    time_centred = (time - time_mean) * weights
    spread = (time_centred**2).sum(axis=1)
    slope = (time_centred * centred).sum(axis=1) / np.maximum(spread, 1e-12)
    rise = slope * np.maximum(count - 1.0, 0.0)
    return np.concatenate([mean, std, low, high, first, last, rise, np.log1p(count)], axis=1)


#: The inverse L2 penalties (logistic regression) and penalties (ridge) that
#: SequenceLinearScores chooses among by internal cross-validation.
_SCORE_CS = (0.01, 0.1, 1.0, 10.0, 100.0)


class SequenceLinearScores(CrossFittedScores):
    """Cross-fitted scores of a linear model on each series' summary statistics.

    On small real series sets (UCR/UEA archives, tens to hundreds of training series) a
    logistic regression on per-feature summary statistics (:func:`sequence_statistics`)
    beat every recurrent or convolutional cell trained from scratch on some sets
    (benchmarks/RESULTS.md, "Real series"). This transformer fits that model and hands the
    network its scores as one more dense input, as a stacked ensemble does, so that the
    network starts from what the linear model knows. It reads what
    :class:`SequencePadder` or :class:`TimeStepReshaper` return; put it after one in a
    ``Pipeline``.

    ``fit_transform(X, y)`` returns **out-of-fold** scores (each row scored by a model
    that did not see it); ``transform`` returns the scores of the model refitted on all
    rows (``model_``), as scikit-learn's ``TargetEncoder`` does.

    Parameters
    ----------
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"``: regression for a float target, classification otherwise.
    Cs : tuple of float, default=(0.01, 0.1, 1.0, 10.0, 100.0)
        Inverse L2 penalties of the ``LogisticRegression`` (classification; their
        inverses are the ``RidgeCV`` alphas for regression), chosen by internal 3-fold
        cross-validation on the standardised statistics.
    cv : int, default=5
        Folds of the out-of-fold scores (stratified for classification); fewer when the
        smallest class has fewer rows, never under 2.
    random_state : int, RandomState instance or None, default=None
        Shuffling of the folds.

    Attributes
    ----------
    model_ : Pipeline
        ``sequence_statistics -> StandardScaler -> LogisticRegression`` (the one of the
        ``Cs`` that the inner search chose; ``RidgeCV`` for regression), fitted on every
        row.
    classes_ : ndarray
        The target's classes (classification).
    target_mean_, target_scale_ : float
        Mean and standard deviation of the target (regression).
    n_features_in_ : int
        Features per time step.

    Notes
    -----
    The scores are, per row: for two classes, the logit of the second class (one column);
    for more, the log-probability of each class (floored at ``log(1e-7)``); for a
    regression, the standardised prediction (one column).

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.sequence import SequenceLinearScores
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 1], 20)
    >>> X = rng.normal(size=(40, 12, 2)) + y[:, None, None]
    >>> scores = SequenceLinearScores(cv=3, random_state=0).fit_transform(X, y)
    >>> scores.shape, bool(((scores[:, 0] > 0) == y).mean() > 0.9)
    ((40, 1), True)
    """

    _parameter_constraints: dict = {
        "task": [StrOptions({"auto", "classification", "regression"})],
        "Cs": [tuple, list],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        task: str = "auto",
        Cs: tuple = _SCORE_CS,
        cv: int = 5,
        random_state: Any = None,
    ) -> None:
        self.task = task
        self.Cs = Cs
        self.cv = cv
        self.random_state = random_state

    def _inputs(self, X: Any, *, reset: bool) -> np.ndarray:
        if isinstance(X, MaskedInput):
            raise ValueError(
                f"{type(self).__name__} scores every row's series: it cannot take rows "
                "without one (on_missing='mask' before it)."
            )
        values = np.asarray(X, dtype=np.float64)
        if values.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} needs series of shape (samples, timesteps, "
                f"features), as SequencePadder or TimeStepReshaper return them; got an "
                f"array of shape {values.shape}."
            )
        if reset:
            self.n_features_in_ = values.shape[2]
        elif values.shape[2] != self.n_features_in_:
            raise ValueError(
                f"{type(self).__name__}: series of {values.shape[2]} features per time "
                f"step, but {self.n_features_in_} were seen in fit."
            )
        if np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values).any(axis=(1, 2)))[0])
            raise ValueError(f"{type(self).__name__}: row {row} holds an infinite value.")
        empty = np.all(np.isnan(values), axis=(1, 2))
        if empty.any():
            raise ValueError(
                f"{type(self).__name__}: row {int(np.flatnonzero(empty)[0])} has no time "
                "step (every value is NaN)."
            )
        return values

    def _check_settings(self) -> None:
        if not len(self.Cs) or not all(float(c) > 0 for c in self.Cs):
            raise ValueError(
                f"{type(self).__name__}: Cs must be positive numbers, got {self.Cs!r}."
            )

    def _model(self):
        from sklearn.linear_model import LogisticRegression, RidgeCV
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler

        if self.regression_:
            linear = RidgeCV(alphas=[1.0 / float(c) for c in self.Cs])
        else:
            # C by 3-fold CV on accuracy; a class with fewer than 3 rows warns (silenced
            # in fit) and is still scored.
            linear = GridSearchCV(
                LogisticRegression(max_iter=5000), {"C": [float(c) for c in self.Cs]}, cv=3
            )
        return make_pipeline(FunctionTransformer(sequence_statistics), StandardScaler(), linear)

    def _fitted(self, model: Any) -> Any:
        # Keep the chosen logistic regression, not the search around it (its scorer and
        # splitter would be more types for persistence.load to trust).
        search = model.steps[-1][1]
        if hasattr(search, "best_estimator_"):
            model.steps[-1] = (model.steps[-1][0], search.best_estimator_)
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        return tags
