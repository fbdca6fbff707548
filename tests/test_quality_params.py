"""Estimator-level quality levers: text_cell, image_pooling, image_augmentation, dropout,
early_stopping, patience."""

import numpy as np
import pytest
from _settings import UNITS, text_image_numbers
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor

# UNITS with two tabular units, one batch; each test sets epochs and seed.
SMALL = {**UNITS, "tabular_units": 2, "batch_size": 64}


def _layer_names(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.fixture(scope="module")
def tiny_data():
    return text_image_numbers(60, n_words=12, text_length=6, n_numbers=2)


def without_image(X):
    """The text and numeric inputs: for the tests the image branch plays no part in, which
    fit faster without it."""
    return {key: array for key, array in X.items() if key != "image"}


@pytest.mark.parametrize("estimator", [MultiInputKerasClassifier, MultiInputKerasRegressor])
def test_new_parameters_and_their_defaults(estimator):
    params = estimator().get_params()
    assert params["text_cell"] == "conv"
    assert params["dropout"] == 0.5
    assert params["image_pooling"] == "flatten"
    assert params["image_augmentation"] == ()
    assert params["early_stopping"] == "auto"
    assert params["patience"] == 5
    assert params["min_epochs"] == "auto"


def test_text_cell_and_image_pooling_reach_the_model(tiny_data):
    X, y = tiny_data
    clf = MultiInputKerasClassifier(
        **SMALL, image_filters=(2,), text_cell="pool", image_pooling="avg", epochs=1
    )
    names = _layer_names(clf.initialize(X, y).model_)
    assert "MaskedGlobalAveragePooling1D" in names and "GlobalAveragePooling2D" in names
    assert "LSTM" not in names and "Flatten" not in names
    names = _layer_names(clf.set_params(text_cell="gru").initialize(X, y).model_)
    assert "GRU" in names


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(text_cell="rnn"), r"text_cell must be one of \('lstm', 'gru', 'pool', 'conv'\)"),
        (dict(image_pooling="mean"), "image_pooling must be one of"),
        (dict(image_augmentation=("blur",)), r"image_augmentation must be a sequence of names"),
        (dict(image_augmentation="flip"), r"got 'flip'"),
        (dict(text_cell="pool", text_bidirectional=True), "needs text_cell='lstm' or 'gru'"),
        (dict(early_stopping="yes"), "early_stopping must be True, False or 'auto'"),
        (dict(patience=0), "patience must be a positive integer"),
        (dict(min_epochs=-1), "min_epochs must be 'auto' or a non-negative integer"),
        (dict(min_epochs="half"), "min_epochs must be 'auto' or a non-negative integer"),
    ],
)
def test_invalid_quality_parameters_are_rejected_in_fit(tiny_data, params, message):
    X, y = tiny_data
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(**SMALL, epochs=1, **params).fit(X, y)


def test_image_augmentation_and_dropout_act_in_training_only(tiny_data):
    X, y = tiny_data
    clf = MultiInputKerasClassifier(
        **SMALL,
        image_filters=(2,),
        image_augmentation=("flip", "translate", "rotate", "zoom"),
        dropout=0.5,
        branch_norm=None,  # the Dropout then reads the flattened features directly
        epochs=1,
        random_state=0,
    ).fit(X, y)
    names = _layer_names(clf.model_)
    for layer in ("RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom"):
        assert layer in names
    # The image features go through Dropout after Flatten, at a rate scaled by their width.
    flatten = next(layer for layer in clf.model_.layers if type(layer).__name__ == "Flatten")
    image_dropout = [
        layer
        for layer in clf.model_.layers
        if type(layer).__name__ == "Dropout" and layer.input is flatten.output
    ]
    width = flatten.output.shape[-1]
    assert width < 128
    assert len(image_dropout) == 1 and image_dropout[0].rate == 0.5 * width / 128
    # Inference ignores augmentation and dropout; training mode applies them.
    inputs = {name: X[name] for name in clf.input_names_}
    inference = np.asarray(clf.model_(inputs, training=False))
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], inference[:, 0], atol=1e-6)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert not np.allclose(np.asarray(clf.model_(inputs, training=True)), inference)


def test_early_stopping_restores_the_best_epoch(tiny_data):
    X, y = tiny_data
    X = without_image(X)
    # Random labels: the validation loss soon stops improving.
    y_noise = np.random.RandomState(1).randint(0, 2, size=len(y))
    clf = MultiInputKerasClassifier(
        **SMALL,
        text_cell="pool",
        epochs=200,
        early_stopping=True,
        patience=2,
        min_epochs=0,
        validation_split=0.25,
        optimizer__learning_rate=0.05,
        random_state=0,
    ).fit(X, y_noise)
    val_loss = clf.history_["val_loss"]
    assert len(val_loss) < 200
    best = int(np.argmin(val_loss))
    # Patience 2: training ran exactly two epochs past the best one.
    assert len(val_loss) == best + 3
    # Keras' validation_split holds out the last 25% of the rows; the restored model's
    # loss on them is the best epoch's validation loss.
    held_out = {key: array[45:] for key, array in X.items()}
    loss = clf.model_.evaluate(held_out, y_noise[45:].reshape(-1, 1), verbose=0, return_dict=True)[
        "loss"
    ]
    np.testing.assert_allclose(loss, val_loss[best], rtol=1e-4)


@pytest.mark.parametrize("min_epochs, expected_epochs", [(8, 8), ("auto", 9)])
def test_early_stopping_ends_no_fit_before_min_epochs_and_restores_the_best(
    tiny_data, min_epochs, expected_epochs
):
    X, y = tiny_data
    X = without_image(X)
    # Random labels and a high learning rate: the validation loss is best in the first
    # epochs, so patience 1 alone would stop at once.
    y_noise = np.random.RandomState(1).randint(0, 2, size=len(y))
    clf = MultiInputKerasClassifier(
        **SMALL,
        text_cell="pool",
        epochs=12,
        early_stopping=True,
        patience=1,
        min_epochs=min_epochs,
        validation_split=0.25,
        optimizer__learning_rate=0.05,
        random_state=0,
    ).fit(X, y_noise)
    val_loss = clf.history_["val_loss"]
    best = int(np.argmin(val_loss))
    assert best < expected_epochs - 1  # the best epoch came before the minimum...
    assert len(val_loss) == expected_epochs  # ...and the fit went on up to it ("auto": 12 * 3 / 4)
    # The weights restored are the best epoch's, although it came before min_epochs.
    held_out = {key: array[45:] for key, array in X.items()}
    loss = clf.model_.evaluate(held_out, y_noise[45:].reshape(-1, 1), verbose=0, return_dict=True)[
        "loss"
    ]
    np.testing.assert_allclose(loss, val_loss[best], rtol=1e-4)


@pytest.mark.parametrize("n_rows, stops_early", [(499, False), (500, True)])
def test_early_stopping_auto_stops_early_from_500_training_rows(n_rows, stops_early):
    rng = np.random.RandomState(0)
    X = {"num": rng.rand(n_rows, 2).astype("float32")}
    y = (X["num"][:, 0] > 0.5).astype(int)
    clf = MultiInputKerasClassifier(tabular_units=2, epochs=1, batch_size=256, random_state=0)
    assert clf.early_stopping == "auto"
    history = clf.fit(X, y).history_
    assert ("val_loss" in history) is stops_early


def test_early_stopping_holds_out_a_reproducible_random_split(tiny_data):
    X, y = tiny_data
    X = without_image(X)
    clf = MultiInputKerasClassifier(
        **SMALL,
        text_cell="pool",
        epochs=3,
        early_stopping=True,
        random_state=0,
    )
    first = clf.fit(X, y)
    assert set(first.history_) >= {"loss", "val_loss"}
    proba = first.predict_proba(X)
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), proba)


def test_early_stopping_validation_is_drawn_from_training_rows(tiny_data):
    # The hold-out comes from rows sorted by label: Keras' tail split would hold out only
    # class 1, the stratified 10% holds out both classes (y has 28 zeros, 32 ones).
    X, y = tiny_data
    order = np.argsort(y, kind="stable")
    X_sorted = {key: array[order] for key, array in X.items()}
    y_sorted = y[order]
    seen = {}

    class Spy(MultiInputKerasClassifier):
        def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kw):
            train_X, train_y, _ = self._add_early_stopping(X, y, sample_weight, epochs, kw)
            seen["train"], seen["validation"] = (
                np.ravel(train_y),
                np.ravel(kw["validation_data"][1]),
            )
            self._fit_callbacks = []

    Spy(**SMALL, image_filters=(2,), epochs=1, early_stopping=True, random_state=0).fit(
        X_sorted, y_sorted
    )
    assert len(seen["validation"]) == 6 and len(seen["train"]) == 54
    assert np.bincount(seen["validation"].astype(int)).tolist() == [3, 3]


def test_regressor_early_stopping_and_grid_search_over_text_cell(tiny_data):
    X, y = tiny_data
    reg = MultiInputKerasRegressor(
        **SMALL,
        image_filters=(2,),
        text_cell="conv",
        image_pooling="max",
        epochs=2,
        early_stopping=True,
        random_state=0,
    ).fit(X, X["num"].sum(axis=1))
    assert len(reg.history_["val_loss"]) == 2
    # The grid is over the text branch: no image input.
    inputs = without_image(X)
    frame = np.arange(60).reshape(-1, 1)
    pipe = Pipeline(
        [
            (
                "prep",
                FunctionTransformer(lambda rows: {k: a[rows[:, 0]] for k, a in inputs.items()}),
            ),
            ("clf", MultiInputKerasClassifier(**SMALL, epochs=1, random_state=0)),
        ]
    )
    search = GridSearchCV(pipe, {"clf__text_cell": ["pool", "conv"]}, cv=2).fit(frame, y)
    assert search.best_params_["clf__text_cell"] in ("pool", "conv")
    assert search.best_estimator_[-1].text_cell == search.best_params_["clf__text_cell"]


def test_pool_model_with_empty_texts_trains_and_pickles(tiny_data):
    import pickle

    X, y = tiny_data
    X = dict(without_image(X), text=X["text"].copy())
    X["text"][:10] = 0  # ten empty texts: all padding
    clf = MultiInputKerasClassifier(**SMALL, text_cell="pool", epochs=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(clf.history_["loss"]).all() and np.isfinite(proba).all()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
