"""Fusion of several branches: branch normalisation, width-scaled dropout, joint labels."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skmultimodal.architecture import InputSpec, build_multi_input_model
from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor

PARAMS = dict(
    image_filters=(4,),
    image_pooling="flatten",
    text_embedding_dim=4,
    text_units=8,
    text_bidirectional=False,
    text_cell="conv",
    tabular_units=4,
    dropout=0.5,
    recurrent_dropout=0.0,
    head_units=(),
    batch_norm=False,
)
SPECS = {
    "image": InputSpec((8, 8, 1), "uint8", "image"),
    "text": InputSpec((6,), "int32", "tokens", vocabulary_size=20),
    "meta": InputSpec((3,), "float32", "tabular"),
}


def _layers_after(model, layer_class):
    """For each layer of ``layer_class``, the class name of the layer it feeds."""
    following = []
    for layer in model.layers:
        if isinstance(layer, layer_class):
            consumers = [node.operation for node in layer._outbound_nodes]
            following.append(type(consumers[0]).__name__)
    return following


@pytest.mark.parametrize(
    ("branch_norm", "layer_class"),
    [("batch", keras.layers.BatchNormalization), ("layer", keras.layers.LayerNormalization)],
)
def test_each_branch_is_normalised_before_its_dropout_and_the_concatenation(
    branch_norm, layer_class
):
    model = build_multi_input_model(SPECS, 1, "sigmoid", {**PARAMS, "branch_norm": branch_norm})
    norms = [layer for layer in model.layers if isinstance(layer, layer_class)]
    assert len(norms) == 3
    # image and text: normalisation, then their dropout; the tabular branch has no dropout.
    assert sorted(_layers_after(model, layer_class)) == ["Concatenate", "Dropout", "Dropout"]
    if branch_norm == "batch":
        assert {layer.momentum for layer in norms} == {0.9}


def test_no_branch_norm_and_single_input_models_have_no_normalisation():
    plain = build_multi_input_model(SPECS, 1, "sigmoid", {**PARAMS, "branch_norm": None})
    single = build_multi_input_model(
        SPECS["meta"], 1, "sigmoid", {**PARAMS, "branch_norm": "batch"}
    )
    one_key = build_multi_input_model(
        {"meta": SPECS["meta"]}, 1, "sigmoid", {**PARAMS, "branch_norm": "batch"}
    )
    for model in (plain, single, one_key):
        assert not any(
            isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization))
            for layer in model.layers
        )


def test_dropout_rate_scales_with_the_width_of_the_branch():
    model = build_multi_input_model(SPECS, 1, "sigmoid", {**PARAMS, "branch_norm": None})
    rates = sorted(layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout))
    # text: 8 conv filters -> 0.5 * 8 / 128; image: 3x3x4 = 36 flattened features.
    assert rates == [0.5 * 8 / 128, 0.5 * 36 / 128]


def test_unknown_branch_norm_is_refused_at_fit():
    X = {"a": np.zeros((4, 2), "float32"), "b": np.ones((4, 2), "float32")}
    with pytest.raises(ValueError, match="branch_norm must be None or one of"):
        MultiInputKerasClassifier(branch_norm="group").fit(X, [0, 1, 0, 1])


def _xor_of_image_and_keyword(n, seed):
    """Bright image XOR the keyword id 1 among the tokens: neither input alone helps."""
    rng = np.random.RandomState(seed)
    bright = rng.rand(n) < 0.5
    image = rng.randint(0, 120, size=(n, 8, 8, 1)).astype(np.uint8)
    image[bright] += 120
    tokens = rng.randint(2, 20, size=(n, 8)).astype(np.int32)
    keyword = rng.rand(n) < 0.5
    tokens[keyword, rng.randint(0, 8, keyword.sum())] = 1
    return {"image": image, "text": tokens}, (bright ^ keyword).astype(int)


def test_the_default_classifier_learns_a_label_that_needs_both_inputs_jointly():
    # Small branches, the default conv text cell and dropout: without branch
    # normalisation this model stayed near chance (0.52-0.64 measured), with the
    # classifier's default branch_norm="batch" it reaches 1.0.
    X, y = _xor_of_image_and_keyword(400, 0)
    X_test, y_test = _xor_of_image_and_keyword(400, 1)
    clf = MultiInputKerasClassifier(
        image_filters=(4,),
        text_embedding_dim=8,
        text_units=16,
        head_units=(16,),
        epochs=20,
        random_state=0,
    ).fit(X, y)
    assert clf.branch_norm == "batch"
    assert np.mean(clf.predict(X_test) == y_test) >= 0.9
    plain = clone(clf).set_params(branch_norm=None).fit(X, y)
    assert np.mean(plain.predict(X_test) == y_test) < 0.75


def test_the_regressor_does_not_normalise_its_branches_by_default():
    assert MultiInputKerasRegressor().branch_norm is None
    assert MultiInputKerasRegressor().target_transform == "standard"


# -- the wide path: sparse inputs straight to the output logits ----------------------------
WIDE_SPECS = {
    "text": InputSpec((6,), "int32", "tokens", vocabulary_size=20),
    "tfidf": InputSpec((40,), "float32", "tabular", sparse=True),
    "meta": InputSpec((3,), "float32", "tabular"),
}


def _consumers(model, input_name):
    return [node.operation for node in model.get_layer(input_name)._outbound_nodes]


def test_sparse_inputs_feed_the_logits_through_one_regularised_linear_layer():
    params = {**PARAMS, "branch_norm": None, "wide_inputs": "sparse", "wide_l2": 0.01}
    model = build_multi_input_model(WIDE_SPECS, 3, "softmax", params)
    (wide,) = _consumers(model, "tfidf")
    assert isinstance(wide, keras.layers.Dense) and wide.units == 3
    assert wide.activation is keras.activations.linear
    assert float(wide.kernel_regularizer.l2) == pytest.approx(0.01)
    # The wide logits are added to the deep part's, then the softmax: no hidden layer.
    (add,) = [node.operation for node in wide._outbound_nodes]
    assert isinstance(add, keras.layers.Add)
    assert model.get_layer("output").activation is keras.activations.softmax
    # The concatenation fuses the two dense inputs only.
    (concat,) = [layer for layer in model.layers if isinstance(layer, keras.layers.Concatenate)]
    assert len(concat.input) == 2


def test_without_wide_inputs_a_sparse_input_keeps_its_dense_branch():
    for wide_inputs, specs in ((None, WIDE_SPECS), ("sparse", {"tfidf": WIDE_SPECS["tfidf"]})):
        params = {**PARAMS, "wide_inputs": wide_inputs}
        model = build_multi_input_model(specs, 1, "sigmoid", params)
        (dense,) = _consumers(model, "tfidf")
        assert dense.units == PARAMS["tabular_units"] and dense.kernel_regularizer is None
        assert not any(isinstance(layer, keras.layers.Add) for layer in model.layers)


def test_wide_inputs_names_must_be_tabular_inputs_of_the_model():
    with pytest.raises(ValueError, match=r"not inputs of the model.*\['text', 'tfidf', 'meta'\]"):
        build_multi_input_model(WIDE_SPECS, 1, "sigmoid", {**PARAMS, "wide_inputs": ["tf"]})
    with pytest.raises(ValueError, match=r"must name tabular inputs.*'text': 'tokens'"):
        build_multi_input_model(WIDE_SPECS, 1, "sigmoid", {**PARAMS, "wide_inputs": ["text"]})


def test_named_wide_inputs_are_refused_for_a_single_array_model():
    with pytest.raises(ValueError, match=r"wide_inputs=\['meta'\] names inputs of a dict"):
        build_multi_input_model(SPECS["meta"], 1, "sigmoid", {**PARAMS, "wide_inputs": ["meta"]})


def test_every_output_head_gets_its_own_wide_layer():
    params = {**PARAMS, "wide_inputs": ["meta"]}
    heads = [(1, "sigmoid", "a"), (4, "softmax", "b")]
    model = build_multi_input_model(WIDE_SPECS, None, None, params, output_heads=heads)
    assert sorted(layer.units for layer in _consumers(model, "meta")) == [1, 4]
    assert [tuple(t.shape) for t in model.outputs] == [(None, 1), (None, 4)]


@pytest.mark.parametrize("wide_l2", [-1.0, float("nan"), "0.1", True])
def test_bad_wide_l2_is_refused_at_fit(wide_l2):
    X = {"a": np.zeros((4, 2), "float32"), "b": np.ones((4, 2), "float32")}
    with pytest.raises(ValueError, match="wide_l2 must be a non-negative float"):
        MultiInputKerasClassifier(wide_l2=wide_l2).fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize("wide_inputs", ["dense", 3, {"a": 1}, ["a", 2]])
def test_bad_wide_inputs_is_refused_at_fit(wide_inputs):
    X = {"a": np.zeros((4, 2), "float32"), "b": np.ones((4, 2), "float32")}
    with pytest.raises(ValueError, match="wide_inputs must be None, 'sparse' or a list"):
        MultiInputKerasClassifier(wide_inputs=wide_inputs).fit(X, [0, 1, 0, 1])


def test_a_label_carried_by_a_sparse_bag_of_words_is_learnt_through_the_wide_path():
    # y is the sign of a fixed linear function of a sparse input; the dense input is noise.
    from scipy import sparse

    rng = np.random.RandomState(0)
    bag = sparse.random(300, 50, density=0.1, format="csr", random_state=rng, dtype=np.float32)
    weights = rng.randn(50)
    y = (bag @ weights > 0).astype(int)
    X = {"bag": bag, "noise": rng.rand(300, 2).astype(np.float32)}
    clf = MultiInputKerasClassifier(
        tabular_units=4, wide_l2=1e-4, epochs=40, optimizer__learning_rate=0.01, random_state=0
    ).fit(X, y)
    assert [layer.units for layer in _consumers(clf.model_, "bag")] == [1]
    assert np.mean(clf.predict(X) == y) >= 0.9


@pytest.mark.parametrize(("side", "features"), [(8, 3 * 3 * 4), (10, 4 * 4), (64, 4 * 4)])
def test_grid_pooling_reduces_only_maps_of_side_4_or_more(side, features):
    # One conv block: 8x8 -> a 3x3 map, flattened as it is; 10x10 -> 4x4 and 64x64 -> 31x31
    # are average-pooled to 2x2 cells of 4 filters.
    from skmultimodal.architecture import build_image_branch

    image = keras.Input((side, side, 1), dtype="uint8")
    assert build_image_branch(image, filters=(4,), pooling="grid").shape == (None, features)


def _pre_activation(model):
    """The model up to its summed logits (the input of the output activation)."""
    return keras.Model(model.inputs, model.get_layer("output").input)


def _random_inputs(n, seed):
    rng = np.random.RandomState(seed)
    return {
        "image": rng.randint(0, 256, size=(n, 8, 8, 1)).astype(np.uint8),
        "text": rng.randint(0, 20, size=(n, 6)).astype(np.int32),
        "meta": rng.normal(size=(n, 3)).astype(np.float32),
    }


@pytest.mark.parametrize("head_units", [(), (5,)])
def test_late_fusion_is_a_sum_of_per_branch_logits(head_units):
    params = {**PARAMS, "branch_norm": None, "head_units": head_units, "fusion": "late"}
    logits = _pre_activation(build_multi_input_model(SPECS, 3, "softmax", params))
    a, b = _random_inputs(16, 0), _random_inputs(16, 1)
    # Swapping one modality between two rows moves only that modality's logits:
    # f(a_img, a_rest) + f(b_img, b_rest) == f(b_img, a_rest) + f(a_img, b_rest).
    swap_ab = {**a, "image": b["image"]}
    swap_ba = {**b, "image": a["image"]}
    left = logits.predict(a, verbose=0) + logits.predict(b, verbose=0)
    right = logits.predict(swap_ab, verbose=0) + logits.predict(swap_ba, verbose=0)
    np.testing.assert_allclose(left, right, rtol=1e-4, atol=1e-4)
    names = {layer.name for layer in logits.layers}
    assert {"output_image_logits", "output_text_logits", "output_meta_logits"} <= names
    assert "output_deep" not in names  # no joint head


def test_joint_and_hybrid_fusion_are_not_additive_and_hybrid_has_both_parts():
    a, b = _random_inputs(16, 0), _random_inputs(16, 1)
    swap_ab, swap_ba = {**a, "image": b["image"]}, {**b, "image": a["image"]}
    for fusion in ("joint", "hybrid"):
        params = {**PARAMS, "branch_norm": None, "head_units": (16,), "fusion": fusion}
        logits = _pre_activation(build_multi_input_model(SPECS, 3, "softmax", params))
        left = logits.predict(a, verbose=0) + logits.predict(b, verbose=0)
        right = logits.predict(swap_ab, verbose=0) + logits.predict(swap_ba, verbose=0)
        assert np.abs(left - right).max() > 1e-3, fusion  # a relu head mixes modalities
        names = {layer.name for layer in logits.layers}
        assert ("output_image_logits" in names) == (fusion == "hybrid")


def test_late_fusion_drops_the_logits_of_an_absent_modality():
    specs = {**SPECS, "image__present": InputSpec((1,), "float32", "presence")}
    params = {**PARAMS, "branch_norm": None, "fusion": "late"}
    model = build_multi_input_model(specs, 2, "softmax", params)
    parts = keras.Model(
        model.inputs,
        [model.get_layer(f"output_{name}_gated").output for name in ("image", "text", "meta")],
    )
    x = _random_inputs(8, 2)
    present = np.array([1, 0, 1, 0, 1, 0, 1, 0], "float32")[:, None]
    image_logits, text_logits, _ = parts.predict({**x, "image__present": present}, verbose=0)
    np.testing.assert_array_equal(image_logits[present[:, 0] == 0], 0.0)
    assert np.abs(image_logits[present[:, 0] == 1]).max() > 0
    # The text's logits do not depend on the image's presence: kept on every row.
    assert (np.abs(text_logits).sum(axis=1) > 0).all()


def test_unknown_fusion_is_refused_at_fit():
    X = {"a": np.zeros((4, 2), "float32"), "b": np.ones((4, 2), "float32")}
    with pytest.raises(ValueError, match="fusion"):
        MultiInputKerasClassifier(fusion="early").fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize("fusion", ["late", "hybrid"])
def test_late_fusion_models_fit_predict_clone_and_export(fusion, tmp_path):
    import tensorflow as tf
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputTransformer, TextTokenizer, export
    from skmultimodal.text import TextTfidfVectorizer

    rng = np.random.RandomState(0)
    words = np.array(["red", "blue", "green", "dark", "light"])
    texts = [" ".join(rng.choice(words, 4)) for _ in range(60)]
    price = rng.normal(size=60)
    y = np.array(["red" in t for t in texts]).astype(int) ^ (price > 0)
    X = pd.DataFrame({"text": texts, "price": price})
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(max_len=4), "text"),
            ("text_tfidf", TextTfidfVectorizer(dtype=np.float32), "text"),
            ("numeric", StandardScaler(), ["price"]),
        ]
    )
    clf = MultiInputKerasClassifier(
        fusion=fusion,
        text_embedding_dim=4,
        text_units=4,
        head_units=(4,),
        epochs=2,
        random_state=0,
    )
    pipe = Pipeline([("prep", prep), ("clf", clf)]).fit(X, y)
    assert clone(pipe).get_params()["clf__fusion"] == fusion
    served = tf.saved_model.load(str(export(pipe, tmp_path / "m"))).signatures["serving_default"]
    proba = served(text=tf.constant(texts), price=tf.constant(price, tf.float64))
    np.testing.assert_allclose(
        proba["probabilities"].numpy(), pipe.predict_proba(X), atol=1e-5, rtol=0
    )
