"""Fitted pipelines round-trip through pickle, joblib and skops.io (safe loading)."""

import copy
import importlib
import io
import json
import os
import pickle
import warnings
import zipfile

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from _settings import TINY, flat_sigmoid_model
from sklearn.base import clone
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultimodal.compose import MultiInputTransformer
from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor
from skmultimodal.image import ImageLoader
from skmultimodal.persistence import (
    MAX_IMAGE_PIXELS,
    MAX_SEQUENCE_LENGTH,
    MAX_VOCABULARY_SIZE,
    check_loaded,
    load,
    save,
    trusted_types,
)
from skmultimodal.sequence import ArrayColumnStacker, TimeStepReshaper
from skmultimodal.text import TextTfidfVectorizer, TextTokenizer

sio = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

SERIES = [f"t{i}" for i in range(8)]
# TINY with the recurrent branch of the series input.
MODEL = {**TINY, "sequence_units": 4}


def make_pipe(estimator):
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=(16, 16)), "image"),
            ("text", TextTokenizer(max_words=30), "text"),
            ("text_tfidf", TextTfidfVectorizer(max_features=20, dtype=np.float32), "text"),
            ("series", make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=8)), SERIES),
            ("meta", OneHotEncoder(sparse_output=False), ["category"]),
        ]
    )
    return Pipeline([("prep", prep), ("clf", estimator)])


@pytest.fixture(scope="module")
def classifier(small_data):
    X, y = small_data
    return make_pipe(MultiInputKerasClassifier(**MODEL)).fit(X, y)


@pytest.fixture(scope="module")
def regressor(small_data):
    X, _ = small_data
    return make_pipe(MultiInputKerasRegressor(**MODEL)).fit(X, X["t7"].to_numpy())


@pytest.fixture(scope="module")
def user_model(small_data):
    X, y = small_data
    clf = MultiInputKerasClassifier(model=flat_sigmoid_model, epochs=2, random_state=0)
    return make_pipe(clf).fit(X, y)


def skops_trusted_for(obj):
    """Our list, plus the dotted name of a user ``model`` callable when there is one."""
    extra = []
    model = obj.named_steps["clf"].model
    if callable(model):
        extra.append(f"{model.__module__}.{model.__qualname__}")
    return trusted_types() + extra


def round_trip(obj, how, tmp_path):
    if how == "pickle":
        return pickle.loads(pickle.dumps(obj))
    if how == "joblib":
        joblib.dump(obj, tmp_path / "model.joblib")
        return joblib.load(tmp_path / "model.joblib")
    sio.dump(obj, tmp_path / "model.skops")
    return sio.load(tmp_path / "model.skops", trusted=skops_trusted_for(obj))


@pytest.mark.parametrize("how", ["pickle", "joblib", "skops"])
@pytest.mark.parametrize("fitted", ["classifier", "user_model"])
def test_round_trip_gives_identical_probabilities(request, small_data, tmp_path, how, fitted):
    pipe = request.getfixturevalue(fitted)
    X, _ = small_data
    restored = round_trip(pipe, how, tmp_path)
    assert restored is not pipe
    np.testing.assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(
        restored.named_steps["clf"].classes_, pipe.named_steps["clf"].classes_
    )


@pytest.mark.parametrize("how", ["pickle", "joblib", "skops"])
def test_regressor_round_trip_gives_identical_predictions(regressor, small_data, tmp_path, how):
    X, _ = small_data
    restored = round_trip(regressor, how, tmp_path)
    np.testing.assert_array_equal(restored.predict(X), regressor.predict(X))


def test_stored_state_is_plain_data(classifier):
    clf = classifier.named_steps["clf"]
    state = clf.__getstate__()
    assert type(state["model_"]) is bytes and state["model_"][:2] == b"PK"  # a zip archive
    assert not {"_fit_callbacks", "_predict_callbacks", "feature_encoder_"} & set(state)
    assert type(state["history_"]) is dict
    top_modules = {type(value).__module__.split(".")[0] for value in state.values()}
    assert top_modules <= {"builtins", "numpy", "scikeras"}
    # Storing the state does not touch the live estimator.
    assert isinstance(clf.model_, keras.Model) and clf._fit_callbacks == []


def test_loaded_estimator_refits_and_trains_on(classifier, small_data, tmp_path):
    X, y = small_data
    restored = round_trip(classifier, "skops", tmp_path)
    clf = restored.named_steps["clf"]
    clf.partial_fit(restored.named_steps["prep"].transform(X), y)
    assert len(clf.history_["loss"]) == MODEL["epochs"] + 1
    restored.fit(X, y)
    # Same data and random_state: the refit reproduces the original fit.
    np.testing.assert_allclose(
        restored.predict_proba(X), classifier.predict_proba(X), rtol=0, atol=1e-6
    )


def test_unfitted_estimator_round_trips(tmp_path):
    clf = MultiInputKerasClassifier(**MODEL, head_units=(8,))
    restored = round_trip(make_pipe(clf), "skops", tmp_path).named_steps["clf"]
    assert restored.get_params() == clf.get_params()
    assert not hasattr(restored, "model_")


def test_untrusted_types_are_exactly_our_list(classifier, regressor):
    data = sio.dumps({"classifier": classifier, "regressor": regressor})
    # These two do not contain the multi-output target encoder (tests/test_multioutput.py
    # loads a multi-output classifier with the same list), nor SciKeras' regressor target
    # encoder, which regressors saved before target_transform existed hold, nor an
    # ArrayColumnStacker (test_array_cell_pipeline_loads_safely covers one), nor a
    # MaskMissingRows (tests/test_missing.py loads one), nor a SequencePadder and its
    # SequenceLinearScores (tests/test_sequence_padding.py loads them), nor the target
    # encoders' names in files saved by skmultimodal 0.1.0, nor the ensembles and what they hold
    # (tests/test_ensemble.py loads one).
    ensemble_types = {
        name
        for name in trusted_types()
        if name.startswith(("skmultimodal.ensemble.", "sklearn.", "functools."))
        or name == "skmultimodal.auto.ColumnRoles"
    }
    expected = (
        set(trusted_types())
        - ensemble_types
        - {
            "skmultimodal._targets._MultiOutputLabelEncoder",
            "skmultimodal.estimators._MultiOutputLabelEncoder",
            "skmultimodal.estimators._RegressionTargetScaler",
            "scikeras.utils.transformers.RegressorTargetEncoder",
            "skmultimodal.sequence.ArrayColumnStacker",
            "skmultimodal.sequence.SequencePadder",
            "skmultimodal.sequence.SequenceLinearScores",
            "skmultimodal.sequence.sequence_statistics",
            "skmultimodal.text.TextLinearScores",
            "skmultimodal.missing.MaskMissingRows",
        }
    )
    assert set(sio.get_untrusted_types(data=data)) == expected


def test_array_cell_pipeline_loads_safely(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"embedding": list(rng.normal(size=(30, 5))), "x": rng.normal(size=30)})
    y = np.arange(30) % 2
    pipe = Pipeline(
        [
            (
                "prep",
                MultiInputTransformer(
                    [("emb", ArrayColumnStacker(), ["embedding"]), ("num", StandardScaler(), ["x"])]
                ),
            ),
            ("model", MultiInputKerasClassifier(**MODEL)),
        ]
    ).fit(X, y)
    save(pipe, tmp_path / "model.skops")
    untrusted = set(sio.get_untrusted_types(file=tmp_path / "model.skops"))
    assert "skmultimodal.sequence.ArrayColumnStacker" in untrusted
    assert untrusted <= set(trusted_types())
    loaded = load(tmp_path / "model.skops")
    np.testing.assert_allclose(loaded.predict_proba(X), pipe.predict_proba(X), atol=1e-6)


def test_user_model_callable_is_the_only_extra_type(user_model, tmp_path):
    sio.dump(user_model, tmp_path / "model.skops")
    untrusted = set(sio.get_untrusted_types(file=tmp_path / "model.skops"))
    assert untrusted - set(trusted_types()) == {"_settings.flat_sigmoid_model"}
    with pytest.raises(UntrustedTypesFoundException, match="flat_sigmoid_model"):
        sio.load(tmp_path / "model.skops", trusted=trusted_types())


# Functions skops stores by name: the ensembles' FunctionTransformer steps, and what a
# fitted HistGradientBoosting member holds.
TRUSTED_FUNCTIONS = {
    "skmultimodal.ensemble._pixels_on_white",
    "skmultimodal.ensemble._text_of",
    "skmultimodal.sequence.sequence_statistics",
    "sklearn.utils.validation.check_array",
}


def test_trusted_names_are_our_real_classes():
    names = trusted_types()
    assert names == sorted(names)
    for name in names:
        module, _, attribute = name.rpartition(".")
        obj = getattr(importlib.import_module(module), attribute)
        if name in TRUSTED_FUNCTIONS:
            assert callable(obj) and not isinstance(obj, type), name
        else:
            assert isinstance(obj, type), name


@pytest.mark.parametrize("version, warns", [("3.13.2", True), ("3.14.0", False), ("4.0", False)])
def test_trusted_types_warns_with_a_keras_whose_safe_mode_has_bypasses(monkeypatch, version, warns):
    from skmultimodal import persistence

    monkeypatch.setattr(persistence, "_installed_keras_version", lambda: version)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = trusted_types()
    messages = [str(w.message) for w in caught]
    assert names == sorted(names)
    if warns:
        assert len(messages) == 1 and messages[0].startswith(f"Keras {version} is installed")
    else:
        assert messages == []


def test_loading_without_trusting_our_types_is_refused(classifier, tmp_path):
    sio.dump(classifier, tmp_path / "model.skops")
    with pytest.raises(UntrustedTypesFoundException, match="MultiInputKerasClassifier"):
        sio.load(tmp_path / "model.skops", trusted=[])


def _replace_in_schema(data: bytes, edit) -> bytes:
    """Rewrite ``schema.json`` of a skops archive, as an attacker editing the file would."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(content)
                edit(schema)
                content = json.dumps(schema).encode()
            target.writestr(item, content)
    return out.getvalue()


def _find_node(node, class_name):
    if isinstance(node, dict):
        if node.get("__class__") == class_name:
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_node(child, class_name)
        if found is not None:
            return found
    return None


def test_crafted_file_with_a_dangerous_callable_is_refused(classifier, small_data):
    X, _ = small_data
    # What skops writes for a reference to os.system.
    system_node = json.loads(
        zipfile.ZipFile(io.BytesIO(sio.dumps([os.system]))).read("schema.json")
    )["content"][0]

    def plant_system_as_model(schema):
        estimator = _find_node(schema, "MultiInputKerasClassifier")
        estimator["content"]["content"]["model"] = system_node

    crafted = _replace_in_schema(sio.dumps(classifier), plant_system_as_model)
    assert f"{os.system.__module__}.system" in sio.get_untrusted_types(data=crafted)
    with pytest.raises(UntrustedTypesFoundException, match="system"):
        sio.loads(crafted, trusted=trusted_types())
    # The untouched file still loads.
    restored = sio.loads(sio.dumps(classifier), trusted=trusted_types())
    np.testing.assert_array_equal(restored.predict_proba(X), classifier.predict_proba(X))


def test_model_bytes_with_python_code_are_refused_by_keras_safe_mode(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3).astype(np.float32)
    clf = MultiInputKerasClassifier(tabular_units=2, epochs=1, random_state=0)
    clf.fit(X, (X[:, 0] > 0.5).astype(int))
    # Bytes are trusted by skops; the code a Lambda layer carries must not run on load.
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1)(keras.layers.Lambda(lambda x: x * 2)(inputs))
    clf.model_ = keras.Model(inputs, outputs)
    data = sio.dumps(clf)
    assert sorted(sio.get_untrusted_types(data=data)) == [
        "numpy.dtype",
        "scikeras.utils.transformers.ClassifierLabelEncoder",
        "scikeras.utils.transformers.TargetReshaper",
        "skmultimodal.estimators.MultiInputKerasClassifier",
    ]
    with pytest.raises(ValueError, match="cannot be restored in Keras' safe mode") as error:
        sio.loads(data, trusted=trusted_types())
    assert "Lambda" in str(error.value)
    with pytest.raises(ValueError, match="safe mode"):
        pickle.loads(pickle.dumps(clf))


def test_callback_parameter_is_stored_without_its_model():
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    clf = MultiInputKerasClassifier(tabular_units=2, epochs=2, callbacks=[stopper])
    clf.fit(X, y)
    assert stopper.model is clf.model_  # Keras links the callback to the model it trains
    data = sio.dumps(clf)
    extra = set(sio.get_untrusted_types(data=data)) - set(trusted_types())
    # The callback is a user object: its Keras types need trusting, nothing else does.
    assert f"{type(stopper).__module__}.EarlyStopping" in extra
    assert all(name.startswith("keras.") for name in extra)
    restored = sio.loads(data, trusted=trusted_types() + sorted(extra))
    assert restored.callbacks[0].patience == 1 and restored.callbacks[0].model is None
    assert stopper.model is clf.model_
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.fit(X, y)
    assert restored.callbacks[0].model is restored.model_


def test_deepcopy_and_clone_still_work(classifier, small_data):
    X, _ = small_data
    copied = copy.deepcopy(classifier)
    np.testing.assert_array_equal(copied.predict_proba(X), classifier.predict_proba(X))
    assert copied.named_steps["clf"].model_ is not classifier.named_steps["clf"].model_
    assert not hasattr(clone(classifier).named_steps["clf"], "model_")


# -- crafted files of trusted types with sizes no fit makes (issue #14) ---------------------
def crafted_tokenizer(**attributes):
    tokenizer = TextTokenizer().fit(["a cat", "a dog"])
    vars(tokenizer).update(attributes)
    return tokenizer


def fitted_reshaper(**attributes):
    reshaper = TimeStepReshaper(timesteps=2).fit(np.zeros((2, 4)))
    vars(reshaper).update(attributes)
    return reshaper


@pytest.mark.parametrize(
    "crafted, message",
    [
        (
            crafted_tokenizer(max_len_=10**11),
            r"TextTokenizer has max_len_=100000000000, beyond MAX_SEQUENCE_LENGTH = 1,000,000",
        ),
        (
            crafted_tokenizer(vocabulary_size_=10**10),
            r"vocabulary_size_=10000000000, beyond MAX_VOC",
        ),
        (
            ImageLoader(target_size=(100000, 100000)),
            r"ImageLoader has target_size=\(100000, 100000\), beyond MAX_IMAGE_PIXELS",
        ),
        (ImageLoader(target_size=(8, 8)).fit(["x.png"]), None),
        (fitted_reshaper(), None),
        (crafted_tokenizer(), None),
        (
            fitted_reshaper(output_shape_=(2, 10**6)),
            r"output_shape_=\(2, 1000000\), beyond a \(timesteps",
        ),
    ],
)
def test_load_refuses_crafted_sizes_of_trusted_types(crafted, message, tmp_path):
    # Inside a pipeline, as in a real file: the whole object is walked.
    pipe = Pipeline([("step", crafted), ("scale", StandardScaler())])
    save(pipe, tmp_path / "crafted.skops")
    if message is None:
        assert type(load(tmp_path / "crafted.skops").steps[0][1]) is type(crafted)
        return
    with pytest.raises(ValueError, match=message + ".*Refit the model instead"):
        load(tmp_path / "crafted.skops")


def test_crafted_image_output_shape_is_refused():
    loader = ImageLoader(target_size=(8, 8)).fit(["x.png"])
    loader.output_shape_ = (8, 8, 10**6)
    with pytest.raises(ValueError, match=r"output_shape_=\(8, 8, 1000000\), beyond a \(height"):
        check_loaded(loader)
    loader.output_shape_ = (10**5, 10**5, 3)
    with pytest.raises(ValueError, match="output_shape_=.*MAX_IMAGE_PIXELS"):
        check_loaded(loader)


def test_crafted_vocabulary_of_a_keras_estimator_is_refused(classifier, tmp_path):
    crafted = pickle.loads(pickle.dumps(classifier))
    crafted.named_steps["clf"].vocabulary_sizes_["text"] = 10**9
    save(crafted, tmp_path / "crafted.skops")
    with pytest.raises(ValueError, match=r"vocabulary_sizes_\['text'\]=1000000000, beyond"):
        load(tmp_path / "crafted.skops")


def test_load_returns_a_normal_pipeline_unchanged(classifier, small_data, tmp_path):
    X, _ = small_data
    save(classifier, tmp_path / "model.skops")
    restored = load(tmp_path / "model.skops")
    np.testing.assert_array_equal(restored.predict_proba(X), classifier.predict_proba(X))


def test_bounds_are_documented_constants():
    from skmultimodal import estimators

    assert MAX_VOCABULARY_SIZE == estimators.MAX_VOCABULARY_SIZE
    assert MAX_SEQUENCE_LENGTH >= 100_000 and MAX_IMAGE_PIXELS >= 4096 * 4096
