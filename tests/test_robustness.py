"""Bad data through the whole pipeline: clear errors that name the culprit, no lost state."""

import pickle
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.compose import MultiInputTransformer
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.estimators import MultiInputKerasClassifier
from skmultimodal.image import ImageLoader
from skmultimodal.text import TextTokenizer

NUMERIC = ["t0", "t1", "t2"]
TINY = dict(
    image_filters=(4,),
    text_embedding_dim=4,
    text_units=4,
    tabular_units=4,
    epochs=2,
    batch_size=64,
    random_state=0,
)


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
def data(tmp_path_factory):
    return make_multimodal_classification(
        48, image_dir=tmp_path_factory.mktemp("images"), random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return make_pipe().fit(X, y)


def with_value(X, row, column, value):
    changed = X.copy()
    changed[column] = changed[column].astype(object)
    changed.iloc[row, changed.columns.get_loc(column)] = value
    return changed


def test_grid_search_with_error_score_nan_scores_the_other_candidates(data):
    X, y = data
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


def test_grid_search_default_error_score_raises_the_clear_error(data):
    X, y = data
    search = GridSearchCV(make_pipe(), {"clf__image_filters": [(4, 4, 4, 4)]}, cv=2)
    with pytest.raises(ValueError, match=r"Image input of shape \(16, 16, 3\) is too small"):
        search.fit(X, y)


def test_nan_in_a_numeric_column_names_the_dict_key_and_row(fitted, data):
    X, y = data
    bad = X.copy()
    # StandardScaler lets NaN through (it ignores NaN in fit), so the classifier reports it.
    bad.loc[5, "t1"] = np.nan
    message = r"Input 'num' contains NaN or infinity \(first at row 5\)"
    with pytest.raises(ValueError, match=message):
        fitted.predict(bad)
    with pytest.raises(ValueError, match=message):
        make_pipe().fit(bad, y)


def test_nan_target_through_the_pipeline_names_the_row(data):
    X, y = data
    # Row positions count, not index labels: shift the index to tell them apart.
    X = X.set_axis(X.index + 100)
    y_nan = pd.Series(y.astype(float), index=X.index)
    y_nan.iloc[7] = np.nan
    with pytest.raises(ValueError, match=r"y contains 1 missing value\(s\).*first at row 7"):
        make_pipe().fit(X, y_nan)


def test_missing_image_file_through_the_pipeline_names_path_and_row(fitted, data, tmp_path):
    X, y = data
    gone = str(tmp_path / "gone.png")
    bad = with_value(X, 3, "image", gone)
    with pytest.raises(FileNotFoundError, match=rf"row 3: image file not found: '{gone}'"):
        fitted.predict(bad)
    with pytest.raises(FileNotFoundError, match=r"row 3 \(index 103\): .*gone\.png"):
        fitted.predict(bad.set_axis(bad.index + 100))
    with pytest.raises(FileNotFoundError, match=r"row 3: .*gone\.png"):
        make_pipe().fit(bad, y)


def test_missing_image_with_opt_in_blank_image_trains_and_lists_the_path(data, tmp_path):
    X, y = data
    gone = str(tmp_path / "gone.png")
    pipe = make_pipe(on_error="zeros")
    with pytest.warns(UserWarning, match=r"1 of 48 images could not be loaded"):
        pipe.fit(with_value(X, 3, "image", gone), y)
    loader = pipe.named_steps["prep"].named_transformers_["image"]
    assert loader.failed_paths_ == [(3, gone)]
    assert pipe.predict_proba(X).shape == (48, 2)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_refit_keeps_the_pipeline_predicting_as_before(fitted, data, error):
    X, y = data
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
