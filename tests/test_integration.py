"""End to end: raw DataFrame -> MultiInputTransformer -> MultiInputKerasClassifier."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultimodal import (
    ImageLoader,
    MultiInputKerasClassifier,
    MultiInputTransformer,
    TextTokenizer,
    TimeStepReshaper,
)

SERIES_COLUMNS = [f"t{i}" for i in range(8)]

STEPS = {
    "image": ("image", ImageLoader(target_size=(16, 16)), "image"),
    "text": ("text", TextTokenizer(), "text"),
    "series": (
        "series",
        make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=8)),
        SERIES_COLUMNS,
    ),
    "meta": ("meta", OneHotEncoder(sparse_output=False), ["category"]),
}


def make_pipe(modalities=("image", "text", "series", "meta"), epochs=15):
    clf = MultiInputKerasClassifier(
        image_filters=(8, 16),
        text_embedding_dim=8,
        text_units=8,
        sequence_units=8,
        tabular_units=4,
        head_units=(16,),
        epochs=epochs,
        random_state=0,
    )
    prep = MultiInputTransformer([STEPS[name] for name in modalities])
    return Pipeline([("prep", prep), ("clf", clf)])


@pytest.fixture(scope="module")
def split(multimodal_data):
    X, y = multimodal_data
    return X.iloc[:200], X.iloc[200:], y[:200], y[200:]


@pytest.fixture(scope="module")
def fused(split):
    X_train, _, y_train, _ = split
    return make_pipe().fit(X_train, y_train)


def test_dict_reaches_the_model_with_expected_dtypes(fused, split):
    X_train = split[0]
    inputs = fused.named_steps["prep"].transform(X_train.head(3))
    assert list(inputs) == ["image", "text", "series", "meta"]
    assert inputs["image"].dtype == np.uint8 and inputs["image"].shape == (3, 16, 16, 3)
    assert inputs["text"].dtype == np.int32
    assert inputs["series"].shape == (3, 8, 1) and inputs["series"].dtype == np.float32
    assert fused.named_steps["clf"].input_kinds_ == {
        "image": "image",
        "text": "tokens",
        "series": "sequence",
        "meta": "tabular",
    }
    vocabulary = fused.named_steps["prep"].named_transformers_["text"].vocabulary_size_
    assert fused.named_steps["clf"].vocabulary_sizes_ == {"text": vocabulary}


def test_fused_beats_text_only_by_a_clear_margin(fused, split):
    X_train, X_test, y_train, y_test = split
    fused_accuracy = fused.score(X_test, y_test)
    text_accuracy = make_pipe(["text"]).fit(X_train, y_train).score(X_test, y_test)
    assert fused_accuracy >= text_accuracy + 0.1, (fused_accuracy, text_accuracy)


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), (None, None)])
def test_round_trip_gives_identical_probabilities(fused, split, tmp_path, dumps, loads):
    X_test = split[1]
    if dumps is None:
        joblib.dump(fused, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = loads(dumps(fused))
    np.testing.assert_array_equal(restored.predict_proba(X_test), fused.predict_proba(X_test))


def test_clone_is_unfitted_with_same_params(fused):
    cloned = clone(fused)
    assert cloned.get_params()["clf__head_units"] == (16,)
    assert not hasattr(cloned.named_steps["clf"], "model_")


def test_cross_val_score_and_grid_search_on_the_raw_dataframe(multimodal_data):
    X, y = multimodal_data
    X, y = X.iloc[:120], y[:120]
    folds = StratifiedKFold(2, shuffle=True, random_state=0)
    # Two inputs, not the slow LSTM branch (the quickstart test cross-validates all four).
    scores = cross_val_score(make_pipe(["text", "meta"], epochs=3), X, y, cv=folds)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    # The grid is over the text step and the head: a meta input would only slow it down.
    search = GridSearchCV(
        make_pipe(["text"], epochs=2),
        {"prep__text__max_words": [5, None], "clf__head_units": [(), (4,)]},
        cv=folds,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert not np.isnan(search.cv_results_["mean_test_score"]).any()
    best = search.best_estimator_
    assert best.named_steps["prep"].named_transformers_["text"].max_words in (5, None)
    assert best.predict_proba(X.head(1)).shape == (1, 2)
