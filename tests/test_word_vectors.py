"""Pretrained word vectors: TextTokenizer(pretrained_vectors=...) builds the embedding
matrix of the fitted vocabulary; the pipeline hands it to the estimator's text Embedding."""

import numpy as np
import pytest
from _settings import TINY
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skmultimodal import MultiInputKerasClassifier, MultiInputTransformer, TextTokenizer
from skmultimodal.text import read_word_vectors

VECTORS = {"good": [1.0, 0.5, 0.0], "bad": [-1.0, 0.25, 0.0], "film": [0.0, 0.0, 2.0]}
TEXTS = ["good film", "bad film", "good good", "bad plot", "film"] * 4
LABELS = np.array([1, 0, 1, 0, 1] * 4)


@pytest.fixture
def vectors_file(tmp_path):
    path = tmp_path / "tiny.vec"
    lines = [f"{len(VECTORS)} 3"] + [f"{w} {' '.join(map(str, v))}" for w, v in VECTORS.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tokenizer_embedding_matrix_holds_the_vectors_of_its_vocabulary(vectors_file):
    tokenizer = TextTokenizer(pretrained_vectors=vectors_file).fit(TEXTS)
    matrix = tokenizer.embedding_matrix_
    assert matrix.shape == (tokenizer.vocabulary_size_, 3) and matrix.dtype == np.float32
    for word, vector in VECTORS.items():
        np.testing.assert_array_equal(matrix[tokenizer.vocabulary_[word]], vector)
    np.testing.assert_array_equal(matrix[0], 0.0)  # padding
    assert np.abs(matrix[tokenizer.vocabulary_["plot"]]).sum() > 0  # missing word: random
    assert tokenizer.pretrained_coverage_ == pytest.approx(3 / 4)
    # The same matrix at every fit, and none without the parameter.
    np.testing.assert_array_equal(clone(tokenizer).fit(TEXTS).embedding_matrix_, matrix)
    assert not hasattr(TextTokenizer().fit(TEXTS), "embedding_matrix_")


@pytest.mark.parametrize("trainable", [False, True])
def test_pipeline_initialises_the_text_embedding(vectors_file, trainable):
    import pandas as pd

    X = pd.DataFrame({"text": TEXTS, "num": np.arange(20.0)})
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(pretrained_vectors=vectors_file), "text"),
            ("num", "passthrough", ["num"]),
        ]
    )
    clf = MultiInputKerasClassifier(text_embedding_trainable=trainable, **TINY)
    pipe = Pipeline([("prep", prep), ("clf", clf)]).fit(X, LABELS)
    tokenizer = pipe["prep"].named_transformers_["text"]
    embedding = next(
        layer for layer in pipe["clf"].model_.layers if type(layer).__name__ == "Embedding"
    )
    weights = np.asarray(embedding.embeddings)
    assert weights.shape == tokenizer.embedding_matrix_.shape  # width from the file
    if trainable:
        assert not np.allclose(weights, tokenizer.embedding_matrix_)
    else:
        np.testing.assert_array_equal(weights, tokenizer.embedding_matrix_)
    assert not hasattr(pipe["clf"], "_fit_embedding_matrices")  # not kept after the build


def test_bad_vector_file_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("cat 1 2 3\ndog 1 2\n")
    with pytest.raises(ValueError, match=r"bad.txt', line 2: 2 values"):
        read_word_vectors(path)
    with pytest.raises(ValueError, match="which does not exist"):
        TextTokenizer(pretrained_vectors=tmp_path / "none.vec").fit(TEXTS)
