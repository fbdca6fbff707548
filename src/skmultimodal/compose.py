"""Route the columns of one table to several transformers and return one array per input.

`MultiInputTransformer` is `sklearn.compose.ColumnTransformer` for multi-input models: instead
of stacking the outputs side by side (impossible for images, token ids and time-step sequences
of different ranks), it returns them as a ``dict[name -> ndarray]``, one entry per Keras input.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import TransformerMixin, _fit_context, clone
from sklearn.utils import Bunch, InputTags
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_array, check_is_fitted, get_tags, validate_data

from ._names import unique_names
from .lazy import LazyImages
from .missing import MaskedInput, presence_key

__all__ = ["MultiInputTransformer", "make_multi_input_transformer"]

_SPECIAL_STEPS = ("drop", "passthrough")


# auto_wrap_output_keys=None: scikit-learn would otherwise wrap transform and
# fit_transform (this class defines get_feature_names_out) to turn the dict into a table
# under set_output / transform_output="pandas".
class MultiInputTransformer(TransformerMixin, _BaseComposition, auto_wrap_output_keys=None):
    """Apply one transformer per group of columns and return a dict of arrays.

    Each step ``(name, transformer, columns)`` selects some columns of ``X``, fits a clone of
    ``transformer`` on them and contributes the entry ``name`` of the output dict. The dict
    keeps the order of ``transformers``, so it maps one-to-one onto the inputs of a Keras
    multi-input model. Parameters of the steps are reachable as ``name__param`` (``set_params``,
    ``GridSearchCV``), as in `~sklearn.compose.ColumnTransformer`.

    Parameters
    ----------
    transformers : list of (str, transformer, columns) tuples
        The steps. ``name`` becomes the key of the output dict; it must be unique, must not
        contain ``"__"`` and must not be ``"transformers"`` or ``"n_jobs"``.

        ``transformer`` is any scikit-learn transformer (a `~sklearn.pipeline.Pipeline`
        too), ``"drop"`` (the step produces no entry) or ``"passthrough"`` (the selected
        columns, as a NumPy array).

        ``columns`` selects the input of the step, as in `ColumnTransformer`: a column name
        or an int (the step receives a 1-D Series/array, what text and image transformers
        expect), a list of names or ints, a slice (by position, or by name with the stop
        included, as pandas ``.loc``), a boolean mask, or a callable ``columns(X)`` returning
        one of these (e.g. `~sklearn.compose.make_column_selector`). Selecting by name needs
        a pandas DataFrame with string column names. A step must select at least one column.

    n_jobs : int, default=None
        Number of steps fitted or transformed in parallel. ``None`` (or 1) runs them one
        after the other in the calling thread, without joblib, even inside a
        ``joblib.parallel_backend`` context; ``-1`` uses all processors. joblib threads
        are preferred, because the outputs (image batches in particular) would otherwise
        be pickled back from worker processes, and Pillow and NumPy release the GIL;
        pure-Python steps gain little from threads, and
        ``joblib.parallel_config(backend="loky")`` switches to processes.

    Attributes
    ----------
    transformers_ : list of (str, transformer, columns) tuples
        The fitted steps: fitted clones of the transformers (``"drop"`` and ``"passthrough"``
        unchanged) and the column selection each one used, callables resolved on the fit data.

    named_transformers_ : :class:`~sklearn.utils.Bunch`
        The fitted transformers by step name.

    output_shapes_ : dict of str to tuple of int
        Shape of one sample in each output entry, as seen in fit, e.g. ``(224, 224, 3)`` for
        an image or ``(50,)`` for padded token ids: the ``shape`` of the matching
        ``keras.Input``.

    output_dtypes_ : dict of str to numpy.dtype
        Dtype of each output entry, as seen in fit.

    presence_groups_ : dict of str to list of str
        ``{"<step>__present": [other steps]}``: for each step that returned a
        :class:`~skmultimodal.missing.MaskedInput` in fit, the other steps that read exactly
        the same columns and have no mask of their own (the TF-IDF of a text whose tokens
        are masked, say). A row without that column lacks all of them: the estimators
        switch them off with the mask (see the Notes).

    n_features_in_ : int
        Number of columns seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit. Defined only when `X` has string column names.

    See Also
    --------
    make_multi_input_transformer : Build one without naming the steps.
    sklearn.compose.ColumnTransformer : The same routing, outputs stacked into one matrix.

    Notes
    -----
    Every entry of the output is a NumPy array with one row per sample, or a sparse matrix:

    - sparse outputs (e.g. `~sklearn.preprocessing.OneHotEncoder` with its default
      ``sparse_output=True``, `~sklearn.feature_extraction.text.TfidfVectorizer`) stay
      sparse, as float32 CSR matrices; the estimators read them through a sparse Keras
      input and a ``Dense`` layer (a ``"tabular"`` input), so a wide TF-IDF matrix costs
      only its non-zero entries;
    - DataFrame outputs (a step configured with ``set_output(transform="pandas")``) become
      NumPy arrays;
    - float64 becomes float32, the precision Keras computes in; other dtypes (uint8 images,
      int32 token ids, float32, bool, strings) are kept as they are;
    - a step that returns a :class:`~skmultimodal.missing.MaskedInput` (a transformer with
      ``on_missing="mask"``) gives two entries: ``"<step>"``, its array, and
      ``"<step>__present"``, a boolean ``(n_samples,)`` array that flags the rows having
      that modality (see :mod:`skmultimodal.missing`). The steps of `presence_groups_`
      share that mask: the output dict (`fit_transform` and `transform` alike) carries
      ``presence_groups``, which the estimators read in ``fit`` so that a row flagged
      absent loses every input made from that column, not only the masked one.

    A dict is not a table: ``get_feature_names_out`` returns the names per entry (a dict),
    and ``set_output`` only accepts ``"default"``.

    When fitted on a DataFrame and given a DataFrame, `transform` finds the columns by name,
    as `ColumnTransformer` does: their order may differ from the fit data and extra columns
    (the target column, say) are ignored, whether the steps select them by name or by
    position. A DataFrame whose column labels are not strings (e.g. ``0, 1, 2``) is read by
    position, so `transform` refuses one whose labels differ from those seen in fit
    (reordered, say) instead of feeding other columns to the steps.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from skmultimodal.compose import MultiInputTransformer
    >>> X = pd.DataFrame({
    ...     "review": ["great phone", "bad battery", "great battery life", "bad"],
    ...     "brand": ["a", "b", "a", "c"],
    ...     "t0": [1.0, 2.0, 3.0, 4.0],
    ...     "t1": [0.5, 0.1, 0.3, 0.2],
    ... })
    >>> prep = MultiInputTransformer([
    ...     ("text", CountVectorizer(), "review"),
    ...     ("meta", OneHotEncoder(sparse_output=False), ["brand"]),
    ...     ("series", StandardScaler(), ["t0", "t1"]),
    ... ])
    >>> inputs = prep.fit_transform(X)
    >>> for name, array in inputs.items():
    ...     print(name, type(array).__name__, array.shape, array.dtype)
    text csr_matrix (4, 5) float32
    meta ndarray (4, 3) float32
    series ndarray (4, 2) float32
    >>> inputs["series"][:, 0]
    array([-1.34..., -0.44...,  0.44...,  1.34...], dtype=float32)
    >>> prep.output_shapes_
    {'text': (5,), 'meta': (3,), 'series': (2,)}
    >>> prep.set_params(text__max_features=2).fit_transform(X)["text"].shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        "transformers": [list],
        "n_jobs": [None, Interval(numbers.Integral, None, None, closed="neither")],
    }

    def __init__(self, transformers: list[tuple[str, Any, Any]], n_jobs: int | None = None):
        self.transformers = transformers
        self.n_jobs = n_jobs

    # `_BaseComposition` handles `name__param` over a list of (name, estimator) pairs; these two
    # properties present `transformers` in that shape, keeping each step's columns on the way
    # back.
    @property
    def _transformers(self):
        try:
            return [(name, trans) for name, trans, _ in self.transformers]
        except (TypeError, ValueError):
            return self.transformers

    @_transformers.setter
    def _transformers(self, value):
        try:
            self.transformers = [
                (name, trans, columns)
                for (name, trans), (_, _, columns) in zip(value, self.transformers, strict=True)
            ]
        except (TypeError, ValueError):
            self.transformers = value

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get the parameters of this transformer and, with `deep`, of its steps.

        Parameters
        ----------
        deep : bool, default=True
            Also return the steps by name and their parameters as ``name__param``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return self._get_params("_transformers", deep=deep)

    def set_params(self, **params: Any) -> MultiInputTransformer:
        """Set parameters, including those of the steps (``name__param``).

        A whole step is replaced with ``name=transformer`` (``"drop"`` and ``"passthrough"``
        included).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : MultiInputTransformer
            This transformer.
        """
        self._set_params("_transformers", **params)
        return self

    def set_output(self, *, transform: str | None = None) -> MultiInputTransformer:
        """Refuse every output container but the default one: the output is a dict.

        Parameters
        ----------
        transform : {"default"} or None, default=None
            ``"default"`` and ``None`` leave the output unchanged.

        Returns
        -------
        self : MultiInputTransformer
            This transformer.

        Raises
        ------
        ValueError
            For ``"pandas"``, ``"polars"`` or any other container.
        """
        if transform not in (None, "default"):
            raise ValueError(
                f"MultiInputTransformer returns a dict of NumPy arrays (one per model input), "
                f"which cannot be a {transform!r} table; use set_output(transform='default'), "
                "or call set_output on the steps themselves."
            )
        return self

    def get_feature_names_out(self, input_features: Any = None) -> dict[str, np.ndarray | None]:
        """The feature names of each output entry, by key (the output is a dict, not a table).

        An entry whose step names its output columns (``get_feature_names_out``: imputed
        and scaled numbers, one-hot categories, TF-IDF terms, linear scores) gets those
        names; ``"passthrough"`` gets its input columns; an entry whose columns are not
        named features (images, token ids, series: positions in an array) gets None; a
        presence entry ``"<step>__present"`` gets its own key.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must be None or the columns seen in fit (``feature_names_in_``).

        Returns
        -------
        names : dict of str to ndarray of str, or None
            One item per output entry, in the output's order.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.preprocessing import OneHotEncoder
        >>> from skmultimodal import MultiInputTransformer
        >>> from skmultimodal.text import TextTokenizer
        >>> X = pd.DataFrame({"text": ["a b", "c"], "color": ["red", "blue"]})
        >>> prep = MultiInputTransformer([("text", TextTokenizer(max_len=3), "text"),
        ...                               ("color", OneHotEncoder(), ["color"])]).fit(X)
        >>> names = prep.get_feature_names_out()
        >>> names["text"] is None, names["color"].tolist()
        (True, ['color_blue', 'color_red'])
        """
        check_is_fitted(self)
        seen = getattr(self, "feature_names_in_", None)
        if input_features is not None and (seen is None or list(input_features) != list(seen)):
            raise ValueError(
                f"input_features must be None or the columns seen in fit "
                f"({None if seen is None else list(seen)}), got {list(input_features)}."
            )
        names = {}
        for name, trans, _ in self.transformers_:
            if _is_drop(trans):
                continue
            names[name] = self._step_feature_names(name, trans)
            key = presence_key(name)
            if key in self.output_shapes_:
                names[key] = np.array([key], dtype=object)
        return names

    def _step_feature_names(self, name: str, trans: Any) -> np.ndarray | None:
        if isinstance(trans, str):  # "passthrough"
            columns, _ = self._input_positions_[name]
            seen = getattr(self, "feature_names_in_", None)
            if seen is None:
                return np.array([f"x{i}" for i in np.arange(self.n_features_in_)[columns]])
            return np.asarray(seen[columns], dtype=object)
        if not hasattr(trans, "get_feature_names_out"):
            return None
        try:
            return np.asarray(trans.get_feature_names_out(), dtype=object)
        except (AttributeError, ValueError, TypeError):
            # A step whose output is not a table of named columns (an image, token ids).
            return None

    @property
    def named_transformers_(self) -> Bunch:
        """The fitted transformers by step name (a :class:`~sklearn.utils.Bunch`)."""
        return Bunch(**{name: trans for name, trans, _ in self.transformers_})

    @_fit_context(
        # The steps are validated by their own fit.
        prefer_skip_nested_validation=False
    )
    def fit(self, X: Any, y: Any = None) -> MultiInputTransformer:
        """Fit a clone of every step on its columns.

        Each step is fitted with ``fit_transform``, as in `ColumnTransformer`, to record
        `output_shapes_` and `output_dtypes_`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table; selecting columns by name needs a DataFrame.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target, passed to every step.

        Returns
        -------
        self : MultiInputTransformer
            This transformer, fitted.
        """
        self._fit_transform(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X: Any, y: Any = None) -> dict[str, np.ndarray]:
        """Fit every step and return the transformed inputs.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table; selecting columns by name needs a DataFrame.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target, passed to the ``fit_transform`` of every step.

        Returns
        -------
        inputs : dict of str to ndarray
            One array per step that is not ``"drop"``, in the order of `transformers`, each
            with ``n_samples`` rows; see the Notes of the class for the dtypes.
        """
        return self._fit_transform(X, y)

    def transform(self, X: Any) -> dict[str, np.ndarray]:
        """Transform the columns of every step with its fitted transformer.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table. A DataFrame must hold every column used in fit (except by ``"drop"``
            steps); extra columns are ignored.

        Returns
        -------
        inputs : dict of str to ndarray
            One array per step that is not ``"drop"``, in the order of `transformers`, each
            with ``n_samples`` rows.
        """
        check_is_fitted(self)
        self._apply_params_set_after_fit()
        X = _check_table(X)
        if getattr(self, "feature_names_in_", None) is not None and hasattr(X, "iloc"):
            positions = self._positions_by_name(X)
        else:
            validate_data(self, X, reset=False, skip_check_array=True)
            self._check_column_labels(X)
            positions = self._input_positions_
        steps = [
            (name, trans, positions[name])
            for name, trans, _ in self.transformers_
            if not _is_drop(trans)
        ]
        outputs = _run_steps(
            self.n_jobs,
            [
                (
                    _transform_one,
                    trans,
                    _select(X, cols),
                    self._describe_step(name, cols, _labels_of(X)),
                )
                for name, trans, cols in steps
            ],
        )
        inputs = _model_inputs([name for name, _, _ in steps], outputs, X.shape[0])
        # Fitted before presence_groups_ existed (an older pickle): no groups.
        return _model_inputs_with(inputs, getattr(self, "presence_groups_", {}), {})

    def _fit_transform(self, X, y):
        steps = self._validate_steps()
        X = _check_table(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        feature_names = getattr(self, "feature_names_in_", None)
        # Columns without string names are selected by position: remember their labels so
        # that transform can refuse the same columns in another order.
        self._column_labels_in_ = (
            X.columns.tolist() if hasattr(X, "iloc") and feature_names is None else None
        )

        resolved_columns, positions = {}, {}
        for name, trans, columns in steps:
            if callable(columns):
                columns = columns(X)
            resolved_columns[name] = columns
            positions[name] = _column_positions(
                name, columns, self.n_features_in_, feature_names, allow_empty=_is_drop(trans)
            )

        active = [(name, trans) for name, trans, _ in steps if not _is_drop(trans)]
        results = _run_steps(
            self.n_jobs,
            [
                (
                    _fit_transform_one,
                    _clone_step(trans),
                    _select(X, positions[name]),
                    y,
                    self._describe_step(name, positions[name]),
                )
                for name, trans in active
            ],
        )
        outputs = _model_inputs(
            [name for name, _ in active], [out for out, _ in results], X.shape[0]
        )
        fitted = {name: trans for (name, _), (_, trans) in zip(active, results, strict=True)}

        self.transformers_ = [
            (name, fitted.get(name, trans), resolved_columns[name]) for name, trans, _ in steps
        ]
        self._input_positions_ = positions
        self._step_params_at_fit_ = _plain_step_params(self.transformers)
        self.output_shapes_ = {name: out.shape[1:] for name, out in outputs.items()}
        self.output_dtypes_ = {name: out.dtype for name, out in outputs.items()}
        self.presence_groups_ = _presence_groups(
            [name for name, _ in active], [out for out, _ in results], positions
        )
        return _model_inputs_with(outputs, self.presence_groups_, fitted)

    def _apply_params_set_after_fit(self) -> None:
        """Parameters ``set_params`` changed on a step since fit: those that only say how
        files are read take effect on the fitted step; any other is refused, since the
        fitted step would silently keep its old value (``get_params`` would lie)."""
        at_fit = getattr(self, "_step_params_at_fit_", None)
        if at_fit is None:
            return
        fitted = {name: trans for name, trans, _ in self.transformers_}
        for name, now in _plain_step_params(self.transformers).items():
            then = at_fit.get(name)
            if then is None or name not in fitted:
                continue
            changed = {
                key: value
                for key, value in now.items()
                if key in then and not _equal(value, then[key])
            }
            if not changed:
                continue
            refused = sorted(key for key in changed if key.rsplit("__", 1)[-1] not in _READING)
            if refused:
                raise ValueError(
                    f"Step {name!r} of MultiInputTransformer: {refused} changed by set_params "
                    "after fit, and the fitted step still uses the old values; fit again "
                    "for them to take effect (only how files are read, "
                    f"{sorted(_READING)}, changes without a new fit)."
                )
            fitted[name].set_params(**changed)
            then.update(changed)

    def _validate_steps(self):
        """Check the shape of `transformers`, the names and the transformers; return them."""
        steps = []
        for i, step in enumerate(self.transformers):
            if not (isinstance(step, tuple | list) and len(step) == 3):
                raise ValueError(
                    "transformers must be a list of (name, transformer, columns) tuples; "
                    f"item {i} is {step!r}."
                )
            steps.append(tuple(step))
        if not steps:
            raise ValueError(
                "transformers is empty; give at least one (name, transformer, columns) step."
            )
        names = [name for name, _, _ in steps]
        for name in names:
            if not isinstance(name, str):
                raise TypeError(
                    f"Step names must be strings; got {name!r} ({type(name).__name__})."
                )
        self._validate_names(names)
        for name, trans, _ in steps:
            _check_transformer(name, trans)
        return steps

    def _describe_step(
        self, name: str, positions: tuple[list[int], bool], labels: Any = None
    ) -> str:
        """``"step 'x' of MultiInputTransformer (columns [...])"``; ``positions`` index
        ``labels`` (the columns of the table being transformed) or, without them, the
        columns seen in fit."""
        columns = positions[0]
        names = labels if labels is not None else getattr(self, "feature_names_in_", None)
        shown = [str(names[i]) for i in columns] if names is not None else list(columns)
        if len(shown) > 10:
            shown = [*shown[:10], f"... ({len(shown)} in all)"]
        return f"step {name!r} of {type(self).__name__} (columns {shown})"

    def _check_column_labels(self, X: Any) -> None:
        """Refuse a DataFrame whose non-string column labels differ from those seen in fit.

        Such columns are selected by position, so reordered or renamed columns would
        silently feed other data to the steps (`ColumnTransformer` refuses them as well).
        """
        expected = getattr(self, "_column_labels_in_", None)
        if expected is None or not hasattr(X, "iloc"):
            return
        labels = X.columns.tolist()
        if labels != expected:
            first = next(i for i, (a, b) in enumerate(zip(labels, expected, strict=True)) if a != b)
            raise ValueError(
                f"The columns of X are {_short(labels)}, but {type(self).__name__} was fitted "
                f"on columns {_short(expected)} (first difference at position {first}: "
                f"{labels[first]!r} instead of {expected[first]!r}). Columns without string "
                "names are selected by position, so they must come in the order seen in "
                "fit: pass X[fitted_columns], or give the columns string names and select "
                "them by name."
            )

    def _positions_by_name(self, X):
        """Positions in `X` of the columns each step used in fit, found by name."""
        available = {column: i for i, column in reversed(list(enumerate(X.columns)))}
        positions, missing = {}, {}
        for name, trans, _ in self.transformers_:
            if _is_drop(trans):
                continue
            columns = self.feature_names_in_[self._input_positions_[name][0]].tolist()
            absent = [column for column in columns if column not in available]
            if absent:
                missing[name] = absent
                continue
            positions[name] = (
                [available[column] for column in columns],
                self._input_positions_[name][1],
            )
        if missing:
            needs = "; ".join(f"step {name!r} needs {cols}" for name, cols in missing.items())
            raise ValueError(
                f"Columns missing from X: {needs}. Available columns: {list(X.columns)}."
            )
        return positions

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The table itself accepts what its steps accept: strings where a step reads strings
        # (text, image paths), NaN only where every step copes with it.
        try:
            step_tags = [
                _input_tags(trans)
                for _, trans, _ in self.transformers
                if not (isinstance(trans, str) and trans in _SPECIAL_STEPS)
            ]
            passthrough = any(
                isinstance(trans, str) and trans == "passthrough"
                for _, trans, _ in self.transformers
            )
        except (TypeError, ValueError):
            # A malformed `transformers` is reported by fit, not by the tags.
            step_tags, passthrough = [], False
        tags.input_tags.string = passthrough or any(t.string for t in step_tags)
        tags.input_tags.allow_nan = all(t.allow_nan for t in step_tags)
        tags.input_tags.sparse = False
        # float64 becomes float32 and each step picks its own dtype, so no dtype is preserved.
        tags.transformer_tags.preserves_dtype = []
        return tags


def make_multi_input_transformer(
    *transformers: tuple[Any, Any], n_jobs: int | None = None
) -> MultiInputTransformer:
    """Build a `MultiInputTransformer`, naming each step after its transformer's class.

    Names are the lowercased class names (``"drop"``/``"passthrough"`` for those), with
    ``-1``, ``-2``, ... appended where two steps would share a name, as
    `~sklearn.compose.make_column_transformer` does. Name the steps yourself with
    `MultiInputTransformer` when the output keys matter, e.g. for a hand-written Keras model.

    Parameters
    ----------
    *transformers : (transformer, columns) tuples
        The steps, as in `MultiInputTransformer` without the names.
    n_jobs : int, default=None
        Number of steps fitted or transformed in parallel; see `MultiInputTransformer`.

    Returns
    -------
    multi_input_transformer : MultiInputTransformer
        The unfitted composite transformer.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmultimodal.compose import make_multi_input_transformer
    >>> X = pd.DataFrame({"review": ["good", "bad", "good good"], "price": [1.0, 2.0, 3.0]})
    >>> prep = make_multi_input_transformer(
    ...     (CountVectorizer(), "review"), (StandardScaler(), ["price"])
    ... )
    >>> [name for name, _, _ in prep.transformers]
    ['countvectorizer', 'standardscaler']
    >>> {name: array.shape for name, array in prep.fit_transform(X).items()}
    {'countvectorizer': (3, 2), 'standardscaler': (3, 1)}
    """
    names = _default_names([trans for trans, _ in transformers])
    steps = [
        (name, trans, columns) for name, (trans, columns) in zip(names, transformers, strict=True)
    ]
    return MultiInputTransformer(steps, n_jobs=n_jobs)


def _default_names(transformers: Sequence[Any]) -> list[str]:
    names = [
        trans if isinstance(trans, str) else type(trans).__name__.lower() for trans in transformers
    ]
    return unique_names(names, sep="-")


def _short(labels: list) -> str:
    """A list of column labels for a message, cut after the first ten."""
    shown = repr(labels[:10])
    return shown if len(labels) <= 10 else f"{shown[:-1]}, ... ({len(labels)} in all)]"


def _input_tags(trans: Any) -> InputTags:
    try:
        return get_tags(trans).input_tags
    except AttributeError:
        # A duck-typed transformer without tags: assume the defaults (numbers, no NaN).
        return InputTags()


def _is_drop(trans: Any) -> bool:
    return isinstance(trans, str) and trans == "drop"


def _check_transformer(name: str, trans: Any) -> None:
    if isinstance(trans, str):
        if trans in _SPECIAL_STEPS:
            return
        raise ValueError(
            f"Step {name!r}: the only strings accepted as a transformer are 'drop' and "
            f"'passthrough'; got {trans!r}."
        )
    if isinstance(trans, type):
        raise TypeError(
            f"Step {name!r}: expected a transformer instance ({trans.__name__}()), got the "
            f"class {trans.__name__}."
        )
    if not (hasattr(trans, "fit") or hasattr(trans, "fit_transform")) or not hasattr(
        trans, "transform"
    ):
        raise TypeError(
            f"Step {name!r}: {type(trans).__name__} is not a transformer; expected an object "
            "with fit (or fit_transform) and transform methods, or 'drop' or 'passthrough'."
        )


def _check_table(X: Any) -> Any:
    """Keep DataFrames as they are (mixed dtypes, strings); make other input a 2-D array."""
    if sparse.issparse(X):
        raise TypeError(
            "MultiInputTransformer does not accept sparse input; pass a pandas DataFrame or a "
            "dense 2-D array."
        )
    if hasattr(X, "iloc"):
        if X.ndim != 2:
            raise ValueError(
                f"Expected a DataFrame or a 2-D array; got a {type(X).__name__}. Select a "
                "column with df[['name']] rather than df['name']."
            )
        if X.shape[0] == 0:
            raise ValueError(f"Found a DataFrame with 0 rows (shape={X.shape}); need at least 1.")
        return X
    # Steps check finiteness and dtypes of their own columns; here only the table's shape.
    return check_array(X, dtype=None, ensure_all_finite=False, input_name="X")


def _column_positions(
    name: str, columns: Any, n_features: int, feature_names: np.ndarray | None, allow_empty: bool
) -> tuple[list[int], bool]:
    """Positions of the columns a step selects, and whether it selects one column as 1-D."""
    positions, one_column = _parse_columns(name, columns, n_features, feature_names)
    if not positions and not allow_empty:
        raise ValueError(
            f"Step {name!r} selects no column (columns={columns!r}); a model input needs at "
            "least one, or make the step 'drop'."
        )
    return positions, one_column


def _parse_columns(name, columns, n_features, feature_names):
    if isinstance(columns, bool | np.bool_):
        raise TypeError(f"Step {name!r}: a single boolean is not a column selection.")
    if isinstance(columns, str):
        return _positions_of_names(name, [columns], feature_names), True
    if isinstance(columns, numbers.Integral):
        return _positions_of_ints(name, [columns], n_features), True
    if isinstance(columns, slice):
        return _positions_of_slice(name, columns, n_features, feature_names), False
    if hasattr(columns, "dtype") and getattr(columns, "ndim", 1) != 1:
        raise ValueError(f"Step {name!r}: columns must be 1-D; got shape {columns.shape}.")
    try:
        keys = list(columns)
    except TypeError:
        raise TypeError(
            f"Step {name!r}: columns must be a name, an int, a list of names or ints, a slice, "
            f"a boolean mask or a callable; got {columns!r}."
        ) from None
    if not keys:
        return [], False
    if all(isinstance(key, bool | np.bool_) for key in keys):
        if len(keys) != n_features:
            raise ValueError(
                f"Step {name!r}: the boolean mask has {len(keys)} entries but X has "
                f"{n_features} columns."
            )
        return np.flatnonzero(keys).tolist(), False
    if all(isinstance(key, numbers.Integral) for key in keys):
        return _positions_of_ints(name, keys, n_features), False
    if all(isinstance(key, str) for key in keys):
        return _positions_of_names(name, keys, feature_names), False
    raise TypeError(
        f"Step {name!r}: a list of columns must hold only names, only ints or only booleans; "
        f"got {keys!r}."
    )


def _positions_of_ints(name, keys, n_features):
    out_of_range = [int(key) for key in keys if not -n_features <= key < n_features]
    if out_of_range:
        raise ValueError(
            f"Step {name!r}: column index {out_of_range} out of range for X with {n_features} "
            "columns."
        )
    return [int(key) % n_features for key in keys]


def _positions_of_names(name, keys, feature_names):
    if feature_names is None:
        raise ValueError(
            f"Step {name!r} selects columns by name ({keys!r}), which needs X to be a pandas "
            "DataFrame with string column names; select by position for arrays."
        )
    available = {column: i for i, column in reversed(list(enumerate(feature_names)))}
    missing = [key for key in keys if key not in available]
    if missing:
        raise ValueError(
            f"Step {name!r}: column(s) {missing} not found in X. Available columns: "
            f"{feature_names.tolist()}."
        )
    return [available[key] for key in keys]


def _positions_of_slice(name, columns, n_features, feature_names):
    start, stop = columns.start, columns.stop
    if isinstance(start, str) or isinstance(stop, str):
        # Label slices include their stop, as in pandas' .loc and ColumnTransformer.
        if start is not None:
            start = _positions_of_names(name, [start], feature_names)[0]
        if stop is not None:
            stop = _positions_of_names(name, [stop], feature_names)[0] + 1
    return list(range(n_features))[slice(start, stop, columns.step)]


#: Parameters that only say where and how a step reads files (nothing fit learnt depends
#: on them): set on a fitted ``MultiInputTransformer``'s steps, they take effect at once.
_READING = frozenset(
    {
        "base_dir",
        "restrict_to_base_dir",
        "formats",
        "max_pixels",
        "n_jobs",
        "cache_dir",
        "cache_max_bytes",
        "on_error",
    }
)
_SIMPLE = (str, bytes, int, float, bool, type(None))


def _plain_step_params(transformers) -> dict[str, dict[str, Any]]:
    """Per step, its parameters (nested ones included) that are plain data."""
    params = {}
    for name, trans, _ in transformers:
        if isinstance(trans, str) or not hasattr(trans, "get_params"):
            continue
        params[name] = {
            key: value for key, value in trans.get_params(deep=True).items() if _comparable(value)
        }
    return params


def _comparable(value: Any) -> bool:
    """Whether ``value`` is plain data whose equality means the same setting."""
    if isinstance(value, (list, tuple)):
        return all(_comparable(item) for item in value)
    return isinstance(value, _SIMPLE) or hasattr(value, "__fspath__")


def _equal(a: Any, b: Any) -> bool:
    if hasattr(a, "__fspath__") or hasattr(b, "__fspath__"):
        return a is not None and b is not None and os.fspath(a) == os.fspath(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if a != a and b != b:  # both NaN
        return True
    return a == b


def _labels_of(X: Any) -> list | None:
    """The column labels of a DataFrame as strings (None for an array)."""
    return [str(label) for label in X.columns] if hasattr(X, "columns") else None


def _select(X: Any, positions: tuple[list[int], bool]) -> Any:
    """The columns at `positions` (a 1-D Series/array when one column was asked as a scalar)."""
    columns, one_column = positions
    key = columns[0] if one_column else columns
    if hasattr(X, "iloc"):
        return X.iloc[:, key]
    return X[:, key]


def _clone_step(trans: Any) -> Any:
    return trans if isinstance(trans, str) else clone(trans)


def _run_steps(n_jobs: int | None, calls) -> list:
    """Run ``(function, *args)`` calls in order, in joblib threads when ``n_jobs`` asks.

    ``None`` and 1 call each function in this thread without joblib: inside a search that
    runs on a distributed joblib backend (Dask), a nested ``Parallel`` would send every
    step to the cluster as its own task, and the waiting worker thread would let other
    fits start in the same process, where process-global seeds would then interleave.
    """
    if n_jobs is None or n_jobs == 1:
        return [function(*args) for function, *args in calls]
    return Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(function)(*args) for function, *args in calls
    )


def _fit_transform_one(trans: Any, X: Any, y: Any, step: str) -> tuple[Any, Any]:
    if isinstance(trans, str):  # "passthrough"
        return X, trans
    with _naming_step(step, X):
        if hasattr(trans, "fit_transform"):
            return trans.fit_transform(X, y), trans
        return trans.fit(X, y).transform(X), trans


def _transform_one(trans: Any, X: Any, step: str) -> Any:
    if isinstance(trans, str):  # "passthrough"
        return X
    with _naming_step(step, X):
        return trans.transform(X)


@contextmanager
def _naming_step(step: str, X: Any = None):
    """Say which step and columns an error came from (a step only sees its own columns);
    an error about infinite values names the first column and row that hold one."""
    try:
        yield
    except ValueError as error:
        where = _first_infinite(X) if "infinity" in str(error) else None
        if where is not None:
            column, row = where
            raised = ValueError(
                f"Column {column!r} holds an infinite value (first at row {row}), which "
                f"{step} cannot take; replace it (a NaN is imputed) or drop the row."
            )
            raised.add_note(f"Raised by {step}.")
            raise raised from error
        error.add_note(f"Raised by {step}.")
        raise
    except Exception as error:
        error.add_note(f"Raised by {step}.")
        raise


def _first_infinite(X: Any) -> tuple[str, int] | None:
    """``(column, row position)`` of the first infinite number in a DataFrame, or None."""
    if not hasattr(X, "columns"):
        return None
    for column in X.columns:
        values = X[column]
        if not np.issubdtype(getattr(values, "dtype", object), np.number):
            continue
        rows = np.flatnonzero(np.isinf(values.to_numpy(dtype=float, na_value=np.nan)))
        if len(rows):
            return str(column), int(rows[0])
    return None


def _model_inputs(names: list[str], outputs: list, n_samples: int) -> dict[str, Any]:
    """The dict of model inputs: one entry per step, plus ``"<step>__present"`` for a step
    that returned a :class:`~skmultimodal.missing.MaskedInput`."""
    inputs = {}
    for name, output in zip(names, outputs, strict=True):
        if isinstance(output, MaskedInput):
            inputs[name] = _as_model_input(name, output.values, n_samples)
            inputs[presence_key(name)] = _as_model_input(name, output.present, n_samples)
        else:
            inputs[name] = _as_model_input(name, output, n_samples)
    return inputs


class FittedInputs(dict):
    """The dict of arrays of a :class:`MultiInputTransformer`, with what the estimator's
    fit may use besides the arrays.

    ``embedding_matrices``: ``{input name: TextTokenizer.embedding_matrix_}`` for the
    text steps fitted with ``pretrained_vectors`` (``fit_transform`` only). The
    estimator's ``fit`` initialises those inputs' ``Embedding`` with them: the vocabulary
    is fitted inside the pipeline (on each fold's rows), so only the fitted step knows
    which word each id is.

    ``presence_groups``: the transformer's ``presence_groups_`` (``fit_transform`` and
    ``transform``): ``{"<step>__present": [steps read from the same columns]}``.
    """

    # Read-only defaults, so that no instance can fill a mapping shared by all of them.
    embedding_matrices: Mapping = MappingProxyType({})
    presence_groups: Mapping = MappingProxyType({})


def _model_inputs_with(outputs: dict, groups: Mapping, fitted: Mapping) -> dict:
    """``outputs`` as a :class:`FittedInputs` when there are presence groups or fitted
    embedding matrices to pass on; as it is otherwise."""
    matrices = {
        name: trans.embedding_matrix_
        for name, trans in fitted.items()
        if getattr(trans, "embedding_matrix_", None) is not None
    }
    if not matrices and not groups:
        return outputs
    outputs = FittedInputs(outputs)
    if matrices:
        outputs.embedding_matrices = matrices
    if groups:
        outputs.presence_groups = {key: list(names) for key, names in groups.items()}
    return outputs


def _presence_groups(names: list[str], outputs: list, positions: Mapping) -> dict:
    """``{"<step>__present": [steps]}``: per masked step, the unmasked steps that select
    exactly its columns (a missing cell of those columns is missing for them too)."""
    is_masked = [isinstance(out, MaskedInput) for out in outputs]
    masked = [name for name, flag in zip(names, is_masked, strict=True) if flag]
    plain = [name for name, flag in zip(names, is_masked, strict=True) if not flag]
    groups = {}
    for name in masked:
        columns = set(positions[name][0])
        followers = [other for other in plain if set(positions[other][0]) == columns]
        if followers:
            groups[presence_key(name)] = followers
            # A step that follows one mask follows no other (two masks of the same columns).
            plain = [other for other in plain if other not in followers]
    return groups


def _as_model_input(name: str, output: Any, n_samples: int) -> np.ndarray:
    """A step's output as a NumPy array with one row per sample; float64 -> float32.

    Lazily loaded images (``ImageLoader(lazy=True)``) pass through undecoded; sparse
    outputs become float32 CSR matrices.
    """
    if isinstance(output, LazyImages):
        if len(output) != n_samples:
            raise ValueError(
                f"Step {name!r} returned {len(output)} rows for {n_samples} input rows; every "
                "step must return one row per sample."
            )
        return output
    if sparse.issparse(output):
        # Kept sparse (CSR): the estimators feed it to a sparse Keras input.
        if output.shape[0] != n_samples:
            raise ValueError(
                f"Step {name!r} returned {output.shape[0]} rows for {n_samples} input rows; "
                "every step must return one row per sample."
            )
        return sparse.csr_matrix(output, dtype=np.float32)
    if hasattr(output, "to_numpy"):
        output = output.to_numpy()
    output = np.asarray(output)
    n_rows = output.shape[0] if output.ndim else 0
    if n_rows != n_samples:
        raise ValueError(
            f"Step {name!r} returned {n_rows} rows for {n_samples} input rows; every step must "
            "return one row per sample."
        )
    if output.dtype == np.float64:
        output = output.astype(np.float32)
    return output
