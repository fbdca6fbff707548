"""Build a multimodal pipeline from a DataFrame by detecting what each column holds.

:func:`detect_column_roles` looks at every column of a table and gives it one role:
``"image"`` (paths of existing image files), ``"text"`` (free text), ``"vector"`` /
``"sequence"`` (cells holding equal-length 1-D arrays / series of any length), ``"numeric"``,
``"categorical"`` or ``"ignore"`` (ids, constant columns, unsupported types).
:func:`make_multimodal_pipeline` turns those roles into a ready ``Pipeline`` of a
:class:`~skmultimodal.MultiInputTransformer` and a Keras classifier or regressor chosen
from the target. The step names of the transformer carry the roles, so
:func:`describe_roles` recovers them from any pipeline made here, fitted or not, cloned or
saved. This module imports neither Keras nor TensorFlow until an estimator is built.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._names import unique_names
from ._unwrap import nested_estimators
from .compose import MultiInputTransformer
from .image import ImageLoader, _probe_size
from .missing import MaskMissingRows
from .sequence import (
    ArrayColumnStacker,
    SequenceLinearScores,
    SequencePadder,
    TimeStepReshaper,
)
from .text import TextLinearScores, TextTfidfVectorizer, TextTokenizer
from .text_backbone import BackboneTokenizer, preset_max_sequence_length

__all__ = [
    "DEFAULT_MODEL_PARAMS",
    "DEFAULT_REGRESSOR_PARAMS",
    "IMAGE_EXTENSIONS",
    "ROLES",
    "ColumnRoles",
    "choose_target_transform",
    "describe_roles",
    "detect_task",
    "detect_column_roles",
    "make_multimodal_pipeline",
]

#: The roles a column can take, in the order steps are built. ``"vector"`` and
#: ``"sequence"`` are columns whose cells hold arrays: equal-length vectors (an embedding)
#: and ``(timesteps, features)`` series of any length (or 1-D arrays of different lengths);
#: ``"sequence"`` is also a group of numeric columns named by time step (a time grid).
ROLES = ("image", "text", "vector", "sequence", "numeric", "categorical", "ignore")

# The Python types of a cell that holds an array rather than one value.
_ARRAY_CELL = (list, tuple, np.ndarray)

#: File name endings (lowercase) that make a string column a candidate for the image role.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")

# Names that mark a unique integer column as a row identifier: "id", "user_id", "user id",
# "userId", "ID"... but not "paid" or "valid".
_ID_NAME = re.compile(r"^((?i:id|index|idx|key|uuid|guid|row)|.*(?i:[_\s-]id)|.*[a-z0-9]I[dD])$")
# Images larger than this (on their longer side) are downscaled for the default model.
_MAX_IMAGE_SIDE = 64
# How many images of a column the automatic image size looks at.
_IMAGE_SIZE_SAMPLE = 50
# Longer texts are truncated (keeping their end, TextTokenizer's default) to this many words.
_MAX_TEXT_LEN = 200
# Token ids per text of the BackboneTokenizer steps (text_backbone=): BERT's usual
# fine-tuning length, at most the backbone's max_sequence_length.
_BACKBONE_TOKENS = 128
_MAX_WORDS = 20_000
# Columns of the TF-IDF input added next to each text column's token ids (see
# make_multimodal_pipeline); a sparse model input, so only non-zero weights take memory.
_TFIDF_FEATURES = 20_000
#: Character n-gram sizes of the default ``"text_chars"`` input: on every text case of the
#: fusion suite they raised the fused network or left it within a fold's spread
#: (benchmarks/RESULTS.md, "char_ngrams").
_CHAR_NGRAMS = (2, 5)

#: Model parameters used unless ``model_params`` overrides them:
#: small image, sequence and tabular branches that train in seconds on a few thousand rows
#: on a CPU. The text branch keeps the estimator's default size (``text_embedding_dim=100``,
#: ``text_units=256``): on the review benchmark it was more accurate than 32 / 32, for a
#: longer fit (docs/user_guide/hyperparameters.md).
#: Images are average-pooled to a 2x2 grid before the head (``image_pooling="grid"``): a
#: flattened 64x64 photo gives the head thousands of features to memorise training rows
#: with, next to the other columns (see benchmarks/RESULTS.md, fusion suite).
DEFAULT_MODEL_PARAMS = {
    "image_filters": (16, 32),
    "image_pooling": "grid",
    "sequence_units": 32,
    "tabular_units": 32,
    "head_units": (32,),
    "epochs": "auto",
    "batch_size": 32,
}

#: What regressors get over :data:`DEFAULT_MODEL_PARAMS`. A regressor's linear output reads
#: the head's features directly: dropout 0.5 there adds noise to every training prediction
#: that the loss cannot average away, and 20 epochs left an image regression far from
#: converged. Early stopping (from 500 training rows) ends most fits well before 60 epochs.
#: Measurements: docs/design.md ("Regression") and benchmarks/RESULTS.md.
DEFAULT_REGRESSOR_PARAMS = {"dropout": 0.2, "epochs": 60}

#: Whole-number targets with more distinct values than this, most seen at most twice, are
#: regression targets for :func:`detect_task`.
_MAX_AUTO_CLASSES = 20
#: Sample skewness above which :func:`choose_target_transform` considers a log.
_SKEWED = 0.5

_CLASSIFIER_TARGETS = ("binary", "multiclass", "multilabel-indicator", "multiclass-multioutput")
_REGRESSOR_TARGETS = ("continuous", "continuous-multioutput")


class ColumnRoles(Mapping):
    """The role of each column of a table, with the reason it was chosen.

    A read-only mapping ``column -> role`` in the column order of the table; it compares
    equal to a plain dict with the same items. Its ``repr`` is a table of column, role and
    reason, meant to be printed and checked.

    Parameters
    ----------
    roles : mapping of str to str
        Role of each column, one of :data:`ROLES`.
    reasons : mapping of str to str, default=None
        Why each column got its role (a short phrase).

    Attributes
    ----------
    reasons : dict of str to str
        Why each column got its role.

    Examples
    --------
    >>> from skmultimodal.auto import ColumnRoles
    >>> roles = ColumnRoles({"review": "text", "id": "ignore"}, {"id": "unique per row"})
    >>> roles
    ColumnRoles(
      review  text
      id      ignore  unique per row
    )
    >>> roles.columns("text")
    ['review']
    >>> roles == {"review": "text", "id": "ignore"}
    True
    """

    def __init__(self, roles: Mapping[str, str], reasons: Mapping[str, str] | None = None):
        unknown = {column: role for column, role in roles.items() if role not in ROLES}
        if unknown:
            raise ValueError(f"Unknown roles {unknown}; each role must be one of {list(ROLES)}.")
        self._roles = dict(roles)
        self.reasons = {column: (reasons or {}).get(column, "") for column in self._roles}

    def __getitem__(self, column: str) -> str:
        return self._roles[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def columns(self, role: str) -> list[str]:
        """The columns with the given role, in table order.

        Parameters
        ----------
        role : str
            One of :data:`ROLES`.

        Returns
        -------
        list of str
        """
        if role not in ROLES:
            raise ValueError(f"Unknown role {role!r}; expected one of {list(ROLES)}.")
        return [column for column, value in self._roles.items() if value == role]

    def __repr__(self) -> str:
        if not self._roles:
            return "ColumnRoles()"
        width = max(len(str(column)) for column in self._roles)
        role_width = max(len(role) for role in self._roles.values())
        lines = [
            f"  {str(column).ljust(width)}  {role.ljust(role_width)}  {self.reasons[column]}"
            for column, role in self._roles.items()
        ]
        return "ColumnRoles(\n" + "\n".join(line.rstrip() for line in lines) + "\n)"

    __str__ = __repr__


def _merge_overrides(
    overrides: Mapping[str, str] | None, column_overrides: Mapping[str, str], columns=None
) -> dict[str, str]:
    """Roles by column from a dict and from keywords; ``columns=None`` skips the check that
    every overridden column exists."""
    merged = dict(overrides or {})
    for column, role in column_overrides.items():
        if column in merged and merged[column] != role:
            raise ValueError(
                f"Column {column!r} is overridden twice, as {merged[column]!r} in overrides "
                f"and as {role!r} by keyword."
            )
        merged[column] = role
    for column, role in merged.items():
        if columns is not None and column not in columns:
            raise ValueError(
                f"Override for column {column!r}, which is not in X; columns: {list(columns)}."
            )
        if role not in ROLES:
            raise ValueError(
                f"Override for column {column!r} is {role!r}; expected one of {list(ROLES)}."
            )
    return merged


def _check_frame(X: Any) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame with named columns, got {type(X).__name__}.")
    bad = [column for column in X.columns if not isinstance(column, str)]
    if bad:
        raise ValueError(
            f"Column names must be strings, got {bad[:5]!r}; name the columns "
            "(e.g. X.columns = [...]) before detecting their roles."
        )
    if X.columns.has_duplicates:
        duplicates = X.columns[X.columns.duplicated()].unique().tolist()
        raise ValueError(f"Column names must be unique; duplicated: {duplicates}.")
    if len(X) == 0:
        raise ValueError("X has no rows; roles are detected from the values.")
    return X


def _is_image_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike)) and os.fspath(value).lower().endswith(
        IMAGE_EXTENSIONS
    )


def _resolve(path: Any, base_dir: Path | None) -> Path:
    path = Path(os.fspath(path))
    if base_dir is not None and not path.is_absolute():
        return base_dir / path
    return path


def _image_reason(column: str, values: pd.Series, base_dir: Path | None) -> str:
    """Reason for the image role; FileNotFoundError naming the first missing file."""
    for row, value in values.items():
        path = _resolve(value, base_dir)
        if not path.is_file():
            where = f" under base_dir {str(base_dir)!r}" if base_dir is not None else ""
            raise FileNotFoundError(
                f"Column {column!r} looks like image paths (every value ends with an image "
                f"extension), but row {row!r}: {value!r} is not an existing file{where}. "
                f"Fix the path or base_dir, or give the column another role "
                f"(roles={{{column!r}: 'ignore'}}; on the command line "
                f"--role {column}=ignore)."
            )
    extensions = sorted({Path(os.fspath(v)).suffix.lower() for v in values})
    return f"{len(values)} paths to existing {'/'.join(extensions)} files"


def _number_reason(column: str, values: pd.Series, n_rows: int, max_categories: int):
    """Role and reason for a numeric column (missing values already dropped)."""
    n_unique = values.nunique()
    integral = pd.api.types.is_integer_dtype(values.dtype) or bool(
        np.all(np.mod(values.to_numpy(dtype=float), 1) == 0)
    )
    if (
        integral
        and n_unique == n_rows
        and (_ID_NAME.match(column) or _is_consecutive(values.to_numpy()))
    ):
        return "ignore", "unique integer per row (an id)"
    # Integers are quantities first: a categorical reading needs few values, each seen twice
    # on average.
    if integral and n_unique <= max_categories and 2 * n_unique <= len(values):
        return "categorical", f"{n_unique} distinct integers"
    return "numeric", f"{values.dtype}, {n_unique} distinct values"


def _is_consecutive(values: np.ndarray) -> bool:
    ordered = np.sort(values.astype(np.int64))
    return bool(np.all(np.diff(ordered) == 1))


def _string_reason(column: str, values: pd.Series, n_rows: int, max_categories: int):
    """Role and reason for a column of strings (missing values already dropped)."""
    n_unique = values.nunique()
    words = values.str.split().str.len()
    mean_words = float(words.mean())
    if n_unique == n_rows and bool((words <= 1).all()):
        return "ignore", "unique single-token string per row (an id)"
    if n_unique <= max_categories and n_unique < len(values):
        return "categorical", f"{n_unique} categories"
    return "text", f"{n_unique} distinct values, {mean_words:.1f} words on average"


def _array_role(column: str, values: pd.Series, missing: str) -> tuple[str, str] | None:
    """Role of a column whose cells hold arrays: "vector", "sequence" (None if none does).

    ValueError naming the column, row and shapes when the arrays are ragged, not numeric
    or of another dimension than 1 or 2.
    """
    is_array = values.map(lambda value: isinstance(value, _ARRAY_CELL)).to_numpy()
    if not is_array.any():
        return None
    if not is_array.all():
        kinds = sorted({type(v).__name__ for v in values.tolist()})
        return "ignore", f"mixed value types {kinds}"
    shapes: dict[tuple[int, ...], Any] = {}
    for row, value in values.items():
        try:
            shape = np.asarray(value, dtype=np.float64).shape
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Column {column!r} holds arrays, but row {row!r} is not a rectangular array "
                f"of numbers ({_preview(value)}). Fix the cells, or give the column another "
                f"role (roles={{{column!r}: 'ignore'}}; on the command line "
                f"--role {column}=ignore)."
            ) from exc
        shapes.setdefault(shape, row)
    ndims = {len(shape) for shape in shapes}
    features = {shape[1:] for shape in shapes}
    if len(ndims) > 1 or ndims - {1, 2} or len(features) > 1 or min(map(min, shapes)) == 0:
        seen = ", ".join(f"{shape} (first at row {row!r})" for shape, row in shapes.items())
        what = "arrays of different shapes:" if len(shapes) > 1 else "arrays of shape"
        raise ValueError(
            f"Column {column!r} holds {what} {seen[:300]}; a model input needs a vector "
            "(d,) per row, or a series (timesteps, features) per row with the same features "
            "(of any length). Fix the arrays, or give the column another role "
            f"(roles={{{column!r}: 'ignore'}}; on the command line --role {column}=ignore)."
        )
    lengths = sorted({shape[0] for shape in shapes})
    if ndims == {1} and len(lengths) == 1:
        return "vector", f"arrays of {lengths[0]} numbers{missing}"
    n_features = next(iter(features))[0] if ndims == {2} else 1
    span = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]} to {lengths[-1]}"
    return "sequence", (
        f"series of {span} time steps of {n_features} feature{'s' * (n_features > 1)}{missing}"
    )


def _holds_arrays(values: pd.Series) -> bool:
    """Whether a column's cells are arrays (not one number each)."""
    return bool(values.map(lambda value: isinstance(value, _ARRAY_CELL)).any())


def _array_ndim(value: Any) -> int:
    """The dimensions of an array cell; -1 when it is not a rectangular array."""
    try:
        return np.asarray(value, dtype=np.float64).ndim
    except (TypeError, ValueError):
        return -1


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _detect_one(
    column: str, series: pd.Series, base_dir: Path | None, max_categories: int
) -> tuple[str, str]:
    n_rows = len(series)
    n_missing = int(series.isna().sum())
    values = series.dropna()
    missing = f"; {n_missing} missing" if n_missing else ""
    if series.dtype == object:
        # Cells holding arrays are unhashable: detect them before counting distinct values.
        array_role = _array_role(column, values, missing)
        if array_role is not None:
            return array_role
    if series.nunique(dropna=False) <= 1:
        return "ignore", "constant" if n_missing < n_rows else "all values missing"
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical", "boolean" + missing
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", f"categorical dtype, {values.nunique()} categories{missing}"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        role, reason = _number_reason(column, values, n_rows, max_categories)
        return role, reason + missing
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "ignore", f"{dtype} (convert dates to numbers to use them)"
    python_values = values.tolist()
    if python_values and all(_is_image_path(v) for v in python_values):
        return "image", _image_reason(column, values, base_dir) + missing
    if all(isinstance(v, bool) for v in python_values):
        return "categorical", "boolean" + missing
    if not all(isinstance(v, str) for v in python_values):
        kinds = sorted({type(v).__name__ for v in python_values})
        return "ignore", f"mixed value types {kinds}"
    role, reason = _string_reason(column, values.astype(str), n_rows, max_categories)
    return role, reason + missing


def detect_column_roles(
    X: pd.DataFrame,
    *,
    base_dir: str | os.PathLike | None = None,
    max_categories: int = 20,
    overrides: Mapping[str, str] | None = None,
    **column_overrides: str,
) -> ColumnRoles:
    """Give each column of ``X`` a role, one of :data:`ROLES` (image, text, numeric...).

    The rules, applied to the non-missing values of each column in this order:

    1. A constant column (one value, or all missing) is ``"ignore"``.
    2. A boolean or pandas ``category`` column is ``"categorical"``.
    3. Numbers (float or int): integer values that are unique per row and either form a
       run of consecutive integers or sit in a column named like an id (``id``,
       ``user_id``, ``customerId``, ``index``, ``key``...) are ``"ignore"``; integer values
       with at most ``max_categories`` distinct values, each seen twice on average, are
       ``"categorical"``; everything else is ``"numeric"``.
    4. Dates and durations are ``"ignore"`` (convert them to numbers to use them).
    5. Strings that all end with an image extension (:data:`IMAGE_EXTENSIONS`, any case)
       are ``"image"``; every such file must exist (relative paths are resolved against
       ``base_dir``), otherwise a ``FileNotFoundError`` names the first missing one.
    6. Other strings: single-token strings unique per row (codes, ids) are ``"ignore"``;
       at most ``max_categories`` distinct values, with at least one repeated, are
       ``"categorical"``; everything else (sentences, or many distinct values) is
       ``"text"``.
    7. Columns mixing strings with other Python objects are ``"ignore"``.
    8. Cells holding arrays (lists, tuples or NumPy arrays of numbers), checked first: all of
       one length are ``"vector"`` (an embedding: a tabular input); 2-D arrays
       ``(timesteps, features)`` with the same features, of any lengths, and 1-D arrays of
       different lengths are ``"sequence"`` (a series per row: a sequence input); other
       shapes raise a ``ValueError`` naming the column and the shapes seen. Arrays mixed
       with other values are ``"ignore"``.
    9. Numeric columns whose names make a time grid (:func:`time_grids`: ``t0 .. t49``,
       ``t0_f0 .. t49_f2``) are ``"sequence"``, one series input, unless a row misses
       some but not all features of a step or has no value at all (then they stay
       ``"numeric"``, imputed, and the reason says why).

    Parameters
    ----------
    X : pandas.DataFrame
        The features, with string column names (the target excluded).
    base_dir : str or os.PathLike, default=None
        Folder that relative image paths are resolved against (the current working
        directory when None).
    max_categories : int, default=20
        Most distinct values a column may have to be categorical.
    overrides : mapping of str to str, default=None
        Roles that replace the detected ones, by column name, e.g. ``{"zip code":
        "categorical"}``. Needed for names that are not Python identifiers.
    **column_overrides : str
        The same, as keywords: ``detect_column_roles(X, comment="ignore")``.

    Returns
    -------
    ColumnRoles
        Mapping column -> role, in column order, with ``reasons``; print it to check.

    Raises
    ------
    FileNotFoundError
        A column looks like image paths but some file does not exist.
    ValueError
        A column holds arrays of different shapes, or arrays that are not numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmultimodal.auto import detect_column_roles
    >>> X = pd.DataFrame({
    ...     "id": [10, 11, 12, 13, 14, 15],
    ...     "review": ["great value", "broke after a week", "fine", "love it",
    ...                "would not buy again", "ok for the price"],
    ...     "price": [9.5, 12.0, 7.25, 30.0, None, 15.5],
    ...     "color": ["red", "blue", "red", None, "blue", "red"],
    ...     "shop": ["A", "A", "A", "A", "A", "A"],
    ... })
    >>> detect_column_roles(X)
    ColumnRoles(
      id      ignore       unique integer per row (an id)
      review  text         6 distinct values, 2.8 words on average
      price   numeric      float64, 5 distinct values; 1 missing
      color   categorical  2 categories; 1 missing
      shop    ignore       constant
    )
    >>> detect_column_roles(X, color="text")["color"]
    'text'
    """
    X = _check_frame(X)
    if isinstance(max_categories, bool) or not isinstance(max_categories, (int, np.integer)):
        raise TypeError(f"max_categories must be an int, got {max_categories!r}.")
    if max_categories < 2:
        raise ValueError(f"max_categories must be >= 2, got {max_categories}.")
    merged = _merge_overrides(overrides, column_overrides, X.columns)
    base = None if base_dir is None else Path(os.fspath(base_dir))
    roles, reasons = {}, {}
    for column in X.columns:
        if column in merged:
            roles[column], reasons[column] = merged[column], "set by override"
            continue
        roles[column], reasons[column] = _detect_one(column, X[column], base, max_categories)
    numbers = [
        c
        for c in X.columns
        if c not in merged
        and pd.api.types.is_numeric_dtype(X[c].dtype)
        and not pd.api.types.is_bool_dtype(X[c].dtype)
    ]
    # A time grid is one series input (a sequence branch beside the linear model of its
    # summary statistics): on six real series sets it reached the summary-statistics
    # baseline where the same numbers through the tabular branch stayed 1-10 points below
    # it on two (benchmarks/RESULTS.md, "Real series"). A grid with missing values inside
    # a time step stays numbers (imputed), and says why.
    for grid in time_grids(numbers):
        problem = _grid_gaps(X, grid)
        for step, feature, column in grid.cells():
            where = f"step {step} of {feature!r} in {grid.description}"
            if problem:
                reasons[column] += f"; {where}, left numbers: {problem}"
                continue
            roles[column] = "sequence"
            reasons[column] = (
                f"{where}: one series input (role 'numeric' on its columns keeps them numbers)"
            )
    return ColumnRoles(roles, reasons)


def _grid_gaps(X: pd.DataFrame, grid: TimeGrid) -> str:
    """Why the grid cannot be one series input ("" when it can): missing values that are
    not whole padding steps, or a row without any value."""
    values = X[list(grid.columns)].to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values).reshape(len(X), grid.timesteps, -1)
    partial = missing.any(axis=2) & ~missing.all(axis=2)
    if partial.any():
        row, step = np.argwhere(partial)[0]
        return (
            f"row {X.index[row]!r} misses some but not all features of time step {grid.steps[step]}"
        )
    empty = missing.all(axis=(1, 2))
    if empty.any():
        return f"row {X.index[int(np.flatnonzero(empty)[0])]!r} has no value in the grid"
    return ""


#: The fewest time steps a group of columns named by step needs to be read as a series.
MIN_GRID_STEPS = 12


@dataclass(frozen=True)
class TimeGrid:
    """Numeric columns that hold a series by their names: one column per (step, feature).

    ``columns`` is time-major (every feature of step 0, then of step 1...), the order
    :class:`~skmultimodal.sequence.TimeStepReshaper` reads.
    """

    columns: tuple[str, ...]
    steps: tuple[int, ...]
    features: tuple[str, ...]

    @property
    def timesteps(self) -> int:
        return len(self.steps)

    @property
    def description(self) -> str:
        first, last = self.columns[0], self.columns[-1]
        n_features = len(self.features)
        return (
            f"a time grid of {self.timesteps} steps x {n_features} "
            f"feature{'s' * (n_features > 1)} ({first} .. {last})"
        )

    def cells(self):
        """``(step, feature, column)`` of every column, time-major."""
        n = len(self.features)
        for i, column in enumerate(self.columns):
            yield self.steps[i // n], self.features[i % n], column


def time_grids(columns: Sequence[Any]) -> list[TimeGrid]:
    """The groups of ``columns`` whose names make a grid of time steps (x features).

    A name with one integer (``t0`` .. ``t49``, ``x_1`` .. ``x_30``, ``temp_t3``): the
    columns that differ only in that integer are one feature's steps; features with the
    same steps (``temp_t0..``, ``hum_t0..``) form one grid. A name with two integers
    (``t3_f1``, ``s12_d0``): the full product of both ranges is a grid whose longer range
    is time. The steps must be consecutive integers, at least :data:`MIN_GRID_STEPS` of
    them, each written once; other columns are left alone.

    Examples
    --------
    >>> from skmultimodal.auto import time_grids
    >>> grid, = time_grids([f"{f}_t{i}" for i in range(12) for f in ("hum", "temp")] + ["id"])
    >>> grid.timesteps, grid.features, grid.columns[:3]
    (12, ('hum_t#', 'temp_t#'), ('hum_t0', 'temp_t0', 'hum_t1'))
    >>> time_grids([f"q{i}" for i in range(1, 6)])  # too short for a series
    []
    """
    by_template: dict[str, dict[tuple[int, ...], str]] = {}
    written_twice: set[str] = set()
    for column in columns:
        if not isinstance(column, str):
            continue
        numbers = tuple(int(n) for n in re.findall(r"\d+", column))
        if len(numbers) not in (1, 2):
            continue
        template = re.sub(r"\d+", "#", column)
        cells = by_template.setdefault(template, {})
        if numbers in cells:
            written_twice.add(template)  # t1 and t01: not one step each
        cells[numbers] = column
    single: dict[tuple[int, ...], list[str]] = {}
    grids = []
    for template, cells in sorted(by_template.items()):
        if template in written_twice:
            continue
        keys = list(cells)
        if len(keys[0]) == 1:
            steps = tuple(sorted(k[0] for k in keys))
            if _consecutive(steps):
                single.setdefault(steps, []).append(template)
            continue
        first, second = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
        if len(keys) != len(first) * len(second):
            continue
        time_first = len(first) >= len(second)
        steps, features = (first, second) if time_first else (second, first)
        if not (_consecutive(tuple(steps)) and _consecutive(tuple(features), minimum=1)):
            continue
        ordered = [cells[(t, f) if time_first else (f, t)] for t in steps for f in features]
        names = tuple(f"{template} (feature {f})" for f in features)
        grids.append(TimeGrid(tuple(ordered), tuple(steps), names))
    for steps, templates in sorted(single.items()):
        lookup = {t: {k[0]: c for k, c in by_template[t].items()} for t in templates}
        ordered = [lookup[t][step] for step in steps for t in templates]
        grids.append(TimeGrid(tuple(ordered), steps, tuple(templates)))
    return grids


def _consecutive(values: tuple[int, ...], minimum: int = MIN_GRID_STEPS) -> bool:
    return len(values) >= minimum and values[-1] - values[0] == len(values) - 1


def _step_name(role: str, column: str, n_with_role: int) -> str:
    """Keras-friendly input name: the role alone, or ``role_column`` when several columns
    share the role (one input per image or text column); made unique in ``_prep_steps``."""
    if n_with_role == 1:
        return role
    slug = re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z]", "_", column)).strip("_") or "column"
    return f"{role}_{slug}"


def _image_size(X: pd.DataFrame, column: str, base_dir: Path | None) -> tuple[int, int]:
    """Median size of a sample of the column's images, scaled down to fit in 64x64 pixels.

    Up to :data:`_IMAGE_SIZE_SAMPLE` paths, spread evenly over the column, are opened
    (headers only, no decoding); the EXIF orientation is applied, as ``ImageLoader``
    does. Files that cannot be read are skipped here (``ImageLoader`` reports them at
    fit); with none readable the size is square.
    """
    paths = X[column].dropna()
    if len(paths) > _IMAGE_SIZE_SAMPLE:
        paths = paths.iloc[np.linspace(0, len(paths) - 1, _IMAGE_SIZE_SAMPLE).astype(int)]
    sizes = [size for size in (_header_size(p, base_dir) for p in paths) if size is not None]
    if not sizes:
        return _MAX_IMAGE_SIDE, _MAX_IMAGE_SIDE
    height, width = np.median(np.array(sizes, dtype=float), axis=0)
    scale = min(1.0, _MAX_IMAGE_SIDE / max(width, height))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _header_size(path: Any, base_dir: Path | None) -> tuple[int, int] | None:
    """``(height, width)`` of one image as ``ImageLoader`` will see it, or None if unreadable."""
    try:
        height, width = _probe_size(_resolve(path, base_dir))
    except Exception:  # any decoder error: ImageLoader reports this file, row and path at fit
        return None
    if width < 1 or height < 1:
        return None
    return height, width


def _text_len(X: pd.DataFrame, column: str) -> int:
    words = X[column].dropna().astype(str).str.split().str.len()
    return int(min(max(words.max() if len(words) else 1, 1), _MAX_TEXT_LEN))


def _prep_steps(
    X: pd.DataFrame,
    roles: ColumnRoles,
    base_dir: Path | None,
    image_size: tuple[int, int] | None,
    tfidf_features: int | None = _TFIDF_FEATURES,
    image_on_error: str = "raise",
    on_missing: str = "error",
    char_ngrams: tuple[int, int] | None = None,
    text_scores: bool = False,
    task: str = "classification",
    random_state: int | None = None,
    sequence_scores: bool = False,
    text_backbone: str | os.PathLike | None = None,
) -> list[tuple[str, Any, Any]]:
    steps = []
    images, texts = roles.columns("image"), roles.columns("text")
    for column in images:
        size = image_size or _image_size(X, column, base_dir)
        # A str, not a Path: skops.io trusts str, and would refuse to load a PosixPath.
        loader = ImageLoader(
            target_size=size,
            base_dir=None if base_dir is None else os.fspath(base_dir),
            on_error=image_on_error,
            on_missing=on_missing,
        )
        steps.append((_step_name("image", column, len(images)), loader, column))
    for column in texts:
        if text_backbone is None:
            tokenizer = TextTokenizer(
                max_words=_MAX_WORDS,
                max_len=_text_len(X, column),
                on_missing="mask" if on_missing == "mask" else "empty",
            )
        else:
            # A str, not a Path: skops.io trusts str.
            tokenizer = BackboneTokenizer(
                os.fspath(text_backbone),
                sequence_length=min(_BACKBONE_TOKENS, preset_max_sequence_length(text_backbone)),
            )
        name = _step_name("text", column, len(texts))
        steps.append((name, tokenizer, column))
        if tfidf_features:
            tfidf = TextTfidfVectorizer(
                ngram_range=(1, 2), max_features=tfidf_features, dtype=np.float32
            )
            steps.append((f"{name}_tfidf", tfidf, column))
            if char_ngrams:
                chars = TextTfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=tuple(char_ngrams),
                    max_features=tfidf_features,
                    sublinear_tf=True,
                    dtype=np.float32,
                )
                steps.append((f"{name}_chars", chars, column))
        if text_scores:
            scores = TextLinearScores(task=task, random_state=random_state)
            steps.append((f"{name}_scores", scores, column))
    grid_columns = [c for c in roles.columns("sequence") if not _holds_arrays(X[c])]
    grids = time_grids(grid_columns)
    covered = {column for grid in grids for column in grid.columns}
    if set(grid_columns) - covered:
        left = [c for c in grid_columns if c not in covered]
        raise ValueError(
            f"Columns {left[:10]} have the role 'sequence' but hold one number per cell and "
            "do not make a time grid by their names (one integer that runs over at least "
            f"{MIN_GRID_STEPS} consecutive steps, e.g. t0 .. t49, or two: t0_f0 .. t49_f2); "
            "rename them, or give them the role 'numeric'."
        )
    # Cross-fitted summary-statistics scores need every row's series.
    scored = sequence_scores and on_missing == "error"
    for role in ("vector", "sequence"):
        columns = [c for c in roles.columns(role) if c not in covered]
        n_with_role = len(columns) + (len(grids) if role == "sequence" else 0)
        if role == "sequence":
            for grid in grids:
                name = _step_name(role, grid.columns[0], n_with_role)
                reshaper = TimeStepReshaper(
                    timesteps=grid.timesteps, standardize=True, on_missing=on_missing
                )
                steps.append((name, reshaper, list(grid.columns)))
                if scored:
                    steps.append(
                        _sequence_scores_step(name, reshaper, grid.columns, task, random_state)
                    )
        for column in columns:
            name = _step_name(role, column, n_with_role)
            step = (
                ArrayColumnStacker(on_missing=on_missing)
                if role == "vector"
                # Series of any length: padded (and masked by the model), standardised.
                else SequencePadder(on_missing=on_missing)
            )
            steps.append((name, step, column))
            if role == "sequence" and scored:
                steps.append(_sequence_scores_step(name, step, column, task, random_state))
    if roles.columns("numeric"):
        numeric = make_pipeline(
            # keep_empty_features: a column missing everywhere in one CV fold keeps its place.
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
        )
        if on_missing == "mask":
            numeric = MaskMissingRows(numeric)
        steps.append(("numeric", numeric, roles.columns("numeric")))
    if roles.columns("categorical"):
        # Missing values (NaN/None) are a category of their own for OneHotEncoder.
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        if on_missing == "mask":
            encoder = MaskMissingRows(encoder)
        steps.append(("categorical", encoder, roles.columns("categorical")))
    if roles.columns("ignore"):
        steps.append(("ignored", "drop", roles.columns("ignore")))
    names = unique_names([name for name, _, _ in steps])
    return [(name, *step[1:]) for name, step in zip(names, steps, strict=True)]


def _sequence_scores_step(name: str, reader: Any, columns: Any, task: str, random_state: Any):
    """``("<name>_scores", reader -> SequenceLinearScores, columns)``."""
    scores = SequenceLinearScores(task=task, random_state=random_state)
    columns = list(columns) if isinstance(columns, (list, tuple)) else columns
    return (f"{name}_scores", make_pipeline(clone(reader), scores), columns)


def _check_role_values(X: pd.DataFrame, roles: ColumnRoles, base_dir: Path | None) -> None:
    """ValueError naming the column and row when a column's values cannot take its role."""
    for column, role in roles.items():
        if role == "ignore":
            continue
        values = X[column].dropna()
        if role == "numeric":
            dtype = X[column].dtype
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise ValueError(
                    f"Column {column!r} has the role 'numeric' but dtype {dtype}; convert it "
                    "to numbers first, or give it the role 'categorical' or 'text'."
                )
            continue
        if role == "sequence" and not _holds_arrays(X[column]):
            # One number per cell: a step of a time grid, checked when the steps are built.
            if pd.api.types.is_numeric_dtype(X[column].dtype):
                continue
        wants_arrays = role in ("vector", "sequence")
        is_array = np.array([isinstance(v, _ARRAY_CELL) for v in values], dtype=bool)
        bad = values[is_array != wants_arrays]
        if role == "image" and bad.empty:
            is_path = np.array([isinstance(v, (str, os.PathLike)) for v in values], dtype=bool)
            bad = values[~is_path]
            expected = "image file paths (strings)"
        elif wants_arrays:
            ndims = (1,) if role == "vector" else (1, 2)
            if bad.empty:
                bad = values[[_array_ndim(v) not in ndims for v in values]]
            expected = (
                "1-D arrays (lists, tuples or NumPy arrays of numbers)"
                if role == "vector"
                else "series: 2-D arrays (timesteps, features) or 1-D arrays of numbers"
            )
        else:
            expected = (
                "one value per cell; a column of arrays takes the role 'vector' or 'sequence'"
            )
        if not bad.empty:
            row, value = bad.index[0], bad.iloc[0]
            raise ValueError(
                f"Column {column!r} has the role {role!r}, but row {row!r} holds "
                f"{_preview(value)} ({type(value).__name__}); that role needs {expected}. "
                f"Give the column another role (roles={{{column!r}: ...}}; on the command "
                f"line --role {column}=ROLE)."
            )
        if role == "image" and values.empty:
            raise ValueError(
                f"Column {column!r} has the role 'image' but no paths (every value is "
                "missing); give it the role 'ignore'."
            )
        if role == "image":
            _check_image_files(column, values, base_dir)


def _check_image_files(column: str, values: pd.Series, base_dir: Path | None) -> None:
    """FileNotFoundError naming the first path of an image column that is not a file."""
    for row, value in values.items():
        if not _resolve(value, base_dir).is_file():
            where = f" under base_dir {str(base_dir)!r}" if base_dir is not None else ""
            raise FileNotFoundError(
                f"Column {column!r} has the role 'image', but row {row!r}: "
                f"{_preview(value)} is not an existing file{where}. Fix the path or "
                f"base_dir, or give the column another role (roles={{{column!r}: ...}}; "
                f"on the command line --role {column}=ROLE)."
            )


def _check_image_on_error(
    X: pd.DataFrame, roles: ColumnRoles, image_on_error: str, on_missing: str = "error"
) -> None:
    if image_on_error not in ("raise", "zeros"):
        raise ValueError(f"image_on_error must be 'raise' or 'zeros', got {image_on_error!r}.")
    if on_missing not in ("error", "mask"):
        raise ValueError(f"on_missing must be 'error' or 'mask', got {on_missing!r}.")
    if image_on_error == "zeros" or on_missing == "mask":
        return
    for column in roles.columns("image"):
        missing = X[column].isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"Image column {column!r} has {int(missing.sum())} missing paths (first at row "
                f"{row}, index {X.index[row]!r}), which ImageLoader refuses at fit and predict. "
                "Fill or drop those rows, pass on_missing='mask' to let the model know those "
                "rows have no image, or pass image_on_error='zeros' (on the command line "
                "--image-errors zeros) to load a blank image for a missing path or file, with "
                "a warning, at fit and at predict."
            )


def _conv_blocks_that_fit(side: int, kernel_size: int = 3, pool_size: int = 2) -> int:
    """How many ``Conv2D(3) -> MaxPool(2)`` blocks of the default model an image side allows."""
    n_blocks = 0
    while n_blocks < len(DEFAULT_MODEL_PARAMS["image_filters"]) and side >= kernel_size + 1:
        side = (side - kernel_size + 1) // pool_size
        n_blocks += 1
    return n_blocks


def detect_task(y: Any, task: str = "auto") -> tuple[str, str]:
    """Classification or regression for the target ``y``, with the reason in plain words.

    The rule, in order:

    1. ``task`` other than ``"auto"`` is taken as it is.
    2. Strings, booleans and other non-numeric labels: classification.
    3. Numbers with a fractional part: regression.
    4. Whole numbers (integer dtype, or floats without a fractional part) are classes, as
       in scikit-learn, unless they look like amounts or counts: more than
       :data:`_MAX_AUTO_CLASSES` distinct values, most of which occur at most twice
       (a price column: nearly every row has its own value). Those are regression.
       Whole numbers with more than :data:`_MAX_AUTO_CLASSES` distinct values that stay
       classes get a warning that says how to choose.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        The target.
    task : {"auto", "classification", "regression"}, default="auto"

    Returns
    -------
    task : {"classification", "regression"}
    reason : str
        One sentence, e.g. for the command line's header.

    Examples
    --------
    >>> import numpy as np
    >>> detect_task(np.array([0, 1, 1, 0]))[0]
    'classification'
    >>> task, reason = detect_task(np.arange(100_000, 400_000, 1_000))
    >>> task
    'regression'
    >>> reason
    '300 distinct whole numbers, 300 of them seen at most twice: amounts or counts, ...'
    """
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}.")
    if task != "auto":
        return task, f"task={task!r} was given"
    from ._validation import check_label_types

    check_label_types(np.asarray(y))
    target_type = type_of_target(y, input_name="y")
    if target_type in _REGRESSOR_TARGETS:
        return "regression", "the target holds numbers with a fractional part"
    if target_type not in _CLASSIFIER_TARGETS:
        raise ValueError(
            f"Cannot choose between a classifier and a regressor for a target of type "
            f"{target_type!r}; pass task='classification' or task='regression'."
        )
    values = np.asarray(y)
    if values.ndim != 1 or values.dtype.kind not in "iuf":
        return "classification", f"the target is {target_type} ({_n_classes(values)} labels)"
    distinct, counts = np.unique(values, return_counts=True)
    rare = int((counts <= 2).sum())
    if len(distinct) > _MAX_AUTO_CLASSES and rare > len(distinct) / 2:
        return "regression", (
            f"{len(distinct)} distinct whole numbers, {rare} of them seen at most twice: "
            "amounts or counts, not classes"
        )
    if len(distinct) > _MAX_AUTO_CLASSES:
        warnings.warn(
            f"y holds {len(distinct)} distinct whole numbers, taken as {len(distinct)} "
            "classes (most of them occur more than twice). If they are amounts or counts, "
            "pass task='regression' (--task regression on the command line).",
            UserWarning,
            stacklevel=2,
        )
    return "classification", f"{len(distinct)} classes ({target_type})"


def _n_classes(values: np.ndarray) -> int:
    if values.ndim == 1:
        return len(pd.unique(values))
    return int(sum(len(pd.unique(values[:, j])) for j in range(values.shape[1])))


def choose_target_transform(y: Any) -> tuple[str, str]:
    """The regressor's ``target_transform`` for ``y``, with the reason in plain words.

    The rule: a one-column target whose values are all positive (``"log"``) or all
    non-negative with zeros (``"log1p"``) gets that transform when it is right-skewed
    (sample skewness above :data:`_SKEWED`) and the transform makes it more symmetric
    (a smaller absolute skewness): prices, areas, counts. Every other target gets
    ``"standard"``. Either way the model's outputs are standardised, and predictions come
    back in ``y``'s units.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)

    Returns
    -------
    target_transform : {"standard", "log", "log1p"}
    reason : str

    Examples
    --------
    >>> import numpy as np
    >>> prices = np.exp(np.random.RandomState(0).normal(12, 0.5, 500))
    >>> choose_target_transform(prices)[0]
    'log'
    >>> choose_target_transform(np.log(prices))[0]
    'standard'
    """
    values = np.asarray(y, dtype=np.float64)
    if values.ndim > 1 and values.shape[1] > 1:
        return "standard", "several target columns are standardised one by one"
    values = values.reshape(-1)
    if len(values) < 3 or not np.isfinite(values).all() or (values < 0).any():
        return "standard", "the target is standardised"
    method, transformed = (
        ("log", np.log(values)) if (values > 0).all() else ("log1p", np.log1p(values))
    )
    before, after = _skewness(values), _skewness(transformed)
    if before > _SKEWED and abs(after) < abs(before):
        return method, (
            f"the target is {'positive' if method == 'log' else 'non-negative'} and "
            f"right-skewed (skewness {before:.2f}, {after:.2f} after {method})"
        )
    return "standard", f"the target is standardised (skewness {before:.2f})"


def _skewness(values: np.ndarray) -> float:
    centred = values - values.mean()
    spread = np.sqrt(np.mean(centred**2))
    return 0.0 if spread == 0 else float(np.mean(centred**3) / spread**3)


def _target_transform_for(y: Any, target_transform: str | None) -> str | None:
    if target_transform != "auto":
        return target_transform
    if y is None:
        return "standard"
    return choose_target_transform(y)[0]


def make_multimodal_pipeline(
    X: pd.DataFrame,
    y: Any = None,
    *,
    model_params: Mapping[str, Any] | None = None,
    roles: Mapping[str, str] | None = None,
    base_dir: str | os.PathLike | None = None,
    task: str = "auto",
    target_transform: str | None = "auto",
    image_size: tuple[int, int] | None = None,
    max_categories: int = 20,
    random_state: int | None = None,
    tfidf_features: int | None = _TFIDF_FEATURES,
    char_ngrams: tuple[int, int] | None = _CHAR_NGRAMS,
    text_scores: bool = True,
    sequence_scores: bool = True,
    image_on_error: str = "raise",
    on_missing: str = "error",
    ensemble: bool = False,
    classifier_params: Mapping[str, Any] | None = None,
    regressor_params: Mapping[str, Any] | None = None,
    overrides: Mapping[str, str] | None = None,
    text_backbone: str | os.PathLike | None = None,
    **column_overrides: str,
) -> Any:
    """A ready ``Pipeline`` for the table ``X``, with one model input per detected role.

    The roles come from :func:`detect_column_roles`, except those ``roles`` sets. The pipeline is
    ``Pipeline([("prep", MultiInputTransformer(steps)), ("clf", estimator)])`` with the
    steps, in this order:

    - one ``"image"`` step per image column: ``ImageLoader(target_size, base_dir,
      on_error=image_on_error)``;
    - one ``"vector"`` step per column of equal-length arrays:
      :class:`~skmultimodal.sequence.ArrayColumnStacker` (a tabular input), one
      ``"sequence"`` step per column of series: :class:`~skmultimodal.sequence.SequencePadder`
      (standardised, padded to the longest series, padding masked by the model), and
      a ``"sequence_scores"`` step on the same column(s) (``sequence_scores``); a time
      grid of numeric columns (``t0 .. t49``, see :func:`time_grids`) is one series,
      ``TimeStepReshaper(timesteps, standardize=True)``, with its scores step;
    - one ``"text"`` step per text column: ``TextTokenizer(max_words=20000, max_len=n)``
      with ``n`` the number of words of the longest text in ``X`` (at most 200), followed by
      a ``"text_tfidf"`` step on the same column: ``TextTfidfVectorizer(ngram_range=(1, 2),
      max_features=tfidf_features)`` (scikit-learn's ``TfidfVectorizer``, missing texts
      empty), a second, tabular input (a "wide" path of word and
      word-pair weights next to the "deep" text branch; on the review benchmark it lifted
      the fused model above TF-IDF + logistic regression, see docs/results.md), and a
      ``"text_chars"`` step: the same of character 2-5-grams (``char_ngrams``), and a
      ``"text_scores"`` step: :class:`~skmultimodal.text.TextLinearScores`
      (``text_scores``);
    - ``"numeric"``: all numeric columns, ``SimpleImputer(strategy="median")`` then
      ``StandardScaler``, one tabular input;
    - ``"categorical"``: all categorical columns,
      ``OneHotEncoder(handle_unknown="ignore", sparse_output=False)``; a missing value is a
      category of its own;
    - ``"ignored"``: ``"drop"`` for the ignored columns (no model input).

    The estimator gets :data:`DEFAULT_MODEL_PARAMS` (a regressor also
    :data:`DEFAULT_REGRESSOR_PARAMS`), except that images too small for two
    convolution blocks (under 10 pixels on a side) get one block, or none under 4 pixels.

    With several image (text) columns the steps are named ``image_<column>``
    (``text_<column>``). The step names are the roles, so :func:`describe_roles` reads
    them back from the pipeline, and they are the names of the Keras inputs.

    Parameters
    ----------
    X : pandas.DataFrame
        The features (target excluded), with string column names.
    y : array-like, default=None
        The target; :func:`detect_task` chooses the estimator from it:
        ``MultiInputKerasClassifier`` for labels (strings, booleans, whole numbers with
        few distinct values, multi-label indicators), ``MultiInputKerasRegressor`` for
        numbers with a fractional part and for whole numbers that look like amounts or
        counts (more than 20 distinct values, most seen at most twice, such as prices).
        Without ``y`` the task is classification unless ``task`` says otherwise.
    model_params : mapping, default=None
        Parameters of the estimator (the classifier or the regressor, whichever ``task``
        gives), over the defaults :data:`DEFAULT_MODEL_PARAMS` (and
        :data:`DEFAULT_REGRESSOR_PARAMS`): e.g. ``{"epochs": 50, "verbose": 1}``.
    roles : mapping of str to str, default=None
        Roles by column name (one of :data:`ROLES`), e.g. ``{"notes": "ignore"}``; the
        other columns' roles are detected. A :class:`ColumnRoles` you checked gives every
        column its role, and nothing is detected.
    base_dir : str or os.PathLike, default=None
        Folder that relative image paths are resolved against, for detection and in the
        ``ImageLoader`` steps (the working directory when None).
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` applies :func:`detect_task`'s rule to ``y``.
    target_transform : {"auto", "standard", "log", "log1p"} or None, default="auto"
        The regressor's ``target_transform``. ``"auto"`` applies
        :func:`choose_target_transform`'s rule: ``"log"`` for a positive, right-skewed
        target (prices), ``"log1p"`` for a right-skewed count with zeros, ``"standard"``
        otherwise. ``model_params`` may also set it. Ignored for classifiers.
    image_size : tuple of (int, int), default=None
        ``(height, width)`` images are resized to. None: the median height and width of
        up to 50 of the column's images (spread over the column; unreadable files
        skipped), scaled down to fit in 64x64 pixels; 64x64 if none can be read.
    max_categories : int, default=20
        See :func:`detect_column_roles`.
    random_state : int, default=None
        ``random_state`` of the estimator, unless ``model_params`` sets it.
    tfidf_features : int or None, default=20000
        Columns of each ``"text_tfidf"`` input (the most frequent words and word pairs)
        and of each ``"text_chars"`` input. The inputs stay sparse matrices up to the
        model's sparse inputs, so a row costs its non-zero weights only. None or 0 leaves
        the TF-IDF inputs out.
    char_ngrams : tuple of (int, int) or None, default=(2, 5)
        Sizes of the character n-grams of a ``"text_chars"`` step next to each text
        column: ``TextTfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams,
        sublinear_tf=True)``, a second sparse ("wide") input. Character n-grams catch
        plurals, typos and word parts that word n-grams miss: on short titles they lifted
        a linear model by 6-8 points and the fused network by up to 1.5 points (the
        suite in benchmarks/RESULTS.md). None leaves it out.
    text_scores : bool, default=True
        Add a ``"text_scores"`` step per text column:
        :class:`~skmultimodal.text.TextLinearScores`, the scores of a word + character
        n-gram TF-IDF logistic regression (a Ridge for a regression), out-of-fold on the
        training rows: a stacked, dense input that gives the network the linear model's
        view of the text. Judged on every text case of the quality suite, it raised
        short titles next to weak images by 2-3 points, the XOR case, the reviews and
        their ratings by 0.3-2 points, and lowered none beyond its fold spread
        (benchmarks/RESULTS.md, "text scores"); it costs 6 linear fits per text column
        and exports. For a classification the estimator blends those scores with the
        network's logits (``blend_inputs``, weighted on the early-stopping hold-out),
        with ``on_missing="mask"`` too, where a row without its text has them switched
        off (the transformer's ``presence_groups_``); a regression reads them as a dense
        input. Needs a 1-D ``y`` here (the task's target); without ``y``, or for a
        multi-output target, the step is left out.
    sequence_scores : bool, default=True
        Add a ``"<step>_scores"`` step per series (a column of series or a time grid of
        columns): the series padded or reshaped as for the model,
        then :class:`~skmultimodal.sequence.SequenceLinearScores`, the out-of-fold
        scores of a logistic regression (ridge) on each series' summary statistics. On
        the small real series sets of benchmarks/RESULTS.md ("Real series") that linear
        model beat the networks on some sets; with its scores as an input the network
        starts from it. Needs a 1-D ``y`` and ``on_missing="error"``; left out otherwise.
    text_backbone : str, os.PathLike or None, default=None
        A keras-hub preset (a local folder, or a name keras-hub downloads) to encode the
        text columns with: each ``"text"`` step is then
        ``BackboneTokenizer(text_backbone, sequence_length=128)`` (at most the
        backbone's ``max_sequence_length``) instead of ``TextTokenizer``, and the
        estimator gets ``text_backbone`` (frozen unless ``model_params`` sets
        ``text_backbone_trainable``); see docs/user_guide/text_backbones.md.
        ``model_params={"text_backbone": ...}`` does the same. Not with
        ``on_missing="mask"`` nor ``ensemble=True``.
    image_on_error : {"raise", "zeros"}, default="raise"
        ``on_error`` of the ``ImageLoader`` steps, at fit and at every later predict:
        ``"raise"`` refuses a missing path (``None``/NaN) or a missing, unreadable or
        corrupt file with an error naming the row; ``"zeros"`` loads a blank image instead,
        with a warning. With ``"raise"``, an image column of ``X`` with missing paths is
        refused here already, saying how to opt in.
    on_missing : {"error", "mask"}, default="error"
        ``"mask"``: rows without an image path, without a text, without any numeric value
        or without any category are legal, as rows without that modality: the
        ``ImageLoader``, ``TextTokenizer`` and ``ArrayColumnStacker`` steps get
        ``on_missing="mask"`` and the
        ``"numeric"`` and ``"categorical"`` steps are wrapped in
        :class:`~skmultimodal.missing.MaskMissingRows` (a row with only some numbers
        missing is still imputed), so the model zeroes those branches for those rows and sees
        which rows lack them, at fit and at predict (see :mod:`skmultimodal.missing`).
        Pair it with the estimator's ``modality_dropout`` (in ``model_params``) to train
        the model for rows that lack a modality. ``"error"``: a missing path follows
        ``image_on_error``, a missing text is an empty one.
    ensemble : bool, default=False
        Return a :class:`~skmultimodal.ensemble.MultimodalEnsembleClassifier` (or
        ``Regressor``, as ``task`` says) instead of the pipeline: the pipeline described
        here as one member, next to the classical model that is strong for each
        modality (word and character n-gram TF-IDF + a linear model per text column, a
        linear model on small pixels per image column, gradient boosting on the numbers
        and categories), each fitted with 3-fold bagging and weighted by greedy selection
        on out-of-fold predictions. The best quality from one call on small real tables
        (docs/results.md, "When does fusion help?"), at about 1.5-4 times the fit time; it
        is not exported by :func:`~skmultimodal.export`. ``model_params``, ``roles``,
        ``base_dir``, ``image_size``, ``on_missing`` and ``random_state`` go to it;
        ``tfidf_features``, ``char_ngrams``, ``text_scores``, ``image_on_error`` and
        ``target_transform`` must keep their defaults.
    classifier_params, regressor_params : mapping, default=None
        Deprecated since 0.2.0 (a ``FutureWarning``; removed in 0.4.0): use
        ``model_params``.
    overrides : mapping of str to str, default=None
        Deprecated since 0.2.0 (a ``FutureWarning``; removed in 0.4.0): use ``roles``.
    **column_overrides : str
        Deprecated since 0.2.0 (a ``FutureWarning``; removed in 0.4.0): roles as
        keywords (``notes="ignore"``); use ``roles={"notes": "ignore"}``.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; steps ``"prep"`` and ``"clf"``. With ``ensemble=True``, an unfitted
        ``MultimodalEnsembleClassifier`` or ``MultimodalEnsembleRegressor``.

    Raises
    ------
    ValueError
        A column's values do not fit its role (numbers forced to ``"image"``, strings to
        ``"numeric"``, arrays to anything but ``"vector"``/``"sequence"``...), or an
        image column has missing paths while ``image_on_error="raise"``.
    FileNotFoundError
        A path of an image column is not an existing file.

    See Also
    --------
    describe_roles : The roles a pipeline made here uses.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from skmultimodal.auto import describe_roles, make_multimodal_pipeline
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> folder = tempfile.mkdtemp()
    >>> X, y = make_multimodal_classification(20, n_timesteps=2, image_dir=folder,
    ...                                       random_state=0)
    >>> pipe = make_multimodal_pipeline(X, y, random_state=0)
    >>> describe_roles(pipe)
    ColumnRoles(
      image     image        step 'image'
      text      text         steps 'text', 'text_tfidf', 'text_chars', 'text_scores'
      t0        numeric      step 'numeric'
      t1        numeric      step 'numeric'
      category  categorical  step 'categorical'
    )
    >>> type(pipe.named_steps["clf"]).__name__
    'MultiInputKerasClassifier'
    >>> shutil.rmtree(folder)
    """
    X = _check_frame(X)
    base = None if base_dir is None else Path(os.fspath(base_dir))
    roles = _deprecated_roles(roles, overrides, column_overrides)
    if roles is not None and set(X.columns) <= set(roles):
        roles = ColumnRoles({column: roles[column] for column in X.columns})
    else:
        roles = detect_column_roles(
            X, base_dir=base, max_categories=max_categories, overrides=roles
        )
    if not any(role != "ignore" for role in roles.values()):
        raise ValueError(f"Every column is ignored, nothing to learn from:\n{roles!r}")
    _check_role_values(X, roles, base)
    _check_image_on_error(X, roles, image_on_error, on_missing)
    if y is None:
        task, _ = detect_task(None, task) if task != "auto" else ("classification", "")
    else:
        task, _ = detect_task(y, task)
    text_backbone = _text_backbone_of(text_backbone, model_params, on_missing, ensemble)
    steps = _prep_steps(
        X,
        roles,
        base,
        image_size,
        tfidf_features,
        image_on_error,
        on_missing,
        char_ngrams,
        text_scores and y is not None and np.ndim(y) == 1,
        task,
        random_state,
        sequence_scores and y is not None and np.ndim(y) == 1,
        text_backbone,
    )
    user_params = _deprecated_model_params(model_params, task, classifier_params, regressor_params)
    if text_backbone is not None:
        user_params = {**(user_params or {}), "text_backbone": os.fspath(text_backbone)}
    if ensemble:
        return _ensemble_for(
            task,
            roles,
            user_params,
            base_dir=base_dir,
            image_size=image_size,
            on_missing=on_missing,
            random_state=random_state,
            fixed={
                "tfidf_features": (tfidf_features, _TFIDF_FEATURES),
                "char_ngrams": (char_ngrams, _CHAR_NGRAMS),
                "text_scores": (text_scores, True),
                "sequence_scores": (sequence_scores, True),
                "image_on_error": (image_on_error, "raise"),
                "target_transform": (target_transform, "auto"),
            },
        )
    if task == "classification":
        from .estimators import MultiInputKerasClassifier as Estimator

        chosen = {}
    else:
        if y is not None:
            from ._validation import check_numeric_target

            check_numeric_target(np.asarray(y))
        from .estimators import MultiInputKerasRegressor as Estimator

        chosen = {
            **DEFAULT_REGRESSOR_PARAMS,
            "target_transform": _target_transform_for(y, target_transform),
        }
    if task == "classification":
        # The network's logits and the text models' scores, weighted on held-out rows. A
        # series' scores stay a dense input (measured on real series, where most tables
        # are too small to hold rows out for the blend). With on_missing="mask" a row
        # without its text has its scores switched off with it (presence groups).
        chosen["blend_inputs"] = [
            name for name, trans, _ in steps if isinstance(trans, TextLinearScores)
        ]
        if not chosen["blend_inputs"]:
            del chosen["blend_inputs"]
    params = {
        **DEFAULT_MODEL_PARAMS,
        "random_state": random_state,
        **chosen,
        **(user_params or {}),
    }
    if "image_filters" not in (user_params or {}):
        sizes = [trans.target_size for _, trans, _ in steps if isinstance(trans, ImageLoader)]
        if sizes:
            n_blocks = _conv_blocks_that_fit(min(min(size) for size in sizes))
            params["image_filters"] = tuple(params["image_filters"][:n_blocks])
    return Pipeline([("prep", MultiInputTransformer(steps)), ("clf", Estimator(**params))])


def _text_backbone_of(text_backbone, model_params, on_missing: str, ensemble: bool):
    """The preset of the text steps and the estimator: ``text_backbone``, or
    ``model_params["text_backbone"]``; a clear error for what it cannot go with."""
    from_params = (model_params or {}).get("text_backbone")
    if text_backbone is None:
        text_backbone = from_params
    elif from_params is not None and from_params != text_backbone:
        raise ValueError(
            "make_multimodal_pipeline got text_backbone both as a keyword and in "
            "model_params; give it once."
        )
    if text_backbone is None:
        return None
    if not isinstance(text_backbone, (str, os.PathLike)):
        raise TypeError(
            "make_multimodal_pipeline(text_backbone=...) needs a keras-hub preset (a local "
            "folder or a preset name): its tokenizer makes the token ids of the text steps. "
            f"Got {type(text_backbone).__name__}; to use a keras.Model, build the pipeline "
            "with BackboneTokenizer steps and MultiInputKerasClassifier(text_backbone=model)."
        )
    if on_missing == "mask" or ensemble:
        option = "on_missing='mask'" if on_missing == "mask" else "ensemble=True"
        raise ValueError(
            f"make_multimodal_pipeline(text_backbone=...) does not take {option} (the "
            "BackboneTokenizer steps read a missing text as an empty text); leave it out, "
            "or build the pipeline yourself."
        )
    return text_backbone


def _ensemble_for(task, roles, model_params, *, fixed, **params):
    """``make_multimodal_pipeline(..., ensemble=True)``: the ensemble for ``task``."""
    from .ensemble import MultimodalEnsembleClassifier, MultimodalEnsembleRegressor

    changed = [name for name, (value, default) in fixed.items() if value != default]
    if changed:
        raise ValueError(
            f"make_multimodal_pipeline(ensemble=True) builds its members with the default "
            f"{', '.join(changed)}; leave {'it' if len(changed) == 1 else 'them'} at the "
            "default or build the pipeline without ensemble=True."
        )
    Ensemble = (
        MultimodalEnsembleClassifier if task == "classification" else MultimodalEnsembleRegressor
    )
    if params["base_dir"] is not None:  # a str, which skops trusts, not a Path
        params["base_dir"] = os.fspath(params["base_dir"])
    return Ensemble(model_params=dict(model_params) or None, roles=dict(roles), **params)


def _deprecated_roles(
    roles: Mapping[str, str] | None,
    overrides: Mapping[str, str] | None,
    column_overrides: Mapping[str, str],
) -> Mapping[str, str] | None:
    """``roles``, with the deprecated ``overrides`` / role keywords merged in (warned)."""
    if overrides is None and not column_overrides:
        return roles
    old = "overrides=" if overrides is not None else f"{next(iter(column_overrides))}=..."
    warnings.warn(
        f"make_multimodal_pipeline({old}) is deprecated since 0.2.0 and will be removed in "
        "0.4.0; give every role in roles={column: role}.",
        FutureWarning,
        stacklevel=3,
    )
    if roles is not None:
        raise ValueError(
            "Pass the roles in roles= only (overrides= and role keywords are deprecated)."
        )
    # The columns are checked against X by detect_column_roles, which receives the result.
    return _merge_overrides(overrides, column_overrides, columns=None)


def _deprecated_model_params(
    model_params: Mapping[str, Any] | None,
    task: str,
    classifier_params: Mapping[str, Any] | None,
    regressor_params: Mapping[str, Any] | None,
) -> Mapping[str, Any]:
    """``model_params``, or (warned) the deprecated parameter for ``task``."""
    if classifier_params is None and regressor_params is None:
        return model_params or {}
    given = [
        name
        for name, value in (
            ("classifier_params", classifier_params),
            ("regressor_params", regressor_params),
        )
        if value is not None
    ]
    warnings.warn(
        f"make_multimodal_pipeline({', '.join(given)}) is deprecated since 0.2.0 and will be "
        "removed in 0.4.0; pass the estimator's parameters as model_params=.",
        FutureWarning,
        stacklevel=3,
    )
    if model_params is not None:
        raise ValueError(
            f"Pass the estimator's parameters in model_params only, not also in {given[0]}."
        )
    chosen = classifier_params if task == "classification" else regressor_params
    return chosen or {}


def _role_of_step(name: str, trans: Any) -> str | None:
    if isinstance(trans, str) and trans == "drop":
        return "ignore"
    for role in ROLES[:-1]:
        if name == role or name.startswith(role + "_"):
            return role
    return None


def describe_roles(pipeline: Any) -> ColumnRoles:
    """The column roles used by a pipeline from :func:`make_multimodal_pipeline`.

    Read from the step names of its ``MultiInputTransformer``, so it works on a fitted,
    cloned or loaded pipeline as well.

    Parameters
    ----------
    pipeline : Pipeline or MultiInputTransformer
        A pipeline whose ``"prep"`` step (or first step) is a ``MultiInputTransformer``,
        or that transformer itself.

    Returns
    -------
    ColumnRoles
        Column -> role; the reason names the step that reads the column.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmultimodal.auto import describe_roles
    >>> from skmultimodal.compose import MultiInputTransformer
    >>> prep = MultiInputTransformer([("numeric", StandardScaler(), ["a", "b"]),
    ...                               ("ignored", "drop", ["id"])])
    >>> describe_roles(prep)
    ColumnRoles(
      a   numeric  step 'numeric'
      b   numeric  step 'numeric'
      id  ignore   step 'ignored'
    )
    """
    prep = next(
        (step for step in nested_estimators(pipeline) if isinstance(step, MultiInputTransformer)),
        pipeline,
    )
    if not isinstance(prep, MultiInputTransformer):
        raise TypeError(
            "describe_roles expects a Pipeline whose 'prep' step is a MultiInputTransformer "
            f"(as made by make_multimodal_pipeline), got {type(prep).__name__}."
        )
    roles, reasons = {}, {}
    for name, trans, columns in prep.transformers:
        role = _role_of_step(name, trans)
        if role is None:
            raise ValueError(
                f"Step {name!r} is not named after a role ({', '.join(ROLES[:-1])}); "
                "describe_roles reads pipelines made by make_multimodal_pipeline."
            )
        for column in [columns] if isinstance(columns, str) else list(columns):
            roles[column] = role
            reasons.setdefault(column, []).append(name)
    return ColumnRoles(
        roles,
        {
            column: ("step " if len(names) == 1 else "steps ") + ", ".join(map(repr, names))
            for column, names in reasons.items()
        },
    )
