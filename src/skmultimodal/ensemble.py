"""A bagged multimodal ensemble: networks and classical models, weighted on out-of-fold data.

A jointly trained network can let a weak, easily memorised input (photos learnt from
scratch on a few hundred rows) drag down a strong one (a product name), and on short texts
a linear model on word and character n-grams is often stronger than any network trained
from scratch. :class:`MultimodalEnsembleClassifier` and :class:`MultimodalEnsembleRegressor`
take the raw table and fit several *members* on it:

- ``"network"``: the fused network of :func:`~skmultimodal.auto.make_multimodal_pipeline`
  on every column;
- ``"modality_networks"``: one such network per modality (each image, text, vector or
  sequence column, and the numeric and categorical columns together as one table);
- ``"classical"``: per text column, word (1-2) and character (2-5) n-gram TF-IDF with a
  logistic (ridge) regression; per image column, a strongly regularised logistic (ridge)
  regression on its 24x24 pixels, transparency composited on white; for the numeric and
  categorical columns, histogram gradient boosting.

Each member is fitted with k-fold bagging: one copy per fold of a ``KFold`` split, each
predicting the rows it did not see, so every training row gets an out-of-fold prediction
of every member. Greedy ensemble selection with replacement (Caruana et al., 2004) then
picks member weights that minimise the out-of-fold log loss (squared error for
regression). A prediction is the weighted mean of the members' predictions, each the mean
of its fold copies. A member that cannot help gets no weight, so adding a modality cannot
make the ensemble worse on the out-of-fold data than the best member alone.

A row whose modality is missing (a missing image path or text) is predicted without the
members that need that modality: the weights are chosen again, by the same selection on the
same out-of-fold predictions, among the members that can read the row.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    LabelEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_random_state,
    column_or_1d,
    validate_data,
)

from ._unwrap import nested_estimators
from .auto import ColumnRoles, detect_column_roles, make_multimodal_pipeline
from .image import ImageLoader

__all__ = [
    "MEMBER_KINDS",
    "MultimodalEnsembleClassifier",
    "MultimodalEnsembleRegressor",
    "greedy_ensemble_selection",
]

#: The kinds of member an ensemble can have (its ``members`` parameter).
MEMBER_KINDS = ("network", "modality_networks", "classical")
# Roles whose columns make one "table" modality together.
_TABLE_ROLES = ("numeric", "categorical")
# Roles with one modality per column.
_COLUMN_ROLES = ("image", "text", "vector", "sequence")
# The image size of the classical image member (24x24 RGB: 1,728 pixels).
_CLASSICAL_IMAGE_SIZE = (24, 24)
#: ImageLoader parameters each member chooses itself (``image_params`` cannot set them).
_MEMBERS_OWN_IMAGE_PARAMS = ("target_size", "color_mode", "base_dir")
# Probabilities are clipped to [eps, 1 - eps] in the log loss of the selection.
_EPS = 1e-7


# -- greedy ensemble selection ---------------------------------------------------------------
def _log_loss(proba: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    picked = np.clip(proba[np.arange(len(y)), y], _EPS, 1.0)
    return float(-np.average(np.log(picked), weights=weight))


def _squared_error(pred: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    return float(np.average((pred - y) ** 2, weights=weight))


def greedy_ensemble_selection(
    predictions: Sequence[np.ndarray],
    loss: Callable[[np.ndarray], float],
    n_rounds: int = 50,
) -> np.ndarray:
    """Member weights by greedy forward selection with replacement (Caruana et al., 2004).

    Each round adds the member whose prediction, averaged with the ones already chosen,
    gives the lowest ``loss``; a member can be chosen several times. The weights are the
    counts divided by ``n_rounds``. Ties go to the first member.

    Parameters
    ----------
    predictions : sequence of ndarray
        One out-of-fold prediction per member, all of the same shape.
    loss : callable
        Takes a prediction of that shape, returns a float to minimise.
    n_rounds : int, default=50

    Returns
    -------
    ndarray of shape (n_members,)
        Non-negative weights that sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> good, bad = y + 0.1, np.zeros(4)
    >>> greedy_ensemble_selection([bad, good], lambda p: ((p - y) ** 2).mean(), 10)
    array([0., 1.])
    """
    counts = np.zeros(len(predictions))
    current = np.zeros_like(np.asarray(predictions[0], dtype=float))
    for round_ in range(n_rounds):
        losses = [loss((current * round_ + pred) / (round_ + 1)) for pred in predictions]
        best = int(np.argmin(losses))
        counts[best] += 1
        current = (current * round_ + predictions[best]) / (round_ + 1)
    return counts / n_rounds


# -- members -----------------------------------------------------------------------------------
def _text_of(frame: pd.DataFrame, column: str) -> np.ndarray:
    """One text column as strings, a missing text empty."""
    return frame[column].fillna("").astype(str).to_numpy()


def _classical_text(column: str, classification: bool) -> Pipeline:
    ngrams = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
        ]
    )
    model = LogisticRegression(C=4.0, max_iter=2000) if classification else Ridge(alpha=1.0)
    select = FunctionTransformer(_text_of, kw_args={"column": column})
    return Pipeline([("select", select), ("ngrams", ngrams), ("model", model)])


def _pixels_on_white(images: np.ndarray) -> np.ndarray:
    """Flat RGB pixels in [0, 1] of RGBA images, transparency composited on white."""
    alpha = images[..., 3:].astype(np.float32) / 255.0
    rgb = images[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return rgb.reshape(len(images), -1) / 255.0


def _classical_image(column: str, classification: bool, base_dir) -> Pipeline:
    # Small pixels and a strongly regularised linear model: on real drawings this beat
    # our networks trained from scratch on a thousand rows (benchmarks/RESULTS.md).
    loader = ImageLoader(target_size=_CLASSICAL_IMAGE_SIZE, color_mode="rgba", base_dir=base_dir)
    model = (
        LogisticRegression(C=0.01, max_iter=1000)
        if classification
        else RidgeCV(alphas=np.logspace(0, 5, 6))
    )
    return Pipeline(
        [
            ("pixels", loader),
            ("on_white", FunctionTransformer(_pixels_on_white)),
            ("scale", StandardScaler()),
            ("model", model),
        ]
    )


def _classical_table(numeric: list, categorical: list, classification: bool, seed: int):
    parts = []
    if numeric:
        parts.append(("numeric", "passthrough", numeric))
    if categorical:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
        )
        parts.append(("categorical", encoder, categorical))
    columns = ColumnTransformer(parts)
    is_categorical = [False] * len(numeric) + [True] * len(categorical)
    booster = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
    model = booster(categorical_features=is_categorical or None, random_state=seed)
    return Pipeline([("columns", columns), ("model", model)])


def _available_rows(X: pd.DataFrame, required: list, all_needed: bool) -> np.ndarray:
    """Rows a member can predict: none of its ``required`` values missing (a missing value
    or a blank string), or with ``all_needed=False`` at least one of them present."""
    if not required:
        return np.ones(len(X), dtype=bool)
    missing = np.array(X[required].isna().to_numpy(), copy=True)
    for j, column in enumerate(required):
        if not pd.api.types.is_numeric_dtype(X[column]):
            blank = X[column].map(lambda value: isinstance(value, str) and not value.strip())
            missing[:, j] |= blank.to_numpy(dtype=bool)
    return ~(missing.any(axis=1) if all_needed else missing.all(axis=1))


class _Member:
    """One member: ``factory(X, y)`` gives an unfitted pipeline for training rows; it
    reads ``columns`` and cannot predict a row without its ``required`` ones (each of
    them with ``all_needed``, else at least one)."""

    def __init__(self, factory, columns: list, required: list, all_needed: bool = True):
        self.factory = factory
        self.columns = columns
        self.required = required
        self.all_needed = all_needed


def _modalities(roles: ColumnRoles) -> dict[str, list]:
    """``{modality name: its columns}``: one per image/text/array column, plus "table"."""
    groups = {column: [column] for column, role in roles.items() if role in _COLUMN_ROLES}
    table = [column for column, role in roles.items() if role in _TABLE_ROLES]
    if table:
        groups["table"] = table
    return groups


def _fit_fold(member: _Member, X, y, sample_weight, train, test, predict):
    X_train, y_train = X[member.columns].iloc[train], y[train]
    estimator = member.factory(X_train, y_train)
    fit_params = {}
    if sample_weight is not None:
        fit_params[f"{estimator.steps[-1][0]}__sample_weight"] = sample_weight[train]
    estimator.fit(X_train, y_train, **fit_params)
    if predict is None:
        return estimator, None
    return estimator, predict(estimator, X[member.columns].iloc[test])


# -- the estimators ---------------------------------------------------------------------------
class _BaseMultimodalEnsemble(BaseEstimator):
    """What the classifier and the regressor share: members, bagging, selection."""

    _classification: bool

    def __init__(
        self,
        members: Sequence[str] = ("network", "classical"),
        *,
        n_folds: int = 3,
        n_rounds: int = 50,
        refit: bool = True,
        model_params: Mapping[str, Any] | None = None,
        roles: Mapping[str, str] | None = None,
        base_dir=None,
        image_size: tuple[int, int] | None = None,
        on_missing: str = "error",
        image_params: Mapping[str, Any] | None = None,
        n_jobs: int | None = None,
        random_state=None,
    ):
        self.members = members
        self.n_folds = n_folds
        self.n_rounds = n_rounds
        self.refit = refit
        self.model_params = model_params
        self.roles = roles
        self.base_dir = base_dir
        self.image_size = image_size
        self.on_missing = on_missing
        self.image_params = image_params
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- validation ------------------------------------------------------------------------
    def _check_params(self) -> None:
        members = [self.members] if isinstance(self.members, str) else list(self.members)
        unknown = [kind for kind in members if kind not in MEMBER_KINDS]
        if unknown or not members:
            raise ValueError(
                f"members must be a non-empty sequence of {MEMBER_KINDS}, got {self.members!r}."
            )
        for name, low in (("n_folds", 2), ("n_rounds", 1)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
        if not isinstance(self.refit, (bool, np.bool_)):
            raise ValueError(f"refit must be True or False, got {self.refit!r}.")
        if self.on_missing not in ("error", "mask"):
            raise ValueError(f"on_missing must be 'error' or 'mask', got {self.on_missing!r}.")
        if self.image_params is not None:
            if not isinstance(self.image_params, Mapping):
                raise ValueError(
                    f"image_params must be a mapping of ImageLoader parameters, got "
                    f"{self.image_params!r}."
                )
            own = sorted(set(self.image_params) & set(_MEMBERS_OWN_IMAGE_PARAMS))
            unknown = sorted(set(self.image_params) - set(ImageLoader().get_params()))
            if own or unknown:
                raise ValueError(
                    f"image_params cannot set {own + unknown}: "
                    + (f"{own} are the members' own choice; " if own else "")
                    + (f"{unknown} are not ImageLoader parameters; " if unknown else "")
                    + "it takes the other ImageLoader parameters, e.g. restrict_to_base_dir."
                )

    def _secure(self, estimator):
        """``estimator`` with ``image_params`` set on every ImageLoader in it."""
        for step in nested_estimators(estimator):
            if isinstance(step, ImageLoader) and self.image_params:
                step.set_params(**self.image_params)
        return estimator

    def _check_X(self, X, reset: bool) -> pd.DataFrame:
        """A DataFrame with string column names (kept as they are), or a 2-D array turned
        into one with columns ``x0``, ``x1``... (checked by scikit-learn's rules)."""
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if len(X) == 0:
                raise ValueError("X has 0 samples; a minimum of 1 is required.")
            return X
        array = validate_data(
            self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan", accept_sparse=False
        )
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        # An object array of numbers (as a DataFrame of mixed columns gives) is numbers.
        return frame.infer_objects()

    # -- members ---------------------------------------------------------------------------
    def _network(self, columns: list, seed: int) -> Callable[[pd.DataFrame, Any], Pipeline]:
        task = "classification" if self._classification else "regression"
        roles = {column: self.roles_[column] for column in columns}

        def factory(X, y):
            pipeline = make_multimodal_pipeline(
                X,
                y,
                task=task,
                roles=roles,
                base_dir=self.base_dir,
                image_size=self.image_size,
                on_missing=self.on_missing,
                model_params=self.model_params,
                random_state=seed,
            )
            return self._secure(pipeline)

        return factory

    def _build_members(self, seed: int) -> dict[str, _Member]:
        kinds = [self.members] if isinstance(self.members, str) else list(self.members)
        groups = _modalities(self.roles_)
        used = [column for columns in groups.values() for column in columns]

        # Networks need every image/text/array value unless they mask missing ones.
        def needs(columns):
            if self.on_missing == "mask":
                return []
            return [c for c in columns if self.roles_[c] in _COLUMN_ROLES]

        members = {}
        if "network" in kinds:
            members["network"] = _Member(self._network(used, seed), used, needs(used))
        if "modality_networks" in kinds and len(groups) > 1:
            for name, columns in groups.items():
                members[f"network[{name}]"] = _Member(
                    self._network(columns, seed), columns, needs(columns)
                )
        if "classical" in kinds:
            for column in self.roles_.columns("text"):
                members[f"tfidf_linear[{column}]"] = _Member(
                    lambda X, y, column=column: _classical_text(column, self._classification),
                    [column],
                    [column],
                )
            for column in self.roles_.columns("image"):
                members[f"pixels_linear[{column}]"] = _Member(
                    lambda X, y, column=column: self._secure(
                        _classical_image(column, self._classification, self.base_dir)
                    ),
                    [column],
                    [column],
                )
            if "table" in groups:
                numeric = self.roles_.columns("numeric")
                categorical = self.roles_.columns("categorical")
                members["gradient_boosting[table]"] = _Member(
                    lambda X, y: _classical_table(numeric, categorical, self._classification, seed),
                    groups["table"],
                    groups["table"],
                    all_needed=False,
                )
        if not members:
            raise ValueError(
                f"members={self.members!r} gives no member for the columns' roles:\n{self.roles_!r}"
            )
        return members

    # -- fit -------------------------------------------------------------------------------
    def _fit(self, X, y_encoded, sample_weight):
        self._check_params()
        if len(y_encoded) < self.n_folds:
            raise ValueError(
                f"n_samples={len(y_encoded)} is fewer than n_folds={self.n_folds}: each fold "
                "needs at least one row."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.roles_ = detect_column_roles(X, base_dir=self.base_dir, overrides=self.roles)
        members = self._build_members(seed)
        splitter = (StratifiedKFold if self._classification else KFold)(
            self.n_folds, shuffle=True, random_state=seed
        )
        folds = list(splitter.split(np.zeros(len(y_encoded)), y_encoded))
        jobs = [
            delayed(_fit_fold)(
                member, X, y_encoded, sample_weight, train, test, self._member_predict
            )
            for member in members.values()
            for train, test in folds
        ]
        results = Parallel(n_jobs=self.n_jobs)(jobs)
        self.members_, self.member_columns_, self._required = {}, {}, {}
        oof = {}
        for i, (name, member) in enumerate(members.items()):
            fitted = results[i * len(folds) : (i + 1) * len(folds)]
            self.members_[name] = [estimator for estimator, _ in fitted]
            self.member_columns_[name] = member.columns
            self._required[name] = (member.required, member.all_needed)
            prediction = np.zeros((len(y_encoded), *fitted[0][1].shape[1:]))
            for (_, test), (_, fold_prediction) in zip(folds, fitted, strict=True):
                prediction[test] = fold_prediction
            oof[name] = prediction
        weight = np.ones(len(y_encoded)) if sample_weight is None else sample_weight
        loss = self._selection_loss(y_encoded, weight)
        weights = greedy_ensemble_selection(list(oof.values()), loss, self.n_rounds)
        self.weights_ = dict(zip(oof, weights.tolist(), strict=True))
        blended = sum(w * oof[name] for name, w in self.weights_.items())
        self.oof_scores_ = {name: self._score_of(pred, y_encoded) for name, pred in oof.items()}
        self.oof_scores_["ensemble"] = self._score_of(blended, y_encoded)
        self.oof_predictions_ = oof
        # What a new selection among the members that can read a row needs (_weights_for).
        self._selection_target = (y_encoded, weight)
        if self.refit:
            self._refit_on_all_rows(members, X, y_encoded, sample_weight)
        return self

    def _refit_on_all_rows(self, members, X, y_encoded, sample_weight) -> None:
        """Replace each member's fold copies by one copy fitted on every row.

        The weights stay those chosen on the fold copies' out-of-fold predictions; each
        member then predicts from all the data instead of two thirds of it (with 3 folds),
        and predicting runs one copy instead of ``n_folds``. Every member is refitted, not
        only those with a weight: a row without a modality may need any of them.
        """
        everything = np.arange(len(y_encoded))
        jobs = [
            delayed(_fit_fold)(
                member, X, y_encoded, sample_weight, everything, everything[:0], None
            )
            for member in members.values()
        ]
        for name, (estimator, _) in zip(members, Parallel(n_jobs=self.n_jobs)(jobs), strict=True):
            self.members_[name] = [estimator]

    # -- predict ---------------------------------------------------------------------------
    def _weights_for(self, readable: np.ndarray) -> np.ndarray:
        """Member weights for rows that only the ``readable`` members can read: the fitted
        weights when every member with a weight is readable, otherwise a new greedy
        selection among the readable members on the same out-of-fold predictions."""
        names = list(self.members_)
        fitted = np.array([self.weights_[name] for name in names])
        if not fitted[~readable].any():
            return fitted
        weights = np.zeros(len(names))
        if readable.any():
            chosen = np.flatnonzero(readable)
            y, sample_weight = self._selection_target
            weights[chosen] = greedy_ensemble_selection(
                [self.oof_predictions_[names[i]] for i in chosen],
                self._selection_loss(y, sample_weight),
                self.n_rounds,
            )
        return weights

    def _blend(self, X) -> np.ndarray:
        check_is_fitted(self, "weights_")
        X = self._check_X(X, reset=False)
        names = list(self.members_)
        readable = np.column_stack([_available_rows(X, *self._required[n]) for n in names])
        patterns, which = np.unique(readable, axis=0, return_inverse=True)
        row_weights = np.zeros((len(X), len(names)))
        for k, pattern in enumerate(patterns):
            row_weights[which.ravel() == k] = self._weights_for(pattern)
        unreadable = np.flatnonzero(row_weights.sum(axis=1) == 0)
        if len(unreadable):
            raise ValueError(
                f"Rows at positions {unreadable[:10].tolist()} lack the inputs of every "
                f"member ({names}): each misses the image paths, texts or numbers that "
                "those members need."
            )
        total = None
        for j, name in enumerate(names):
            rows = np.flatnonzero(row_weights[:, j] > 0)
            if not len(rows):
                continue
            X_member = X[self.member_columns_[name]].iloc[rows]
            pred = np.mean(
                [self._member_predict(est, X_member) for est in self.members_[name]], axis=0
            )
            if total is None:
                total = np.zeros((len(X), *pred.shape[1:]))
            total[rows] += row_weights[rows, j].reshape((-1,) + (1,) * (pred.ndim - 1)) * pred
        return total

    def report(self) -> pd.DataFrame:
        """One row per member: its columns, weight and out-of-fold score.

        Returns
        -------
        pandas.DataFrame
            Indexed by member name, with the ensemble's own out-of-fold score last.
        """
        check_is_fitted(self, "weights_")
        rows = [
            {
                "columns": ", ".join(self.member_columns_[name]),
                "weight": self.weights_[name],
                "oof_score": self.oof_scores_[name],
            }
            for name in self.members_
        ]
        frame = pd.DataFrame(rows, index=list(self.members_))
        frame.loc["ensemble"] = ["", 1.0, self.oof_scores_["ensemble"]]
        return frame

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = True
        return tags


class MultimodalEnsembleClassifier(ClassifierMixin, _BaseMultimodalEnsemble):
    """Bagged ensemble of multimodal networks and classical models, for class labels.

    See :mod:`skmultimodal.ensemble` for the members, the bagging and the selection.

    Parameters
    ----------
    members : sequence of {"network", "modality_networks", "classical"}, \
default=("network", "classical")
        Which members to fit: the fused network, one network per modality, the
        classical models (TF-IDF + logistic regression per text column, logistic
        regression on 24x24 pixels per image column, gradient boosting on the numeric
        and categorical columns).
    n_folds : int, default=3
        Folds of the bagging: each member is fitted ``n_folds`` times, on all rows but
        one fold, and predicts that fold.
    n_rounds : int, default=50
        Rounds of greedy ensemble selection (the weights are multiples of
        ``1 / n_rounds``).
    refit : bool, default=True
        After the weights are chosen on the fold copies' out-of-fold predictions, fit
        each member once more on every row and predict with that copy alone (as AutoML
        systems' "refit full" does): members learn from all the rows rather than
        ``(n_folds - 1) / n_folds`` of them, and a prediction runs one copy per member
        instead of ``n_folds``. False keeps the fold copies and predicts with their
        mean (one fit fewer per member).
    model_params : mapping, default=None
        Parameters of the networks, as ``make_multimodal_pipeline``'s ``model_params``.
    roles : mapping of str to str, default=None
        Roles of some columns (``{"sku": "ignore"}``); the others are detected with
        :func:`~skmultimodal.auto.detect_column_roles`.
    base_dir : path, default=None
        Folder that relative image paths are resolved against.
    image_size : (int, int), default=None
        The networks' image size; None chooses it from the images.
    on_missing : {"error", "mask"}, default="error"
        The networks' handling of a missing image or text (``"mask"``: the network learns
        to do without it). Either way, a row's prediction leaves out the members that
        cannot read it.
    image_params : mapping, default=None
        Parameters set on every ``ImageLoader`` of every member (the networks' and the
        pixel models'), e.g. ``{"restrict_to_base_dir": True, "formats": ["PNG"]}`` to
        confine the files read to ``base_dir`` and to some formats (the command line does
        this). ``target_size``, ``color_mode`` and ``base_dir`` are the members' own.
    n_jobs : int, default=None
        Member folds fitted in parallel (joblib).
    random_state : int, RandomState or None, default=None
        Seeds the folds and every member.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    roles_ : ColumnRoles
        The role of each column.
    members_ : dict of str to list of estimators
        Each member's fitted copies: one fitted on every row (``refit=True``), or its
        ``n_folds`` fold copies.
    member_columns_ : dict of str to list of str
    weights_ : dict of str to float
        Each member's weight; they sum to 1.
    oof_scores_ : dict of str to float
        Out-of-fold accuracy of each member and of the ensemble (``"ensemble"``).
    oof_predictions_ : dict of str to ndarray of shape (n_samples, n_classes)
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.RandomState(0)
    >>> broken = rng.rand(80) < 0.5
    >>> words = ["red", "blue", "cheap", "new", "old", "big", "small", "lamp", "mug"]
    >>> text = [" ".join(rng.choice(words, 3)) + (" broken" if b else "") for b in broken]
    >>> X = pd.DataFrame({"text": text, "price": rng.rand(80)})
    >>> y = np.where(broken, "bad", "good")
    >>> ens = MultimodalEnsembleClassifier(members=("classical",), random_state=0).fit(X, y)
    >>> ens.predict(pd.DataFrame({"text": ["old mug broken", "new lamp"], "price": [1, 2]}))
    array(['bad', 'good'], dtype='<U4')
    >>> ens.weights_  # the price says nothing: the selection gives it no weight
    {'tfidf_linear[text]': 1.0, 'gradient_boosting[table]': 0.0}
    """

    _classification = True

    def fit(self, X, y, sample_weight=None, class_weight=None):
        """Fit every member on every fold and weight them on their out-of-fold predictions.

        Parameters
        ----------
        X : pandas.DataFrame or 2-D array
            The raw table (image paths, texts, numbers, categories).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        class_weight : dict or "balanced", default=None
            Multiplies ``sample_weight`` per class.

        Returns
        -------
        self
        """
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has one class ({self.classes_[0]!r}); a classifier needs at least two."
            )
        y_encoded = encoder.transform(y)
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if class_weight is not None:
            per_class = compute_sample_weight(class_weight, y)
            weight = per_class if weight is None else weight * per_class
        return self._fit(X, y_encoded, weight)

    def _member_predict(self, estimator, X) -> np.ndarray:
        # Every fold's training rows hold every class (stratified folds), but a member may
        # still order or miss classes: place its columns by its own classes_.
        proba = estimator.predict_proba(X)
        full = np.zeros((len(X), len(self.classes_)))
        full[:, np.asarray(estimator.classes_, dtype=int)] = proba
        return full

    def _selection_loss(self, y, weight):
        return lambda proba: _log_loss(proba, y, weight)

    def _score_of(self, proba, y) -> float:
        return float(accuracy_score(y, proba.argmax(axis=1)))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: the weighted mean of the members' probabilities.

        Parameters
        ----------
        X : pandas.DataFrame or 2-D array

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._blend(X)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row.

        Parameters
        ----------
        X : pandas.DataFrame or 2-D array

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class MultimodalEnsembleRegressor(RegressorMixin, _BaseMultimodalEnsemble):
    """Bagged ensemble of multimodal networks and classical models, for numbers.

    Same members, bagging and parameters as :class:`MultimodalEnsembleClassifier`; the
    classical text member is a ridge regression, the selection minimises the squared
    error, and ``oof_scores_`` holds R².

    Attributes
    ----------
    roles_, members_, member_columns_, weights_, oof_scores_, oof_predictions_, \
n_features_in_, feature_names_in_
        As for :class:`MultimodalEnsembleClassifier`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"a": rng.rand(80), "b": rng.rand(80)})
    >>> y = 3 * X["a"].to_numpy()
    >>> reg = MultimodalEnsembleRegressor(members=("classical",), random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (80,)
    """

    _classification = False

    def fit(self, X, y, sample_weight=None):
        """Fit every member on every fold and weight them on their out-of-fold predictions.

        Parameters
        ----------
        X : pandas.DataFrame or 2-D array
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True).astype(np.float64)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} targets.")
        if not np.isfinite(y).all():
            raise ValueError("y holds NaN or infinite values; a regression target must be finite.")
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        return self._fit(X, y, weight)

    def _member_predict(self, estimator, X) -> np.ndarray:
        return np.asarray(estimator.predict(X), dtype=np.float64).reshape(len(X))

    def _selection_loss(self, y, weight):
        return lambda pred: _squared_error(pred, y, weight)

    def _score_of(self, pred, y) -> float:
        return float(r2_score(y, pred))

    def predict(self, X) -> np.ndarray:
        """The weighted mean of the members' predictions.

        Parameters
        ----------
        X : pandas.DataFrame or 2-D array

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._blend(X)
