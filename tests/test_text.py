"""Tests for skmultimodal.text.TextTokenizer: exact ids on hand-made corpora, robustness to
messy input, and properties checked against a plain-Python reference implementation."""

import pickle
import string
import sys
from collections import Counter
from itertools import chain

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmultimodal.text as text_module
from skmultimodal.text import KERAS_FILTERS, TextTokenizer

# Frequencies: the=3, cat=2, then sat, dog, a, bird once each (ties -> first appearance).
CORPUS = ["The cat sat.", "the dog, the CAT!", "a bird"]
VOCABULARY = {"the": 2, "cat": 3, "sat": 4, "dog": 5, "a": 6, "bird": 7}


@pytest.fixture(scope="module")
def fitted():
    return TextTokenizer().fit(CORPUS)


def test_vocabulary_ranks_by_frequency_then_first_appearance(fitted):
    assert fitted.vocabulary_ == VOCABULARY
    assert fitted.vocabulary_size_ == 8
    assert fitted.max_len_ == 4
    assert fitted.n_features_in_ == 1


def test_ties_keep_order_of_first_appearance():
    tokenizer = TextTokenizer().fit(["d c", "b a", "a b c d"])
    assert tokenizer.vocabulary_ == {"d": 2, "c": 3, "b": 4, "a": 5}


def test_fit_transform_pre_padding_exact_ids():
    np.testing.assert_array_equal(
        TextTokenizer().fit_transform(CORPUS),
        [[0, 2, 3, 4], [2, 5, 2, 3], [0, 0, 6, 7]],
    )


def test_post_padding_exact_ids():
    np.testing.assert_array_equal(
        TextTokenizer(padding="post").fit_transform(CORPUS),
        [[2, 3, 4, 0], [2, 5, 2, 3], [6, 7, 0, 0]],
    )


@pytest.mark.parametrize(
    ("truncating", "padding", "expected"),
    [
        ("pre", "pre", [[3, 4], [2, 3], [6, 7], [0, 2]]),
        ("post", "pre", [[2, 3], [2, 5], [6, 7], [0, 2]]),
        ("pre", "post", [[3, 4], [2, 3], [6, 7], [2, 0]]),
        ("post", "post", [[2, 3], [2, 5], [6, 7], [2, 0]]),
    ],
)
def test_truncating_and_padding_with_max_len(truncating, padding, expected):
    tokenizer = TextTokenizer(max_len=2, truncating=truncating, padding=padding).fit(CORPUS)
    assert tokenizer.max_len_ == 2
    np.testing.assert_array_equal(tokenizer.transform([*CORPUS, "the"]), expected)


def test_unseen_words_are_out_of_vocabulary(fitted):
    np.testing.assert_array_equal(
        fitted.transform(["the fish", "zebra yak", "cat"]),
        [[0, 0, 2, 1], [0, 0, 1, 1], [0, 0, 0, 3]],
    )


def test_max_words_keeps_ids_below_it_like_keras_num_words():
    tokenizer = TextTokenizer(max_words=4).fit(CORPUS)
    assert tokenizer.vocabulary_ == {"the": 2, "cat": 3}
    assert tokenizer.vocabulary_size_ == 4
    np.testing.assert_array_equal(
        tokenizer.transform(CORPUS), [[0, 2, 3, 1], [2, 1, 2, 3], [0, 0, 1, 1]]
    )


def test_max_words_three_keeps_only_the_most_frequent_word():
    tokenizer = TextTokenizer(max_words=3).fit(CORPUS)
    assert tokenizer.vocabulary_ == {"the": 2}
    assert tokenizer.transform(CORPUS).max() == 2


def test_max_words_above_vocabulary_keeps_every_word():
    tokenizer = TextTokenizer(max_words=1000).fit(CORPUS)
    assert tokenizer.vocabulary_ == VOCABULARY
    assert tokenizer.vocabulary_size_ == 8


@pytest.mark.parametrize(
    "params",
    [
        {"max_words": 2},
        {"max_words": 3.5},
        {"max_len": 0},
        {"padding": "middle"},
        {"truncating": "both"},
        {"lowercase": "yes"},
        {"filters": None},
    ],
)
def test_invalid_parameters_are_rejected_in_fit(params):
    tokenizer = TextTokenizer(**params)
    with pytest.raises(InvalidParameterError):
        tokenizer.fit(CORPUS)


def test_lowercase_false_keeps_case_distinct():
    tokenizer = TextTokenizer(lowercase=False).fit(["Cat cat cat"])
    assert tokenizer.vocabulary_ == {"cat": 2, "Cat": 3}


def test_filters_are_replaced_by_spaces_and_configurable():
    assert TextTokenizer().fit(["don't stop-me [now]"]).vocabulary_ == {
        "don't": 2,
        "stop": 3,
        "me": 4,
        "now": 5,
    }
    assert TextTokenizer(filters="").fit(["a,b a,b c."]).vocabulary_ == {"a,b": 2, "c.": 3}


def test_missing_empty_and_blank_texts_are_all_padding(fitted):
    texts = pd.Series(["the cat", None, np.nan, pd.NA, "", "   \t\n", "?!..."], dtype=object)
    sequences = fitted.transform(texts)
    np.testing.assert_array_equal(sequences[0], [0, 0, 2, 3])
    np.testing.assert_array_equal(sequences[1:], np.zeros((6, 4)))


def test_pandas_string_dtype_with_missing_values(fitted):
    texts = pd.Series(["the cat", None], dtype="str")
    np.testing.assert_array_equal(fitted.transform(texts), [[0, 0, 2, 3], [0, 0, 0, 0]])


def test_non_string_values_are_tokenized_as_their_str():
    tokenizer = TextTokenizer().fit([12, 3.5, True, b"caf\xc3\xa9", 12])
    assert tokenizer.vocabulary_ == {"12": 2, "3": 3, "5": 4, "true": 5, "café": 6}


def test_sentinel_character_in_text_is_whitespace():
    tokenizer = TextTokenizer().fit(["a\x00b", "\x00"])
    assert tokenizer.vocabulary_ == {"a": 2, "b": 3}
    np.testing.assert_array_equal(tokenizer.transform(["b\x00a", "\x00"]), [[3, 2], [0, 0]])


def test_very_long_text_is_truncated_exactly():
    n_words = 300_000
    long_text = " ".join([f"w{i % 1000}" for i in range(n_words)])
    tokenizer = TextTokenizer(max_len=3).fit([long_text, "w999 w0"])
    # w0 and w999 occur 301 times, so they rank first and second.
    assert tokenizer.vocabulary_["w0"] == 2
    assert tokenizer.vocabulary_["w999"] == 3
    expected_last = [tokenizer.vocabulary_[w] for w in ("w997", "w998", "w999")]
    np.testing.assert_array_equal(tokenizer.transform([long_text])[0], expected_last)
    post = TextTokenizer(max_len=3, truncating="post").fit([long_text])
    np.testing.assert_array_equal(post.transform([long_text])[0], [2, 3, 4])


def test_unicode_accents_whitespace_cjk_and_emoji():
    tokenizer = TextTokenizer().fit(["Café CRÈME\u3000naïve", "我爱猫 great😀 👍🏽"])
    assert tokenizer.vocabulary_ == {
        "café": 2,
        "crème": 3,
        "naïve": 4,
        "我": 5,
        "爱": 6,
        "猫": 7,
        "great": 8,
        "😀": 9,
        "👍": 10,
    }


def test_every_unicode_whitespace_separates_words():
    all_whitespace = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert set(text_module._ASCII_WHITESPACE + text_module._NON_ASCII_WHITESPACE) == all_whitespace
    spaces = sorted(all_whitespace)
    tokenizer = TextTokenizer(filters="").fit(["w".join(spaces)])
    assert tokenizer.vocabulary_ == {"w": 2}
    assert tokenizer.max_len_ == len(spaces) - 1


def test_long_tokens_sharing_a_prefix_stay_distinct():
    words = ["a" * 16, "a" * 17, "a" * 40, "a" * 17, "a" * 8, "a" * 9, "a" * 40, "a" * 17]
    tokenizer = TextTokenizer().fit([" ".join(words)])
    assert tokenizer.vocabulary_ == {
        "a" * 17: 2,
        "a" * 40: 3,
        "a" * 16: 4,
        "a" * 8: 5,
        "a" * 9: 6,
    }


def test_hash_collisions_fall_back_to_exact_grouping(monkeypatch):
    # Without the mixing multiplier, tokens sharing their first 8 bytes get the same hash.
    monkeypatch.setattr(text_module, "_MIX", np.uint64(0))
    texts = ["abcdefghij abcdefghik abcdefghij abcdefgh", "abcdefghik abcdefghij"]
    tokenizer = TextTokenizer().fit(texts)
    assert tokenizer.vocabulary_ == {"abcdefghij": 2, "abcdefghik": 3, "abcdefgh": 4}
    np.testing.assert_array_equal(tokenizer.transform(texts), [[2, 3, 2, 4], [0, 0, 3, 2]])


def test_lone_surrogates_survive():
    tokenizer = TextTokenizer().fit(["a\ud800b c"])
    assert tokenizer.vocabulary_ == {"a\ud800b": 2, "c": 3}


def test_empty_fit_corpus_raises():
    with pytest.raises(ValueError, match="no words"):
        TextTokenizer().fit(["", None, "  ", "!?"])
    with pytest.raises(ValueError, match="at least one text"):
        TextTokenizer().fit([])


def test_input_containers_give_the_same_ids():
    expected = TextTokenizer().fit_transform(CORPUS)
    frame = pd.DataFrame({"review": CORPUS})
    containers = [
        pd.Series(CORPUS),
        np.array(CORPUS),
        np.array(CORPUS, dtype=object).reshape(-1, 1),
        frame,
        tuple(CORPUS),
    ]
    for X in containers:
        np.testing.assert_array_equal(TextTokenizer().fit_transform(X), expected)


def test_feature_names_recorded_for_dataframes_only():
    frame = pd.DataFrame({"review": CORPUS})
    tokenizer = TextTokenizer().fit(frame)
    assert tokenizer.n_features_in_ == 1
    np.testing.assert_array_equal(tokenizer.feature_names_in_, ["review"])
    with pytest.raises(ValueError, match="review"):
        tokenizer.transform(frame.rename(columns={"review": "comment"}))
    refit = tokenizer.fit(CORPUS)
    assert refit.n_features_in_ == 1
    assert not hasattr(refit, "feature_names_in_")


def test_more_than_one_column_is_rejected_with_the_column_names(fitted):
    frame = pd.DataFrame({"title": ["a"], "body": ["b"]})
    with pytest.raises(ValueError, match=r"2 columns: \['title', 'body'\]"):
        TextTokenizer().fit(frame)
    with pytest.raises(ValueError, match=r"\['title', 'body'\]"):
        fitted.transform(frame)
    with pytest.raises(ValueError, match="2 columns"):
        TextTokenizer().fit(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="wrap it in a list"):
        TextTokenizer().fit("just one text")


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        TextTokenizer().transform(CORPUS)


def test_transform_of_zero_texts_has_zero_rows(fitted):
    assert fitted.transform([]).shape == (0, 4)


def test_pickle_and_clone(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(CORPUS), fitted.transform(CORPUS))
    assert restored.vocabulary_ == fitted.vocabulary_
    cloned = clone(TextTokenizer(max_words=5, padding="post"))
    assert cloned.get_params() == TextTokenizer(max_words=5, padding="post").get_params()
    assert not hasattr(clone(fitted), "vocabulary_")


@pytest.mark.parametrize(
    "params",
    [{}, {"max_words": 4}, {"max_len": 2, "truncating": "post"}, {"padding": "post"}],
)
def test_fit_transform_equals_fit_then_transform(params):
    texts = [*CORPUS, None, "bird bird the end"]
    np.testing.assert_array_equal(
        TextTokenizer(**params).fit_transform(texts),
        TextTokenizer(**params).fit(texts).transform(texts),
    )


def test_tags_declare_string_one_column_input():
    tags = TextTokenizer().__sklearn_tags__()
    assert tags.input_tags.string
    assert tags.input_tags.one_d_array
    assert not tags.input_tags.two_d_array


# scikit-learn's common checks need 2-D numeric input: for a string transformer only
# check_estimator_cloneable runs (with a SkipTestWarning for the rest); it must not error.
@parametrize_with_checks([TextTokenizer()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------------------
# Property-based tests
# ---------------------------------------------------------------------------------------

_TRANSLATE = str.maketrans(KERAS_FILTERS, " " * len(KERAS_FILTERS))


def _reference(texts, max_words, max_len, padding, truncating):
    """Keras Tokenizer(num_words, oov_token) + pad_sequences, written the obvious way."""
    token_lists = [("" if t is None else t).lower().translate(_TRANSLATE).split() for t in texts]
    ranked = [word for word, _ in Counter(chain.from_iterable(token_lists)).most_common()]
    vocabulary = {
        word: i + 2 for i, word in enumerate(ranked) if max_words is None or i + 2 < max_words
    }
    length = max_len or max(1, max(map(len, token_lists)))
    rows = []
    for tokens in token_lists:
        ids = [vocabulary.get(token, 1) for token in tokens]
        if len(ids) > length:
            ids = ids[-length:] if truncating == "pre" else ids[:length]
        pad = [0] * (length - len(ids))
        rows.append(pad + ids if padding == "pre" else ids + pad)
    return vocabulary, np.array(rows, dtype=np.int32).reshape(len(texts), length)


_words = st.sampled_from(
    [
        *["cat", "Dog", "a", "the", "bird", "x", "yak", "ZEBRA", "b2", "Café", "ÉCOLE"],
        # Tokens around the 8- and 16-byte boundaries of the grouping keys, sharing prefixes.
        *["abcdefgh", "abcdefghi", "abcdefghij", "abcdefghijklmnop", "abcdefghijklmnopq"],
        "internationalization",
    ]
)
_separators = st.sampled_from([" ", "  ", ", ", ". ", "!\n", "\t", "-", "?"])
_ascii_texts = st.lists(st.tuples(_words, _separators), max_size=12).map(
    lambda pairs: "".join(word + sep for word, sep in pairs)
)
_params = st.fixed_dictionaries(
    {
        "max_words": st.none() | st.integers(3, 12),
        "max_len": st.none() | st.integers(1, 8),
        "padding": st.sampled_from(["pre", "post"]),
        "truncating": st.sampled_from(["pre", "post"]),
    }
)


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(_ascii_texts | st.none(), min_size=1, max_size=15), params=_params)
def test_matches_plain_python_reference(texts, params):
    texts = [*texts, "cat"]
    vocabulary, expected = _reference(texts, **params)
    tokenizer = TextTokenizer(**params)
    np.testing.assert_array_equal(tokenizer.fit_transform(texts), expected)
    assert tokenizer.vocabulary_ == vocabulary
    np.testing.assert_array_equal(tokenizer.transform(texts), expected)


@settings(max_examples=100, deadline=None)
@given(
    fit_texts=st.lists(st.text(), min_size=1, max_size=10),
    new_texts=st.lists(st.text() | st.none() | st.floats() | st.integers(), max_size=10),
    params=_params,
)
def test_arbitrary_unicode_gives_valid_ids(fit_texts, new_texts, params):
    fit_texts = [*fit_texts, "word"]
    tokenizer = TextTokenizer(**params).fit(fit_texts)
    sequences = tokenizer.transform(new_texts)
    assert sequences.dtype == np.int32
    assert sequences.shape == (len(new_texts), tokenizer.max_len_)
    assert sequences.min(initial=0) >= 0
    assert sequences.max(initial=0) < tokenizer.vocabulary_size_
    if params["max_words"] is not None:
        assert tokenizer.vocabulary_size_ <= params["max_words"]
    if params["max_len"] is not None:
        assert tokenizer.max_len_ == params["max_len"]
    assert sorted(tokenizer.vocabulary_.values()) == list(range(2, tokenizer.vocabulary_size_))
    # Padding zeros form one block at the start ("pre") or the end ("post") of each row.
    nonzero = sequences != 0
    if params["padding"] == "pre":
        assert (np.diff(nonzero.astype(int), axis=1) >= 0).all()
    else:
        assert (np.diff(nonzero.astype(int), axis=1) <= 0).all()
    np.testing.assert_array_equal(
        tokenizer.fit_transform(fit_texts), tokenizer.transform(fit_texts)
    )


@settings(max_examples=50, deadline=None)
@given(words=st.lists(st.text(alphabet=string.ascii_lowercase, min_size=1), min_size=1))
def test_every_fitted_word_maps_to_its_own_id(words):
    tokenizer = TextTokenizer(max_len=1).fit(words)
    ids = tokenizer.transform(words)[:, 0]
    np.testing.assert_array_equal(ids, [tokenizer.vocabulary_[word] for word in words])
