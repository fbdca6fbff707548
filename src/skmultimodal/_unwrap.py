"""What a fitted search, Pipeline or column transformer holds: one walk for the library."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sklearn.pipeline import Pipeline


def final_estimator(obj: Any) -> Any:
    """The estimator that makes the predictions of ``obj``.

    A fitted search (``GridSearchCV``...) gives its ``best_estimator_``, a ``Pipeline``
    its last step, repeatedly; anything else is returned as it is.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> final_estimator(make_pipeline(StandardScaler(), LogisticRegression()))
    LogisticRegression()
    """
    while True:
        if hasattr(obj, "best_estimator_"):
            obj = obj.best_estimator_
        elif isinstance(obj, Pipeline):
            obj = obj.steps[-1][1]
        else:
            return obj


def nested_estimators(obj: Any) -> Iterator[Any]:
    """``obj`` and every estimator inside it, outermost first.

    Walks a fitted search's ``best_estimator_``, a ``Pipeline``'s steps and a column
    transformer's steps (``MultiInputTransformer``, ``ColumnTransformer``): the fitted
    ones (``transformers_``) when it is fitted, else those it was given; and the fitted
    members of a :class:`~skmultimodal.ensemble.MultimodalEnsembleClassifier` /
    ``Regressor`` (``members_``, every fold's copy).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> [type(e).__name__ for e in nested_estimators(
    ...     make_pipeline(StandardScaler(), LogisticRegression()))]
    ['Pipeline', 'StandardScaler', 'LogisticRegression']
    """
    yield obj
    if hasattr(obj, "best_estimator_"):
        yield from nested_estimators(obj.best_estimator_)
    elif isinstance(obj, Pipeline):
        for _, step in obj.steps:
            yield from nested_estimators(step)
    elif isinstance(getattr(obj, "members_", None), dict):
        for copies in obj.members_.values():
            for copy in copies:
                yield from nested_estimators(copy)
    elif hasattr(obj, "transformers"):
        steps = getattr(obj, "transformers_", None)
        for _, step, _ in obj.transformers if steps is None else steps:
            if not isinstance(step, str):  # "drop" / "passthrough"
                yield from nested_estimators(step)
