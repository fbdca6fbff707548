"""Sparse tabular inputs: TF-IDF or one-hot matrices reach Keras without being densified."""

import pickle

import numpy as np
import pandas as pd
import pytest
from _settings import UNITS
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from skmultimodal.compose import MultiInputTransformer
from skmultimodal.estimators import MultiInputKerasClassifier
from skmultimodal.text import TextTokenizer

# UNITS, three epochs, the default batch size.
MODEL = {**UNITS, "epochs": 3, "random_state": 0}
WORDS = np.array(["good", "great", "fine", "bad", "poor", "awful"])


@pytest.fixture(scope="module")
def table():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 120)
    texts = [" ".join(rng.choice(WORDS[:3] if label else WORDS[3:], 4)) for label in y]
    return pd.DataFrame({"text": texts, "shop": rng.choice(list("abc"), 120)}), y


def make_pipe(**params):
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(), "text"),
            ("tfidf", TfidfVectorizer(), "text"),
            ("shop", OneHotEncoder(), ["shop"]),  # sparse_output=True, the default
        ]
    )
    return Pipeline([("prep", prep), ("clf", MultiInputKerasClassifier(**{**MODEL, **params}))])


@pytest.fixture(scope="module")
def fitted(table):
    X, y = table
    return make_pipe().fit(X, y)


def test_sparse_outputs_become_sparse_keras_inputs(fitted, table):
    X, _ = table
    clf = fitted[-1]
    assert clf.sparse_inputs_ == ["tfidf", "shop"]
    assert clf.input_kinds_ == {"text": "tokens", "tfidf": "tabular", "shop": "tabular"}
    assert clf.model_.get_layer("tfidf").output.sparse
    assert not clf.model_.get_layer("text").output.sparse
    proba = fitted.predict_proba(X)
    assert proba.shape == (120, 2)
    # The batched path (32-row batches) and the one-batch path agree.
    np.testing.assert_allclose(fitted.predict_proba(X.iloc[:3]), proba[:3], atol=1e-6)


def test_sparse_fit_equals_the_fit_on_the_same_matrices_made_dense(fitted, table):
    X, y = table
    inputs = fitted[0].transform(X)
    dense = {key: v.toarray() if sparse.issparse(v) else v for key, v in inputs.items()}
    on_sparse = fitted[-1]
    # The sparse inputs take the wide path (wide_inputs="sparse"); name them for the dense fit.
    wide = on_sparse.sparse_inputs_
    assert wide
    on_dense = MultiInputKerasClassifier(**MODEL, wide_inputs=wide).fit(dense, y)
    assert on_dense.sparse_inputs_ == []
    np.testing.assert_allclose(on_sparse.history_["loss"], on_dense.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(
        on_sparse.predict_proba(inputs), on_dense.predict_proba(dense), atol=1e-5
    )
    # A dense matrix given to the sparse model (or the reverse) is converted.
    np.testing.assert_allclose(
        on_sparse.predict_proba(dense), on_dense.predict_proba(inputs), atol=1e-5
    )


def test_early_stopping_and_pickle_with_sparse_inputs(table):
    X, y = table
    pipe = make_pipe(early_stopping=True, patience=2, epochs=4).fit(X, y)
    assert len(pipe[-1].history_["val_loss"]) >= 3
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))


def test_sparse_input_errors_name_the_input():
    X = {"a": sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, np.nan], [2.0, 0.0]]))}
    with pytest.raises(ValueError, match=r"Input 'a' contains NaN or infinity \(first at row 1\)"):
        MultiInputKerasClassifier(**MODEL).fit(X, [0, 1, 0])
    X = {"a": sparse.csr_matrix(np.eye(3))}
    with pytest.raises(ValueError, match="'a' is a sparse matrix, which can only be a 'tabular'"):
        MultiInputKerasClassifier(**MODEL, input_kinds={"a": "tokens"}).fit(X, [0, 1, 0])
    with pytest.raises(ValueError, match="sparse tabular input needs a Dense layer"):
        MultiInputKerasClassifier(**{**MODEL, "tabular_units": 0}).fit(X, [0, 1, 0])
    X = {"a": sparse.csr_matrix(np.eye(2) * 1j)}
    with pytest.raises(TypeError, match="'a' is a sparse matrix of dtype complex128"):
        MultiInputKerasClassifier(**MODEL).fit(X, [0, 1])
