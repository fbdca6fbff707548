"""Series of different lengths: SequencePadder, masked padding in every sequence cell, and
ragged array columns in the automatic pipeline."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal import MultiInputKerasClassifier
from skmultimodal.sequence import SequencePadder


def _ragged(n=60, seed=0, features=2, low=4, high=12):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    series = [
        rng.normal(loc=0.8 * label - 0.4, size=(length, features))
        for label, length in zip(y, rng.integers(low, high + 1, n), strict=True)
    ]
    return series, y


# -- SequencePadder ----------------------------------------------------------------------
def test_pads_with_nan_after_standardising_the_real_steps():
    series = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[5.0, 50.0]])]
    padder = SequencePadder().fit(series)
    np.testing.assert_allclose(padder.mean_, [3.0, 30.0])
    np.testing.assert_allclose(padder.scale_, np.std([1.0, 3.0, 5.0]) * np.array([1, 10]))
    out = padder.transform(series)
    assert out.shape == (2, 2, 2) and out.dtype == np.float32
    assert np.isnan(out[1, 1]).all() and not np.isnan(out[0]).any()
    np.testing.assert_allclose(out[1, 0], [2.0 / np.std([1, 3, 5])] * 2, rtol=1e-6)
    assert padder.lengths_ == (1, 2) and padder.output_shape_ == (2, 2)


def test_univariate_cells_are_one_feature_and_longer_series_are_cut():
    padder = SequencePadder(standardize=False).fit([[1, 2, 3], [4, 5]])
    assert padder.output_shape_ == (3, 1)
    out = padder.transform(pd.Series([[1, 2, 3, 4, 5], [9]]))[:, :, 0]
    np.testing.assert_array_equal(out[0], [3, 4, 5])  # truncating="pre": the last steps
    np.testing.assert_array_equal(out[1, :1], [9])
    kept_first = SequencePadder(standardize=False, truncating="post", padding="pre")
    out = kept_first.fit([[1, 2, 3]]).transform([[1, 2, 3, 4], [7]])[:, :, 0]
    np.testing.assert_array_equal(out[0], [1, 2, 3])
    assert np.isnan(out[1, :2]).all() and out[1, 2] == 7


def test_a_series_of_other_features_names_its_row():
    padder = SequencePadder().fit([np.zeros((3, 2)), np.zeros((5, 2))])
    frame = pd.DataFrame({"s": [np.zeros((2, 2)), np.zeros((2, 3))]}, index=["a", "b"])
    with pytest.raises(
        ValueError, match=r"column 's', row 1 \(index 'b'\): a series of 3 features"
    ):
        padder.transform(frame)
    with pytest.raises(ValueError, match=r"row 1: a series of 1 features.*first series has 2"):
        SequencePadder().fit([np.zeros((3, 2)), np.zeros(4)])


def test_missing_series_are_refused_or_masked():
    cells = pd.Series([np.ones((2, 1)), None, np.zeros((3, 1))], name="s")
    with pytest.raises(ValueError, match="column 's', row 1 is missing"):
        SequencePadder().fit(cells)
    masked = SequencePadder(on_missing="mask").fit(cells).transform(cells)
    np.testing.assert_array_equal(masked.present, [True, False, True])
    assert (masked.values[1] == 0).all()


def test_clone_keeps_the_parameters():
    padder = SequencePadder(max_len=7, padding="pre", standardize=False)
    assert clone(padder).get_params() == padder.get_params()
    assert SequencePadder(max_len=7).fit([[1.0, 2.0]]).output_shape_ == (7, 1)


@parametrize_with_checks([SequencePadder()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# -- the model skips padding ---------------------------------------------------------------
CELLS = [("lstm", False), ("gru", True), ("conv", False)]


@pytest.mark.parametrize(("cell", "bidirectional"), CELLS)
def test_padding_never_changes_a_prediction(cell, bidirectional):
    series, y = _ragged()
    short = SequencePadder(standardize=False).fit(series)
    long = SequencePadder(max_len=short.max_len_ + 9, standardize=False).fit(series)
    params = dict(
        sequence_cell=cell,
        sequence_bidirectional=bidirectional,
        sequence_units=6,
        epochs=2,
        verbose=0,
        random_state=0,
    )
    # Two fits on the same series padded to two lengths train the same weights.
    a = MultiInputKerasClassifier(**params).fit({"s": short.transform(series)}, y)
    b = MultiInputKerasClassifier(**params).fit({"s": long.transform(series)}, y)
    proba = a.predict_proba({"s": short.transform(series)})
    np.testing.assert_allclose(b.predict_proba({"s": long.transform(series)}), proba, atol=1e-5)
    # Padding before or after the series: the same probabilities.
    pre = SequencePadder(standardize=False, padding="pre").fit(series)
    np.testing.assert_allclose(a.predict_proba({"s": pre.transform(series)}), proba, atol=1e-5)
    assert np.ptp(proba[:, 1]) > 0  # the model reads the series


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda x: x.__setitem__((3, 1, 0), np.nan),
            r"some but not all of its features at row 3, time step 1",
        ),
        (lambda x: x.__setitem__((4, 0, 1), np.inf), r"infinite value at row 4, time step 0"),
        (lambda x: x.__setitem__(5, np.nan), r"row 5 has no time step"),
    ],
    ids=["partial NaN step", "infinity", "all padding"],
)
def test_non_finite_values_other_than_padding_are_refused(damage, message):
    series, y = _ragged(20)
    X = SequencePadder().fit(series).transform(series)
    damage(X)
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(epochs=1, verbose=0).fit({"s": X}, y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sequence_cell": "transformer"}, "sequence_cell"),
        ({"sequence_cell": "conv", "sequence_bidirectional": True}, "sequence_bidirectional"),
    ],
)
def test_bad_sequence_cells_are_refused_at_fit(params, message):
    series, y = _ragged(10)
    X = SequencePadder().fit(series).transform(series)
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(epochs=1, verbose=0, **params).fit({"s": X}, y)


# -- the automatic pipeline ------------------------------------------------------------------
def test_a_ragged_array_column_becomes_a_masked_sequence_input():
    from skmultimodal.auto import detect_column_roles, make_multimodal_pipeline

    series, y = _ragged(80, high=20)
    X = pd.DataFrame({"sensor": series, "price": np.arange(80.0)})
    roles = detect_column_roles(X)
    assert roles["sensor"] == "sequence"
    assert "series of 4 to 20 time steps of 2 features" in repr(roles)
    pipe = make_multimodal_pipeline(X, y, random_state=0, model_params={"epochs": 8})
    assert isinstance(pipe["prep"].transformers[0][1], SequencePadder)
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.7
    # A longer series at predict is cut to the fitted length, not refused.
    longer = X.iloc[:2].copy()
    longer["sensor"] = [np.zeros((40, 2)), np.ones((3, 2))]
    assert pipe.predict_proba(longer).shape == (2, 2)


def test_a_pipeline_with_series_saves_and_loads(tmp_path):
    from skmultimodal import persistence
    from skmultimodal.auto import make_multimodal_pipeline

    series, y = _ragged(30)
    X = pd.DataFrame({"sensor": series})
    pipe = make_multimodal_pipeline(X, y, random_state=0, model_params={"epochs": 1})
    pipe.fit(X, y)
    persistence.save(pipe, tmp_path / "model.skops")
    restored = persistence.load(tmp_path / "model.skops")
    np.testing.assert_allclose(restored.predict_proba(X), pipe.predict_proba(X), atol=1e-6)


def test_one_dimensional_series_of_different_lengths_are_a_sequence():
    from skmultimodal.auto import detect_column_roles

    X = pd.DataFrame({"curve": [[1.0, 2.0], [1.0, 2.0, 3.0]], "same": [[1, 2], [3, 4]]})
    roles = detect_column_roles(X)
    assert (roles["curve"], roles["same"]) == ("sequence", "vector")
    mixed = pd.DataFrame({"s": [np.zeros((3, 2)), np.zeros((3, 4))]})
    with pytest.raises(ValueError, match="Column 's' holds arrays of different shapes"):
        detect_column_roles(mixed)
