"""blend_inputs: the network's logits and a classical model's, weighted on held-out rows."""

import pickle

import keras
import numpy as np
import pandas as pd
import pytest
from _settings import SMALLEST
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from skmultimodal import MultiInputKerasClassifier
from skmultimodal._training import _PredictStep
from skmultimodal.architecture import BlendLogits, InputSpec, blend_inputs, fit_blend_weights
from skmultimodal.auto import make_multimodal_pipeline

FAST = dict(tabular_units=4, head_units=(8,), epochs=4, random_state=0)


def _noisy_oracle(n=900, n_classes=3, accuracy=0.85, seed=0):
    """Numbers that say little about y, and another model's log-probabilities that say much."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, n_classes, n)
    numbers = rng.normal(size=(n, 4)).astype("float32")
    numbers[:, 0] += 0.3 * y  # a weak signal the network can find
    guess = np.where(rng.rand(n) < accuracy, y, rng.randint(0, n_classes, n))
    scores = np.full((n, n_classes), np.log(0.1 / (n_classes - 1)))
    scores[np.arange(n), guess] = np.log(0.9)
    if n_classes == 2:
        scores = scores[:, 1:] - scores[:, :1]
    return {"numbers": numbers, "numbers_scores": scores.astype("float32")}, y


def _split(X, y):
    train, test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=0, stratify=y)
    return (
        {k: v[train] for k, v in X.items()},
        y[train],
        {k: v[test] for k, v in X.items()},
        y[test],
    )


def test_the_layer_weights_logits_and_scores_and_round_trips_through_keras():
    logits = keras.Input((3,), name="logits")
    scores = keras.Input((3,), name="scores")
    model = keras.Model([logits, scores], BlendLogits(name="blend")([logits, scores]))
    a = np.array([[1.0, 2.0, 3.0]], "float32")
    b = np.array([[-1.0, 0.0, 5.0]], "float32")
    np.testing.assert_allclose(model.predict_on_batch([a, b]), a)  # [1, 0] until fitted
    model.get_layer("blend").blend_weights.assign([0.5, 2.0])
    np.testing.assert_allclose(model.predict_on_batch([a, b]), 0.5 * a + 2.0 * b)
    assert not model.get_layer("blend").trainable_weights
    again = keras.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict_on_batch([a, b]), 0.5 * a + 2.0 * b)


@pytest.mark.parametrize("sigmoid", [True, False])
def test_fit_blend_weights_trusts_the_informative_part_and_ignores_noise(sigmoid):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2 if sigmoid else 3, 400)
    width = 1 if sigmoid else 3
    noise = rng.normal(size=(400, width))
    if sigmoid:
        signal = (2.0 * y - 1)[:, None] + rng.normal(size=(400, 1))
    else:
        signal = 2.0 * np.eye(3)[y] + rng.normal(size=(400, 3))
    weights = fit_blend_weights(noise, [signal, noise[::-1]], y, sigmoid)
    assert weights.shape == (3,) and (weights >= 0).all()
    assert weights[1] > 0.5 and weights[0] < weights[1] / 5 and weights[2] < weights[1] / 5
    # The network's logits keep their weight when the scores are noise.
    kept = fit_blend_weights(signal, [noise], y, sigmoid)
    assert kept[0] > 0.5 and kept[1] < kept[0] / 5


def test_a_zero_sample_weight_leaves_a_row_out_of_the_weighting():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    signal = 3.0 * (2.0 * y - 1)[:, None]
    flipped = -signal
    sample_weight = np.r_[np.ones(150), np.zeros(150)]
    # Scores right on the weighted rows, wrong on the others: weighted, they win.
    scores = np.r_[signal[:150], flipped[150:]]
    weighted = fit_blend_weights(np.zeros((300, 1)), [scores], y, True, sample_weight)
    unweighted = fit_blend_weights(np.zeros((300, 1)), [scores], y, True)
    assert weighted[1] > 1.0 and unweighted[1] < 0.1


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_classifier_leans_on_strong_scores_held_out(n_classes):
    X, y = _noisy_oracle(n_classes=n_classes)
    X_train, y_train, X_test, y_test = _split(X, y)
    alone = MultiInputKerasClassifier(**FAST, early_stopping=True).fit(X_train, y_train)
    blended = MultiInputKerasClassifier(
        **FAST, early_stopping=True, blend_inputs=["numbers_scores"]
    ).fit(X_train, y_train)
    # The weighting predicted through the model's own predict step (no retracing warning).
    assert isinstance(blended.model_.predict_function.python_function, _PredictStep)
    assert "blend_weights_" not in vars(alone)
    assert set(blended.blend_weights_) == {"network", "numbers_scores"}
    assert blended.blend_rows_ == int(np.ceil(0.1 * len(y_train)))
    assert blended.blend_weights_["numbers_scores"] > 0.3
    # The oracle alone is right on about 0.85 + 0.15 / n_classes of the rows.
    oracle = (
        (X_test["numbers_scores"][:, 0] > 0).astype(int)
        if n_classes == 2
        else X_test["numbers_scores"].argmax(axis=1)
    )
    assert blended.score(X_test, y_test) >= np.mean(oracle == y_test) - 0.03
    assert blended.score(X_test, y_test) > alone.score(X_test, y_test)
    layer = blended.model_.get_layer("output_blend")
    np.testing.assert_allclose(
        layer.blend_weights.numpy(), list(blended.blend_weights_.values()), rtol=1e-6
    )


def test_without_held_out_rows_the_network_predicts_alone():
    X, y = _noisy_oracle(n=200)
    clf = MultiInputKerasClassifier(**FAST, blend_inputs=["numbers_scores"]).fit(X, y)
    assert clf.blend_rows_ == 0
    assert clf.blend_weights_ == {"network": 1.0, "numbers_scores": 0.0}


def test_clone_pickle_and_refit_keep_the_blend():
    X, y = _noisy_oracle(n=600)
    clf = MultiInputKerasClassifier(**FAST, early_stopping=True, blend_inputs=["numbers_scores"])
    assert clone(clf).get_params()["blend_inputs"] == ["numbers_scores"]
    clf.fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert again.blend_weights_ == clf.blend_weights_
    clf.set_params(blend_inputs=None).fit(X, y)
    assert "blend_weights_" not in vars(clf) and "blend_rows_" not in vars(clf)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["nope"], r"blend_inputs names \['nope'\], which are not inputs"),
        (["numbers"], r"tabular inputs of shape \(3,\).*'numbers': \('tabular', \(4,\)\)"),
    ],
)
def test_a_wrong_blend_input_is_refused_by_name(names, message):
    X, y = _noisy_oracle(n=60)
    with pytest.raises(ValueError, match=message):
        MultiInputKerasClassifier(**FAST, blend_inputs=names).fit(X, y)


def test_a_string_or_several_output_heads_are_refused():
    X, y = _noisy_oracle(n=60)
    with pytest.raises(ValueError, match="blend_inputs"):
        MultiInputKerasClassifier(**FAST, blend_inputs="numbers_scores").fit(X, y)
    specs = {"a": InputSpec((3,), "float32", "tabular")}
    with pytest.raises(ValueError, match="several output heads"):
        blend_inputs(specs, ["a"], None, output_heads=[(3, "softmax", "o")])


def test_make_multimodal_pipeline_blends_its_score_steps(multimodal_data):
    X, y = multimodal_data
    columns = ["text", "t0", "category"]
    pipe = make_multimodal_pipeline(X[columns], y, model_params=SMALLEST)
    assert pipe["clf"].blend_inputs == ["text_scores"]
    off = make_multimodal_pipeline(X[columns], y, model_params={"blend_inputs": None})
    assert off["clf"].blend_inputs is None
    no_scores = make_multimodal_pipeline(X[columns], y, text_scores=False)
    assert no_scores["clf"].get_params()["blend_inputs"] is None
    # A series' scores stay a dense input of the network, not blended.
    rng = np.random.default_rng(0)
    grid = {f"t{step}": rng.normal(size=len(y)) for step in range(12)}
    every = make_multimodal_pipeline(X[["text"]].assign(**grid), y)
    assert "sequence_scores" in [name for name, _, _ in every["prep"].transformers]
    assert every["clf"].blend_inputs == ["text_scores"]
    rating = pd.Series(np.linspace(0.0, 1.0, len(y)))
    assert "blend_inputs" not in make_multimodal_pipeline(X[columns], rating)["clf"].get_params()
    pipe.set_params(clf__early_stopping=True).fit(X[columns], y)
    assert pipe["clf"].blend_rows_ == 30
    assert set(pipe["clf"].blend_weights_) == {"network", "text_scores"}


def test_a_blend_input_feeds_the_blend_only():
    X, y = _noisy_oracle(n=60)
    clf = MultiInputKerasClassifier(**FAST, blend_inputs=["numbers_scores"]).fit(X, y)
    consumers = {
        node.operation.name for node in clf.model_.get_layer("numbers_scores")._outbound_nodes
    }
    assert consumers == {"output_blend"}
    with pytest.raises(ValueError, match="names every input of the model"):
        MultiInputKerasClassifier(**FAST, blend_inputs=["numbers_scores"]).fit(
            {"numbers_scores": X["numbers_scores"]}, y
        )


def test_masked_pipeline_blends_text_scores_switched_off_without_text(multimodal_data):
    X, y = multimodal_data
    X = X[["text", "t0", "category"]].copy()
    X.loc[X.index[::5], "text"] = None
    params = {**SMALLEST, "early_stopping": True}
    pipe = make_multimodal_pipeline(X, y, on_missing="mask", model_params=params)
    assert pipe["clf"].blend_inputs == ["text_scores"]
    pipe.fit(X, y)
    assert set(pipe["clf"].blend_weights_) == {"network", "text_scores"}
    assert pipe["clf"].presence_groups_["text__present"][-1] == "text_scores"
    inputs = pipe["prep"].transform(X)
    absent = ~inputs["text__present"]
    moved = dict(inputs, text_scores=inputs["text_scores"][::-1].copy())
    before, after = pipe["clf"].predict_proba(inputs), pipe["clf"].predict_proba(moved)
    # A row without its text: its scores (another row's now) are switched off in the blend.
    np.testing.assert_allclose(after[absent], before[absent], rtol=1e-6, atol=1e-7)
    assert not np.allclose(after[~absent], before[~absent])
