"""Bad data through the whole pipeline: clear errors that name the culprit, no lost state."""

import pickle
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from _settings import TINY, UNITS
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.compose import MultiInputTransformer
from skmultimodal.estimators import MultiInputKerasClassifier
from skmultimodal.image import ImageLoader
from skmultimodal.text import TextTokenizer

NUMERIC = ["t0", "t1", "t2"]


def make_pipe(**loader_params):
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=(16, 16), **loader_params), "image"),
            ("text", TextTokenizer(), "text"),
            ("num", StandardScaler(), NUMERIC),
        ]
    )
    return Pipeline([("prep", prep), ("clf", MultiInputKerasClassifier(**TINY))])


@pytest.fixture(scope="module")
def fitted(small_data):
    X, y = small_data
    return make_pipe().fit(X, y)


def with_value(X, row, column, value):
    changed = X.copy()
    changed[column] = changed[column].astype(object)
    changed.iloc[row, changed.columns.get_loc(column)] = value
    return changed


def test_grid_search_with_error_score_nan_scores_the_other_candidates(small_data):
    X, y = small_data
    grid = [
        # 16x16 images cannot go through four Conv2D(3) + MaxPool(2) blocks.
        {"clf__image_filters": [(4,), (4, 4, 4, 4)]},
        {"prep__text__max_len": [0]},
    ]
    search = GridSearchCV(make_pipe(), grid, cv=StratifiedKFold(2), error_score=np.nan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert list(search.cv_results_["params"]) == [
        {"clf__image_filters": (4,)},
        {"clf__image_filters": (4, 4, 4, 4)},
        {"prep__text__max_len": 0},
    ]
    assert np.isfinite(scores[0]) and np.isnan(scores[1:]).all()
    assert search.best_params_ == {"clf__image_filters": (4,)}
    assert search.predict_proba(X.head(2)).shape == (2, 2)
    messages = " ".join(str(w.message) for w in caught if w.category is FitFailedWarning)
    assert "too small for 4 convolution blocks" in messages
    assert "'max_len' parameter of TextTokenizer must be an int in the range [1, inf)" in messages


def test_grid_search_default_error_score_raises_the_clear_error(small_data):
    X, y = small_data
    search = GridSearchCV(make_pipe(), {"clf__image_filters": [(4, 4, 4, 4)]}, cv=2)
    with pytest.raises(ValueError, match=r"Image input of shape \(16, 16, 3\) is too small"):
        search.fit(X, y)


def test_nan_in_a_numeric_column_names_the_dict_key_and_row(fitted, small_data):
    X, y = small_data
    bad = X.copy()
    # StandardScaler lets NaN through (it ignores NaN in fit), so the classifier reports it.
    bad.loc[5, "t1"] = np.nan
    message = r"Input 'num' contains NaN or infinity \(first at row 5\)"
    with pytest.raises(ValueError, match=message):
        fitted.predict(bad)
    with pytest.raises(ValueError, match=message):
        make_pipe().fit(bad, y)


def test_nan_target_through_the_pipeline_names_the_row(small_data):
    X, y = small_data
    # Row positions count, not index labels: shift the index to tell them apart.
    X = X.set_axis(X.index + 100)
    y_nan = pd.Series(y.astype(float), index=X.index)
    y_nan.iloc[7] = np.nan
    with pytest.raises(ValueError, match=r"y contains 1 missing value\(s\).*first at row 7"):
        make_pipe().fit(X, y_nan)


def test_missing_image_file_through_the_pipeline_names_path_and_row(fitted, small_data, tmp_path):
    X, y = small_data
    gone = str(tmp_path / "gone.png")
    bad = with_value(X, 3, "image", gone)
    with pytest.raises(FileNotFoundError, match=rf"row 3: image file not found: '{gone}'"):
        fitted.predict(bad)
    with pytest.raises(FileNotFoundError, match=r"row 3 \(index 103\): .*gone\.png"):
        fitted.predict(bad.set_axis(bad.index + 100))
    with pytest.raises(FileNotFoundError, match=r"row 3: .*gone\.png"):
        make_pipe().fit(bad, y)


def test_missing_image_with_opt_in_blank_image_trains_and_lists_the_path(small_data, tmp_path):
    X, y = small_data
    gone = str(tmp_path / "gone.png")
    pipe = make_pipe(on_error="zeros")
    with pytest.warns(UserWarning, match=r"1 of 48 images could not be loaded") as caught:
        pipe.fit(with_value(X, 3, "image", gone), y)
    assert [w.message.failed_paths for w in caught] == [[(3, gone)]]
    assert pipe.predict_proba(X).shape == (48, 2)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_refit_keeps_the_pipeline_predicting_as_before(fitted, small_data, error):
    X, y = small_data
    pipe = pickle.loads(pickle.dumps(fitted))  # a fitted pipeline of its own to refit
    model = pipe.named_steps["clf"].model_
    before = pipe.predict_proba(X)

    class FailMidFit(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise error("stop")

    with pytest.raises(error):
        pipe.fit(X, y, clf__callbacks=[FailMidFit()])
    assert pipe.named_steps["clf"].model_ is model
    np.testing.assert_array_equal(pipe.predict_proba(X), before)


# -- dict inputs the model would silently corrupt (issue #14) ------------------------------
# UNITS, one epoch, the default batch size (no image input here).
DICT_MODEL = {**UNITS, "epochs": 1, "random_state": 0}


def small_dict(n=24, seed=0):
    rng = np.random.RandomState(seed)
    X = {"tok": rng.randint(0, 5, size=(n, 3)), "num": rng.rand(n, 3)}
    return X, (X["num"][:, 0] > 0.5).astype(int)


@pytest.fixture(scope="module")
def fitted_dict():
    X, y = small_dict()
    return MultiInputKerasClassifier(**DICT_MODEL).fit(X, y), X, y


@pytest.mark.parametrize("largest", [10**9, 2**40])
def test_huge_token_ids_are_refused_before_building_the_embedding(largest):
    from skmultimodal.estimators import MAX_VOCABULARY_SIZE

    X, y = small_dict()
    X["tok"] = np.full((24, 3), largest)
    message = (
        rf"Input 'tok' is taken as token ids, but its largest id is {largest}.*"
        rf"MAX_VOCABULARY_SIZE = {MAX_VOCABULARY_SIZE:,}.*input_kinds=\{{'tok': 'tabular'\}}"
        ".*TextTokenizer"
    )
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(**DICT_MODEL).fit(X, y)


def test_year_column_passes_as_tabular_when_told():
    X, y = small_dict()
    X["year"] = np.full((24, 1), 2024) + np.arange(24).reshape(-1, 1)
    clf = MultiInputKerasClassifier(input_kinds={"year": "tabular"}, **DICT_MODEL).fit(X, y)
    assert clf.input_kinds_["year"] == "tabular"


def test_negative_and_fractional_token_ids_are_refused():
    X, y = small_dict()
    with pytest.raises(ValueError, match=r"'tok' holds negative token ids \(smallest -2\)"):
        MultiInputKerasClassifier(**DICT_MODEL).fit({**X, "tok": X["tok"] - 2}, y)
    fractional = X["tok"] + 0.5
    with pytest.raises(ValueError, match=r"'tok' .* non-integer values \(first at row 0\)"):
        MultiInputKerasClassifier(input_kinds={"tok": "tokens"}, **DICT_MODEL).fit(
            {**X, "tok": fractional}, y
        )


def test_token_ids_that_wrap_in_int32_are_refused_at_predict(fitted_dict):
    clf, X, _ = fitted_dict
    # 2**32 + 1 becomes 1 in an int32 cast, a valid id: the check must come before it.
    wrapped = {**X, "tok": np.full_like(X["tok"], 2**32 + 1, dtype=np.int64)}
    with pytest.raises(ValueError, match=r"'tok' holds token ids in \[4294967297, 4294967297\]"):
        clf.predict(wrapped)


def test_values_overflowing_float32_are_refused_at_fit_and_predict(fitted_dict):
    clf, X, y = fitted_dict
    huge = X["num"].copy()
    huge[3, 1] = 1e39
    message = r"'num' holds values too large for float32 \(first at row 3, largest magnitude 1e\+39"
    with pytest.raises(ValueError, match=message):
        clf.predict({**X, "num": huge})
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(**DICT_MODEL).fit({**X, "num": huge}, y)
    with pytest.raises(ValueError, match=r"too large for float32 \(first at row 3"):
        MultiInputKerasClassifier(**DICT_MODEL).fit(huge, y)


def test_nullable_pandas_frames_are_converted(fitted_dict):
    clf, X, y = fitted_dict
    frame = pd.DataFrame(X["num"], columns=["a", "b", "c"]).astype({"a": "Float64"})
    frame["c"] = pd.array((X["num"][:, 2] > 0.5).astype(int), dtype="Int64")
    expected = clf.predict_proba({**X, "num": frame.to_numpy(dtype=np.float64)})
    np.testing.assert_array_equal(clf.predict_proba({**X, "num": frame}), expected)
    flags = pd.DataFrame({"f": pd.array(X["num"][:, 0] > 0.5, dtype="boolean")})
    fitted = MultiInputKerasClassifier(**DICT_MODEL).fit({**X, "num": flags}, y)
    assert fitted.input_kinds_["num"] == "tabular"


def test_missing_value_in_a_nullable_frame_names_key_row_and_column(fitted_dict):
    clf, X, _ = fitted_dict
    frame = pd.DataFrame(X["num"], columns=["a", "b", "c"]).astype("Float64")
    frame.loc[4, "b"] = pd.NA
    with pytest.raises(ValueError, match=r"'num' contains missing values.*row 4, column 'b'"):
        clf.predict({**X, "num": frame})


@pytest.mark.parametrize(
    "weight, message",
    [
        (-1.0, r"1 negative weight\(s\), first at row 5 \(-1\.0\)"),
        (np.nan, r"1 NaN or infinite weight\(s\), first at row 5 \(nan\)"),
        (np.inf, r"1 NaN or infinite weight\(s\), first at row 5 \(inf\)"),
    ],
)
def test_negative_and_non_finite_sample_weights_are_refused(weight, message):
    X, y = small_dict()
    sample_weight = np.ones(len(y))
    sample_weight[5] = weight
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(**DICT_MODEL).fit(X, y, sample_weight=sample_weight)


def test_sample_weights_summing_to_zero_are_refused():
    X, y = small_dict()
    # Not all zero, but summing to zero: dividing by the sum made a NaN model.
    sample_weight = np.where(np.arange(len(y)) % 2 == 0, 1.0, -1.0)
    with pytest.raises(ValueError, match="negative weight"):
        MultiInputKerasClassifier(**DICT_MODEL).fit(X, y, sample_weight=sample_weight)
    with pytest.raises(ValueError, match="at least one non-zero"):
        MultiInputKerasClassifier(**DICT_MODEL).fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize("scale", [1e38, 1e300, 1e-320])
def test_huge_and_tiny_uniform_weights_train_like_unit_weights(scale):
    X, y = small_dict()
    unit = MultiInputKerasClassifier(**DICT_MODEL).fit(X, y, sample_weight=np.ones(len(y)))
    scaled = MultiInputKerasClassifier(**DICT_MODEL).fit(X, y, sample_weight=np.full(len(y), scale))
    np.testing.assert_array_equal(scaled.predict_proba(X), unit.predict_proba(X))
    assert np.isfinite(scaled.history_["loss"]).all()


def test_classifier_refuses_continuous_y_naming_the_row():
    X, y = small_dict()
    y_float = y.astype(float)
    y_float[4] = 0.25
    message = r"Unknown label type: y holds continuous values \(first at row 4: 0\.25\).*Regressor"
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(**DICT_MODEL).fit(X, y_float)


def test_partial_fit_refuses_labels_outside_classes():
    X, y = small_dict()
    clf = MultiInputKerasClassifier(**DICT_MODEL)
    with pytest.raises(ValueError, match=r"label\(s\) \[5\] that are not in the classes passed"):
        clf.partial_fit(X, np.where(np.arange(len(y)) == 3, 5, y), classes=[0, 1])
    assert not hasattr(clf, "model_")
    clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(
        ValueError, match=r"\[7\] that are not in the classifier's classes_ \[0, 1, 2\]"
    ):
        clf.partial_fit(X, np.where(np.arange(len(y)) == 3, 7, y))
    assert clf.classes_.tolist() == [0, 1, 2]
