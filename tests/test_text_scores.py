"""TextLinearScores: cross-fitted scores of a word + character n-gram linear model."""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal.text import TextLinearScores


def _memorisable(n=120, seed=0):
    """Texts of one unique made-up word each and random labels: learnable only by heart."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("bcdfghjklmnpqrstvwxz"))
    texts = ["".join(rng.choice(letters, 8)) for _ in range(n)]
    return texts, rng.integers(0, 2, n)


def _topical(n=90, seed=0):
    """Three topics, each text two words of its topic and one shared word."""
    rng = np.random.default_rng(seed)
    topics = {
        "fruit": ["apple", "pear", "plum", "grape"],
        "car": ["wheel", "engine", "brake", "tyre"],
        "bird": ["wing", "feather", "beak", "nest"],
    }
    labels = rng.choice(list(topics), n)
    texts = [" ".join([*rng.choice(topics[label], 2), "the"]) for label in labels]
    return texts, labels


def test_fit_transform_scores_each_row_without_it():
    texts, y = _memorisable()
    scores = TextLinearScores(random_state=0)
    out_of_fold = scores.fit_transform(texts, y)[:, 0]
    in_sample = scores.transform(texts)[:, 0]
    # The refitted model knows every row by heart; the out-of-fold scores cannot.
    assert np.mean((in_sample > 0) == y) > 0.95
    assert np.mean((out_of_fold > 0) == y) < 0.7


def test_transform_is_the_refitted_models_logit_for_two_classes():
    texts, labels = _topical()
    y = labels == "fruit"
    scores = TextLinearScores(random_state=0).fit(texts, y)
    expected = scores.model_.decision_function(texts)
    np.testing.assert_allclose(scores.transform(texts)[:, 0], expected, rtol=1e-5, atol=1e-5)
    assert scores.get_feature_names_out().tolist() == ["score"]


def test_several_classes_give_log_probabilities_in_class_order():
    texts, y = _topical()
    scores = TextLinearScores(random_state=0)
    out_of_fold = scores.fit_transform(texts, y)
    assert out_of_fold.shape == (len(y), 3) and out_of_fold.dtype == np.float32
    np.testing.assert_allclose(logsumexp(out_of_fold, axis=1), 0.0, atol=1e-4)
    # Each topic's words are distinct, so even unseen rows are scored right.
    assert np.mean(scores.classes_[out_of_fold.argmax(axis=1)] == y) == 1.0
    assert scores.get_feature_names_out().tolist() == ["score_bird", "score_car", "score_fruit"]


def test_regression_scores_are_standardised_predictions():
    texts, labels = _topical()
    y = np.where(labels == "fruit", 10.0, 0.0) + np.arange(len(labels)) * 0.01
    scores = TextLinearScores(random_state=0).fit(texts, y)
    assert scores.regression_
    raw = scores.model_.predict(texts)
    standardised = scores.transform(texts)[:, 0]
    np.testing.assert_allclose(
        standardised * scores.target_scale_ + scores.target_mean_, raw, rtol=1e-5, atol=1e-4
    )
    assert np.corrcoef(standardised, y)[0, 1] > 0.95


def test_integer_target_follows_task():
    texts, labels = _topical()
    y = (labels == "fruit").astype(int) * 3
    assert not TextLinearScores().fit(texts, y).regression_
    assert TextLinearScores(task="regression").fit(texts, y).regression_


def test_a_class_too_rare_for_every_fold_gets_the_floor_where_unseen():
    texts, y = _topical(60)
    texts, y = [*texts, "zebra stripes"], np.append(y, "zebra")
    scores = TextLinearScores(cv=5, random_state=0).fit_transform(texts, y)
    # The single zebra row is scored by a model that never saw a zebra.
    zebra = list(np.unique(y)).index("zebra")
    assert scores[-1, zebra] == pytest.approx(np.log(1e-7), rel=1e-6)
    assert np.isfinite(scores).all()


def test_missing_texts_are_empty_texts():
    texts, y = _topical(40)
    column = pd.Series([None if i % 7 == 0 else t for i, t in enumerate(texts)], name="notes")
    column[3] = np.nan
    scores = TextLinearScores(cv=3, random_state=0).fit(column.to_frame(), y)
    np.testing.assert_allclose(scores.transform([None]), scores.transform([""]))
    assert scores.transform(column.to_frame()).shape == (40, 3)
    assert scores.transform(column).shape == (40, 3)


def test_random_state_makes_the_folds_reproducible():
    texts, y = _memorisable(60)
    first = TextLinearScores(cv=3, random_state=1).fit_transform(texts, y)
    again = TextLinearScores(cv=3, random_state=1).fit_transform(texts, y)
    other = TextLinearScores(cv=3, random_state=2).fit_transform(texts, y)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("params", "y", "message"),
    [
        ({}, None, "fit needs y"),
        ({}, ["a", "b"], r"one target value per row: got y of shape \(2,\) for 4 rows"),
        ({}, ["a"] * 4, r"at least 2 classes in the target, got \['a'\]"),
        ({"word_ngrams": None, "char_ngrams": None}, ["a", "b"] * 2, "both are None"),
        ({"task": "regression"}, [1.0, np.inf, 2.0, 3.0], "target at row 1 is inf"),
        ({"cv": 1}, ["a", "b"] * 2, "'cv' parameter"),
    ],
)
def test_bad_input_is_refused_with_a_message(params, y, message):
    texts = ["red apple", "blue car", "green pear", "fast car"]
    with pytest.raises(ValueError, match=message):
        TextLinearScores(**params).fit(texts, y)


def test_transform_before_fit_and_two_columns_are_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TextLinearScores().transform(["a"])
    texts, y = _topical(20)
    two = pd.DataFrame({"a": texts, "b": texts})
    with pytest.raises(ValueError, match="TextLinearScores"):
        TextLinearScores(cv=2).fit(two, y)


def test_clone_and_pickle_keep_the_scores():
    texts, y = _topical(40)
    scores = TextLinearScores(cv=3, random_state=0).fit(texts, y)
    assert clone(scores).get_params() == scores.get_params()
    restored = pickle.loads(pickle.dumps(scores))
    np.testing.assert_array_equal(restored.transform(texts), scores.transform(texts))


# String input: scikit-learn runs only the checks that need no numeric X (SkipTestWarning).
@parametrize_with_checks([TextLinearScores()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
