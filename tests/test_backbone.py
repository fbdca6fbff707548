"""Pretrained image backbones in the image branch: weights loaded from a file, frozen,
shared between image inputs, validated, and never downloaded."""

import pickle

import numpy as np
import pytest
from _settings import TINY
from sklearn.base import clone

keras = pytest.importorskip("keras")

from skmultimodal import MultiInputKerasClassifier  # noqa: E402
from skmultimodal.architecture import (  # noqa: E402
    ChannelAffine,
    InputSpec,
    application_preprocessing,
    build_multi_input_model,
)


def tiny_backbone(seed=0):
    """A small convolutional feature extractor (float pixels -> feature map)."""
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(
        6, 3, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
    )(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(5, 3, kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(x)
    return keras.Model(inputs, x, name="tiny")


def image_data(n=40, channels=3, n_images=1, seed=0):
    rng = np.random.RandomState(seed)
    X = {
        f"image{i}" if n_images > 1 else "image": rng.randint(0, 256, (n, 16, 16, channels)).astype(
            "uint8"
        )
        for i in range(n_images)
    }
    X["num"] = rng.rand(n, 2).astype("float32")
    y = (X["num"][:, 0] > 0.5).astype(int)
    return X, y


class _Snapshot(keras.callbacks.Callback):
    """The weights of the backbone and of the output layer when training begins."""

    def on_train_begin(self, logs=None):
        self.backbone = [w.copy() for w in self.model.get_layer("image_backbone").get_weights()]
        self.output = [w.copy() for w in self.model.get_layer("output").get_weights()]


def test_backbone_weights_file_loads_intact_and_stay_frozen(tmp_path):
    # A backbone with weights saved by the test (a different seed from the model passed).
    source = tiny_backbone(seed=7)
    weights_file = tmp_path / "backbone.weights.h5"
    source.save_weights(weights_file)
    saved = source.get_weights()
    user_model = tiny_backbone(seed=0)
    before_user = [w.copy() for w in user_model.get_weights()]

    snapshot = _Snapshot()
    X, y = image_data()
    clf = MultiInputKerasClassifier(
        image_backbone=user_model,
        image_backbone_weights=str(weights_file),
        callbacks=[snapshot],
        **{**TINY, "epochs": 3, "batch_size": 8},
    ).fit(X, y)

    # Loaded intact: the backbone held the file's weights when training began ...
    assert len(snapshot.backbone) == len(saved)
    for loaded, expected in zip(snapshot.backbone, saved, strict=True):
        np.testing.assert_array_equal(loaded, expected)
    # ... and still holds them after a frozen fit (batch-norm statistics included).
    net = clf.model_.get_layer("image_backbone")
    assert not net.trainable and not net.trainable_weights
    for after, expected in zip(net.get_weights(), saved, strict=True):
        np.testing.assert_array_equal(after, expected)
    # The head trained.
    after_output = clf.model_.get_layer("output").get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(after_output, snapshot.output, strict=True))
    # The user's model was neither modified nor used as the backbone.
    for after, before in zip(user_model.get_weights(), before_user, strict=True):
        np.testing.assert_array_equal(after, before)
    assert net is not user_model and user_model.trainable
    # Pickled (the backbone parameter and the fitted model as .keras bytes) and restored.
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_image_inputs_share_one_backbone_and_grayscale_is_repeated():
    X, y = image_data(n=24, n_images=2)
    X["gray"] = X["image0"][..., :1].copy()
    clf = MultiInputKerasClassifier(image_backbone=tiny_backbone(), **TINY).fit(X, y)
    backbones = [layer for layer in clf.model_.layers if layer.name.startswith("image_backbone")]
    assert len(backbones) == 1  # three image inputs, one set of backbone weights
    # A grayscale image reads as the RGB image whose 3 channels all equal it.
    X_rgb = {**X, "gray": np.repeat(X["gray"], 3, axis=-1)}
    layer = ChannelAffine(np.eye(3), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(layer(X["gray"])), np.asarray(layer(X_rgb["gray"])))


def test_trainable_top_layers():
    X, y = image_data(n=16)
    clf = MultiInputKerasClassifier(
        image_backbone=tiny_backbone(), image_backbone_trainable=1, **{**TINY, "epochs": 1}
    ).fit(X, y)
    net = clf.model_.get_layer("image_backbone")
    trainable = [layer.name for layer in net.layers if layer.trainable_weights]
    assert trainable == [net.layers[-1].name]


def test_default_model_unchanged_by_the_new_parameters():
    X, y = image_data(n=16)
    a = MultiInputKerasClassifier(**{**TINY, "epochs": 1}).fit(X, y)
    b = MultiInputKerasClassifier(
        image_backbone=None, image_backbone_weights=None, **{**TINY, "epochs": 1}
    ).fit(X, y)
    for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_backbone_parameter_survives_clone_unmodified():
    user_model = tiny_backbone()
    clf = MultiInputKerasClassifier(image_backbone=user_model)
    copy = clone(clf)
    assert copy.image_backbone is not user_model
    for a, b in zip(copy.image_backbone.get_weights(), user_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_application_by_name_without_download(tmp_path):
    spec = InputSpec((32, 32, 3), "uint8", "image")
    params = dict(
        image_backbone="MobileNetV3Small",
        image_backbone_weights=None,
        image_filters=(4,),
        tabular_units=2,
        dropout=0.0,
        head_units=(),
        batch_norm=False,
    )
    model = build_multi_input_model({"image": spec}, 1, "sigmoid", params)
    net = model.get_layer("image_backbone")
    assert net.input_shape == (None, 32, 32, 3) and not net.trainable
    # MobileNetV3 rescales inside itself: its preprocessing here is the identity.
    matrix, bias = application_preprocessing("MobileNetV3Small")
    np.testing.assert_array_equal(matrix, np.eye(3))
    np.testing.assert_array_equal(bias, np.zeros(3))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"image_backbone": "MobilenetV2"}, "Did you mean 'MobileNetV2'"),
        ({"image_backbone": 3}, "image_backbone must be None"),
        (
            {"image_backbone": "MobileNetV2", "image_backbone_weights": "/no/such.weights.h5"},
            "'/no/such.weights.h5', which does not exist",
        ),
        ({"image_backbone": "MobileNetV2", "image_backbone_trainable": -1}, "image_backbone_tr"),
    ],
)
def test_backbone_parameters_are_validated(params, message):
    X, y = image_data(n=8)
    with pytest.raises((ValueError, TypeError), match=message):
        MultiInputKerasClassifier(**params, epochs=1).fit(X, y)


@pytest.mark.slow  # about 20 s on 2 shared CPUs: a whole MobileNetV3Small fit
def test_application_by_name_loads_a_local_weights_file(tmp_path):
    # The weights of the same application (include_top=False), saved by the test: no download.
    source = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    weights_file = tmp_path / "mobilenet_v3_small.weights.h5"
    source.save_weights(weights_file)
    rng = np.random.RandomState(0)
    X = {"image": rng.randint(0, 256, (16, 32, 32, 3)).astype("uint8")}
    y = np.arange(16) % 2
    clf = MultiInputKerasClassifier(
        image_backbone="MobileNetV3Small",
        image_backbone_weights=weights_file,
        **{**TINY, "epochs": 1},
    ).fit(X, y)
    net = clf.model_.get_layer("image_backbone")
    assert not net.trainable_weights
    for after, expected in zip(net.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(after, expected)
