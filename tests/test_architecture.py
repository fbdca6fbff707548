"""The default builder can express the two origin models of DESIGN.md exactly."""

import keras
import numpy as np
import pytest

from skmultimodal.architecture import (
    InputSpec,
    build_image_branch,
    build_multi_input_model,
    infer_input_kind,
)
from skmultimodal.estimators import MultiInputKerasClassifier


def layer_stack(model):
    """(class name, key config) of every layer, in topological order, inputs excluded."""
    stack = []
    for layer in model.layers:
        name = type(layer).__name__
        if name == "InputLayer":
            continue
        config = layer.get_config()
        if name == "Bidirectional":
            inner = config["layer"]["config"]
            stack.append(
                (
                    "Bidirectional",
                    "LSTM",
                    inner["units"],
                    inner["dropout"],
                    inner["recurrent_dropout"],
                )
            )
        elif name == "LSTM":
            stack.append((name, config["units"], config["dropout"], config["recurrent_dropout"]))
        elif name == "Conv2D":
            stack.append((name, config["filters"], config["kernel_size"], config["activation"]))
        elif name == "MaxPooling2D":
            stack.append((name, config["pool_size"]))
        elif name == "Embedding":
            stack.append((name, config["input_dim"], config["output_dim"], config["mask_zero"]))
        elif name == "Dense":
            stack.append((name, config["units"], config["activation"]))
        else:
            stack.append((name,))
    return stack


def test_origin_example_1_image_text_cnn_lstm():
    rng = np.random.RandomState(0)
    X = {
        "image": rng.randint(0, 256, size=(8, 32, 32, 3)).astype(np.uint8),
        "text": rng.randint(0, 50, size=(8, 7)),
    }
    X["text"][0, 0] = 49
    clf = MultiInputKerasClassifier(random_state=0).initialize(X, np.arange(8) % 2)
    stack = layer_stack(clf.model_)
    image = [
        ("Rescaling",),
        ("Conv2D", 32, (3, 3), "relu"),
        ("MaxPooling2D", (2, 2)),
        ("Conv2D", 64, (3, 3), "relu"),
        ("MaxPooling2D", (2, 2)),
        ("Flatten",),
    ]
    text = [("Embedding", 50, 100, True), ("LSTM", 256, 0.0, 0.0)]
    assert sorted(stack) == sorted(image + text + [("Concatenate",), ("Dense", 1, "sigmoid")])
    assert [s for s in stack if s in image] == image
    assert stack[-2:] == [("Concatenate",), ("Dense", 1, "sigmoid")]
    assert clf.model_.loss == "binary_crossentropy"
    assert type(clf.model_.optimizer).__name__ == "Adam"


def test_origin_example_2_sequence_text_bilstm_dense_batchnorm():
    rng = np.random.RandomState(0)
    X = {
        "series": rng.normal(size=(8, 1, 5)).astype(np.float32),
        "text": rng.randint(0, 1000, size=(8, 50)),
    }
    X["text"][0, 0] = 999
    clf = MultiInputKerasClassifier(
        text_embedding_dim=8,
        text_units=64,
        text_bidirectional=True,
        sequence_units=64,
        head_units=(32,),
        batch_norm=True,
        dropout=0.3,
        recurrent_dropout=0.3,
        shuffle=False,
        random_state=0,
    ).initialize(X, np.arange(8) % 2)
    stack = layer_stack(clf.model_)
    assert sorted(stack[:3]) == sorted(
        [
            ("LSTM", 64, 0.3, 0.3),
            ("Embedding", 1000, 8, True),
            ("Bidirectional", "LSTM", 64, 0.3, 0.3),
        ]
    )
    assert stack[3:] == [
        ("Concatenate",),
        ("Dense", 32, "relu"),
        ("BatchNormalization",),
        ("Dense", 1, "sigmoid"),
    ]


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
