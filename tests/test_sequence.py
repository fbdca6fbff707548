"""Tests for skmultimodal.sequence.TimeStepReshaper."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal.sequence import ArrayColumnStacker, TimeStepReshaper

X = np.arange(12, dtype=np.float64).reshape(2, 6)


def test_columns_grouped_by_time_step_exact_values():
    reshaper = TimeStepReshaper(timesteps=3).fit(X)
    assert reshaper.output_shape_ == (3, 2)
    assert reshaper.n_features_in_ == 6
    np.testing.assert_array_equal(
        reshaper.transform(X),
        [[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [10, 11]]],
    )


def test_default_is_one_step_with_all_features():
    out = TimeStepReshaper().fit_transform(X)
    assert out.shape == (2, 1, 6)
    np.testing.assert_array_equal(out[:, 0, :], X)


def test_output_is_a_new_float32_c_contiguous_array():
    X32 = np.asfortranarray(X.astype(np.float32))
    out = TimeStepReshaper(timesteps=2).fit_transform(X32)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous
    assert not np.shares_memory(out, X32)
    out[0, 0, 0] = -1.0
    assert X32[0, 0] == 0.0
    assert TimeStepReshaper().fit_transform(X.astype(np.int64)).dtype == np.float32


def test_features_not_divisible_by_timesteps_names_both():
    with pytest.raises(ValueError, match=r"5 features .*timesteps=2"):
        TimeStepReshaper(timesteps=2).fit(np.zeros((3, 5)))


def test_transform_checks_the_number_of_features():
    reshaper = TimeStepReshaper(timesteps=2).fit(X)
    with pytest.raises(ValueError, match="8 features"):
        reshaper.transform(np.zeros((2, 8)))


def test_dataframe_feature_names_are_recorded_and_checked():
    frame = pd.DataFrame(X, columns=["t0_a", "t0_b", "t1_a", "t1_b", "t2_a", "t2_b"])
    reshaper = TimeStepReshaper(timesteps=3).fit(frame)
    np.testing.assert_array_equal(reshaper.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="fitted with feature names"):
        from_array = reshaper.transform(X)
    np.testing.assert_array_equal(reshaper.transform(frame), from_array)
    with pytest.raises(ValueError, match="same order"):
        reshaper.transform(frame[frame.columns[::-1]])


def test_missing_values_and_strings_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        TimeStepReshaper().fit(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError):
        TimeStepReshaper().fit(np.array([["a", "b"]], dtype=object))


@pytest.mark.parametrize("timesteps", [0, -1, 1.5, "2"])
def test_invalid_timesteps_are_rejected_in_fit(timesteps):
    with pytest.raises(InvalidParameterError):
        TimeStepReshaper(timesteps=timesteps).fit(X)


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        TimeStepReshaper().transform(X)


def test_in_a_pipeline_after_a_scaler():
    pipeline = make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=2)).fit(X)
    out = pipeline.transform(X)
    assert out.shape == (2, 2, 3)
    np.testing.assert_allclose(out[:, 0, 0], [-1.0, 1.0])


def test_pickle_and_clone():
    reshaper = TimeStepReshaper(timesteps=3).fit(X)
    restored = pickle.loads(pickle.dumps(reshaper))
    np.testing.assert_array_equal(restored.transform(X), reshaper.transform(X))
    assert restored.output_shape_ == (3, 2)
    assert clone(reshaper).get_params() == {
        "timesteps": 3,
        "on_missing": "error",
        "standardize": False,
        "padding": "auto",
    }
    assert not hasattr(clone(reshaper), "output_shape_")


def test_no_feature_names_out_for_3d_output():
    reshaper = TimeStepReshaper().fit(X)
    assert not hasattr(reshaper, "get_feature_names_out")
    assert not hasattr(reshaper, "set_output")


@parametrize_with_checks([TimeStepReshaper()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@st.composite
def _arrays_and_timesteps(draw):
    timesteps = draw(st.integers(1, 5))
    shape = (draw(st.integers(1, 6)), timesteps * draw(st.integers(1, 5)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int32]))
    elements = st.integers(-1000, 1000) if dtype == np.int32 else st.floats(-1e6, 1e6, width=32)
    return draw(hnp.arrays(dtype, shape, elements=elements)), timesteps


@settings(max_examples=100, deadline=None)
@given(data=_arrays_and_timesteps())
def test_values_are_preserved_in_c_order(data):
    values, timesteps = data
    n, f = values.shape
    out = TimeStepReshaper(timesteps=timesteps, padding=None).fit_transform(values)
    assert out.shape == (n, timesteps, f // timesteps)
    assert out.dtype == np.float32
    step = np.arange(f) // (f // timesteps)
    feature = np.arange(f) % (f // timesteps)
    np.testing.assert_array_equal(out[:, step, feature], values.astype(np.float32))
    np.testing.assert_array_equal(out.reshape(n, f), values.astype(np.float32))
    # Found padding only hides whole trailing steps after the first; the rest is the input.
    auto = TimeStepReshaper(timesteps=timesteps).fit_transform(values)
    hidden = np.isnan(auto).all(axis=2)
    assert not (np.isnan(auto).any(axis=2) & ~hidden).any() and not hidden[:, 0].any()
    assert (np.cumprod(hidden[:, ::-1], axis=1)[:, ::-1] == hidden).all()
    np.testing.assert_array_equal(auto[~hidden], out[~hidden])


# ---------------------------------------------------------------------------------------
# Cells holding arrays


def test_time_step_reshaper_names_the_column_of_list_cells():
    X_lists = pd.DataFrame({"a": [1.0, 2.0], "series": [[1, 2, 3], [4, 5]]})
    message = r"column 'series' holds sequences: row 0 has 3 values \(lengths seen: \[2, 3\]\)"
    with pytest.raises(ValueError, match=message + r".*ArrayColumnStacker"):
        TimeStepReshaper().fit(X_lists)
    reshaper = TimeStepReshaper().fit(X_lists[["a"]].assign(b=0.0))
    with pytest.raises(ValueError, match="column 'b' holds sequences"):
        reshaper.transform(pd.DataFrame({"a": [1.0], "b": [np.zeros(2)]}))


def test_array_column_stacker_stacks_vectors_and_series():
    X_vec = pd.DataFrame({"emb": [np.array([0.5, 1.0]), [2, 3], (4.0, 5.0)]})
    stacker = ArrayColumnStacker().fit(X_vec)
    assert stacker.output_shape_ == (2,)
    assert stacker.feature_names_in_.tolist() == ["emb"]
    out = stacker.transform(X_vec)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.5, 1.0], [2, 3], [4, 5]])
    series = pd.Series([np.arange(6).reshape(3, 2), np.ones((3, 2))], name="raw")
    out = ArrayColumnStacker().fit_transform(series)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out[0], np.arange(6).reshape(3, 2))


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [[1, 2], [1, 2, 3]],
            r"different shapes: row 0 \(index 10\) has \(2,\), row 1 \(index 11\)",
        ),
        ([[1, 2], None], r"column 'emb', row 1 \(index 11\) is missing \(None\)"),
        ([[1, 2], np.nan], r"row 1 \(index 11\) is missing"),
        ([[1, 2], 3.0], r"row 1 \(index 11\) is not an array \(3.0\)"),
        ([[1, 2], ["a", "b"]], r"row 1 \(index 11\) is not a rectangular array of numbers"),
        ([[[1, 2], [3]], [[1, 2], [3, 4]]], r"inner lengths seen: \[1, 2\]"),
        ([[], []], r"array of shape \(0,\); expected a non-empty vector"),
    ],
)
def test_array_column_stacker_refuses_bad_cells(cells, message):
    X_bad = pd.DataFrame({"emb": pd.Series(cells, dtype=object, index=[10, 11])})
    with pytest.raises(ValueError, match=message):
        ArrayColumnStacker().fit(X_bad)


def test_array_column_stacker_transform_checks_the_fitted_shape():
    stacker = ArrayColumnStacker().fit(pd.DataFrame({"emb": [[1, 2], [3, 4]]}))
    with pytest.raises(ValueError, match=r"'emb', row 0 \(index 7\): array of shape \(3,\)"):
        stacker.transform(pd.DataFrame({"emb": [[1, 2, 3]]}, index=[7]))
    with pytest.raises(ValueError, match="expects exactly one column of arrays, got 2 columns"):
        stacker.transform(pd.DataFrame({"emb": [[1, 2]], "b": [[1, 2]]}))
    np.testing.assert_array_equal(stacker.transform([np.array([5, 6])]), [[5, 6]])
    assert clone(stacker).get_params() == {"on_missing": "error"}
