"""The regressor learns a standardised (or log) target and predicts in the user's units."""

import numpy as np
import pytest
from sklearn.metrics import r2_score

from skmultimodal.estimators import MultiInputKerasRegressor


def _data(n=200, seed=0):
    rng = np.random.RandomState(seed)
    X = {"a": rng.rand(n, 3).astype(np.float32), "b": rng.rand(n, 2).astype(np.float32)}
    y = 2.0 * X["a"][:, 0] - X["b"][:, 1] + 0.5 * X["a"][:, 2] + 3.0
    return X, y


def _regressor(**params):
    params = {"epochs": 30, **params}
    return MultiInputKerasRegressor(
        tabular_units=8, optimizer__learning_rate=0.01, random_state=0, **params
    )


def test_the_default_standardises_the_target():
    assert MultiInputKerasRegressor().target_transform == "standard"
    X, y = _data()
    reg = _regressor(epochs=1).fit(X, y * 1e6)
    np.testing.assert_allclose(reg.target_encoder_.mean_, [(y * 1e6).mean()])
    np.testing.assert_allclose(reg.target_encoder_.scale_, [(y * 1e6).std()])


def test_a_target_scaled_by_a_million_gives_the_same_predictions_times_a_million():
    X, y = _data()
    small = _regressor().fit(X, y).predict(X)
    large = _regressor().fit(X, y * 1e6).predict(X)
    np.testing.assert_allclose(large, small * 1e6, rtol=1e-4)
    # Predictions are in the user's units: R² on prices of ~3e6 is that on y.
    assert r2_score(y * 1e6, large) == pytest.approx(r2_score(y, small), abs=1e-4)
    assert r2_score(y * 1e6, large) > 0.8


def test_raw_targets_are_learnt_only_without_a_transform():
    X, y = _data()
    reg = _regressor(target_transform=None).fit(X, y * 1e6)
    # Raw MSE on targets of ~3e6: 30 epochs move the output nowhere near them.
    assert r2_score(y * 1e6, reg.predict(X)) < 0
    assert reg.target_encoder_.scale_.tolist() == [1.0]


def test_log_transform_for_positive_skewed_targets():
    X, y = _data()
    prices = np.exp(y)  # positive, skewed
    reg = _regressor(target_transform="log").fit(X, prices)
    predicted = reg.predict(X)
    assert (predicted > 0).all()
    assert r2_score(np.log(prices), np.log(predicted)) > 0.8
    np.testing.assert_allclose(reg.target_encoder_.mean_, [np.log(prices).mean()])
    with pytest.raises(ValueError, match=r"target_transform='log' needs positive targets.*-1\.0"):
        _regressor(target_transform="log").fit(X, np.r_[-1.0, prices[1:]])


def test_each_target_column_is_standardised_on_its_own():
    X, y = _data()
    Y = np.c_[y, 1000.0 * y + 5e4]
    reg = _regressor().fit(X, Y)
    np.testing.assert_allclose(reg.target_encoder_.mean_, Y.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(reg.target_encoder_.scale_, Y.std(axis=0), rtol=1e-5)
    predicted = reg.predict(X)
    assert predicted.shape == Y.shape
    assert min(r2_score(Y[:, j], predicted[:, j]) for j in range(2)) > 0.8


def test_a_constant_target_column_is_not_divided_by_zero():
    X, y = _data()
    reg = _regressor(epochs=2).fit(X, np.c_[y, np.full_like(y, 7.0)])
    assert reg.target_encoder_.scale_[1] == 1.0
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("transform", ["minmax", "Standard", 1])
def test_unknown_target_transform_is_refused_at_fit(transform):
    X, y = _data(20)
    with pytest.raises(ValueError, match="'target_transform' parameter of MultiInputKerasReg"):
        _regressor(target_transform=transform).fit(X, y)


def test_target_statistics_honour_sample_weight():
    X, y = _data()
    weights = np.where(np.arange(len(y)) < 50, 3.0, 1.0)
    reg = _regressor(epochs=1).fit(X, y, sample_weight=weights)
    mean = np.average(y, weights=weights)
    np.testing.assert_allclose(reg.target_encoder_.mean_, [mean])
    np.testing.assert_allclose(
        reg.target_encoder_.scale_, [np.sqrt(np.average((y - mean) ** 2, weights=weights))]
    )
    # Weighting equals repetition for the statistics.
    repeated = _regressor(epochs=1).fit(
        {k: np.r_[v, v[:50], v[:50]] for k, v in X.items()}, np.r_[y, y[:50], y[:50]]
    )
    np.testing.assert_allclose(reg.target_encoder_.mean_, repeated.target_encoder_.mean_)
    np.testing.assert_allclose(reg.target_encoder_.scale_, repeated.target_encoder_.scale_)


def test_log1p_transform_takes_counts_with_zeros():
    X, y = _data()
    counts = np.round(np.expm1(y - 3.0)).clip(0)
    assert (counts == 0).any()
    reg = _regressor(target_transform="log1p").fit(X, counts)
    np.testing.assert_allclose(reg.target_encoder_.mean_, [np.log1p(counts).mean()])
    assert (reg.predict(X) > -1).all()
    assert r2_score(np.log1p(counts), np.log1p(reg.predict(X))) > 0.7
    with pytest.raises(ValueError, match=r"'log1p' needs non-negative targets.*-2\.0"):
        _regressor(target_transform="log1p").fit(X, np.r_[-2.0, counts[1:]])


@pytest.mark.parametrize("scale", [1e30, 1e20])
def test_a_target_float32_training_cannot_take_is_refused_without_a_transform(scale):
    X, y = _data(40)
    with pytest.raises(ValueError, match=r"Target column 0 holds values up to .*float32"):
        _regressor(target_transform=None, epochs=1).fit(X, y * scale)
    # Standardised, the same target trains and predicts finite values in its own units.
    predicted = _regressor(epochs=1).fit(X, y * scale).predict(X)
    assert np.isfinite(predicted).all()
    assert np.abs(predicted).max() > scale
