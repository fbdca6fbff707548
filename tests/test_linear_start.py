"""The linear start of a model with sequence inputs (``sequence_linear=True``): a logistic
or ridge regression on the series' summary statistics, fitted before the network and
frozen in the model as its first logits (LinearLogits)."""

import pickle

import keras
import numpy as np
import pytest
from _settings import ragged_series
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge

from skmultimodal import MultiInputKerasClassifier, MultiInputKerasRegressor
from skmultimodal._linear_start import fit_linear_start, summary_statistics
from skmultimodal.architecture import LinearLogits
from skmultimodal.sequence import SequencePadder, sequence_statistics

# One epoch at a learning rate that leaves the network's own logits near zero: what the
# model predicts is then what its linear start predicts.
FROZEN_NETWORK = dict(
    sequence_units=4,
    sequence_linear=True,
    epochs=1,
    optimizer__learning_rate=1e-7,
    verbose=0,
    random_state=0,
)


def _level_series(n=90, steps=12, seed=0):
    """Three classes told apart by the level of a noisy series (a linear model's case)."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    X = rng.normal(scale=1.0, size=(n, steps, 2)) + 0.8 * y[:, None, None]
    return X.astype("float32"), y


def _linear_layer(estimator) -> LinearLogits:
    found = [layer for layer in estimator.model_.layers if isinstance(layer, LinearLogits)]
    assert len(found) == 1
    return found[0]


# -- the layer ----------------------------------------------------------------------------
def test_the_layer_starts_at_zero_and_computes_the_linear_model():
    layer = LinearLogits(2, sources=["s"])
    x = np.array([[1.0, 3.0], [0.0, -1.0]], "float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), np.zeros((2, 2)))
    center, scale = np.array([1.0, 1.0]), np.array([2.0, 4.0])
    kernel, bias = np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([0.25, -0.5])
    layer.set_linear_model(center, scale, kernel, bias)
    expected = (x - center) / scale @ kernel + bias
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-6)
    assert not layer.trainable_weights
    assert layer.get_config()["sources"] == ["s"]


def test_the_layer_survives_a_keras_round_trip(tmp_path):
    inputs = keras.Input((3,))
    layer = LinearLogits(1, sources=["s"])
    model = keras.Model(inputs, layer(inputs))
    layer.set_linear_model([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [[1.0], [2.0], [3.0]], [4.0])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
    assert loaded.layers[-1].get_config()["sources"] == ["s"]


# -- the linear model ---------------------------------------------------------------------
def test_the_linear_model_is_a_logistic_regression_at_the_chosen_penalty():
    X, y = _level_series()
    stats = sequence_statistics(X)
    fitted = fit_linear_start(stats, y, 3, regression=False)
    np.testing.assert_allclose(fitted.center, stats.mean(axis=0))
    varying = stats.std(axis=0) > 1e-9
    np.testing.assert_allclose(fitted.scale[varying], stats.std(axis=0)[varying])
    reference = LogisticRegression(C=1.0 / fitted.penalty, max_iter=2000)
    reference.fit((stats - fitted.center) / fitted.scale, y)
    # The same model, up to the solver's tolerance.
    np.testing.assert_allclose(fitted.kernel, reference.coef_.T, atol=0.02)
    np.testing.assert_allclose(fitted.bias, reference.intercept_, atol=0.02)


def test_one_sigmoid_output_gets_the_log_odds_and_an_absent_class_a_low_logit():
    X, y = _level_series()
    stats = sequence_statistics(X)
    binary = fit_linear_start(stats, (y > 0).astype(int), 1, regression=False)
    assert binary.kernel.shape == (stats.shape[1], 1)
    logits = (stats - binary.center) / binary.scale @ binary.kernel + binary.bias
    assert ((logits[:, 0] > 0) == (y > 0)).mean() > 0.85
    # Classes 0 and 2 only, of three outputs: class 1 is never predicted.
    kept = y != 1
    two = fit_linear_start(stats[kept], y[kept], 3, regression=False)
    logits = (stats - two.center) / two.scale @ two.kernel + two.bias
    assert (logits[:, 1] < logits.max(axis=1) - 10).all()
    assert fit_linear_start(stats, np.zeros(len(y), int), 3, regression=False) is None


def test_the_regression_start_is_a_ridge_regression():
    X, y = _level_series()
    stats = sequence_statistics(X)
    target = stats[:, 0] * 3.0 + np.random.RandomState(1).normal(scale=0.1, size=len(y))
    fitted = fit_linear_start(stats, target, 1, regression=True)
    scaled = (stats - stats.mean(axis=0)) / stats.std(axis=0)
    reference = Ridge(alpha=fitted.penalty).fit(scaled, target)
    np.testing.assert_allclose(fitted.kernel[:, 0], reference.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fitted.bias, [reference.intercept_], rtol=1e-6)


def test_statistics_of_several_inputs_are_side_by_side():
    a, b = np.zeros((5, 4, 2)), np.ones((5, 6, 1))
    stats = summary_statistics([a, b])
    np.testing.assert_array_equal(stats[:, :15], sequence_statistics(a))
    np.testing.assert_array_equal(stats[:, 15:], sequence_statistics(b))


# -- in the estimators --------------------------------------------------------------------
def test_the_classifier_starts_from_the_linear_model_of_its_training_rows():
    X, y = _level_series()
    clf = MultiInputKerasClassifier(**FROZEN_NETWORK).fit({"s": X}, y)
    assert clf.linear_start_["inputs"] == ["s"] and clf.linear_start_["rows"] == len(y)
    layer = _linear_layer(clf)
    fitted = fit_linear_start(sequence_statistics(X), y, 3, regression=False)
    np.testing.assert_allclose(np.asarray(layer.kernel), fitted.kernel, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(layer.bias), fitted.bias, rtol=1e-4, atol=1e-5)
    # On new rows the layer's logits are the linear model's.
    X_test, y_test = _level_series(seed=1)
    linear = (sequence_statistics(X_test) - fitted.center) / fitted.scale @ fitted.kernel
    logits = keras.Model(clf.model_.inputs, layer.output)({"s": X_test})
    np.testing.assert_allclose(np.asarray(logits), linear + fitted.bias, rtol=1e-3, atol=1e-3)
    assert clf.score({"s": X_test}, y_test) > 0.8


def test_without_the_linear_start_the_frozen_network_knows_nothing():
    X, y = _level_series()
    X_test, y_test = _level_series(seed=1)
    clf = MultiInputKerasClassifier(**{**FROZEN_NETWORK, "sequence_linear": False})
    clf.fit({"s": X}, y)
    assert not hasattr(clf, "linear_start_")
    assert not [layer for layer in clf.model_.layers if isinstance(layer, LinearLogits)]
    started = clone(clf).set_params(sequence_linear=True).fit({"s": X}, y)
    assert started.score({"s": X_test}, y_test) > clf.score({"s": X_test}, y_test) + 0.3


def test_a_single_array_input_gets_the_linear_start_too():
    X, y = _level_series()
    clf = MultiInputKerasClassifier(**FROZEN_NETWORK).fit(X, y)
    assert clf.linear_start_["inputs"] == ["input"]
    assert clf.score(*_level_series(seed=1)) > 0.8


def test_the_linear_start_is_fitted_without_the_early_stopping_rows():
    X, y = _level_series(n=120)
    clf = MultiInputKerasClassifier(**{**FROZEN_NETWORK, "early_stopping": True})
    clf.fit({"s": X}, y)
    assert clf.linear_start_["rows"] == 108  # 10% held out


def test_the_regressor_starts_from_a_ridge_regression_of_its_learnt_target():
    X, classes = _level_series()
    y = 100.0 + 10.0 * classes + np.random.RandomState(2).normal(size=len(classes))
    reg = MultiInputKerasRegressor(**FROZEN_NETWORK).fit({"s": X}, y)
    assert reg.linear_start_["inputs"] == ["s"]
    # The network learns the standardised target: so does its linear start.
    stats = sequence_statistics(X)
    fitted = fit_linear_start(stats, (y - y.mean()) / y.std(), 1, regression=True)
    assert reg.linear_start_["penalty"] == pytest.approx(fitted.penalty)
    layer = _linear_layer(reg)
    X_test, classes_test = _level_series(seed=1)
    logits = np.asarray(keras.Model(reg.model_.inputs, layer.output)({"s": X_test}))[:, 0]
    expected = (sequence_statistics(X_test) - fitted.center) / fitted.scale @ fitted.kernel
    np.testing.assert_allclose(logits, expected[:, 0] + fitted.bias[0], rtol=1e-3, atol=1e-3)
    predicted = y.mean() + y.std() * logits
    assert np.corrcoef(predicted, 100.0 + 10.0 * classes_test)[0, 1] > 0.8


def test_no_linear_start_for_several_labels_per_row():
    X, classes = _level_series()
    Y = np.column_stack([classes > 0, classes > 1]).astype(int)
    clf = MultiInputKerasClassifier(**FROZEN_NETWORK).fit({"s": X}, Y)
    assert not hasattr(clf, "linear_start_")
    assert not [layer for layer in clf.model_.layers if isinstance(layer, LinearLogits)]


def test_padding_changes_no_prediction_with_the_linear_start():
    series, y = ragged_series()
    short = SequencePadder(standardize=False).fit(series)
    long = SequencePadder(max_len=short.max_len_ + 9, standardize=False).fit(series)
    params = dict(sequence_units=4, sequence_linear=True, epochs=2, verbose=0, random_state=0)
    # Two fits on the same series padded to two lengths: the same model.
    a = MultiInputKerasClassifier(**params).fit({"s": short.transform(series)}, y)
    b = MultiInputKerasClassifier(**params).fit({"s": long.transform(series)}, y)
    assert a.linear_start_["penalty"] is not None
    np.testing.assert_allclose(
        np.asarray(_linear_layer(b).kernel), np.asarray(_linear_layer(a).kernel), atol=1e-5
    )
    proba = a.predict_proba({"s": short.transform(series)})
    np.testing.assert_allclose(b.predict_proba({"s": long.transform(series)}), proba, atol=1e-5)
    pre = SequencePadder(standardize=False, padding="pre").fit(series)
    np.testing.assert_allclose(a.predict_proba({"s": pre.transform(series)}), proba, atol=1e-5)


def test_the_linear_start_pickles_and_clones_with_identical_predictions():
    X, y = _level_series()
    clf = MultiInputKerasClassifier(
        sequence_units=4, sequence_linear=True, epochs=2, verbose=0, random_state=0
    )
    clf.fit({"s": X}, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba({"s": X}), clf.predict_proba({"s": X}))
    assert restored.linear_start_ == clf.linear_start_
    refit = clone(clf).fit({"s": X}, y)
    np.testing.assert_allclose(
        refit.predict_proba({"s": X}), clf.predict_proba({"s": X}), rtol=1e-5
    )


def test_auto_fits_the_linear_start_from_100_training_rows_only():
    params = {**FROZEN_NETWORK, "sequence_linear": "auto"}
    X, y = _level_series(n=90)
    small = MultiInputKerasClassifier(**params).fit({"s": X}, y)
    assert small.linear_start_ == {"inputs": ["s"], "penalty": None, "rows": 90}
    assert not np.asarray(_linear_layer(small).kernel).any()
    # The zero layer changes nothing: the same predictions as without it.
    without = MultiInputKerasClassifier(**{**params, "sequence_linear": False}).fit({"s": X}, y)
    np.testing.assert_allclose(
        small.predict_proba({"s": X}), without.predict_proba({"s": X}), rtol=1e-5, atol=1e-6
    )
    X, y = _level_series(n=120)
    large = MultiInputKerasClassifier(**params).fit({"s": X}, y)
    assert large.linear_start_["penalty"] is not None and large.linear_start_["rows"] == 120
    assert np.asarray(_linear_layer(large).kernel).any()


def test_sequence_linear_is_validated():
    X, y = _level_series(n=30)
    with pytest.raises(ValueError, match="sequence_linear"):
        MultiInputKerasClassifier(**{**FROZEN_NETWORK, "sequence_linear": "yes"}).fit({"s": X}, y)
