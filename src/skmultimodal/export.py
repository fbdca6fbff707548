"""Export a fitted pipeline as one TensorFlow SavedModel that takes the raw table columns.

:func:`export` turns ``Pipeline([("prep", MultiInputTransformer(...)), ("clf",
MultiInputKerasClassifier(...))])`` into a SavedModel whose serving signature takes one
tensor per table column: strings for text columns (the fitted vocabulary, the tokenisation
and the TF-IDF weights run inside the graph), encoded image files (decoded and resized in the
graph) or decoded uint8 pixels, and numbers or strings for the tabular columns (the fitted
``StandardScaler``, ``MinMaxScaler``, ``OneHotEncoder`` and ``SimpleImputer`` inside the
graph). Serving it needs TensorFlow only: no scikit-learn, no skmultimodal, no Python
code of ours (see docs/user_guide/transfer_learning.md, "Serving").
"""

from __future__ import annotations

import functools
import json
import keyword
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["export"]

IMAGE_INPUTS = ("bytes", "pixels")
# TextTokenizer's padding and out-of-vocabulary ids.
_PADDING_ID, _OOV_ID = 0, 1


def _refuse(step: str, columns: Any, what: str) -> ValueError:
    return ValueError(
        f"export cannot put the step {step!r} (columns {[str(c) for c in np.atleast_1d(columns)]}) "
        f"into the TensorFlow graph: {what}"
    )


def _lower(texts, tf):
    """``tf.strings.lower`` (UTF-8) of every text, NUL characters kept.

    ``tf.strings.lower`` ends a text at its first NUL ("good\\x00fit" became "good"), where
    Python's ``str.lower`` keeps it: the pieces between NULs are lowered one by one.
    """
    nul = tf.constant("\x00")  # a tensor: string attributes (separator=) end at a NUL too
    pieces = tf.strings.split(texts, sep=nul)
    lowered = tf.ragged.map_flat_values(
        lambda piece: tf.strings.join([tf.strings.lower(piece, encoding="utf-8"), nul]), pieces
    )
    joined = tf.strings.reduce_join(lowered, axis=-1)  # every piece ends with a NUL
    length = tf.strings.length(joined)
    return tf.strings.substr(joined, tf.zeros_like(length), length - 1)


def _char_class(chars: str) -> str:
    """An RE2 character class matching exactly ``chars`` (every character escaped)."""
    return "[" + "".join(f"\\x{{{ord(char):x}}}" for char in dict.fromkeys(chars)) + "]"


def _ranges_class(pattern: str) -> str:
    """TextTokenizer's one-token-per-character class, as RE2 ``\\x{...}`` ranges."""
    body = pattern[1:-1]
    out, i = [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out.append(f"\\x{{{ord(body[i]):x}}}-\\x{{{ord(body[i + 2]):x}}}")
            i += 3
        else:
            out.append(f"\\x{{{ord(body[i]):x}}}")
            i += 1
    return "[" + "".join(out) + "]"


class _Column:
    """How one table column enters the graph: its signature spec and its raw form."""

    def __init__(self, name: str, dtype, shape=(None,)):
        self.name, self.dtype, self.shape = name, dtype, shape


def _backbone_tokens_graph(tokenizer, tf):
    """``strings (n,) -> int32 (n, sequence_length)``: ``BackboneTokenizer.transform`` by
    the keras-hub preprocessor itself, a Keras layer of TensorFlow Text ops. ``build.layer``
    is kept by the exported module, which then saves the vocabulary with the graph."""
    preprocessor = tokenizer._loaded_preprocessor()

    def tokenize(texts):
        return tf.cast(preprocessor(texts)["token_ids"], tf.int32)

    tokenize.layer = preprocessor
    return tokenize


def _text_graph(tokenizer, tf):
    """``strings (n,) -> int32 (n, max_len)``: ``TextTokenizer.transform`` in TF ops."""
    from .text import (
        _ASCII_WHITESPACE,
        _EMOJI_MODIFIERS,
        _NON_ASCII_WHITESPACE,
        _ONE_TOKEN_PER_CHAR,
        _SENTINEL,
    )

    separators = _char_class(
        tokenizer.filters + _ASCII_WHITESPACE + _NON_ASCII_WHITESPACE + _EMOJI_MODIFIERS + _SENTINEL
    )
    one_per_char = _ranges_class(_ONE_TOKEN_PER_CHAR.pattern)
    words = list(tokenizer.vocabulary_)
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(words, dtype=tf.string),
            tf.constant([tokenizer.vocabulary_[w] for w in words], dtype=tf.int32),
        ),
        default_value=_OOV_ID,
    )
    max_len = int(tokenizer.max_len_)
    lowercase, padding, truncating = tokenizer.lowercase, tokenizer.padding, tokenizer.truncating

    def tokenize(texts):
        if lowercase:
            texts = _lower(texts, tf)
        texts = tf.strings.regex_replace(texts, separators, " ")
        texts = tf.strings.regex_replace(texts, f"({one_per_char})", " \\1 ")
        tokens = tf.strings.split(texts, sep=" ")
        tokens = tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)
        ids = tf.ragged.map_flat_values(table.lookup, tokens)
        lengths = ids.row_lengths()
        kept = tf.minimum(lengths, max_len)
        if truncating == "pre":
            start = lengths - kept
        else:
            start = tf.zeros_like(lengths)
        column = tf.range(max_len, dtype=lengths.dtype)[None, :]
        if padding == "pre":
            offset = column - (max_len - kept)[:, None]
        else:
            offset = column
        valid = (offset >= 0) & (offset < kept[:, None])
        index = tf.where(valid, start[:, None] + offset, 0)
        dense = ids.to_tensor(default_value=0)
        dense = tf.pad(dense, [[0, 0], [0, 1]])  # a row of padding has a column to gather
        gathered = tf.gather(dense, tf.cast(index, tf.int32), batch_dims=1)
        return tf.where(valid, gathered, _PADDING_ID)

    tokenize.table = table  # tracked by the exported module, so that it is saved
    return tokenize


# The default token pattern of scikit-learn's vectorizers: runs of two or more word characters.
_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# Python's Unicode \w (str.isalnum() or "_") as an RE2 class; anything else separates tokens.
_NOT_WORD = r"[^\p{L}\p{N}_]+"
TFIDF_ANALYZERS = ("word", "char_wb", "char")


@functools.cache
def _python_whitespace() -> str:
    """An RE2 class of the characters ``str.isspace()`` accepts (``str.split``, ``\\s``)."""
    return _char_class("".join(chr(c) for c in range(0x3000 + 1) if chr(c).isspace()))


def _word_grams(texts, vectorizer, tf):
    """Word n-grams (ragged ``(n, grams)``) of lowercased texts, as the word analyzer."""
    min_n, max_n = vectorizer.ngram_range
    tokens = tf.strings.split(tf.strings.regex_replace(texts, _NOT_WORD, " "), sep=" ")
    tokens = tf.ragged.boolean_mask(tokens, tf.strings.length(tokens, unit="UTF8_CHAR") >= 2)
    stop_words = sorted(vectorizer.get_stop_words() or ())
    if stop_words:
        stop = tf.reduce_any(
            tf.equal(tokens.flat_values[:, None], tf.constant(stop_words)[None, :]), axis=1
        )
        tokens = tf.ragged.boolean_mask(tokens, tokens.with_flat_values(~stop))
    return tf.strings.ngrams(tokens, ngram_width=tuple(range(min_n, max_n + 1)), separator=" ")


def _char_grams(texts, vectorizer, tf):
    """Character n-grams (ragged ``(n, grams)``), as the char and char_wb analyzers."""
    min_n, max_n = vectorizer.ngram_range
    space = _python_whitespace()
    if vectorizer.analyzer == "char":
        # Runs of two or more whitespace characters become one space (a single tab stays).
        chars = tf.strings.unicode_split(
            tf.strings.regex_replace(texts, space + "{2,}", " "), "UTF-8"
        )
        return tf.concat(
            [tf.strings.ngrams(chars, n, separator="") for n in range(min_n, max_n + 1)], axis=1
        )
    # char_wb: each whitespace-separated word, padded with one space on each side.
    words = tf.strings.split(tf.strings.regex_replace(texts, space, " "), sep=" ")
    words = tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)
    padded = tf.ragged.map_flat_values(lambda w: tf.strings.join([" ", w, " "]), words)
    chars = tf.strings.unicode_split(padded, "UTF-8")  # (n, words, chars)
    parts = [
        tf.strings.ngrams(chars, n, separator="").merge_dims(1, 2) for n in range(min_n, max_n + 1)
    ]
    # A padded word shorter than min_n counts once, whole (as scikit-learn does).
    short = tf.ragged.map_flat_values(
        lambda w: tf.strings.length(w, unit="UTF8_CHAR") < min_n, padded
    )
    parts.append(tf.ragged.boolean_mask(padded, short))
    return tf.concat(parts, axis=1)


def _tfidf_graph(step_name: str, vectorizer, columns: list, tf):
    """``strings (n,) -> float32 (n, n_features)``: ``TextTfidfVectorizer.transform`` in TF ops.

    Word n-grams of the default token pattern (with stop words) and character n-grams
    (``analyzer="char_wb"`` or ``"char"``), lowercasing, ``binary``, ``sublinear_tf``,
    the fitted ``idf_`` and ``norm`` are replicated; any other analyzer, preprocessor,
    tokenizer, token pattern or accent stripping is refused by name.
    """
    settings = {
        "preprocessor": (vectorizer.preprocessor, None),
        "tokenizer": (vectorizer.tokenizer, None),
        "strip_accents": (vectorizer.strip_accents, None),
        "input": (vectorizer.input, "content"),
    }
    if vectorizer.analyzer == "word":
        settings["token_pattern"] = (vectorizer.token_pattern, _DEFAULT_TOKEN_PATTERN)
    for param, (value, supported) in settings.items():
        if value != supported:
            raise _refuse(
                step_name,
                columns,
                f"TextTfidfVectorizer({param}={value!r}) is not replicated in the graph; "
                f"only {param}={supported!r} is.",
            )
    if vectorizer.analyzer not in TFIDF_ANALYZERS:
        raise _refuse(
            step_name,
            columns,
            f"TextTfidfVectorizer(analyzer={vectorizer.analyzer!r}) is not replicated in the "
            f"graph; only analyzer in {TFIDF_ANALYZERS} is.",
        )
    grams_of = _word_grams if vectorizer.analyzer == "word" else _char_grams
    vocabulary = vectorizer.vocabulary_
    words = list(vocabulary)
    n_features = len(vocabulary)
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(words, dtype=tf.string),
            tf.constant([vocabulary[w] for w in words], dtype=tf.int64),
        ),
        default_value=-1,
    )
    idf = np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
    lowercase, binary, sublinear = vectorizer.lowercase, vectorizer.binary, vectorizer.sublinear_tf
    norm = vectorizer.norm

    def vectorize(texts):
        if lowercase:
            texts = _lower(texts, tf)
        grams = grams_of(texts, vectorizer, tf)
        ids = tf.ragged.map_flat_values(table.lookup, grams)
        rows = tf.cast(ids.value_rowids(), tf.int64)
        cols = ids.flat_values
        known = cols >= 0
        flat = tf.boolean_mask(rows * n_features + cols, known)
        n_rows = tf.shape(texts, out_type=tf.int64)[0]
        counts = tf.math.unsorted_segment_sum(
            tf.ones_like(flat, dtype=tf.float64), flat, n_rows * n_features
        )
        x = tf.reshape(counts, (n_rows, n_features))
        if binary:
            x = tf.minimum(x, 1.0)
        elif sublinear:
            x = tf.where(x > 0, tf.math.log(tf.maximum(x, 1.0)) + 1.0, x)
        if idf is not None:
            x = x * idf[None, :]
        if norm == "l2":
            x = tf.math.divide_no_nan(x, tf.norm(x, axis=1, keepdims=True))
        elif norm == "l1":
            x = tf.math.divide_no_nan(x, tf.reduce_sum(tf.abs(x), axis=1, keepdims=True))
        return tf.cast(x, tf.float32)

    vectorize.table = table  # tracked by the exported module, so that it is saved
    return vectorize


def _linear_scores_graph(step_name: str, scores, columns: list, tf):
    """``strings (n,) -> float32 (n, n_scores)``: ``TextLinearScores.transform`` in TF ops.

    Its n-gram features are ``TextTfidfVectorizer`` graphs (see `_tfidf_graph`); the linear
    model is a matrix product, then the same log-probabilities (floored), logit or
    standardised prediction as ``transform``.
    """
    from ._scores import LOG_PROBA_FLOOR

    union = scores.model_.named_steps["ngrams"]
    linear = scores.model_.named_steps["linear"]
    parts = [
        _tfidf_graph(step_name, vectorizer, columns, tf) for _, vectorizer in union.transformer_list
    ]
    coef = np.atleast_2d(np.asarray(linear.coef_, dtype=np.float64)).T
    intercept = np.atleast_1d(np.asarray(linear.intercept_, dtype=np.float64))
    regression = scores.regression_

    def score(texts):
        features = tf.cast(tf.concat([part(texts) for part in parts], axis=1), tf.float64)
        z = tf.matmul(features, coef) + intercept[None, :]
        if regression:
            z = (z - scores.target_mean_) / scores.target_scale_
        else:
            if z.shape[-1] == 1:  # two classes: one logit, the second class's
                z = tf.concat([tf.zeros_like(z), z], axis=1)
            z = tf.maximum(tf.nn.log_softmax(z, axis=1), LOG_PROBA_FLOOR)
            if len(scores.classes_) == 2:
                z = z[:, 1:] - z[:, :1]
        return tf.cast(z, tf.float32)

    score.tables = [part.table for part in parts]
    return score


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: the last 8 bytes of a PNG


def _opaque(image, tf):
    """An RGB image with an opaque alpha channel."""
    alpha = tf.fill(tf.concat([tf.shape(image)[:2], [1]], 0), tf.constant(255, tf.uint8))
    return tf.concat([image, alpha], 2)


def _resize_premultiplied(image, size, method: str, tf):
    """Resize RGBA as Pillow does: colours weighted by their alpha (premultiplied, rounded
    to bytes), so that the colour of transparent pixels does not bleed into their
    neighbours; resizing each channel alone gave another colour at transparent edges."""
    x = tf.cast(image, tf.float32)
    alpha = x[..., 3:]
    premultiplied = tf.concat([tf.round(x[..., :3] * alpha / 255.0), alpha], -1)
    resized = tf.round(tf.image.resize(premultiplied, size, method=method, antialias=True))
    alpha = resized[..., 3:]
    colour = tf.math.divide_no_nan(resized[..., :3] * 255.0, alpha)
    return tf.concat([tf.minimum(colour, 255.0), alpha], -1)


def _check_encoded(data, row, column: str, tf):
    """An assertion that ``data`` is a whole PNG, JPEG, GIF or BMP file, naming the row.

    A file that is none of them, or a PNG, JPEG or BMP cut short, fails with this message
    (``InvalidArgumentError: [skmultimodal: image column] [photo] [row] [3] ...``) instead of
    a decoder's error that names no row. Damage inside a file's body still fails in the
    decoder.
    """
    length = tf.strings.length(data)
    # Eight NUL bytes behind: the header's fields can be read from an empty or short file.
    padded = tf.strings.join([data, tf.constant(b"\x00" * 8)])
    head = tf.strings.substr(padded, 0, 8)
    is_png = tf.equal(head, _PNG_MAGIC)
    is_jpeg = tf.equal(tf.strings.substr(head, 0, 3), b"\xff\xd8\xff")
    is_gif = tf.logical_or(
        tf.equal(tf.strings.substr(head, 0, 6), b"GIF87a"),
        tf.equal(tf.strings.substr(head, 0, 6), b"GIF89a"),
    )
    is_bmp = tf.equal(tf.strings.substr(head, 0, 2), b"BM")
    known = tf.reduce_any(tf.stack([is_png, is_jpeg, is_gif, is_bmp]))
    tail = tf.strings.substr(data, tf.maximum(length - 8, 0), 8)
    png_whole = tf.logical_or(tf.logical_not(is_png), tf.equal(tail, _PNG_END))
    # A whole JPEG holds its end-of-image marker FF D9 (data after it is allowed); inside
    # the compressed data an FF byte is always followed by 00, so a file cut short has none
    # (unless an embedded thumbnail's).
    raw = tf.io.decode_raw(data, tf.uint8)
    marker = tf.logical_and(tf.equal(raw[:-1], 0xFF), tf.equal(raw[1:], 0xD9))
    jpeg_whole = tf.logical_or(tf.logical_not(is_jpeg), tf.reduce_any(marker))
    size_field = tf.io.decode_raw(tf.strings.substr(head, 2, 4), tf.uint8)
    declared = tf.reduce_sum(
        tf.cast(size_field, tf.int64) * tf.constant([1, 1 << 8, 1 << 16, 1 << 24], tf.int64)
    )
    bmp_whole = tf.logical_or(tf.logical_not(is_bmp), declared <= tf.cast(length, tf.int64))
    where = ["skmultimodal: image column", tf.constant(str(column)), "row"]
    return tf.group(
        tf.debugging.Assert(
            known,
            [*where, row, "is not a PNG, JPEG, GIF or BMP file (its first bytes:", head, ")"],
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.stack([png_whole, jpeg_whole, bmp_whole])),
            [*where, row, "is cut short: the file ends before its image does (", length, "bytes)"],
        ),
    )


def _image_graph(loader, mode: str, tf, column: str = "image"):
    """``encoded files (n,) or uint8 pixels -> uint8 (n, h, w, c)``."""
    height, width, channels = loader.output_shape_
    if mode == "pixels":
        return lambda pixels: pixels
    if loader.keep_aspect_ratio:
        raise _refuse(
            "ImageLoader",
            [],
            "keep_aspect_ratio=True (centre crop) is not replicated "
            "in the graph; export with image_input='pixels'.",
        )
    method = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic"}.get(
        loader.interpolation, "area"
    )

    def decode_jpeg(data):
        # ImageLoader decodes JPEG files in Pillow's draft mode: libjpeg scales by 1/8,
        # 1/4 or 1/2 in the DCT domain, the largest scale that keeps both sides at
        # least the target's; decode_jpeg's ratio is the same libjpeg scaling.
        shape = tf.io.extract_jpeg_shape(data)
        scale = tf.minimum(shape[1] // width, shape[0] // height)
        # A JPEG has no alpha: RGBA gets an opaque alpha channel, as Pillow gives it.
        rgb = min(channels, 3)
        image = tf.case(
            [
                (scale >= ratio, lambda r=ratio: tf.io.decode_jpeg(data, rgb, ratio=r))
                for ratio in (8, 4, 2)
            ],
            default=lambda: tf.io.decode_jpeg(data, rgb),
        )
        return _opaque(image, tf) if channels == 4 else image

    def decode_other(data):
        if channels != 4:
            return tf.io.decode_image(data, channels=channels, expand_animations=False)
        # RGBA: only PNG has alpha in TensorFlow's decoders; a GIF or BMP is opaque.
        return tf.cond(
            tf.equal(tf.strings.substr(data, 0, 4), _PNG_MAGIC[:4]),
            lambda: tf.io.decode_png(data, channels=4),
            lambda: _opaque(tf.io.decode_image(data, channels=3, expand_animations=False), tf),
        )

    def decode_one(row_and_data):
        row, data = row_and_data
        with tf.control_dependencies([_check_encoded(data, row, column, tf)]):
            data = tf.identity(data)
        image = tf.cond(
            tf.io.is_jpeg(data),
            lambda: decode_jpeg(data),
            lambda: decode_other(data),
        )
        image.set_shape((None, None, channels))
        if channels == 4:
            image = _resize_premultiplied(image, (height, width), method, tf)
        else:
            image = tf.image.resize(image, (height, width), method=method, antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)

    def decode(files):
        rows = tf.range(tf.shape(files, out_type=tf.int64)[0])
        return tf.map_fn(
            decode_one,
            (rows, files),
            fn_output_signature=tf.TensorSpec((height, width, channels), tf.uint8),
        )

    return decode


def _tabular_graph(step_name: str, trans, columns: list, tf):
    """``{column: (n,)} -> float32 (n, k)`` for the standard scikit-learn steps."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

    steps = [s for _, s in trans.steps] if isinstance(trans, Pipeline) else [trans]
    string_columns = set()
    ops = []
    for step in steps:
        kind = type(step).__name__
        if step == "passthrough":
            continue
        if isinstance(step, StandardScaler):
            mean = np.zeros(len(columns)) if step.mean_ is None else step.mean_
            scale = np.ones(len(columns)) if step.scale_ is None else step.scale_
            ops.append(lambda x, m=mean, s=scale: (x - m) / s)
        elif isinstance(step, MinMaxScaler):
            if step.clip:
                lo, hi = step.feature_range
                ops.append(
                    lambda x, a=step.scale_, b=step.min_, lo=lo, hi=hi: tf.clip_by_value(
                        x * a + b, lo, hi
                    )
                )
            else:
                ops.append(lambda x, a=step.scale_, b=step.min_: x * a + b)
        elif isinstance(step, SimpleImputer) and step.statistics_.dtype.kind == "f":
            if step.add_indicator:
                raise _refuse(step_name, columns, "SimpleImputer(add_indicator=True).")
            statistics = step.statistics_.astype("float64")
            ops.append(lambda x, v=statistics: tf.where(tf.math.is_nan(x), v, x))
        elif isinstance(step, OneHotEncoder) and step is steps[0]:
            if step.drop is not None or getattr(step, "_infrequent_enabled", False):
                raise _refuse(
                    step_name, columns, "OneHotEncoder with drop or infrequent categories."
                )
            if not all(c.dtype.kind in "OUS" for c in step.categories_):
                raise _refuse(step_name, columns, "OneHotEncoder of numeric categories.")
            string_columns.update(columns)
            categories = [[str(v) for v in c] for c in step.categories_]
            ops.append(_one_hot(categories, tf))
        else:
            raise _refuse(
                step_name,
                columns,
                f"{kind} is not one of StandardScaler, MinMaxScaler, OneHotEncoder (first step, "
                "string categories), SimpleImputer (numbers) or 'passthrough'.",
            )

    def transform(values):
        if set(columns) <= string_columns:
            x = tf.stack([values[c] for c in columns], axis=1)
        else:
            x = tf.stack([tf.cast(values[c], tf.float64) for c in columns], axis=1)
        for op in ops:
            x = op(x)
        if not string_columns:
            x = _assert_finite(x, columns, tf)
        return tf.cast(x, tf.float32)

    dtypes = {c: tf.string if c in string_columns else tf.float64 for c in columns}
    return transform, dtypes


def _assert_finite(x, columns: list, tf):
    """``x`` (numbers after their steps, one column per input column), or an error naming
    the first column and row holding a NaN (not imputed) or an infinity, which the
    pipeline refuses too, instead of NaN probabilities."""
    bad = tf.logical_not(tf.math.is_finite(x))
    column = tf.argmax(tf.cast(tf.reduce_any(bad, axis=0), tf.int32))
    row = tf.argmax(tf.cast(bad[:, column], tf.int32))
    check = tf.debugging.Assert(
        tf.logical_not(tf.reduce_any(bad)),
        [
            "skmultimodal: column",
            tf.gather(tf.constant([str(c) for c in columns]), column),
            "has a NaN or infinite value at row",
            row,
            "(not imputed by the pipeline); send finite numbers",
        ],
    )
    with tf.control_dependencies([check]):
        return tf.identity(x)


def _one_hot(categories: list, tf):
    def encode(x):
        parts = []
        for j, values in enumerate(categories):
            matches = tf.equal(x[:, j : j + 1], tf.constant(values, dtype=tf.string)[None, :])
            parts.append(tf.cast(matches, tf.float64))
        return tf.concat(parts, axis=1)

    return encode


def export(pipeline, path: str | os.PathLike, *, image_input: str = "bytes") -> Path:
    """Write a fitted pipeline as a TensorFlow SavedModel that takes the raw columns.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted, of two steps: a :class:`~skmultimodal.MultiInputTransformer` and a
        :class:`~skmultimodal.MultiInputKerasClassifier` with one output. The
        transformer's steps must be :class:`~skmultimodal.ImageLoader`,
        :class:`~skmultimodal.TextTokenizer`,
        :class:`~skmultimodal.text_backbone.BackboneTokenizer` (its keras-hub preprocessor
        goes into the graph: serving then also needs ``import tensorflow_text``, which
        registers its tokenizer ops), :class:`~skmultimodal.text.TextTfidfVectorizer`
        (word n-grams of the default token pattern), ``"passthrough"``, or scikit-learn's
        ``StandardScaler``, ``MinMaxScaler``, ``SimpleImputer`` (numbers) or
        ``OneHotEncoder`` (string categories, first step), alone or in a ``Pipeline``;
        any other step is refused with its name and columns.
    path : str or os.PathLike
        Folder of the SavedModel (created; an existing SavedModel there is replaced).
    image_input : {"bytes", "pixels"}, default="bytes"
        What the signature takes for an image column: the encoded files (PNG, JPEG, GIF,
        BMP), decoded with ``tf.io.decode_image`` and resized with ``tf.image.resize``
        (antialiased), which is close to, not exactly, Pillow's resize (measured in
        the user guide); or ``"pixels"``: the decoded uint8 ``(n, h, w, c)`` arrays
        that ``ImageLoader`` returns, which reproduces the pipeline to float precision.

    Returns
    -------
    Path
        ``path``. The SavedModel's ``serving_default`` signature takes one keyword per
        table column (strings for texts and categories, float64 for numbers, strings or
        uint8 pixels for images) and returns ``{"probabilities": float32 (n, n_classes)}``
        in the order of ``classes``, which ``skmultimodal_export.json`` (in the
        ``assets`` folder) lists with the inputs. The keyword is the column's name where
        that is a plain identifier, else :func:`argument_names`'s (``"prix é"`` is
        ``prix_e``, ``"class"`` is ``class_``); the manifest's ``"arguments"`` maps
        each column to its keyword.

    Examples
    --------
    >>> import tensorflow as tf  # doctest: +SKIP
    >>> export(pipeline, "served")  # doctest: +SKIP
    >>> serve = tf.saved_model.load("served").signatures["serving_default"]  # doctest: +SKIP
    >>> serve(text=tf.constant(["a good film"]), price=tf.constant([3.5], tf.float64))
    ... # doctest: +SKIP
    """
    import tensorflow as tf
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from .compose import MultiInputTransformer
    from .estimators import MultiInputKerasClassifier
    from .image import ImageLoader
    from .text import TextLinearScores, TextTfidfVectorizer, TextTokenizer
    from .text_backbone import BackboneTokenizer

    if image_input not in IMAGE_INPUTS:
        raise ValueError(f"image_input must be one of {IMAGE_INPUTS}, got {image_input!r}.")
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise ValueError(
            "export takes a fitted Pipeline of two steps, a MultiInputTransformer and a "
            f"MultiInputKerasClassifier; got {type(pipeline).__name__}."
        )
    (prep_name, prep), (clf_name, clf) = pipeline.steps
    if not isinstance(prep, MultiInputTransformer):
        raise ValueError(f"export: step {prep_name!r} must be a MultiInputTransformer.")
    if not isinstance(clf, MultiInputKerasClassifier):
        raise ValueError(
            f"export: step {clf_name!r} must be a MultiInputKerasClassifier, got "
            f"{type(clf).__name__}."
        )
    check_is_fitted(clf)
    if clf.input_names_ is None or isinstance(clf.classes_, list):
        raise ValueError("export supports a classifier with one output on a dict of inputs.")

    builders = {}
    signature: dict = {}
    for name, trans, columns in prep.transformers_:
        if trans == "drop":
            continue
        cols = [columns] if isinstance(columns, (str, int)) else list(columns)
        cols = [str(c) for c in cols]
        if (
            getattr(trans, "on_missing", None) == "mask"
            or type(trans).__name__ == "MaskMissingRows"
        ):
            raise _refuse(
                name,
                cols,
                "rows without this modality (on_missing='mask', presence masks) are not "
                "exported yet; fit the pipeline without masks to export it.",
            )
        if isinstance(trans, ImageLoader):
            builders[name] = (cols, _image_graph(trans, image_input, tf, cols[0]))
            if image_input == "pixels":
                signature[cols[0]] = tf.TensorSpec((None, *trans.output_shape_), tf.uint8)
            else:
                signature[cols[0]] = tf.TensorSpec((None,), tf.string)
        elif isinstance(trans, TextTokenizer):
            builders[name] = (cols, _text_graph(trans, tf))
            signature[cols[0]] = tf.TensorSpec((None,), tf.string)
        elif isinstance(trans, BackboneTokenizer):
            builders[name] = (cols, _backbone_tokens_graph(trans, tf))
            signature[cols[0]] = tf.TensorSpec((None,), tf.string)
        elif isinstance(trans, TextTfidfVectorizer):
            builders[name] = (cols, _tfidf_graph(name, trans, cols, tf))
            signature[cols[0]] = tf.TensorSpec((None,), tf.string)
        elif isinstance(trans, TextLinearScores):
            builders[name] = (cols, _linear_scores_graph(name, trans, cols, tf))
            signature[cols[0]] = tf.TensorSpec((None,), tf.string)
        elif trans == "passthrough" or hasattr(trans, "transform"):
            if name in getattr(clf, "sparse_inputs_", ()):
                raise _refuse(
                    name,
                    cols,
                    f"its output is sparse; give {type(trans).__name__} a dense output "
                    "(OneHotEncoder: sparse_output=False).",
                )
            transform, dtypes = _tabular_graph(name, trans, cols, tf)
            builders[name] = (cols, transform)
            for col, dtype in dtypes.items():
                signature[col] = tf.TensorSpec((None,), dtype)
        else:
            raise _refuse(name, cols, f"{type(trans).__name__} is not supported.")
        if name not in clf.input_names_:
            raise _refuse(name, cols, "the classifier has no input of this name.")

    model = clf.model_
    binary = clf.target_type_ == "binary" and model.output.shape[-1] == 1
    arguments = argument_names(list(signature))

    def serve(**given):
        columns = {column: given[argument] for column, argument in arguments.items()}
        inputs = {}
        for name, (cols, build) in builders.items():
            if len(cols) == 1 and name in _single_column_steps(
                prep,
                ImageLoader,
                TextTokenizer,
                BackboneTokenizer,
                TextTfidfVectorizer,
                TextLinearScores,
            ):
                inputs[name] = build(columns[cols[0]])
            else:
                inputs[name] = build({c: columns[c] for c in cols})
        proba = model(inputs, training=False)
        if binary:
            proba = tf.concat([1 - proba, proba], axis=1)
        return {"probabilities": proba}

    module = tf.Module()
    module.model = model
    module.tables = [
        table
        for _, build in builders.values()
        for table in getattr(build, "tables", [build.table] if hasattr(build, "table") else [])
    ]
    module.tokenizers = [build.layer for _, build in builders.values() if hasattr(build, "layer")]
    module.serve = tf.function(serve, input_signature=None).get_concrete_function(
        **{arguments[column]: spec for column, spec in signature.items()}
    )
    path = Path(path)
    manifest = {
        "inputs": {col: spec.dtype.name for col, spec in signature.items()},
        "arguments": arguments,
        "image_input": image_input,
        "classes": np.asarray(clf.classes_).tolist(),
        "output": "probabilities",
    }
    tf.saved_model.save(module, os.fspath(path), signatures={"serving_default": module.serve})
    (path / "assets").mkdir(exist_ok=True)
    (path / "assets" / "skmultimodal_export.json").write_text(json.dumps(manifest, indent=1))
    return path


def argument_names(columns: list[str]) -> dict[str, str]:
    """The serving signature's keyword for each column: the column name made a plain
    identifier, distinct from the others'.

    Letters lose their accents, any other character but ``[A-Za-z0-9_]`` becomes ``_``,
    a leading digit or underscore (or an empty name) gets ``c`` in front and a Python
    keyword ``_`` behind; two columns that would get the same keyword are numbered
    (``_2``, ``_3``, ...) in column order. A name that is a plain identifier keeps it.

    Examples
    --------
    >>> from skmultimodal.export import argument_names
    >>> argument_names(["price", "prix é", "a-b", "a.b"])
    {'price': 'price', 'prix é': 'prix_e', 'a-b': 'a_b', 'a.b': 'a_b_2'}
    >>> argument_names(["1st", "class", "$"])
    {'1st': 'c1st', 'class': 'class_', '$': 'c_'}
    """
    taken: set[str] = set()
    names = {}
    for column in columns:
        plain = unicodedata.normalize("NFKD", str(column))
        plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
        plain = re.sub(r"[^A-Za-z0-9_]", "_", plain)
        if not plain or not plain[0].isalpha():
            plain = "c" + plain
        if keyword.iskeyword(plain):
            plain += "_"
        name, number = plain, 1
        while name in taken:
            number += 1
            name = f"{plain}_{number}"
        taken.add(name)
        names[column] = name
    return names


def _single_column_steps(prep, *kinds) -> set:
    return {name for name, trans, _ in prep.transformers_ if isinstance(trans, kinds)}
