"""Pure Keras builders: kind inference, branch guards, single-input models."""

import keras
import numpy as np
import pytest

from skmultimodal.architecture import (
    InputSpec,
    build_image_branch,
    build_multi_input_model,
    build_text_branch,
    infer_input_kind,
)


def test_infer_input_kind_rules_and_error():
    assert infer_input_kind(np.zeros((2, 3, 4))) == "sequence"
    assert infer_input_kind(np.zeros((2, 3), dtype=bool)) == "tabular"
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        infer_input_kind(np.zeros(2))


def test_image_branch_refuses_too_small_images():
    with pytest.raises(ValueError, match="too small for 3 convolution blocks"):
        build_image_branch(keras.Input((8, 8, 1)), filters=(4, 4, 4))


def test_single_spec_builds_single_input_model():
    params = dict(tabular_units=0, head_units=(), batch_norm=False)
    model = build_multi_input_model(InputSpec((3,), "float32", "tabular"), 2, "softmax", params)
    assert len(model.inputs) == 1 and model.output.shape == (None, 2)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]


def _layer_names(model):
    return [type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _text_model(**kwargs):
    inputs = keras.Input((5,), dtype="int32")
    return keras.Model(inputs, build_text_branch(inputs, vocabulary_size=10, **kwargs))


def test_text_pool_cell_is_the_mean_of_non_padding_embeddings():
    model = _text_model(embedding_dim=3, cell="pool")
    assert _layer_names(model) == ["Embedding", "MaskedGlobalAveragePooling1D"]
    assert model.layers[1].get_config()["mask_zero"] is True
    ids = np.array([[0, 0, 2, 3, 3], [4, 5, 6, 7, 8]], dtype="int32")
    table = model.layers[1].get_weights()[0]
    expected = np.stack([table[[2, 3, 3]].mean(axis=0), table[[4, 5, 6, 7, 8]].mean(axis=0)])
    np.testing.assert_allclose(model.predict_on_batch(ids), expected, rtol=1e-6)


def test_text_conv_cell_layers_and_shape():
    model = _text_model(embedding_dim=3, units=7, cell="conv")
    assert _layer_names(model) == ["Embedding", "Conv1D", "GlobalMaxPooling1D"]
    conv = model.get_layer(index=2).get_config()
    assert (conv["filters"], conv["kernel_size"], conv["padding"]) == (7, (3,), "same")
    assert model.output.shape == (None, 7)


def test_text_gru_cell_bidirectional_and_dropout():
    model = _text_model(embedding_dim=3, units=4, cell="gru", bidirectional=True, dropout=0.2)
    assert _layer_names(model) == ["Embedding", "Bidirectional"]
    gru = model.layers[-1].forward_layer
    assert (type(gru).__name__, gru.units, gru.dropout) == ("GRU", 4, 0.2)
    assert model.output.shape == (None, 8)


def test_text_pool_dropout_adds_a_dropout_layer_scaled_by_width():
    model = _text_model(embedding_dim=3, cell="pool", dropout=0.25)
    assert _layer_names(model)[-1] == "Dropout" and model.layers[-1].rate == 0.25 * 3 / 128
    wide = _text_model(embedding_dim=200, cell="pool", dropout=0.25)
    assert wide.layers[-1].rate == 0.25


def test_text_branch_rejects_unknown_cell_and_bidirectional_pool():
    inputs = keras.Input((5,), dtype="int32")
    with pytest.raises(ValueError, match="Unknown text cell 'rnn'"):
        build_text_branch(inputs, vocabulary_size=10, cell="rnn")
    with pytest.raises(ValueError, match="needs a recurrent text cell"):
        build_text_branch(inputs, vocabulary_size=10, cell="pool", bidirectional=True)


@pytest.mark.parametrize(
    "pooling, layer, shape",
    [
        ("avg", "GlobalAveragePooling2D", 4),
        ("max", "GlobalMaxPooling2D", 4),
        ("flatten", "Flatten", 196),
    ],
)
def test_image_branch_pooling(pooling, layer, shape):
    inputs = keras.Input((16, 16, 1), dtype="uint8")
    model = keras.Model(inputs, build_image_branch(inputs, filters=(4,), pooling=pooling))
    assert _layer_names(model)[-1] == layer and model.output.shape == (None, shape)


def test_image_branch_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="Unknown image pooling 'mean'"):
        build_image_branch(keras.Input((8, 8, 1)), filters=(4,), pooling="mean")


def test_params_without_new_keys_keep_the_origin_branches():
    specs = {
        "image": InputSpec((16, 16, 1), "uint8", "image"),
        "text": InputSpec((5,), "int32", "tokens", vocabulary_size=10),
    }
    params = dict(
        image_filters=(4,),
        text_embedding_dim=3,
        text_units=2,
        text_bidirectional=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        head_units=(),
        batch_norm=False,
    )
    names = _layer_names(build_multi_input_model(specs, 1, "sigmoid", params))
    assert "Flatten" in names and "LSTM" in names
    params.update(text_cell="pool", image_pooling="max")
    names = _layer_names(build_multi_input_model(specs, 1, "sigmoid", params))
    assert "GlobalMaxPooling2D" in names and "MaskedGlobalAveragePooling1D" in names
    assert "LSTM" not in names and "Flatten" not in names


def test_text_pool_cell_gives_zeros_for_an_all_padding_text():
    model = _text_model(embedding_dim=3, cell="pool")
    ids = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 4]], dtype="int32")
    out = model.predict_on_batch(ids)
    np.testing.assert_array_equal(out[0], np.zeros(3, dtype="float32"))
    np.testing.assert_allclose(out[1], model.layers[1].get_weights()[0][4], rtol=1e-6)
