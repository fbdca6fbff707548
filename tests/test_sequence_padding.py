"""Series of different lengths: SequencePadder, masked padding in every sequence cell, and
ragged array columns in the automatic pipeline."""

import numpy as np
import pandas as pd
import pytest
from _settings import ragged_series
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal import MultiInputKerasClassifier
from skmultimodal.sequence import SequencePadder

_ragged = ragged_series


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


# -- wide tables: one column per (step, feature) ------------------------------------------
@pytest.mark.parametrize(
    ("names", "timesteps", "n_features", "first"),
    [
        ([f"t{i}" for i in range(15)], 15, 1, ("t0", "t1")),
        ([f"x_{i}" for i in range(1, 31)], 30, 1, ("x_1", "x_2")),
        ([f"{f}_t{i}" for f in ("temp", "hum") for i in range(12)], 12, 2, ("hum_t0", "temp_t0")),
        ([f"t{i}_f{d}" for d in range(3) for i in range(20)], 20, 3, ("t0_f0", "t0_f1")),
        ([f"s{d}_step{i}" for i in range(40) for d in range(2)], 40, 2, ("s0_step0", "s1_step0")),
    ],
)
def test_time_grids_are_read_from_column_names(names, timesteps, n_features, first):
    from skmultimodal.auto import time_grids

    (grid,) = time_grids(["id", "price", *names])
    assert (grid.timesteps, len(grid.features)) == (timesteps, n_features)
    assert grid.columns[:2] == first and sorted(grid.columns) == sorted(names)


@pytest.mark.parametrize(
    "names",
    [
        [f"q{i}" for i in range(1, 11)],  # ten answers: too few steps for a series
        [f"t{i}" for i in range(20) if i != 7],  # a step missing
        ["t1", "t01", *[f"t{i}" for i in range(2, 20)]],  # step 1 written twice
        [f"t{i}_f{d}" for i in range(20) for d in range(2) if (i, d) != (3, 1)],  # a hole
    ],
    ids=["short", "gap", "duplicate", "hole"],
)
def test_columns_that_only_look_like_steps_are_not_a_grid(names):
    from skmultimodal.auto import time_grids

    assert time_grids(names) == []


def _wide(n=90, steps=16, seed=0):
    series, y = _ragged(n, seed=seed, low=steps, high=steps)
    X = pd.DataFrame(
        {f"t{t}_f{f}": [s[t, f] * 50 + 7 for s in series] for t in range(steps) for f in range(2)}
    )
    return X.assign(price=np.linspace(0, 1, n)), y


def test_a_wide_table_gets_one_standardised_sequence_input():
    from skmultimodal.auto import describe_roles, detect_column_roles, make_multimodal_pipeline
    from skmultimodal.sequence import TimeStepReshaper

    X, y = _wide()
    roles = detect_column_roles(X)
    assert roles["t3_f1"] == "sequence" and roles["price"] == "numeric"
    assert "a time grid of 16 steps x 2 features (t0_f0 .. t15_f1)" in roles.reasons["t3_f1"]
    pipe = make_multimodal_pipeline(X, y, random_state=0, model_params={"epochs": 6})
    steps = pipe["prep"].transformers
    assert [name for name, _, _ in steps] == ["sequence", "sequence_scores", "numeric"]
    name, reshaper, columns = steps[0]
    assert isinstance(reshaper, TimeStepReshaper) and reshaper.timesteps == 16
    assert columns[:3] == ["t0_f0", "t0_f1", "t1_f0"]
    inputs = pipe["prep"].fit_transform(X, y)
    assert inputs[name].shape == (90, 16, 2)
    # One statistic per feature over every step: the series keep their shape.
    np.testing.assert_allclose(inputs[name].reshape(-1, 2).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(inputs[name].reshape(-1, 2).std(axis=0), 1, atol=1e-4)
    assert pipe.fit(X, y).score(X, y) > 0.7
    assert describe_roles(pipe)["t15_f1"] == "sequence"
    # Role "numeric" keeps them numbers.
    numbers = {c: "numeric" for c in X.columns}
    kept = make_multimodal_pipeline(X, y, roles=numbers)["prep"].transformers
    assert [name for name, _, _ in kept] == ["numeric"]


def test_a_grid_with_gaps_inside_its_steps_stays_numbers_and_says_why():
    from skmultimodal.auto import detect_column_roles

    X, _ = _wide()
    X.loc[4, "t2_f0"] = np.nan
    roles = detect_column_roles(X)
    assert roles["t3_f1"] == "numeric"
    assert (
        "left numbers: row 4 misses some but not all features of time step 2"
        in (roles.reasons["t3_f1"])
    )
    X, _ = _wide()
    X.loc[7, [c for c in X.columns if c != "price"]] = np.nan
    assert "row 7 has no value in the grid" in detect_column_roles(X).reasons["t0_f0"]
    # Whole padding steps are series of different lengths: still one series.
    X, _ = _wide()
    X.loc[3, ["t15_f0", "t15_f1"]] = np.nan
    assert detect_column_roles(X)["t15_f0"] == "sequence"


def test_sequence_forced_on_columns_without_a_grid_is_refused():
    from skmultimodal.auto import make_multimodal_pipeline

    X, y = _wide()
    with pytest.raises(ValueError, match=r"\['price'\] have the role 'sequence'.*time grid"):
        make_multimodal_pipeline(X, y, roles={"price": "sequence"})


# -- padding in a wide table (TimeStepReshaper(padding="auto")) -----------------------------
def _zero_padded_wide(n=60, timesteps=10, features=2, seed=0):
    """Series of 3..timesteps steps, zero-padded at the end, one column per (step, feature)."""
    rng = np.random.RandomState(seed)
    series = rng.normal(size=(n, timesteps, features)).astype("float32") + 1.0
    lengths = rng.randint(3, timesteps + 1, n)
    for row, length in enumerate(lengths):
        series[row, length:] = 0.0
    return series.reshape(n, -1), lengths


def _real_steps(out):
    return (~np.isnan(out).all(axis=2)).sum(axis=1)


def test_zero_padding_is_found_behind_a_standard_scaler():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal.sequence import TimeStepReshaper

    wide, lengths = _zero_padded_wide()
    pipe = make_pipeline(StandardScaler(), TimeStepReshaper(10)).fit(wide)
    reshaper = pipe[-1]
    assert reshaper.padded_rows_ == int((lengths < 10).sum())
    assert reshaper.pad_values_.shape == (10, 2)
    out = pipe.transform(wide)
    np.testing.assert_array_equal(_real_steps(out), lengths)
    # The real steps are the scaler's values, untouched.
    scaled = pipe[0].transform(wide).reshape(60, 10, 2)
    real = ~np.isnan(out)
    np.testing.assert_allclose(out[real], scaled[real], rtol=1e-6)
    # New rows are read with the padding values found at fit.
    np.testing.assert_array_equal(_real_steps(pipe.transform(wide[7:9])), lengths[7:9])
    # padding=None keeps every step as data.
    kept = make_pipeline(StandardScaler(), TimeStepReshaper(10, padding=None)).fit_transform(wide)
    assert not np.isnan(kept).any()


def test_standardize_leaves_the_padding_out_of_its_statistics():
    from skmultimodal.sequence import TimeStepReshaper

    wide, lengths = _zero_padded_wide()
    reshaper = TimeStepReshaper(10, standardize=True).fit(wide)
    real = np.concatenate(
        [wide.reshape(60, 10, 2)[row, :length] for row, length in enumerate(lengths)]
    )
    np.testing.assert_allclose(reshaper.mean_, real.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(reshaper.scale_, real.std(axis=0), rtol=1e-5)


def test_nan_padding_is_read_and_a_stray_nan_names_its_row_and_step():
    from skmultimodal.sequence import TimeStepReshaper

    wide, lengths = _zero_padded_wide()
    wide[wide == 0.0] = np.nan
    reshaper = TimeStepReshaper(10)
    np.testing.assert_array_equal(_real_steps(reshaper.fit_transform(wide)), lengths)
    assert reshaper.pad_values_ is None
    wide[4, 2] = np.nan  # step 1, feature 0 of row 4: inside the series
    with pytest.raises(ValueError, match=r"row 4 has a missing value \(NaN\) at time step 1"):
        TimeStepReshaper(10).fit(wide)
    with pytest.raises(ValueError, match="NaN"):
        TimeStepReshaper(10, padding=None).fit(np.where(np.isnan(wide), np.nan, 0.0))


def test_series_without_padding_and_duplicated_rows_are_all_data():
    from skmultimodal.sequence import TimeStepReshaper

    rng = np.random.RandomState(1)
    wide = rng.normal(size=(50, 20))
    wide[1] = wide[2] = wide[0]  # three equal rows: equal values in every column
    reshaper = TimeStepReshaper(10).fit(wide)
    assert reshaper.pad_values_ is None and reshaper.padded_rows_ == 0
    assert not np.isnan(reshaper.transform(wide)).any()


def test_a_zero_padded_wide_table_predicts_as_its_unpadded_series():
    """The same series padded to 10 or to 14 steps: the same probabilities."""
    from sklearn.preprocessing import StandardScaler

    from skmultimodal.sequence import TimeStepReshaper

    wide, lengths = _zero_padded_wide(n=80)
    y = (wide.reshape(80, 10, 2)[:, 0, 0] > 1.0).astype(int)
    scaled = StandardScaler().fit_transform(wide)
    short = TimeStepReshaper(10).fit_transform(scaled)
    # Four more steps of the first step's padding values: found as padding too.
    pad = TimeStepReshaper(10).fit(scaled).pad_values_
    longer = np.hstack([scaled, np.tile(pad[-1], 4)[None].repeat(80, axis=0)])
    long = TimeStepReshaper(14).fit_transform(longer)
    np.testing.assert_array_equal(_real_steps(long), lengths)
    params = dict(sequence_units=6, epochs=2, verbose=0, random_state=0)
    a = MultiInputKerasClassifier(**params).fit({"s": short}, y)
    b = MultiInputKerasClassifier(**params).fit({"s": long}, y)
    proba = a.predict_proba({"s": short})
    np.testing.assert_allclose(b.predict_proba({"s": long}), proba, atol=1e-5)
    assert np.ptp(proba[:, 1]) > 0  # the model reads the series
