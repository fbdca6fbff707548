"""One column of a table, from whatever container holds it.

The one-column transformers (:class:`~skmultimodal.image.ImageLoader`,
:class:`~skmultimodal.text.TextTokenizer`, :class:`~skmultimodal.sequence.ArrayColumnStacker`)
accept a one-column DataFrame, a Series, a list or a 1-D / one-column 2-D array; this
module turns each into a plain list of cells with one rule and one set of messages.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np


class Column(NamedTuple):
    """The cells of one column and what the error messages need to name a row."""

    values: list
    """The cells, in row order; a pandas column's missing values (NaN, ``pd.NA``) are None."""
    labels: list | None
    """The index labels, or None where the index is the default 0..n-1."""
    name: Any
    """The column's (or Series') name, or None."""
    is_2d: bool
    """Whether the input was 2-D (a DataFrame or an ``(n, 1)`` array)."""


def one_column(
    X: Any, *, owner: str, what: str, hint: str = "", cells_are_arrays: bool = False
) -> Column:
    """The single column of ``X`` as a :class:`Column`.

    Parameters
    ----------
    X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
        The column.
    owner : str
        The estimator named in the messages, e.g. ``"ImageLoader"``.
    what : str
        What the cells are, e.g. ``"image paths"``.
    hint : str, default=""
        Appended to the message for several columns (how to select one).
    cells_are_arrays : bool, default=False
        Each item of a list is one cell even when it is a list itself (a list of
        equal-length lists is then a column of arrays, not a 2-D table).

    Returns
    -------
    Column

    Raises
    ------
    ValueError
        For several columns, or an array of another shape, naming the columns or shape.
    TypeError
        For one bare value (a string, bytes or path) instead of a column of them.

    Examples
    --------
    >>> import pandas as pd
    >>> one_column(pd.DataFrame({"a": ["x", None]}, index=[5, 6]), owner="T", what="texts")
    Column(values=['x', None], labels=[5, 6], name='a', is_2d=True)
    >>> one_column([["x"], ["y"]], owner="T", what="texts").values
    ['x', 'y']
    """
    is_2d = hasattr(X, "columns")
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        if X.shape[1] != 1:
            raise ValueError(
                f"{owner} expects exactly one column of {what}, got {X.shape[1]} columns: "
                f"{list(X.columns)[:10]!r}.{hint}"
            )
        X = X.iloc[:, 0]
    if hasattr(X, "iloc") and hasattr(X, "index"):
        # na_value=None turns NaN, pd.NA and None alike into None.
        values = X.to_numpy(dtype=object, na_value=None).tolist()
        index = X.index
        is_default = index.equals(type(index)(range(len(index)))) if len(index) else True
        return Column(values, None if is_default else index.tolist(), X.name, is_2d)
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{owner} expects a column of {what} (a list, Series, 1-D array or one-column "
            f"DataFrame), got a single {type(X).__name__} {X!r:.80}; wrap it in a list."
        )
    if isinstance(X, list) and cells_are_arrays:
        # Cells kept whole: np.asarray would turn equal-length array cells into a 2-D array.
        array = np.empty(len(X), dtype=object)
        array[:] = X
    else:
        array = np.asarray(X, dtype=object)
    is_2d = array.ndim == 2
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2:
        raise ValueError(
            f"{owner} expects exactly one column of {what}, got an array with "
            f"{array.shape[1]} columns (shape {array.shape}).{hint}"
        )
    elif array.ndim != 1:
        raise ValueError(
            f"{owner} expects a 1-D column of {what} or a 2-D one with one column, got an "
            f"input of shape {array.shape}."
        )
    return Column(array.tolist(), None, None, is_2d)
