"""What a sequence input adds beside its cell: summary statistics in the model
(SequenceSummary), cross-fitted linear scores of them (SequenceLinearScores), and a
training budget that grows as the table shrinks (epochs="auto")."""

import numpy as np
import pandas as pd
import pytest
from _settings import ragged_series
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import MultiInputKerasClassifier, MultiInputKerasRegressor
from skmultimodal.architecture import SequenceSummary
from skmultimodal.sequence import SequenceLinearScores, SequencePadder, sequence_statistics

_ragged = ragged_series


# -- the statistics -----------------------------------------------------------------------
def test_statistics_of_a_series_by_hand():
    series = np.array([[[1.0, 0.0], [2.0, 4.0], [6.0, 2.0], [np.nan, np.nan]]])
    stats = sequence_statistics(series)
    assert stats.shape == (1, 7 * 2 + 1)
    mean, std, low, high, first, last, rise = stats[0, :14].reshape(7, 2)
    np.testing.assert_allclose(mean, [3.0, 2.0])
    np.testing.assert_allclose(std, np.std([[1, 0], [2, 4], [6, 2]], axis=0))
    np.testing.assert_allclose(low, [1.0, 0.0])
    np.testing.assert_allclose(high, [6.0, 4.0])
    np.testing.assert_allclose(first, [1.0, 0.0])
    np.testing.assert_allclose(last, [6.0, 2.0])
    # Least-squares slopes 2.5 and 1.0 over 3 steps: rises of 5 and 2.
    np.testing.assert_allclose(rise, [5.0, 2.0])
    np.testing.assert_allclose(stats[0, 14], np.log1p(3))


def test_the_layer_and_the_function_agree_and_ignore_padding():
    series, _ = _ragged(n=12)
    short = SequencePadder(standardize=False).fit(series)
    long = SequencePadder(max_len=short.max_len_ + 7, standardize=False, padding="pre")
    stats = sequence_statistics(short.transform(series))
    np.testing.assert_allclose(sequence_statistics(long.fit(series).transform(series)), stats)
    layer = np.asarray(SequenceSummary()(short.transform(series)))
    np.testing.assert_allclose(layer, stats, rtol=1e-4, atol=1e-4)
    layer_long = np.asarray(SequenceSummary()(long.transform(series)))
    np.testing.assert_allclose(layer_long, stats, rtol=1e-4, atol=1e-4)


def test_the_statistics_need_three_dimensions():
    with pytest.raises(ValueError, match=r"\(samples, timesteps, features\).*\(4, 3\)"):
        sequence_statistics(np.zeros((4, 3)))


def test_the_branch_can_leave_the_statistics_out():
    series, y = _ragged()
    X = {"s": SequencePadder().fit_transform(series)}
    # sequence_linear=False: the linear start reads the statistics too.
    params = dict(sequence_units=4, epochs=1, verbose=0, random_state=0, sequence_linear=False)
    with_stats = MultiInputKerasClassifier(**params).fit(X, y)
    without = MultiInputKerasClassifier(sequence_summary=False, **params).fit(X, y)
    layers_of = lambda clf: {type(layer).__name__ for layer in clf.model_.layers}  # noqa: E731
    assert "SequenceSummary" in layers_of(with_stats)
    assert "SequenceSummary" not in layers_of(without)
    with pytest.raises(ValueError, match="sequence_summary"):
        MultiInputKerasClassifier(sequence_summary="yes", **params).fit(X, y)


# -- SequenceLinearScores -----------------------------------------------------------------
def test_scores_are_out_of_fold_at_fit_and_from_the_refitted_model_after():
    series, y = _ragged(n=80)
    X = SequencePadder().fit_transform(series)
    scorer = SequenceLinearScores(cv=4, random_state=0)
    out_of_fold = scorer.fit_transform(X, y)
    assert out_of_fold.shape == (80, 1) and out_of_fold.dtype == np.float32
    # The refitted model scores its own training rows more confidently than held-out folds.
    refitted = scorer.transform(X)
    assert not np.allclose(refitted, out_of_fold)
    assert ((refitted[:, 0] > 0) == y).mean() >= ((out_of_fold[:, 0] > 0) == y).mean()
    # The scores are the logit of a logistic regression on the statistics, as by hand.
    by_hand = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    proba = cross_val_predict(by_hand, sequence_statistics(X), y, cv=4, method="predict_proba")
    assert ((proba[:, 1] > 0.5) == (out_of_fold[:, 0] > 0)).mean() > 0.85
    assert scorer.get_feature_names_out().tolist() == ["score"]


def test_multiclass_and_regression_scores():
    rng = np.random.default_rng(1)
    labels = np.repeat(["a", "b", "c"], 20)
    shift = {"a": 0.0, "b": 1.5, "c": 3.0}
    X = np.stack([rng.normal(shift[label], size=(10, 1)) for label in labels])
    scores = SequenceLinearScores(cv=3, random_state=0).fit_transform(X, labels)
    assert scores.shape == (60, 3) and (scores <= 0).all()
    assert (np.array(["a", "b", "c"])[scores.argmax(axis=1)] == labels).mean() > 0.8
    target = np.array([shift[label] for label in labels]) * 10.0 + 5.0
    reg = SequenceLinearScores(cv=3, random_state=0)
    standardised = reg.fit_transform(X, target)[:, 0]
    assert reg.regression_ and np.corrcoef(standardised, target)[0, 1] > 0.9
    assert abs(standardised.mean()) < 0.5


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((6, 4)), [0, 1] * 3, r"\(samples, timesteps, features\).*\(6, 4\)"),
        (np.full((6, 3, 1), np.inf), [0, 1] * 3, "row 0 holds an infinite value"),
        (
            np.concatenate([np.ones((1, 3, 1)), np.full((5, 3, 1), np.nan)]),
            [0, 1] * 3,
            "row 1 has no time step",
        ),
        (np.ones((6, 3, 1)), None, "fit needs y"),
        (np.ones((6, 3, 1)), [0] * 6, "at least 2 classes"),
    ],
    ids=["2-D", "infinite", "empty row", "no y", "one class"],
)
def test_bad_series_are_refused_with_the_row(X, y, message):
    with pytest.raises(ValueError, match=message):
        SequenceLinearScores(cv=2).fit(X, y)


def test_other_features_at_transform_and_masked_rows_are_refused():
    from skmultimodal.missing import MaskedInput

    X = np.random.default_rng(0).normal(size=(20, 5, 2))
    scorer = SequenceLinearScores(cv=2).fit(X, [0, 1] * 10)
    with pytest.raises(ValueError, match="3 features per time step, but 2 were seen"):
        scorer.transform(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="on_missing='mask'"):
        SequenceLinearScores(cv=2).fit(MaskedInput(X, np.ones(20, bool)), [0, 1] * 10)


def test_scores_clone_and_are_deterministic():
    series, y = _ragged(n=40)
    X = SequencePadder().fit_transform(series)
    first = SequenceLinearScores(cv=3, random_state=0).fit_transform(X, y)
    again = clone(SequenceLinearScores(cv=3, random_state=0)).fit_transform(X, y)
    np.testing.assert_array_equal(first, again)


# -- the automatic pipeline ---------------------------------------------------------------
def test_a_column_of_series_gets_its_scores_step_unless_told_not_to():
    from skmultimodal.auto import make_multimodal_pipeline

    series, y = _ragged(n=50)
    X = pd.DataFrame({"s": series, "price": np.linspace(0, 1, 50)})
    steps = lambda pipe: [name for name, _, _ in pipe["prep"].transformers]  # noqa: E731
    pipe = make_multimodal_pipeline(X, y, random_state=0, model_params={"epochs": 3})
    assert steps(pipe) == ["sequence", "sequence_scores", "numeric"]
    inputs = pipe["prep"].fit_transform(X, y)
    assert inputs["sequence_scores"].shape == (50, 1)
    assert steps(make_multimodal_pipeline(X, y, sequence_scores=False)) == [
        "sequence",
        "numeric",
    ]
    # No target, or rows that may lack a series: no scores.
    assert "sequence_scores" not in steps(make_multimodal_pipeline(X))
    assert "sequence_scores" not in steps(make_multimodal_pipeline(X, y, on_missing="mask"))
    assert pipe.fit(X, y).score(X, y) > 0.7


# -- epochs="auto" ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_rows", "params", "expected"),
    [
        (40, {}, 300),  # 2 batches an epoch: capped
        (64, {"batch_size": 8}, 125),  # 8 batches, no hold-out under 500 rows
        (320, {}, 100),  # 10 batches
        (600, {}, 59),  # 540 rows after the 10% early-stopping hold-out: 17 batches
        (600, {"early_stopping": False}, 53),
        (600, {"validation_split": 0.5}, 100),
        (3000, {}, 20),  # the floor
        (100, {"batch_size": -1}, 300),
    ],
)
def test_auto_epochs_follow_the_number_of_batches(n_rows, params, expected):
    X = {"x": np.zeros((n_rows, 2), dtype=np.float32)}
    clf = MultiInputKerasClassifier(**params)
    assert clf._resolved_epochs(X, "auto", {}) == expected
    assert clf._resolved_epochs(X, 7, {}) == 7


def test_auto_epochs_are_recorded_and_an_int_is_kept():
    rng = np.random.default_rng(0)
    X = {"x": rng.normal(size=(1280, 3)).astype(np.float32)}
    y = (X["x"][:, 0] > 0).astype(int)
    # 1,280 rows in batches of 32 without a hold-out: 40 batches, 25 epochs.
    clf = MultiInputKerasClassifier(tabular_units=4, early_stopping=False, verbose=0)
    clf.set_params(random_state=0).fit(X, y)
    assert clf.epochs == "auto" and clf.epochs_ == 25 and len(clf.history_["loss"]) == 25
    reg = MultiInputKerasRegressor(tabular_units=4, epochs=3, verbose=0, random_state=0)
    assert reg.fit(X, X["x"][:, 1]).epochs_ == 3
    with pytest.raises(ValueError, match="epochs"):
        MultiInputKerasClassifier(epochs="many").fit(X, y)
