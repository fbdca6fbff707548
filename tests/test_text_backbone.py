"""Pretrained keras-hub text encoders: BackboneTokenizer, the cached TextEmbedder and the
estimators' text_backbone. Every backbone is a tiny BERT built here with a local
vocabulary and saved as a local preset: nothing is downloaded."""

import os
import pickle
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

keras_hub = pytest.importorskip("keras_hub", reason="keras-hub (the [text] extra) is not installed")
keras = pytest.importorskip("keras")

import skmultimodal.text_backbone as text_backbone  # noqa: E402
from skmultimodal import (  # noqa: E402
    BackboneTokenizer,
    MultiInputKerasClassifier,
    MultiInputTransformer,
    TextEmbedder,
    TextTokenizer,
)
from skmultimodal.text_backbone import backbone_texts_seen  # noqa: E402

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = (
    "the a an this that film movie plot actor actress scene story music ending cast "
    "good great fine superb lovely bad awful poor dull boring was is were and but "
    "very really quite not so too it its of in on with"
).split()
VOCABULARY = SPECIAL + WORDS
SEQUENCE_LENGTH = 12
HIDDEN = 16


def save_tiny_bert(folder, seed=0, vocabulary=VOCABULARY):
    """A 2-layer BERT (hidden 16) with weights drawn from ``seed``, saved with its
    tokenizer as a keras-hub preset in ``folder``; returns the backbone."""
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=2,
        num_heads=2,
        hidden_dim=HIDDEN,
        intermediate_dim=32,
        max_sequence_length=32,
    )
    rng = np.random.RandomState(seed)
    backbone.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") for w in backbone.weights])
    backbone.save_to_preset(str(folder))
    keras_hub.models.BertTokenizer(vocabulary=vocabulary).save_to_preset(str(folder))
    return backbone


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """A tiny BERT preset folder, built once per module and test process."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    save_tiny_bert(folder)
    return str(folder)


def weights_by_path(model):
    return {w.path: np.asarray(w) for w in model.weights}


def sequence_weights(preset):
    """The preset backbone's weights that feed its sequence output (all but BERT's
    ``pooled_dense``, which the mean pooling does not use), by variable path."""
    weights = weights_by_path(keras_hub.models.Backbone.from_preset(preset))
    return {path: w for path, w in weights.items() if not path.startswith("pooled_dense/")}


def reviews(n=40, seed=0):
    """Short texts of the vocabulary's words; the label is whether a positive word is in."""
    rng = np.random.RandomState(seed)
    texts = [" ".join(rng.choice(WORDS, rng.randint(3, 9))) for _ in range(n)]
    positive = {"good", "great", "fine", "superb", "lovely"}
    y = np.array([bool(positive & set(text.split())) for text in texts], dtype=int)
    X = pd.DataFrame({"review": texts, "title": texts[::-1], "stars": rng.rand(n)})
    return X, y


def backbone_pipeline(preset, columns=("review",), **params):
    steps = [(c, BackboneTokenizer(preset, sequence_length=SEQUENCE_LENGTH), c) for c in columns]
    steps.append(("stars", "passthrough", ["stars"]))
    # Eager: a tiny BERT traces for seconds and then trains in milliseconds.
    clf = MultiInputKerasClassifier(
        text_backbone=preset,
        tabular_units=4,
        epochs=2,
        batch_size=64,
        random_state=0,
        run_eagerly=True,
    )
    pipe = Pipeline([("prep", MultiInputTransformer(steps)), ("clf", clf)])
    return pipe.set_params(**params)


# -- BackboneTokenizer ------------------------------------------------------------------
def test_tokenizer_gives_the_presets_ids_and_pickles(preset):
    X = pd.DataFrame({"review": ["good movie", None, "bad bad bad film"]})
    tokenizer = BackboneTokenizer(preset, sequence_length=8).fit(X)
    ids = tokenizer.transform(X)
    good, movie, bad, film = (VOCABULARY.index(w) for w in ("good", "movie", "bad", "film"))
    np.testing.assert_array_equal(
        ids,
        [
            [2, good, movie, 3, 0, 0, 0, 0],  # [CLS] good movie [SEP], padded with [PAD]
            [2, 3, 0, 0, 0, 0, 0, 0],  # a missing text is an empty text
            [2, bad, bad, bad, film, 3, 0, 0],
        ],
    )
    assert ids.dtype == np.int32
    assert (tokenizer.vocabulary_size_, tokenizer.pad_token_id_) == (len(VOCABULARY), 0)
    restored = pickle.loads(pickle.dumps(tokenizer))
    assert "_preprocessor" not in vars(restored)
    np.testing.assert_array_equal(restored.transform(X[:1]), ids[:1])


# The test ids are the estimators' reprs: they must be the same in every pytest-xdist
# worker, so the estimators name a placeholder and get the worker's own preset folder here.
@parametrize_with_checks(
    [
        BackboneTokenizer("tiny-bert-preset", sequence_length=SEQUENCE_LENGTH),
        TextEmbedder("tiny-bert-preset", sequence_length=SEQUENCE_LENGTH),
    ]
)
def test_sklearn_compatible_estimator(estimator, check, preset):
    parameter = "preset" if isinstance(estimator, BackboneTokenizer) else "backbone"
    check(estimator.set_params(**{parameter: preset}))


# -- TextEmbedder -----------------------------------------------------------------------
def test_embeddings_are_cached_by_text(preset, tmp_path):
    X, _ = reviews(20)
    texts = [*X["review"], X["review"][0]]  # one text twice
    cache = tmp_path / "cache"
    embedder = TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH, cache_dir=cache).fit(texts)
    start = backbone_texts_seen()
    first = embedder.transform(texts)
    assert first.shape == (21, HIDDEN) and first.dtype == np.float32
    assert backbone_texts_seen() - start == 20  # each distinct text once
    np.testing.assert_array_equal(first[20], first[0])
    # Read back (another order, another embedder of the same preset): no backbone pass.
    again = TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH, cache_dir=cache).fit(texts)
    np.testing.assert_array_equal(again.transform(texts[::-1]), first[::-1])
    assert backbone_texts_seen() - start == 20
    entries = [name for _, _, files in os.walk(cache) for name in files]
    assert len(entries) == 20 and all(name.endswith(".f4") for name in entries)
    # An uncached embedder computes the same numbers.
    fresh = TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH).fit(texts)
    np.testing.assert_allclose(fresh.transform(texts[:3]), first[:3], rtol=1e-5, atol=1e-6)


def test_another_preset_or_length_misses_the_cache(preset, tmp_path):
    other = tmp_path / "other"
    save_tiny_bert(other, seed=1)
    texts = ["good movie", "bad plot"]
    keys = {
        TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH).fit(texts).backbone_key_,
        TextEmbedder(str(other), sequence_length=SEQUENCE_LENGTH).fit(texts).backbone_key_,
        TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH + 1).fit(texts).backbone_key_,
    }
    assert len(keys) == 3
    a = TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH, cache_dir=tmp_path / "c")
    b = TextEmbedder(str(other), sequence_length=SEQUENCE_LENGTH, cache_dir=tmp_path / "c")
    assert not np.allclose(a.fit_transform(texts), b.fit_transform(texts))
    with pytest.raises(ValueError, match="sequence_length changed since fit"):
        a.set_params(sequence_length=8).transform(texts)


def test_search_embeds_each_text_once(preset, tmp_path):
    X, y = reviews(40)
    pipe = make_pipeline(
        TextEmbedder(preset, sequence_length=SEQUENCE_LENGTH, cache_dir=tmp_path / "cache"),
        LogisticRegression(),
    )
    # 4 candidates x 5 folds: 20 fits and 20 scorings, each of all or part of the texts.
    search = GridSearchCV(pipe, {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}, cv=5)
    start = backbone_texts_seen()
    search.fit(X[["review"]], y)
    assert backbone_texts_seen() - start == X["review"].nunique()


# -- text_backbone in the estimators ----------------------------------------------------
def test_pipeline_fits_searches_clones_and_pickles(preset):
    X, y = reviews(40)
    pipe = backbone_pipeline(preset)
    scores = cross_val_score(pipe, X, y, cv=KFold(2))
    assert scores.shape == (2,) and np.isfinite(scores).all()
    search = GridSearchCV(clone(pipe), {"clf__tabular_units": [4]}, cv=KFold(2)).fit(X, y)
    fitted = search.best_estimator_
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    # Restored frozen: a warm start would train the head only, as before pickling.
    assert not restored[-1].model_.get_layer("text_backbone").trainable_weights
    assert len(restored[-1].model_.trainable_weights) == len(fitted[-1].model_.trainable_weights)


class _Snapshot(keras.callbacks.Callback):
    """The weights of the text backbone when training begins."""

    def on_train_begin(self, logs=None):
        self.weights = weights_by_path(self.model.get_layer("text_backbone"))


def test_preset_weights_load_intact_and_stay_frozen(preset):
    X, y = reviews(40)
    snapshot = _Snapshot()
    # In graph mode (run_eagerly=False), as users train.
    pipe = backbone_pipeline(
        preset, clf__callbacks=[snapshot], clf__epochs=3, clf__run_eagerly=False
    ).fit(X, y)
    saved = sequence_weights(preset)
    net = pipe[-1].model_.get_layer("text_backbone")
    assert not net.trainable and not net.trainable_weights
    after = weights_by_path(net)
    assert sorted(snapshot.weights) == sorted(after) == sorted(saved) and len(saved) > 30
    for path, expected in saved.items():
        np.testing.assert_array_equal(snapshot.weights[path], expected)
        np.testing.assert_array_equal(after[path], expected)


def test_trainable_backbone_learns(preset):
    X, y = reviews(40)
    top = backbone_pipeline(preset, clf__text_backbone_trainable=1, clf__epochs=1).fit(X, y)
    net = top[-1].model_.get_layer("text_backbone")
    trained = [layer.name for layer in net.layers if layer.trainable_weights]
    assert trained == ["transformer_layer_1"]  # the top layer under the pooling
    every = backbone_pipeline(preset, clf__text_backbone_trainable=True, clf__epochs=2).fit(X, y)
    saved = sequence_weights(preset)
    after = weights_by_path(every[-1].model_.get_layer("text_backbone"))
    changed = [path for path in saved if not np.array_equal(after[path], saved[path])]
    assert any(p.startswith("token_embedding") for p in changed)
    assert any(p.startswith("transformer_layer_1") for p in changed)


def test_text_columns_share_one_backbone(preset):
    X, y = reviews(24)
    pipe = backbone_pipeline(preset, columns=("review", "title"), clf__epochs=1).fit(X, y)
    model = pipe[-1].model_
    feeds = [layer for layer in model.layers if type(layer).__name__ == "TextBackboneInputs"]
    assert len(feeds) == 2  # two inputs ...
    backbones = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert [b.name for b in backbones] == ["text_backbone"]  # ... one backbone
    assert sorted(weights_by_path(backbones[0])) == sorted(sequence_weights(preset))


def test_keras_model_backbone_is_copied_not_modified(preset):
    X, y = reviews(24)
    user_model = keras_hub.models.Backbone.from_preset(preset)
    before = [w.copy() for w in user_model.get_weights()]
    pipe = backbone_pipeline(
        preset, clf__text_backbone=user_model, clf__text_backbone_trainable=True, clf__epochs=1
    ).fit(X, y)
    assert pipe[-1].model_.get_layer("text_backbone") is not user_model
    for after, expected in zip(user_model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(after, expected)
    copy = clone(pipe[-1])
    assert copy.text_backbone is not user_model
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(restored.predict_proba(X), pipe.predict_proba(X), atol=1e-6)


# -- errors -----------------------------------------------------------------------------
def test_preset_name_offline_is_one_clear_error(preset, monkeypatch, tmp_path):
    import kagglehub
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError(
            "Max retries exceeded (Failed to resolve 'api.kaggle.com')"
        )

    monkeypatch.setattr(kagglehub, "model_download", offline)
    monkeypatch.setattr(text_backbone, "_UNFETCHED", {})
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))
    X, y = reviews(8)
    ids = BackboneTokenizer(preset, sequence_length=SEQUENCE_LENGTH).fit_transform(X["review"])
    clf = MultiInputKerasClassifier(text_backbone="bert_tiny_en_uncased", epochs=1)
    for _ in range(2):  # the second fit fails at once, with the same message
        with pytest.raises(OSError) as caught:
            clf.fit({"review": ids}, y)
        message = str(caught.value)
        assert "\n" not in message
        assert "text_backbone='bert_tiny_en_uncased' is a keras-hub preset name" in message
        assert "no network access (ConnectionError: Failed to resolve 'api.kaggle.com')" in message
        assert str(tmp_path / "kaggle") in message
        assert "save_to_preset(folder)" in message and "text_backbone='path/to/folder'" in message
    with pytest.raises(OSError, match="preset='bert_tiny_en_uncased' is a keras-hub preset"):
        BackboneTokenizer("bert_tiny_en_uncased").fit(X["review"])


def test_errors_name_the_parameter_and_the_remedy(preset, monkeypatch):
    X, y = reviews(16)
    with pytest.raises(ValueError, match="preset='./nowhere' names a folder that does not"):
        backbone_pipeline("./nowhere").fit(X, y)
    ids = BackboneTokenizer(preset, sequence_length=SEQUENCE_LENGTH).fit_transform(X["review"])
    with pytest.raises(ValueError, match="text_backbone='./nowhere' names a folder that does"):
        MultiInputKerasClassifier(text_backbone="./nowhere").fit({"review": ids}, y)
    with pytest.raises(ValueError, match="text_backbone_trainable must be True, False or"):
        backbone_pipeline(preset, clf__text_backbone_trainable=-1).fit(X, y)
    # Ids of another vocabulary (TextTokenizer's) are refused, naming the input.
    many = pd.DataFrame({"review": [" ".join(f"w{i}" for i in range(80))] * 4, "stars": 0.5})
    pipe = backbone_pipeline(preset)
    pipe.steps[0] = (
        "prep",
        MultiInputTransformer(
            [("review", TextTokenizer(), "review"), ("stars", "passthrough", ["stars"])]
        ),
    )
    with pytest.raises(ValueError, match="Input 'review' holds token ids up to 81, but"):
        pipe.fit(many, [0, 1, 0, 1])
    monkeypatch.setitem(sys.modules, "keras_hub", None)
    with pytest.raises(ImportError, match=r'pip install "skmultimodal\[text\]"'):
        TextEmbedder(preset).fit(["good"])


def test_make_multimodal_pipeline_routes_text_backbone(preset):
    from skmultimodal.auto import make_multimodal_pipeline

    X, y = reviews(30)
    X = X[["review", "stars"]]
    params = dict(epochs=1, batch_size=64, run_eagerly=True, head_units=())
    pipe = make_multimodal_pipeline(
        X,
        y,
        roles={"review": "text", "stars": "numeric"},
        text_backbone=preset,
        model_params=params,
        tfidf_features=None,
        text_scores=False,
        random_state=0,
    )
    steps = {name: step for name, step, _ in pipe.named_steps["prep"].transformers}
    assert isinstance(steps["text"], BackboneTokenizer)
    # 128 tokens, cut to what the tiny BERT reads (max_sequence_length=32).
    assert (steps["text"].preset, steps["text"].sequence_length) == (preset, 32)
    assert pipe.named_steps["clf"].text_backbone == preset
    assert pipe.fit(X, y).predict_proba(X).shape == (30, 2)
    assert pipe.named_steps["clf"].model_.get_layer("text_backbone").trainable is False
    with pytest.raises(ValueError, match="does not take on_missing='mask'"):
        make_multimodal_pipeline(X, y, text_backbone=preset, on_missing="mask")
    with pytest.raises(TypeError, match="needs a keras-hub preset"):
        make_multimodal_pipeline(X, y, text_backbone=keras_hub.models.Backbone.from_preset(preset))


def test_export_puts_the_tokenizer_in_the_graph(preset, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer's ops for loading)

    from skmultimodal import export

    X, y = reviews(24)
    X.loc[3, "review"] = None  # a missing text: "" in the graph
    pipe = backbone_pipeline(preset, clf__epochs=1).fit(X, y)
    folder = export(pipe, tmp_path / "served")
    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
    texts = X["review"].fillna("").tolist()
    served = serve(review=tf.constant(texts), stars=tf.constant(X["stars"], tf.float64))
    np.testing.assert_allclose(
        served["probabilities"].numpy(), pipe.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_regressor_reads_the_same_backbone(preset):
    from skmultimodal import MultiInputKerasRegressor

    X, _ = reviews(24)
    ids = BackboneTokenizer(preset, sequence_length=SEQUENCE_LENGTH).fit_transform(X["review"])
    reg = MultiInputKerasRegressor(
        text_backbone=preset, epochs=1, batch_size=64, random_state=0, run_eagerly=True
    ).fit({"review": ids}, X["stars"].to_numpy())
    assert reg.predict({"review": ids}).shape == (24,)
    assert (
        weights_by_path(reg.model_.get_layer("text_backbone")).keys()
        == sequence_weights(preset).keys()
    )
    # Every id of the backbone's vocabulary is accepted at predict time, seen in fit or not.
    unseen = np.full_like(ids[:2], len(VOCABULARY) - 1)
    assert reg.vocabulary_sizes_ == {"review": len(VOCABULARY)}
    assert reg.predict({"review": unseen}).shape == (2,)
