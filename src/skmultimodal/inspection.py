"""Which modality matters: permutation importance of whole modalities.

:func:`modality_importance` shuffles the rows of one modality at a time (an image, a text,
the time steps, the table) in held-out data and reports how much the score of a fitted
model drops; :func:`cross_validate_modality_importance` does it on the held-out fold of
each split of a cross-validation, refitting a clone on the training folds.
:func:`skmultimodal.plotting.plot_modality_importance` draws either result.

A modality is what the model receives as one input or a few inputs:

- for a ``Pipeline`` with a fitted ``MultiInputTransformer`` step, ``X`` is the table
  (a DataFrame) and each step of the transformer is one modality, except that steps reading
  exactly the same columns form one modality (named after the first of them): the
  ``"text"`` token ids and the ``"text_tfidf"`` input that ``make_multimodal_pipeline``
  makes from one text column are one modality, ``"text"``;
- for a fitted ``MultiInputKerasClassifier`` / ``MultiInputKerasRegressor`` (or any
  estimator that takes a dict of arrays), ``X`` is that dict and each key is a modality.

``modalities={"name": [step or key, ...], ...}`` chooses other groups.

What is permuted is the *input of the model*: ``X`` goes once through the pipeline up to and
including the ``MultiInputTransformer``, and then the rows of the dict entries of one
modality are permuted together (one row permutation for all of them), so the images are
loaded and the texts tokenised once. For the transformers of this library (and any
transformer that maps each row on its own, such as ``StandardScaler`` after fit) this is
the same as permuting the step's columns in ``X``; unlike permuting the columns of ``X``,
it moves only the steps of that modality when a column is read by several steps of
different modalities. NumPy and scikit-learn only: importing this module loads no
TensorFlow (the estimator does, when it predicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from .compose import MultiInputTransformer
from .lazy import take_rows
from .missing import masked_input_name, presence_key

__all__ = ["modality_importance", "cross_validate_modality_importance"]


def modality_importance(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    scoring: str | Any = None,
    n_repeats: int = 5,
    modalities: Mapping[str, Sequence[str]] | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Permutation importance of each modality of a fitted multimodal model.

    The model is scored on ``(X, y)`` as given (the baseline), then once per repeat and
    modality with the rows of that modality's inputs shuffled while every other input
    stays in place. A modality's importance in one repeat is the baseline score minus the
    shuffled score: about 0 when the model does not use it, positive when the model needs
    it. Score held-out data (see :func:`cross_validate_modality_importance`): on the
    training rows the importance also measures what the model memorised.

    Parameters
    ----------
    estimator : fitted estimator
        A ``Pipeline`` with a fitted ``MultiInputTransformer`` step (``X`` is then its
        table, a DataFrame), a fitted ``MultiInputKerasClassifier`` /
        ``MultiInputKerasRegressor`` or other estimator taking a dict of arrays (``X`` is
        then that dict), or a fitted search (``GridSearchCV``...) over one of those (its
        ``best_estimator_``).
    X : DataFrame or dict of str to array
        The rows to score, with the true targets ``y``.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets.
    scoring : str, callable or None, default=None
        One scikit-learn scorer (``sklearn.metrics.check_scoring``): a name such as
        ``"accuracy"``, ``"roc_auc"`` or ``"r2"``, or a callable ``scorer(estimator, X,
        y)``; None uses the estimator's ``score`` (accuracy, R²). In the Pipeline case
        the scorer receives the part of the pipeline after the ``MultiInputTransformer``
        and the dict of arrays.
    n_repeats : int, default=5
        Number of shuffles of each modality, at least 1.
    modalities : dict of str to list of str, default=None
        The modalities, by name: the ``MultiInputTransformer`` step names (or dict keys)
        whose inputs are shuffled together, e.g. ``{"text": ["text", "text_tfidf"],
        "image": ["image"]}``. None: one modality per step (steps reading exactly the same
        columns are one modality, named after the first) or per dict key.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffles. Repeat ``r`` uses the same permutation of the rows for
        every modality, drawn from its own generator seeded from ``random_state``; an int
        gives the same result on every call.

    Returns
    -------
    result : sklearn.utils.Bunch
        - ``modalities``: list of str, the modality names (rows of the arrays below);
        - ``inputs``: dict of each modality name to the steps (dict keys) it shuffles;
        - ``importances``: ndarray of shape (n_modalities, n_repeats), the drops in score;
        - ``importances_mean``, ``importances_std``: their mean and standard deviation
          over the repeats, shape (n_modalities,);
        - ``baseline_score``: float, the score on the unshuffled data.

    Raises
    ------
    NotFittedError
        The estimator (or its ``MultiInputTransformer``) is not fitted.
    TypeError
        ``X`` does not match the estimator (a dict for a Pipeline with a
        ``MultiInputTransformer``, a table for an estimator without one).
    ValueError
        ``n_repeats`` below 1, an unknown step or key in ``modalities``, ``X`` and ``y``
        of different lengths, or several scorers in ``scoring``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.estimators import MultiInputKerasClassifier
    >>> from skmultimodal.inspection import modality_importance
    >>> rng = np.random.RandomState(0)
    >>> X = {"signal": rng.rand(200, 2).astype("float32"),
    ...      "noise": rng.rand(200, 2).astype("float32")}
    >>> y = (X["signal"][:, 0] > 0.5).astype(int)
    >>> clf = MultiInputKerasClassifier(tabular_units=8, epochs=40, batch_size=32,
    ...                                 random_state=0).fit(X, y)
    >>> result = modality_importance(clf, X, y, n_repeats=3, random_state=0)
    >>> result.modalities
    ['signal', 'noise']
    >>> result.importances.shape
    (2, 3)
    >>> bool(result.importances_mean[0] > 0.2 > abs(result.importances_mean[1]))
    True
    """
    n_repeats = _check_n_repeats(n_repeats)
    model, inputs, groups = _model_inputs(estimator, X, modalities)
    _check_lengths(inputs, y)
    scorer = _one_scorer(model, scoring)
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_repeats)
    n_samples = _n_rows(inputs)

    baseline = float(scorer(model, inputs, y))
    importances = np.empty((len(groups), n_repeats))
    for r, seed in enumerate(seeds):
        rows = np.random.RandomState(seed).permutation(n_samples)
        for m, keys in enumerate(groups.values()):
            shuffled = dict(inputs)
            for key in keys:
                shuffled[key] = take_rows(inputs[key], rows)
            importances[m, r] = baseline - float(scorer(model, shuffled, y))
    return Bunch(
        modalities=list(groups),
        inputs={name: list(keys) for name, keys in groups.items()},
        importances=importances,
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        baseline_score=baseline,
    )


def cross_validate_modality_importance(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    cv: Any = 5,
    scoring: str | Any = None,
    n_repeats: int = 5,
    modalities: Mapping[str, Sequence[str]] | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Modality importance on the held-out fold of each split of a cross-validation.

    For each split, a clone of ``estimator`` is fitted on the training rows and
    :func:`modality_importance` shuffles the modalities of the held-out rows. The spread
    across folds says how much the answer depends on the data the model was trained on.

    Parameters
    ----------
    estimator : estimator
        Unfitted or fitted (it is cloned): a ``Pipeline`` with a ``MultiInputTransformer``
        step (``X`` a DataFrame) or an estimator taking a dict of arrays (``X`` that dict).
    X : DataFrame or dict of str to array
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    cv : int, cross-validation generator or iterable, default=5
        As in ``sklearn.model_selection.cross_validate`` (``check_cv``): an int gives
        ``StratifiedKFold`` for a classifier and a binary or multiclass ``y``, ``KFold``
        otherwise (unshuffled).
    scoring, n_repeats, modalities
        As in :func:`modality_importance`.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffles (not of the splits or of the fits: set the estimator's own
        ``random_state`` and pass a seeded splitter for those).

    Returns
    -------
    result : sklearn.utils.Bunch
        - ``modalities``, ``inputs``: as in :func:`modality_importance`;
        - ``importances``: ndarray of shape (n_modalities, n_folds, n_repeats);
        - ``fold_importances_mean``: shape (n_modalities, n_folds), the mean over the
          repeats of each fold;
        - ``importances_mean``, ``importances_std``: the mean and the standard deviation
          across folds of the fold means, shape (n_modalities,);
        - ``baseline_scores``: ndarray of shape (n_folds,), each fold's unshuffled score.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import StratifiedKFold
    >>> from skmultimodal.estimators import MultiInputKerasClassifier
    >>> from skmultimodal.inspection import cross_validate_modality_importance
    >>> rng = np.random.RandomState(0)
    >>> X = {"signal": rng.rand(150, 2).astype("float32"),
    ...      "noise": rng.rand(150, 2).astype("float32")}
    >>> y = (X["signal"][:, 0] > 0.5).astype(int)
    >>> clf = MultiInputKerasClassifier(tabular_units=8, epochs=30, batch_size=32,
    ...                                 random_state=0)
    >>> result = cross_validate_modality_importance(
    ...     clf, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ...     n_repeats=2, random_state=0)
    >>> result.importances.shape, result.fold_importances_mean.shape
    ((2, 3, 2), (2, 3))
    >>> result.modalities[int(np.argmax(result.importances_mean))]
    'signal'
    """
    n_repeats = _check_n_repeats(n_repeats)
    _check_input_type(estimator, X)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    rng = check_random_state(random_state)
    y_array = y if isinstance(y, list) else np.asarray(y)
    folds = []
    for train, test in splitter.split(_split_view(X), y_array):
        fitted = clone(estimator).fit(_rows(X, train), y_array[train])
        folds.append(
            modality_importance(
                fitted,
                _rows(X, test),
                y_array[test],
                scoring=scoring,
                n_repeats=n_repeats,
                modalities=modalities,
                random_state=rng.randint(np.iinfo(np.int32).max),
            )
        )
    importances = np.stack([fold.importances for fold in folds], axis=1)
    fold_means = importances.mean(axis=2)
    return Bunch(
        modalities=folds[0].modalities,
        inputs=folds[0].inputs,
        importances=importances,
        fold_importances_mean=fold_means,
        importances_mean=fold_means.mean(axis=1),
        importances_std=fold_means.std(axis=1),
        baseline_scores=np.array([fold.baseline_score for fold in folds]),
    )


# -- what the model receives ----------------------------------------------------------------
def _model_inputs(estimator: Any, X: Any, modalities):
    """(model, dict of model inputs, {modality: [keys]}) for ``estimator`` and ``X``."""
    estimator = _best(estimator)
    _check_input_type(estimator, X)
    check_is_fitted(estimator)
    position = _transformer_position(estimator)
    if position is None:
        inputs = dict(X)
        default = {key: [key] for key in inputs if masked_input_name(key) not in inputs}
        available = list(inputs)
        model = estimator
    else:
        prep = estimator.steps[position][1]
        check_is_fitted(prep)
        inputs = estimator[: position + 1].transform(X)
        if not isinstance(inputs, Mapping):
            raise TypeError(
                f"The pipeline up to its MultiInputTransformer step returned a "
                f"{type(inputs).__name__}, expected a dict of arrays."
            )
        inputs = dict(inputs)
        default = _steps_by_columns(prep, inputs)
        available = list(inputs)
        model = estimator[position + 1 :]
        if len(model) == 1:
            model = model.steps[0][1]
    groups = default if modalities is None else _check_modalities(modalities, available)
    return model, inputs, _with_masks(groups, inputs)


def _with_masks(groups: dict[str, list[str]], inputs: dict) -> dict[str, list[str]]:
    """Each group with the presence masks (``"<key>__present"``) of its keys: a row's mask
    moves with its modality, so a shuffled row keeps its own absent flags."""
    return {
        name: [
            *keys,
            *(
                presence_key(k)
                for k in keys
                if presence_key(k) in inputs and presence_key(k) not in keys
            ),
        ]
        for name, keys in groups.items()
    }


def _best(estimator: Any) -> Any:
    while hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    if hasattr(estimator, "refit") and hasattr(estimator, "cv") and hasattr(estimator, "fit"):
        # A search without best_estimator_: unfitted, or fitted with refit=False.
        check_is_fitted(estimator, "best_estimator_")
    return estimator


def _transformer_position(estimator: Any) -> int | None:
    """Index of the first MultiInputTransformer step of a Pipeline, None if there is none."""
    if not isinstance(estimator, Pipeline):
        return None
    for index, (_, step) in enumerate(estimator.steps):
        if isinstance(step, MultiInputTransformer):
            return index
    return None


def _check_input_type(estimator: Any, X: Any) -> None:
    with_transformer = _transformer_position(_best_unchecked(estimator)) is not None
    if with_transformer and isinstance(X, Mapping):
        raise TypeError(
            f"{type(estimator).__name__} has a MultiInputTransformer step, so X must be the "
            f"table it reads (a pandas DataFrame), got a dict with keys {list(X)}."
        )
    if not with_transformer and not isinstance(X, Mapping):
        raise TypeError(
            "X must be a dict of arrays (one per input, its keys are the modalities) for "
            f"{type(estimator).__name__}, which has no MultiInputTransformer step; got "
            f"{type(X).__name__}. Pass the Pipeline with its MultiInputTransformer to "
            "score a DataFrame."
        )


def _best_unchecked(estimator: Any) -> Any:
    while hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    if hasattr(estimator, "estimator") and hasattr(estimator, "cv"):  # an unfitted search
        return _best_unchecked(estimator.estimator)
    return estimator


def _steps_by_columns(prep: MultiInputTransformer, inputs: dict) -> dict[str, list[str]]:
    """One modality per step; steps that read exactly the same columns are one modality."""
    groups: dict[str, list[str]] = {}
    by_columns: dict[tuple, str] = {}
    for name, _, _ in prep.transformers_:
        if name not in inputs:  # "drop"
            continue
        columns = tuple(prep._input_positions_[name][0])
        first = by_columns.setdefault(columns, name)
        groups.setdefault(first, []).append(name)
    return groups


def _check_modalities(modalities: Any, available: list[str]) -> dict[str, list[str]]:
    if not isinstance(modalities, Mapping) or not modalities:
        raise ValueError(
            "modalities must be a non-empty dict of modality name to a list of inputs "
            f"(steps or dict keys among {available}), got {modalities!r}."
        )
    groups = {}
    for name, keys in modalities.items():
        if isinstance(keys, str) or not isinstance(keys, Sequence) or not keys:
            raise ValueError(
                f"modalities[{name!r}] must be a non-empty list of inputs among "
                f"{available}, got {keys!r}."
            )
        unknown = [key for key in keys if key not in available]
        if unknown:
            raise ValueError(
                f"modalities[{name!r}] names unknown inputs {unknown}; the model's inputs "
                f"(MultiInputTransformer steps or dict keys) are {available}."
            )
        groups[str(name)] = list(keys)
    return groups


# -- checks and rows --------------------------------------------------------------------------
def _check_n_repeats(n_repeats: Any) -> int:
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be an int >= 1, got {n_repeats!r}.")
    return int(n_repeats)


def _one_scorer(model: Any, scoring: Any):
    if isinstance(scoring, (list, tuple, set, dict)):
        raise ValueError(
            f"scoring must be one scorer (a name or a callable), got {type(scoring).__name__} "
            f"{scoring!r}; call modality_importance once per scorer."
        )
    return check_scoring(model, scoring=scoring)


def _n_rows(inputs: dict) -> int:
    return next(iter(inputs.values())).shape[0]


def _check_lengths(inputs: dict, y: Any) -> None:
    if not inputs:
        raise ValueError("X holds no input to permute (an empty dict).")
    counts = {key: value.shape[0] for key, value in inputs.items()}
    n_samples = _n_rows(inputs)
    differ = {key: count for key, count in counts.items() if count != n_samples}
    if differ:
        raise ValueError(f"The inputs of X have different numbers of rows: {counts}.")
    n_targets = len(y[0]) if isinstance(y, list) and y and hasattr(y[0], "__len__") else len(y)
    if n_targets != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {n_targets}.")


def _split_view(X: Any) -> Any:
    """Something with X's number of rows for a splitter (a dict has no rows)."""
    if isinstance(X, Mapping):
        return np.empty((_n_rows(dict(X)), 0))
    return X


def _rows(X: Any, rows: np.ndarray) -> Any:
    if isinstance(X, Mapping):
        return take_rows(dict(X), rows)
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return np.asarray(X)[rows] if not hasattr(X, "shape") else X[rows]
