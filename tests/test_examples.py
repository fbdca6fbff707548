"""The two origin examples are expressed exactly by the default model builder."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layer_stack(model):
    """(class name, key config) of every layer in topological order, inputs excluded."""
    described = {
        "LSTM": lambda c: (c["units"], c["dropout"], c["recurrent_dropout"]),
        "Conv2D": lambda c: (c["filters"], c["kernel_size"], c["activation"]),
        "MaxPooling2D": lambda c: (c["pool_size"],),
        "Embedding": lambda c: (c["input_dim"], c["output_dim"], c["mask_zero"]),
        "Dense": lambda c: (c["units"], c["activation"]),
        "Bidirectional": lambda c: ("LSTM", *described["LSTM"](c["layer"]["config"])),
    }
    stack = []
    for layer in model.layers:
        name = type(layer).__name__
        if name not in ("InputLayer", "NotEqual"):
            stack.append((name, *described.get(name, lambda c: ())(layer.get_config())))
    return stack


def initialized_model(pipe, X, y):
    """Fit the preprocessing and build (not train) the Keras model."""
    prep, clf = pipe.named_steps["prep"], pipe.named_steps["clf"]
    return clf.initialize(prep.fit_transform(X, y), y).model_, prep


def test_origin_image_text_cnn_lstm(multimodal_data):
    X, y = multimodal_data
    example = load_example("origin_image_text")
    pipe = example.build_pipeline(target_size=(32, 32))
    model, prep = initialized_model(pipe, X[["image", "text"]], y)
    vocabulary = prep.named_transformers_["text"].vocabulary_size_
    image = [
        ("Rescaling",),
        ("Conv2D", 32, (3, 3), "relu"),
        ("MaxPooling2D", (2, 2)),
        ("Conv2D", 64, (3, 3), "relu"),
        ("MaxPooling2D", (2, 2)),
        ("Flatten",),
    ]
    text = [("Embedding", vocabulary, 100, True), ("LSTM", 256, 0.0, 0.0)]
    stack = layer_stack(model)
    assert [layer for layer in stack if layer in image] == image
    assert [layer for layer in stack if layer in text] == text
    assert stack[-2:] == [("Concatenate",), ("Dense", 1, "sigmoid")]
    assert len(stack) == len(image) + len(text) + 2
    clf = pipe.named_steps["clf"]
    assert (clf.batch_size, clf.epochs, clf.validation_split) == (32, 10, 0.2)
    assert model.loss == "binary_crossentropy"
    assert type(model.optimizer).__name__ == "Adam"
    assert model.get_layer("image").output.shape == (None, 32, 32, 3)
    assert prep.named_transformers_["text"].max_len_ == max(len(t.split()) for t in X["text"])


def test_origin_series_text_lstm_bilstm_dense_batchnorm(multimodal_data):
    X, y = multimodal_data
    example = load_example("origin_series_text")
    numeric = [c for c in X.columns if re.fullmatch(r"t\d+", c)]
    pipe = example.build_pipeline(numeric)
    model, prep = initialized_model(pipe, X[numeric + ["text"]], y)
    vocabulary = prep.named_transformers_["text"].vocabulary_size_
    assert vocabulary <= 1000
    stack = layer_stack(model)
    # PaddingSteps: the series branch's mask of all-NaN (padding) steps; none here.
    assert sorted(stack[:4]) == sorted(
        [
            ("Embedding", vocabulary, 8, True),
            ("PaddingSteps",),
            ("LSTM", 64, 0.3, 0.3),
            ("Bidirectional", "LSTM", 64, 0.3, 0.3),
        ]
    )
    assert stack[4:] == [
        ("Concatenate",),
        ("Dense", 32, "relu"),
        ("BatchNormalization",),
        ("Dense", 1, "sigmoid"),
    ]
    assert model.get_layer("series").output.shape == (None, 1, len(numeric))
    assert model.get_layer("text").output.shape == (None, 50)
    assert pipe.named_steps["clf"].shuffle is False


@pytest.mark.slow
@pytest.mark.parametrize("name", ["origin_image_text", "origin_series_text"])
def test_examples_run(name, capsys):
    load_example(name).main(["--quick", "--n-samples", "120"])
    accuracy = float(re.search(r"test accuracy (\S+)", capsys.readouterr().out).group(1))
    assert 0 <= accuracy <= 1 and np.isfinite(accuracy)
