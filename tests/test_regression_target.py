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
    params = {"epochs": 30, "target_transform": "standard", **params}
    return MultiInputKerasRegressor(
        tabular_units=8, optimizer__learning_rate=0.01, random_state=0, **params
    )


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
    with pytest.raises(ValueError, match="target_transform must be None or one of"):
        _regressor(target_transform=transform).fit(X, y)
