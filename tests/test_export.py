"""export: the fitted pipeline as a SavedModel served by a process that imports only
TensorFlow, matching predict_proba."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _settings import SMALLEST, TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

pytest.importorskip("tensorflow")

from skmultimodal import (  # noqa: E402
    ImageLoader,
    MultiInputKerasClassifier,
    MultiInputTransformer,
    TextTokenizer,
    export,
)
from skmultimodal.auto import make_multimodal_pipeline  # noqa: E402

SERVE = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Refuse(importlib.abc.MetaPathFinder):
        # The serving process cannot import skmultimodal or SciKeras at all.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("skmultimodal", "scikeras"):
                raise ImportError(f"{name} is not available when serving")

    sys.meta_path.insert(0, Refuse())
    import numpy as np
    import tensorflow as tf

    folder, image_input = sys.argv[1], sys.argv[2]
    columns = json.load(open(folder + "/columns.json"))
    serve = tf.saved_model.load(folder + "/model_" + image_input).signatures["serving_default"]
    inputs = {}
    for name, values in columns.items():
        if name == "image":
            if image_input == "pixels":
                inputs[name] = tf.constant(np.load(folder + "/pixels.npy"))
            else:
                inputs[name] = tf.constant([open(p, "rb").read() for p in values])
        elif isinstance(values[0], str):
            inputs[name] = tf.constant(values)
        else:
            inputs[name] = tf.constant(values, dtype=tf.float64)
    proba = serve(**inputs)["probabilities"].numpy()
    loaded = sorted(m.split(".")[0] for m in sys.modules)
    np.save(folder + "/proba_" + image_input + ".npy", proba)
    json.dump({"scikeras": "scikeras" in loaded, "skmultimodal": "skmultimodal" in loaded},
              open(folder + "/modules_" + image_input + ".json", "w"))
    """
)


@pytest.fixture(scope="module")
def fitted(multimodal_data):
    X, y = multimodal_data
    series = [f"t{i}" for i in range(8)]
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=(16, 16)), "image"),
            ("text", TextTokenizer(max_words=40, max_len=12), "text"),
            ("series", StandardScaler(), series),
            ("category", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), ["category"]),
        ]
    )
    pipe = Pipeline([("prep", prep), ("clf", MultiInputKerasClassifier(**TINY))])
    return pipe.fit(X, y), X


def serve_in_tensorflow_only_process(folder, image_input):
    subprocess.run(
        [sys.executable, "-c", SERVE, str(folder), image_input],
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    modules = json.loads((folder / f"modules_{image_input}.json").read_text())
    assert modules == {"scikeras": False, "skmultimodal": False}
    return np.load(folder / f"proba_{image_input}.npy")


def test_exported_model_reproduces_predict_proba(fitted, tmp_path):
    pipe, X = fitted
    rows = X.iloc[:50]
    expected = pipe.predict_proba(rows)
    columns = {c: rows[c].tolist() for c in rows.columns}
    (tmp_path / "columns.json").write_text(json.dumps(columns))
    np.save(
        tmp_path / "pixels.npy", pipe["prep"].named_transformers_["image"].transform(rows["image"])
    )
    export(pipe, tmp_path / "model_pixels", image_input="pixels")
    export(pipe, tmp_path / "model_bytes")

    proba = serve_in_tensorflow_only_process(tmp_path, "pixels")
    assert proba.shape == expected.shape
    np.testing.assert_allclose(proba, expected, atol=1e-4, rtol=0)
    # Encoded files decoded and resized by TensorFlow: close to Pillow's, not exact.
    proba_bytes = serve_in_tensorflow_only_process(tmp_path, "bytes")
    print("max abs difference, pixels:", np.abs(proba - expected).max())
    print("max abs difference, encoded files:", np.abs(proba_bytes - expected).max())
    assert np.abs(proba_bytes - expected).max() < 0.05


def test_in_graph_tokenisation_matches_text_tokenizer():
    import tensorflow as tf

    from skmultimodal.export import _text_graph

    texts = [
        "The cat sat.",
        "Don't stop, DON'T! tabs\tand\nlines",
        "",
        "我爱猫 great😀👍🏽 x",
        "a b c d e f g h i j k l m n o p",
        "Émile écrit",
        "GOOD\x00FIT",  # a NUL splits words, and the text goes on after it
        "\x00",
    ]
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            tokenizer = TextTokenizer(max_len=5, padding=padding, truncating=truncating)
            tokenizer.fit(texts + ["cat cat the a"])
            graph = _text_graph(tokenizer, tf)(tf.constant(texts)).numpy()
            np.testing.assert_array_equal(graph, tokenizer.transform(texts))


def test_export_refuses_an_unknown_step_by_name(small_data, tmp_path):
    X, y = small_data
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(), "text"),
            ("num", FunctionTransformer(np.log1p), ["t0"]),
        ]
    )
    pipe = Pipeline([("prep", prep), ("clf", MultiInputKerasClassifier(**TINY))])
    pipe.fit(X.assign(t0=X["t0"].abs()), y)
    with pytest.raises(ValueError, match=r"step 'num' \(columns \['t0'\]\).*FunctionTransformer"):
        export(pipe, tmp_path / "model")


def test_export_refuses_presence_masks_by_step(small_data, tmp_path):
    X, y = small_data
    prep = MultiInputTransformer([("text", TextTokenizer(on_missing="mask"), "text")])
    pipe = Pipeline([("prep", prep), ("clf", MultiInputKerasClassifier(**TINY))])
    pipe.fit(X.assign(text=X["text"].where(X.index % 3 > 0)), y)
    with pytest.raises(ValueError, match=r"step 'text'.*on_missing='mask'"):
        export(pipe, tmp_path / "model")


# Accents, a combining mark, dotted capital I, CJK, emoji, Greek sigma, superscript two,
# punctuation and Unicode whitespace (tab, newline, ideographic space, no-break space).
TEXT_ALPHABET = "\x00ab Ab_1é\u0301İ猫 .,'\t\n\u3000\xa0-😀ΣσΩ²"
TFIDF_SETTINGS = [
    dict(ngram_range=(1, 2)),
    dict(ngram_range=(1, 3), stop_words="english", sublinear_tf=True),
    dict(ngram_range=(2, 2), binary=True, norm="l1", lowercase=False),
    dict(use_idf=False, norm=None, max_features=12),
    dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    dict(analyzer="char_wb", ngram_range=(5, 6)),
    dict(analyzer="char", ngram_range=(1, 3), lowercase=False),
]


@pytest.mark.parametrize("params", TFIDF_SETTINGS, ids=lambda p: ",".join(map(str, p)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=TEXT_ALPHABET, max_size=30), min_size=1, max_size=6))
def test_in_graph_tfidf_matches_the_vectorizer(params, texts):
    import tensorflow as tf

    from skmultimodal.export import _tfidf_graph
    from skmultimodal.text import TextTfidfVectorizer

    corpus = texts + ["ab ab_1 the cat", "Émile écrit ΣΑΣ σας", "猫猫 and İstanbul"]
    vectorizer = TextTfidfVectorizer(dtype=np.float32, **params).fit(corpus)
    graph = _tfidf_graph("text_tfidf", vectorizer, ["text"], tf)(tf.constant(texts)).numpy()
    np.testing.assert_allclose(graph, vectorizer.transform(texts).toarray(), atol=1e-6)


@pytest.mark.parametrize(
    "param, value",
    [("analyzer", str.split), ("token_pattern", r"\S+"), ("strip_accents", "ascii")],
)
def test_export_refuses_an_unreplicated_tfidf_setting_by_name(small_data, tmp_path, param, value):
    from skmultimodal.text import TextTfidfVectorizer

    X, y = small_data
    prep = MultiInputTransformer(
        [("words", TextTfidfVectorizer(**{param: value}, dtype=np.float32), "text")]
    )
    pipe = Pipeline([("prep", prep), ("clf", MultiInputKerasClassifier(**SMALLEST))])
    pipe.fit(X, y)
    with pytest.raises(ValueError, match=rf"step 'words' \(columns \['text'\]\).*{param}="):
        export(pipe, tmp_path / "model")


def test_the_default_pipeline_exports_with_its_tfidf_input(multimodal_data, tmp_path):
    import tensorflow as tf

    X, y = multimodal_data
    columns = ["image", "text", "t0", "category"]
    pipe = make_multimodal_pipeline(X[columns], y, model_params=SMALLEST).fit(X[columns], y)
    assert "text_tfidf" in pipe["prep"].named_transformers_
    serve = tf.saved_model.load(str(export(pipe, tmp_path / "model")))
    serve = serve.signatures["serving_default"]
    rows = X[columns].iloc[:60]
    proba = serve(
        image=tf.constant([open(path, "rb").read() for path in rows["image"]]),
        text=tf.constant(rows["text"].tolist()),
        t0=tf.constant(rows["t0"].to_numpy(), tf.float64),
        category=tf.constant(rows["category"].astype(str).tolist()),
    )["probabilities"].numpy()
    # Images decoded by TensorFlow rather than Pillow: close, not exact (see above).
    assert np.abs(proba - pipe.predict_proba(rows)).max() < 0.05


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_in_graph_linear_scores_match_the_transformer(kind):
    import tensorflow as tf

    from skmultimodal.export import _linear_scores_graph
    from skmultimodal.text import TextLinearScores

    rng = np.random.default_rng(0)
    words = np.array(["apple", "pear", "wheel", "brake", "wing", "nest", "Émile", "猫", "the"])
    texts = [" ".join(rng.choice(words, 3)) for _ in range(60)]
    target = {
        "binary": np.array(["apple" in t or "pear" in t for t in texts]),
        "multiclass": rng.choice(["a", "b", "c"], 60),
        "regression": rng.normal(size=60) + np.array(["wing" in t for t in texts]) * 3.0,
    }[kind]
    scores = TextLinearScores(cv=3, random_state=0).fit(texts, target)
    unseen = texts[:10] + ["", "zebra", "APPLE pear!", "猫猫 nest"]
    graph = _linear_scores_graph("text_scores", scores, ["text"], tf)(tf.constant(unseen))
    np.testing.assert_allclose(graph.numpy(), scores.transform(unseen), atol=1e-4)


def test_a_pipeline_with_text_scores_exports(multimodal_data, tmp_path):
    import tensorflow as tf

    X, y = multimodal_data
    columns = ["text", "t0"]
    params = {**SMALLEST, "early_stopping": True}
    pipe = make_multimodal_pipeline(X[columns], y, model_params=params, text_scores=True)
    pipe.fit(X[columns], y)
    assert "text_scores" in pipe["prep"].named_transformers_
    # The blend of the network's and the scores' logits is part of the exported model.
    assert pipe["clf"].blend_rows_ > 0
    pipe["clf"].model_.get_layer("output_blend").blend_weights.assign([0.6, 0.8])
    serve = tf.saved_model.load(str(export(pipe, tmp_path / "model")))
    rows = X[columns].iloc[:60]
    proba = serve.signatures["serving_default"](
        text=tf.constant(rows["text"].tolist()),
        t0=tf.constant(rows["t0"].to_numpy(), tf.float64),
    )["probabilities"].numpy()
    np.testing.assert_allclose(proba, pipe.predict_proba(rows), atol=1e-4)
