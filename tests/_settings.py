"""Small estimator settings and helpers shared by the tests (a plain module; the fixtures
are in conftest.py); it imports only numpy, so that a fresh process can import it before
it configures TensorFlow. A test file that needs other values derives them here in the open,
e.g. ``{**TINY, "epochs": 3}``."""

import numpy as np

# Four units a branch: the smallest sizes at which every branch still learns something.
UNITS = dict(text_embedding_dim=4, text_units=4, tabular_units=4)

# A tiny model on every branch, two epochs, one batch for the small data sets of the tests.
TINY = dict(
    **UNITS,
    image_filters=(4,),
    epochs=2,
    batch_size=64,
    random_state=0,
)

# The smallest model make_multimodal_pipeline can build: two units a branch, no head layer,
# one epoch; for the tests of what the pipeline is made of, not of what it learns.
SMALLEST = dict(
    image_filters=(2,),
    text_embedding_dim=2,
    text_units=2,
    tabular_units=2,
    head_units=(),
    epochs=1,
    batch_size=64,
)


def flat_sigmoid_model(meta, hidden=None):
    """A user ``model`` callable: every input flattened, an optional Dense(``hidden``) layer,
    one sigmoid unit; compiled with adam and binary cross-entropy."""
    import keras

    inputs = {key: keras.Input(shape, name=key) for key, shape in meta["input_shapes_"].items()}
    flat = [keras.layers.Flatten()(keras.ops.cast(x, "float32")) for x in inputs.values()]
    features = keras.layers.concatenate(flat)
    if hidden is not None:
        features = keras.layers.Dense(hidden)(features)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(features))
    model.compile("adam", "binary_crossentropy")
    return model


def text_image_numbers(n, n_words, text_length, n_numbers, lowest_id=0, seed=0):
    """A dict of int32 token ids (``lowest_id`` to ``n_words - 1``), 8x8 grey uint8 images and
    float32 numbers in [0, 1); the label is whether the first number is above 0.5.
    (numpy only: importing this module starts no TensorFlow.)"""
    rng = np.random.RandomState(seed)
    X = {
        "text": rng.randint(lowest_id, n_words, size=(n, text_length)).astype("int32"),
        "image": rng.randint(0, 256, size=(n, 8, 8, 1)).astype("uint8"),
        "num": rng.rand(n, n_numbers).astype("float32"),
    }
    return X, (X["num"][:, 0] > 0.5).astype(int)


def ragged_series(n=60, seed=0, features=2, low=4, high=12):
    """``(series, y)``: ``n`` series of ``low``-``high`` steps whose level follows a 0/1 label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    series = [
        rng.normal(loc=0.8 * label - 0.4, size=(length, features))
        for label, length in zip(y, rng.integers(low, high + 1, n), strict=True)
    ]
    return series, y
