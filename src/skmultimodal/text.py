"""Turn one column of texts into padded integer id sequences for a Keras ``Embedding``.

``TextTokenizer`` replaces ``keras.preprocessing.text.Tokenizer`` + ``pad_sequences``, which no
longer exist in Keras 3, as a scikit-learn transformer that needs neither Keras nor TensorFlow.
"""

import os
import re
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._columns import one_column
from ._scores import CrossFittedScores
from .missing import MaskedInput, missing_rows

__all__ = [
    "KERAS_FILTERS",
    "TextLinearScores",
    "TextTfidfVectorizer",
    "TextTokenizer",
    "read_word_vectors",
]

#: Characters that ``keras.preprocessing.text.Tokenizer`` replaced by spaces by default.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

PADDING_ID = 0
OOV_ID = 1
_FIRST_WORD_ID = 2

# Every text is preceded by this token in the one big corpus, so that all texts are tokenized
# in a single pass; the sentinel tokens mark where each text starts.
_SENTINEL = "\x00"

# The characters ``str.split()`` splits on; all become spaces before the corpus is encoded, so
# that words are split on one byte value.
_ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_NON_ASCII_WHITESPACE = (
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# The bytes after a short token are whitespace; reading 16 bytes past any token start must stay
# inside the buffer.
_TAIL = b" " * 16

# Marks that only modify the preceding emoji (variation selector 16, zero-width joiner, skin
# tones); they are dropped so that the emoji itself becomes the token.
_EMOJI_MODIFIERS = "\ufe0f\u200d" + "".join(map(chr, range(0x1F3FB, 0x1F400)))

# Scripts written without spaces between words (CJK ideographs) and emoji become one token per
# code point, as BERT's basic tokenizer does for ideographs; otherwise a whole sentence would be
# a single, never repeated token.
_ONE_TOKEN_PER_CHAR = re.compile(
    "["
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U00030000-\U0003134f"
    "\u2600-\u27bf\U0001f000-\U0001faff"
    "]"
)

# _LOW_BYTES[k] keeps the k lowest (first, little-endian) bytes of a uint64.
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)
# Odd multiplier (2**64 / golden ratio) that mixes the two words of a token into one hash.
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _as_text(value: Any) -> str:
    """Return ``value`` as a string: missing values become ``""``, others ``str(value)``."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value)


def _encode_corpus(texts: list[str], *, lowercase: bool, filters: str) -> bytes:
    """Return all texts as one UTF-8 buffer in which words are separated by spaces.

    Each text is preceded by the sentinel token, and the buffer ends with ``_TAIL``. Lowercasing
    and filtering run once over the whole corpus, inside C.
    """
    corpus = _SENTINEL + " " + f" {_SENTINEL} ".join(texts)
    if corpus.count(_SENTINEL) != len(texts):
        # A text contains the sentinel character itself; treat it as whitespace.
        texts = [text.replace(_SENTINEL, " ") for text in texts]
        corpus = _SENTINEL + " " + f" {_SENTINEL} ".join(texts)
    if lowercase:
        corpus = corpus.lower()
    separators = filters + _ASCII_WHITESPACE + _NON_ASCII_WHITESPACE + _EMOJI_MODIFIERS
    table = {ord(char): " " for char in separators if char != _SENTINEL}
    corpus = corpus.translate(table)
    if not corpus.isascii():
        corpus = _ONE_TOKEN_PER_CHAR.sub(r" \g<0> ", corpus)
    # surrogatepass: lone surrogates (possible in Python strings) survive the round trip.
    return corpus.encode("utf-8", errors="surrogatepass") + _TAIL


def _split_bytes(buffer: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Return the start offsets and byte lengths of the whitespace-separated tokens."""
    # _encode_corpus turned every whitespace character into a space.
    is_space = np.frombuffer(buffer, dtype=np.uint8) == ord(" ")
    # The buffer starts with a token (the sentinel) and ends with spaces, so the changes
    # alternate: end of token 0, start of token 1, end of token 1, ...
    changes = np.flatnonzero(is_space[1:] != is_space[:-1]) + 1
    starts = np.concatenate(([0], changes[1::2]))
    return starts, changes[0::2] - starts


def _first_occurrences(codes: np.ndarray) -> np.ndarray:
    """Return, for codes numbered by first appearance (0, 1, 2, ...), where each first occurs."""
    running_max = np.maximum.accumulate(codes)
    return np.flatnonzero(np.diff(running_max, prepend=-1))


def _group_tokens(
    buffer: bytes, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return one code per token (equal tokens share one; numbered by first appearance) and
    the position of each code's first token.

    A token of up to 16 bytes is exactly described by the two little-endian uint64 words read
    at its start, bytes past its end masked to zero (tokens contain no zero byte). A longer
    token (rare) is described by a serial number from a dict and an all-ones high word, which
    no short token has (0xFF never occurs in UTF-8). The two words are hashed into one uint64
    so that a single pandas hash-table pass groups the tokens; the grouping is then verified,
    and an exact two-pass grouping replaces it in the astronomically unlikely case of a hash
    collision.
    """
    window = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
    low = window[starts] & _LOW_BYTES[np.minimum(lengths, 8)]
    high = np.zeros_like(low)
    longer = np.flatnonzero(lengths > 8)  # usually a small minority of the tokens
    high[longer] = window[starts[longer] + 8] & _LOW_BYTES[np.minimum(lengths[longer] - 8, 8)]
    long_tokens = np.flatnonzero(lengths > 16)
    if len(long_tokens):
        serials: dict[bytes, int] = {}
        spans = zip(starts[long_tokens].tolist(), lengths[long_tokens].tolist(), strict=True)
        low[long_tokens] = [
            serials.setdefault(buffer[start : start + length], len(serials))
            for start, length in spans
        ]
        high[long_tokens] = np.uint64(2**64 - 1)

    codes = pd.factorize(low ^ (high * _MIX))[0]
    first = _first_occurrences(codes)
    if not (np.array_equal(low, low[first][codes]) and np.array_equal(high, high[first][codes])):
        low_codes = pd.factorize(low)[0]
        high_codes, high_values = pd.factorize(high)
        codes = pd.factorize(low_codes * len(high_values) + high_codes)[0]
        first = _first_occurrences(codes)
    return codes, first


def _tokenize(texts: list[str], *, lowercase: bool, filters: str) -> tuple[np.ndarray, list[str]]:
    """Tokenize all texts at once.

    Returns
    -------
    codes : ndarray of shape (n_tokens,)
        One code per token, texts in order, each text preceded by a sentinel token (code 0);
        equal tokens share a code, and codes are numbered by first appearance.
    words : list of str
        The token of each code (``words[0]`` is the sentinel).
    """
    if not texts:
        return np.zeros(0, dtype=np.intp), []
    buffer = _encode_corpus(texts, lowercase=lowercase, filters=filters)
    starts, lengths = _split_bytes(buffer)
    codes, first = _group_tokens(buffer, starts, lengths)
    spans = zip(starts[first].tolist(), lengths[first].tolist(), strict=True)
    words = [buffer[start : start + n].decode("utf-8", "surrogatepass") for start, n in spans]
    return codes, words


def _pad_sequences(
    ids: np.ndarray, is_sentinel: np.ndarray, max_len: int, padding: str, truncating: str
) -> np.ndarray:
    """Place each text's ids into one row of an int32 ``(n_texts, max_len)`` array.

    ``ids`` holds the ids of all tokens, each text preceded by a sentinel (``is_sentinel``).
    Every position is computed with vectorized numpy, so the cost is linear in the total number
    of tokens, however long a single text is.
    """
    sentinels = np.flatnonzero(is_sentinel)
    n_texts = len(sentinels)
    lengths = np.diff(np.append(sentinels, len(ids))) - 1
    kept = np.minimum(lengths, max_len)
    first_kept = sentinels + 1 + (lengths - kept if truncating == "pre" else 0)
    first_column = np.arange(n_texts) * max_len + (max_len - kept if padding == "pre" else 0)

    token = np.arange(len(ids))
    target = token + np.repeat(first_column - first_kept, lengths + 1)
    # Dropped tokens (sentinels, truncated ones) are written to one extra, discarded cell.
    discard = n_texts * max_len
    if (lengths > max_len).any():
        offset = token - np.repeat(first_kept, lengths + 1)
        target[(offset < 0) | (offset >= np.repeat(kept, lengths + 1))] = discard
    else:
        target[sentinels] = discard

    sequences = np.zeros(discard + 1, dtype=np.int32)
    sequences[target] = ids
    return sequences[:discard].reshape(n_texts, max_len)


class TextTokenizer(TransformerMixin, BaseEstimator):
    """Turn one column of texts into padded sequences of word ids.

    A scikit-learn replacement for Keras' ``Tokenizer(num_words, oov_token=...)`` followed
    by ``pad_sequences``: texts are lowercased, the characters in ``filters`` become spaces,
    and the text is split on whitespace. Id ``0`` is padding, id ``1`` marks words that are
    out of the vocabulary, and ids ``2, 3, ...`` are the fitted words by descending frequency
    (ties broken by first appearance in the fit data). The output feeds a Keras
    ``Embedding(input_dim=vocabulary_size_, ..., mask_zero=True)``.

    Parameters
    ----------
    max_words : int >= 3 or None, default=None
        Exclusive upper bound on the ids, as Keras' ``num_words``: only ids
        ``< max_words`` are used, i.e. the ``max_words - 2`` most frequent words keep their
        id and every other word becomes ``1``. ``Embedding(max_words, ...)`` then fits any
        output. ``None`` keeps every word seen in fit.
    max_len : int >= 1 or None, default=None
        Length of the output sequences. ``None`` uses the number of tokens in the longest
        text seen in fit (at least 1).
    lowercase : bool, default=True
        Whether to lowercase texts (``str.lower``) before tokenizing.
    padding : {"pre", "post"}, default="pre"
        Put the padding zeros before (``"pre"``) or after (``"post"``) the ids of a short
        text, as in ``keras.utils.pad_sequences``.
    truncating : {"pre", "post"}, default="pre"
        Drop the first (``"pre"``) or the last (``"post"``) tokens of a text longer than
        ``max_len_``, as in ``keras.utils.pad_sequences``.
    filters : str, default=KERAS_FILTERS
        Characters replaced by spaces before splitting; the default is Keras' default,
        ``'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\\t\\n'`` (the apostrophe is kept: ``"don't"``
        is one token).
    on_missing : {"empty", "mask"}, default="empty"
        What a missing text (None, NaN, ``pd.NA``, or a string that is empty or only
        whitespace) means. "empty": it is an empty text, i.e. a row of padding the model
        cannot tell from a short text. "mask": the row has no text; ``transform`` returns a
        :class:`~skmultimodal.missing.MaskedInput` whose ``present`` flags the rows with a
        text (the others are rows of padding), which
        :class:`~skmultimodal.MultiInputTransformer` passes on as the dict entry
        ``"<step>__present"`` (see :mod:`skmultimodal.missing`).
    pretrained_vectors : str, os.PathLike or None, default=None
        A word-vector file in the GloVe / fastText text format (one ``word v1 v2 ...``
        line per word; fastText's ``.vec`` header line ``"n_words dim"`` is skipped).
        ``fit`` then builds `embedding_matrix_` for the fitted vocabulary, which
        :class:`~skmultimodal.MultiInputTransformer` hands to the estimator to initialise
        the text branch's ``Embedding`` (see docs/user_guide/transfer_learning.md).

    Attributes
    ----------
    vocabulary_ : dict[str, int]
        Word -> id for every word that received an id below ``max_words``.
    vocabulary_size_ : int
        Largest id + 1: the ``input_dim`` of the ``Embedding`` that reads the output.
    max_len_ : int
        Length of the output sequences.
    n_features_in_ : int
        Always 1: the number of input columns.
    feature_names_in_ : ndarray of shape (1,)
        The column name, when fit on a one-column DataFrame.
    embedding_matrix_ : ndarray of shape (vocabulary_size_, dim), float32
        Only with ``pretrained_vectors``: row ``i`` is the vector of the word of id ``i``.
        Row 0 (padding) is zeros; the out-of-vocabulary row and the words missing from
        the file are drawn from a normal distribution with the file vectors' standard
        deviation, with a fixed seed (the same matrix at every fit).
    pretrained_coverage_ : float
        Only with ``pretrained_vectors``: the share of `vocabulary_` found in the file.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : bag-of-words counts instead of
        ordered sequences.

    Notes
    -----
    Values that are not strings are accepted: missing values (``None``, ``NaN``,
    ``pd.NA``) become empty texts, i.e. a row of padding; bytes are decoded as UTF-8;
    anything else becomes ``str(value)`` and is tokenized like a text (``3.5`` gives the
    tokens ``"3"`` and ``"5"`` because ``.`` is a filter).

    Unicode: accented letters are kept and lowercased with ``str.lower``; any Unicode
    whitespace separates words. Scripts written without spaces (CJK ideographs) and emoji
    become one token per character, so ``"我爱猫"`` gives three tokens and ``"great😀"``
    gives ``"great"`` and ``"😀"``; emoji modifiers (skin tones, variation selectors,
    zero-width joiners) are dropped.

    All texts are joined, lowercased and filtered in one pass, then split and grouped into
    distinct words with numpy and a pandas hash table, so the cost is linear in the total text
    length (a very long text is truncated by vectorized indexing) and Python-level work is
    done once per distinct word, not per token.

    Examples
    --------
    >>> from skmultimodal.text import TextTokenizer
    >>> texts = ["The cat sat.", "The dog sat on the mat!", "A cat"]
    >>> tokenizer = TextTokenizer(max_len=4).fit(texts)
    >>> tokenizer.vocabulary_
    {'the': 2, 'cat': 3, 'sat': 4, 'dog': 5, 'on': 6, 'mat': 7, 'a': 8}
    >>> tokenizer.transform(["the cat sat on the bird"])
    array([[4, 6, 2, 1]], dtype=int32)
    >>> TextTokenizer(max_words=4, padding="post").fit_transform(texts)
    array([[2, 3, 1, 0, 0, 0],
           [2, 1, 1, 1, 2, 1],
           [1, 3, 0, 0, 0, 0]], dtype=int32)
    """

    _parameter_constraints: dict = {
        "max_words": [Interval(Integral, 3, None, closed="left"), None],
        "max_len": [Interval(Integral, 1, None, closed="left"), None],
        "lowercase": ["boolean"],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "filters": [str],
        "on_missing": [StrOptions({"empty", "mask"})],
        "pretrained_vectors": [str, os.PathLike, None],
    }

    def __init__(
        self,
        max_words: int | None = None,
        max_len: int | None = None,
        lowercase: bool = True,
        padding: str = "pre",
        truncating: str = "pre",
        filters: str = KERAS_FILTERS,
        on_missing: str = "empty",
        pretrained_vectors: str | os.PathLike | None = None,
    ) -> None:
        self.max_words = max_words
        self.max_len = max_len
        self.lowercase = lowercase
        self.padding = padding
        self.truncating = truncating
        self.filters = filters
        self.on_missing = on_missing
        self.pretrained_vectors = pretrained_vectors

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "TextTokenizer":
        """Learn the vocabulary and the sequence length from a column of texts.

        Parameters
        ----------
        X : list of str, pandas Series, 1-D array or one-column DataFrame / 2-D array
            The texts, one per sample.
        y : None
            Ignored.

        Returns
        -------
        self : TextTokenizer
            The fitted tokenizer.
        """
        self._fit_vocabulary(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray | MaskedInput:
        """Fit to ``X`` and return its id sequences, tokenizing ``X`` only once.

        Parameters
        ----------
        X, y
            As in :meth:`fit`.

        Returns
        -------
        sequences : ndarray of shape (n_samples, max_len_), dtype int32
            The same as ``fit(X).transform(X)`` (a ``MaskedInput`` with
            ``on_missing="mask"``).
        """
        codes, id_by_code, values = self._fit_vocabulary(X)
        sequences = _pad_sequences(
            id_by_code[codes], codes == 0, self.max_len_, self.padding, self.truncating
        )
        return self._with_presence(sequences, values)

    def transform(self, X: Any) -> np.ndarray | MaskedInput:
        """Return the padded id sequences of the texts in ``X``.

        Parameters
        ----------
        X : list of str, pandas Series, 1-D array or one-column DataFrame / 2-D array
            The texts, one per sample.

        Returns
        -------
        sequences : ndarray of shape (n_samples, max_len_), dtype int32
            Word ids; ``0`` for padding, ``1`` for words outside ``vocabulary_``. With
            ``on_missing="mask"``, a :class:`~skmultimodal.missing.MaskedInput` of them.
        """
        check_is_fitted(self)
        codes, words, values = self._tokenize_column(X, reset=False)
        # One dict lookup per distinct token, not per token.
        id_by_code = np.fromiter(
            (self.vocabulary_.get(word, OOV_ID) for word in words), np.int32, len(words)
        )
        sequences = _pad_sequences(
            id_by_code[codes], codes == 0, self.max_len_, self.padding, self.truncating
        )
        return self._with_presence(sequences, values)

    def _with_presence(self, sequences: np.ndarray, values: list) -> np.ndarray | MaskedInput:
        """``sequences``, with the rows whose value is a text when ``on_missing="mask"``."""
        if self.on_missing != "mask":
            return sequences
        return MaskedInput(sequences, ~missing_rows(values))

    def _tokenize_column(self, X: Any, *, reset: bool) -> tuple[np.ndarray, list[str], list]:
        """Validate ``X`` (one column, feature names) and tokenize it (see ``_tokenize``);
        also return the column's values."""
        values = _text_column(self, X, reset=reset)
        texts = [value if type(value) is str else _as_text(value) for value in values]
        return (*_tokenize(texts, lowercase=self.lowercase, filters=self.filters), values)

    def _fit_vocabulary(self, X: Any) -> tuple[np.ndarray, np.ndarray, list]:
        """Fit the vocabulary; return the token codes of ``X`` (see ``_tokenize``), the id
        of each code and the column's values."""
        codes, words, values = self._tokenize_column(X, reset=True)
        if len(words) == 1:
            raise ValueError(
                f"{type(self).__name__} found no words in the fit data: every text is empty, "
                "missing or made only of filtered characters."
            )
        # Codes are numbered by first appearance, so a stable sort breaks ties that way.
        frequencies = np.bincount(codes)
        frequencies[0] = 0
        ranking = np.argsort(-frequencies[1:], kind="stable") + 1

        n_ids = len(words) - 1 + _FIRST_WORD_ID
        if self.max_words is not None:
            n_ids = min(n_ids, self.max_words)
        kept_codes = ranking[: n_ids - _FIRST_WORD_ID]
        self.vocabulary_ = {
            words[code]: _FIRST_WORD_ID + rank for rank, code in enumerate(kept_codes.tolist())
        }
        self.vocabulary_size_ = n_ids
        lengths = np.diff(np.append(np.flatnonzero(codes == 0), len(codes))) - 1
        self.max_len_ = max(int(lengths.max()), 1) if self.max_len is None else self.max_len

        id_by_code = np.full(len(words), OOV_ID, dtype=np.int32)
        id_by_code[kept_codes] = np.arange(_FIRST_WORD_ID, n_ids)
        if self.pretrained_vectors is None:
            for stale in ("embedding_matrix_", "pretrained_coverage_"):
                vars(self).pop(stale, None)
        else:
            self.embedding_matrix_, self.pretrained_coverage_ = _embedding_matrix(
                self.pretrained_vectors, self.vocabulary_, n_ids
            )
        return codes, id_by_code, values

    def __sklearn_tags__(self):
        return _text_column_tags(super().__sklearn_tags__())


def _text_column(estimator: Any, X: Any, *, reset: bool) -> list:
    """The cells of the one text column ``X`` of ``estimator`` (fit: ``reset=True``, which
    also records ``n_features_in_`` and the column name)."""
    name = type(estimator).__name__
    values = one_column(X, owner=name, what="texts").values
    if reset and not values:
        raise ValueError(f"{name} needs at least one text to fit, got 0 samples.")
    if reset or getattr(X, "ndim", 1) == 2:
        validate_data(estimator, X, reset=reset, skip_check_array=True)
    if reset:
        estimator.n_features_in_ = 1
    return values


def _text_column_tags(tags):
    """Tags of a transformer of one column of texts (missing ones allowed)."""
    tags.input_tags.one_d_array = True
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    tags.input_tags.allow_nan = True
    tags.transformer_tags.preserves_dtype = []
    return tags


def read_word_vectors(
    path: str | os.PathLike, words: set | None = None
) -> tuple[dict[str, np.ndarray], int, float]:
    """Read a GloVe / fastText text-format file of word vectors.

    Parameters
    ----------
    path : str or os.PathLike
        One ``word v1 v2 ... vd`` line per word, separated by spaces; a first line of two
        integers (fastText's ``.vec`` header ``"n_words dim"``) is skipped.
    words : set of str, default=None
        Keep only these words (the file is still read line by line); None keeps all.

    Returns
    -------
    vectors : dict of str to ndarray of shape (dim,), float32
    dim : int
    std : float
        Standard deviation of the numbers of the first 1000 vectors and the kept ones
        (for random vectors alike).

    Raises
    ------
    ValueError
        Naming the file and line of a line with another number of values, or with a value
        that is not a finite number.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.vec")
    >>> _ = open(path, "w").write("2 3\\ncat 1 0 0\\ndog 0 1 0\\n")
    >>> vectors, dim, _ = read_word_vectors(path, {"cat", "bird"})
    >>> dim, vectors["cat"].tolist(), sorted(vectors)
    (3, [1.0, 0.0, 0.0], ['cat'])
    """
    vectors: dict[str, np.ndarray] = {}
    dim = None
    total = total_sq = count = 0.0
    with open(path, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            parts = line.rstrip("\n\r ").split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # fastText header
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise ValueError(
                    f"Word-vector file {os.fspath(path)!r}, line {number}: {len(parts) - 1} "
                    f"values after the word, where the first vector had {dim}."
                )
            # The statistics come from the first 1000 vectors and the kept ones.
            if words is not None and parts[0] not in words and number > 1000:
                continue
            values = _vector_values(path, number, parts)
            total += float(values.sum())
            total_sq += float((values.astype(np.float64) ** 2).sum())
            count += dim
            if words is None or parts[0] in words:
                vectors.setdefault(parts[0], values)
    if dim is None:
        raise ValueError(f"Word-vector file {os.fspath(path)!r} holds no vector.")
    mean = total / count
    std = float(np.sqrt(max(total_sq / count - mean**2, 0.0))) or 1.0
    return vectors, dim, std


def _vector_values(path, number: int, parts: list) -> np.ndarray:
    """The float32 values of one word-vector line, or a ValueError naming the file, line
    and value: a value that is not a number, or one that is not finite in float32 (nan,
    inf, 1e39), which would poison the vector and every random one drawn from the file's
    statistics."""
    try:
        values = np.asarray(parts[1:], dtype=np.float64)
    except ValueError:
        bad = next(p for p in parts[1:] if not _is_number(p))
        raise ValueError(
            f"Word-vector file {os.fspath(path)!r}, line {number}: {bad!r} is not a number."
        ) from None
    with np.errstate(over="ignore"):
        single = values.astype(np.float32)
    if not np.isfinite(single).all():
        bad = parts[1 + int(np.flatnonzero(~np.isfinite(single))[0])]
        raise ValueError(
            f"Word-vector file {os.fspath(path)!r}, line {number}: the value {bad!r} is not "
            "a finite float32 number (nan, inf or beyond 3.4e38)."
        )
    return single


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _embedding_matrix(path, vocabulary: dict, n_ids: int) -> tuple[np.ndarray, float]:
    """``(embedding matrix, share of the vocabulary found)`` for a fitted vocabulary."""
    if not os.path.isfile(path):
        raise ValueError(
            f"pretrained_vectors names the file {os.fspath(path)!r}, which does not exist."
        )
    vectors, dim, std = read_word_vectors(path, set(vocabulary))
    rng = np.random.default_rng(0)
    matrix = rng.normal(0.0, std, size=(n_ids, dim)).astype(np.float32)
    matrix[PADDING_ID] = 0.0
    for word, index in vocabulary.items():
        if word in vectors:
            matrix[index] = vectors[word]
    found = sum(word in vectors for word in vocabulary)
    return matrix, found / max(len(vocabulary), 1)


class TextTfidfVectorizer(TfidfVectorizer):
    """scikit-learn's ``TfidfVectorizer`` that reads a column of texts as `TextTokenizer` does.

    Missing values (``None``, ``NaN``, ``pd.NA``) are empty texts, bytes are decoded as
    UTF-8 and other values become ``str(value)``, where ``TfidfVectorizer`` itself raises
    ``"np.nan is an invalid document"`` or fails on a number. Every parameter and
    attribute is ``TfidfVectorizer``'s. `~skmultimodal.auto.make_multimodal_pipeline`
    feeds one, as a second (tabular) model input, next to each text column's token ids.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.text import TextTfidfVectorizer
    >>> tfidf = TextTfidfVectorizer(ngram_range=(1, 2), dtype=np.float32)
    >>> features = tfidf.fit_transform(["good fit", None, "good", 3])
    >>> tfidf.get_feature_names_out().tolist()
    ['fit', 'good', 'good fit']
    >>> features.shape, features[1].nnz
    ((4, 3), 0)
    """

    def decode(self, doc: Any) -> str:
        if self.input != "content":
            return super().decode(doc)
        return _as_text(doc)


class TextLinearScores(CrossFittedScores):
    """Cross-fitted scores of a word + character n-gram TF-IDF linear model of one text column.

    A network trained jointly on a few hundred short texts stays below a logistic regression
    on their word and character n-grams (benchmarks/RESULTS.md: 0.548 against 0.640 on real
    drawings' titles), because a weak modality and a memorising wide layer train together.
    This transformer fits that linear model and hands the network its scores as one more
    (dense) input, as a stacked ensemble does: the network learns how much to trust the
    text against the other modalities.

    ``fit_transform(X, y)`` returns **out-of-fold** scores (each row scored by a model that
    did not see it, ``cv`` folds), so that the network does not learn to trust scores that
    are perfect only on its training rows; ``transform`` returns the scores of the model
    refitted on all rows (``model_``). ``fit(X, y).transform(X)`` therefore differs from
    ``fit_transform(X, y)``, as for scikit-learn's ``TargetEncoder``.

    Parameters
    ----------
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"``: regression for a float target, classification otherwise.
    C : float, default=4.0
        Inverse L2 penalty of the ``LogisticRegression`` (classification).
    alpha : float, default=1.0
        L2 penalty of the ``Ridge`` (regression).
    word_ngrams : tuple of (int, int) or None, default=(1, 2)
        Word n-gram sizes (the default token pattern, ``sublinear_tf=True``); None: none.
    char_ngrams : tuple of (int, int) or None, default=(2, 5)
        Character n-gram sizes (``analyzer="char_wb"``, ``sublinear_tf=True``); None: none.
    max_features : int or None, default=None
        Size cap of each n-gram vocabulary.
    cv : int, default=5
        Folds of the out-of-fold scores (stratified for classification); fewer when the
        smallest class has fewer rows, never under 2.
    random_state : int, RandomState instance or None, default=None
        Shuffling of the folds.

    Attributes
    ----------
    model_ : Pipeline
        The n-gram features and the linear model, fitted on every row.
    classes_ : ndarray
        The target's classes (classification).
    target_mean_, target_scale_ : float
        Mean and standard deviation of the target (regression): the scores are the Ridge
        predictions in these units.
    n_features_in_ : int
        1.

    Notes
    -----
    The scores are, per row: for two classes, the logit of the second class (one column);
    for more, the log-probability of each class (floored at ``log(1e-7)``); for a
    regression, the standardised prediction (one column). Missing texts are empty texts.

    Examples
    --------
    >>> from skmultimodal.text import TextLinearScores
    >>> texts = ["red apple", "green apple", "red car", "blue car"] * 5
    >>> y = ["fruit", "fruit", "car", "car"] * 5
    >>> scores = TextLinearScores(cv=2, random_state=0).fit_transform(texts, y)
    >>> scores.shape, bool((scores[:, 0] > 0).sum() == 10)
    ((20, 1), True)
    """

    _parameter_constraints: dict = {
        "task": [StrOptions({"auto", "classification", "regression"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "word_ngrams": [tuple, None],
        "char_ngrams": [tuple, None],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        task: str = "auto",
        C: float = 4.0,
        alpha: float = 1.0,
        word_ngrams: tuple[int, int] | None = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        max_features: int | None = None,
        cv: int = 5,
        random_state: Any = None,
    ) -> None:
        self.task = task
        self.C = C
        self.alpha = alpha
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_features = max_features
        self.cv = cv
        self.random_state = random_state

    # -- helpers ---------------------------------------------------------------------------
    def _inputs(self, X: Any, *, reset: bool) -> np.ndarray:
        values = _text_column(self, X, reset=reset)
        texts = np.empty(len(values), dtype=object)
        texts[:] = [value if type(value) is str else _as_text(value) for value in values]
        return texts

    def _check_settings(self) -> None:
        if not (self.word_ngrams or self.char_ngrams):
            raise ValueError(
                f"{type(self).__name__} needs word_ngrams or char_ngrams; both are None."
            )

    def _model(self):
        """The n-gram features and the linear model, unfitted (internal: its steps'
        outputs stay sparse whatever ``set_output`` / ``transform_output`` says)."""
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import FeatureUnion, Pipeline

        ngrams = []
        if self.word_ngrams:
            words = TextTfidfVectorizer(
                ngram_range=tuple(self.word_ngrams),
                sublinear_tf=True,
                max_features=self.max_features,
                dtype=np.float32,
            )
            ngrams.append(("words", words))
        if self.char_ngrams:
            chars = TextTfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self.char_ngrams),
                sublinear_tf=True,
                max_features=self.max_features,
                dtype=np.float32,
            )
            ngrams.append(("chars", chars))
        linear = (
            Ridge(alpha=self.alpha)
            if self.regression_
            else LogisticRegression(C=self.C, max_iter=2000)
        )
        return Pipeline([("ngrams", FeatureUnion(ngrams)), ("linear", linear)])

    def __sklearn_tags__(self):
        return _text_column_tags(super().__sklearn_tags__())
