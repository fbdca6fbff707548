"""Pretrained keras-hub text encoders: their tokenizer as a pipeline step, and cached text
embeddings.

A keras-hub *preset* is a folder (or the name of one that keras-hub downloads) holding a
text backbone (``config.json``, ``model.weights.h5``) and its tokenizer
(``tokenizer.json`` and its vocabulary under ``assets/``). Two transformers read one:

- :class:`BackboneTokenizer` turns a text column into the int32 token ids the backbone
  reads (with its special tokens, padded to ``sequence_length``): the step that feeds an
  estimator's ``text_backbone``, which runs the backbone inside the model;
- :class:`TextEmbedder` turns a text column into the backbone's pooled features, a float32
  ``(n, d)`` table for our networks or any scikit-learn model, cached on disk by the text's
  hash and the preset's identity as :class:`~skmultimodal.ImageEmbedder` caches images.

keras-hub is an optional extra (``pip install "skmultimodal[text]"``). ``import
skmultimodal.text_backbone`` loads neither keras-hub nor TensorFlow: they are imported in
``fit`` and ``transform``, and the tokenizer and backbone are built once per process on
first use (never pickled: a pickled step rebuilds them from the preset).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .embedding import _CachedEmbedder, _check_cache_dir, cached_embeddings
from .text import _as_text, _text_column, _text_column_tags

__all__ = ["BackboneTokenizer", "TextEmbedder", "backbone_texts_seen"]

#: How to install what this module needs.
TEXT_EXTRA = 'pip install "skmultimodal[text]"'
# The number of texts the backbones of TextEmbedders of this process have embedded (cache
# misses only). Read it with :func:`backbone_texts_seen`.
_BACKBONE_TEXTS = [0]
# Bump when the way text embeddings are computed changes: old cache entries are then unused.
_CACHE_FORMAT = 1
# The files of a preset folder; a folder without CONFIG holds no backbone.
_CONFIG = "config.json"
_TOKENIZER = "tokenizer.json"
# Preset names whose download failed in this process: a grid search then fails at once in
# every later fit instead of trying the network again.
_UNFETCHED: dict[str, str] = {}
# Words in an error's text (or its causes') that say the network, not the preset, failed.
_NETWORK_CLUES = (
    "Failed to resolve",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Max retries exceeded",
    "Connection refused",
    "Network is unreachable",
    "timed out",
    "urlopen",
)
_NETWORK_ERRORS = ("ConnectionError", "MaxRetryError", "NameResolutionError", "URLError")
# The parts of a network error's long text that say what failed, the most telling first.
_NETWORK_REASONS = (
    re.compile(r"Failed to resolve '[^']*'"),
    *(re.compile(re.escape(clue)) for clue in _NETWORK_CLUES if clue != "Failed to resolve"),
)


def backbone_texts_seen() -> int:
    """How many texts the :class:`TextEmbedder` backbones of this process have embedded.

    Texts read from the cache are not counted: this is the number of backbone forward
    passes, one per distinct text.

    Examples
    --------
    >>> isinstance(backbone_texts_seen(), int)
    True
    """
    return _BACKBONE_TEXTS[0]


def import_keras_hub(owner: str):
    """``keras_hub``, or an ImportError that names the extra to install."""
    try:
        import keras_hub
    except ImportError as error:
        raise ImportError(
            f"{owner} needs keras-hub, an optional dependency of skmultimodal: {TEXT_EXTRA} "
            f"(or pip install keras-hub). ({error})"
        ) from error
    return keras_hub


def check_preset(preset: Any, parameter: str) -> None:
    """TypeError or ValueError naming ``parameter`` when ``preset`` is no keras-hub preset.

    A preset is a folder holding ``config.json`` or a preset name (a string that is not a
    path: no folder separator, no leading dot), which keras-hub downloads on first use.

    Examples
    --------
    >>> check_preset("bert_tiny_en_uncased", "text_backbone")
    >>> check_preset("./no/such/folder", "text_backbone")
    Traceback (most recent call last):
    ...
    ValueError: text_backbone='./no/such/folder' names a folder that does not exist; ...
    """
    if not isinstance(preset, (str, os.PathLike)):
        raise TypeError(
            f"{parameter} must be a keras-hub preset: the name of one or the path of a local "
            f"preset folder; got {type(preset).__name__}."
        )
    path = os.fspath(preset)
    looks_like_a_path = (
        isinstance(preset, os.PathLike)
        or path.startswith((".", "~"))
        or os.sep in path
        or (os.altsep is not None and os.altsep in path)
    )
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, _CONFIG)):
            raise ValueError(
                f"{parameter}={path!r} is a folder without {_CONFIG}, so not a keras-hub "
                "preset; write one with backbone.save_to_preset(folder) and "
                "tokenizer.save_to_preset(folder)."
            )
    elif looks_like_a_path:
        raise ValueError(
            f"{parameter}={path!r} names a folder that does not exist; give the folder a "
            "keras-hub preset was saved to (backbone.save_to_preset(folder)), or a preset "
            "name such as 'bert_tiny_en_uncased'."
        )


def _network_failure(error: BaseException) -> str | None:
    """What failed, in a few words, when ``error``'s chain holds a network error; else None.

    Examples
    --------
    >>> _network_failure(ConnectionError("Max retries (Failed to resolve 'api.kaggle.com')"))
    "ConnectionError: Failed to resolve 'api.kaggle.com'"
    >>> _network_failure(ValueError("no config.json")) is None
    True
    """
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error)
        if type(error).__name__ in _NETWORK_ERRORS or any(c in text for c in _NETWORK_CLUES):
            found = (match.group(0) for p in _NETWORK_REASONS if (match := p.search(text)))
            reason = next(found, (text.splitlines() or [""])[0][:120])
            return f"{type(error).__name__}: {reason}"
        error = error.__cause__ or error.__context__
    return None


def _preset_unavailable(name: str, parameter: str, reason: str) -> OSError:
    cache = os.environ.get("KAGGLEHUB_CACHE") or os.path.join("~", ".cache", "kagglehub")
    return OSError(
        f"{parameter}={name!r} is a keras-hub preset name, and its files could not be "
        f"downloaded: no network access ({reason}). keras-hub downloads a preset once into "
        f"its cache folder, {os.path.expanduser(cache)} (the KAGGLEHUB_CACHE variable; "
        "'hf://' presets go to the Hugging Face cache). Without network, save the preset to "
        "a local folder on a machine that has it (keras_hub.models.Backbone.from_preset(name)"
        ".save_to_preset(folder), then the same with keras_hub.models.Tokenizer), copy that "
        f"folder here and pass its path: {parameter}='path/to/folder' "
        "(docs/user_guide/text_backbones.md)."
    )


def load_from_preset(kind: str, preset: str | os.PathLike, parameter: str, **kwargs) -> Any:
    """``keras_hub.models.<kind>.from_preset(preset, **kwargs)``, with one clear error when
    a preset name cannot be downloaded (raised at once by every later call).

    Parameters
    ----------
    kind : str
        A class of ``keras_hub.models``: ``"Backbone"``, ``"Tokenizer"``,
        ``"TextClassifierPreprocessor"``.
    preset : str or os.PathLike
    parameter : str
        The parameter that named the preset, for the messages.
    """
    keras_hub = import_keras_hub(parameter)
    name = os.fspath(preset)
    if name in _UNFETCHED:
        raise _preset_unavailable(name, parameter, _UNFETCHED[name])
    try:
        return getattr(keras_hub.models, kind).from_preset(name, **kwargs)
    except Exception as error:
        reason = None if os.path.isdir(name) else _network_failure(error)
        if reason is None:
            raise
        _UNFETCHED[name] = reason
        raise _preset_unavailable(name, parameter, reason) from error


def load_text_preprocessor(preset: str | os.PathLike, sequence_length: int, parameter: str):
    """The preset's text preprocessor: texts -> ``token_ids`` (special tokens added, padded
    or truncated to ``sequence_length``), ``padding_mask``, and ``segment_ids`` where the
    backbone reads them."""
    return load_from_preset(
        "TextClassifierPreprocessor", preset, parameter, sequence_length=sequence_length
    )


def token_ids(preprocessor, texts: list[str]) -> np.ndarray:
    """int32 ``(len(texts), sequence_length)`` token ids of ``texts``."""
    if not texts:
        return np.zeros((0, preprocessor.sequence_length), dtype=np.int32)
    return np.asarray(preprocessor(texts)["token_ids"], dtype=np.int32)


def padding_token_id(backbone: Any) -> int:
    """The id that pads token ids for ``backbone``: its preset tokenizer's, else 0 (BERT's
    ``[PAD]``: a ``keras.Model`` carries no tokenizer)."""
    if not isinstance(backbone, (str, os.PathLike)):
        return 0
    path = os.fspath(backbone)
    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, _TOKENIZER)):
        return 0
    tokenizer = load_from_preset("Tokenizer", backbone, "text_backbone")
    pad = getattr(tokenizer, "pad_token_id", None)
    return 0 if pad is None else int(pad)


def backbone_vocabulary_size(backbone: Any) -> int | None:
    """The number of token ids ``backbone`` (a preset or a ``keras.Model``) reads, or None
    when its configuration does not say."""
    if isinstance(backbone, (str, os.PathLike)):
        config = _local_config(backbone)
        if config is None:
            config = load_from_preset("Backbone", backbone, "text_backbone").get_config()
    else:
        config = backbone.get_config()
    size = config.get("vocabulary_size")
    return None if size is None else int(size)


def preset_max_sequence_length(preset: str | os.PathLike) -> int:
    """The most token ids per text a preset's backbone reads (its
    ``max_sequence_length``), read from a local folder's ``config.json``; 512 (BERT's) for
    a preset name or a configuration that does not say."""
    config = _local_config(preset) or {}
    return int(config.get("max_sequence_length") or 512)


def _local_config(preset: str | os.PathLike) -> dict | None:
    """The backbone configuration in a local preset folder's ``config.json``; None for a
    preset name (or a folder without one)."""
    path = Path(os.fspath(preset), _CONFIG)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("config", {})


def preset_identity(preset: str | os.PathLike) -> dict:
    """What identifies a preset's computation: a folder's files (names and SHA-256 of their
    bytes), or a preset name (a published preset does not change)."""
    path = os.fspath(preset)
    if not os.path.isdir(path):
        return {"preset": path}
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return {"preset_files_sha256": digest.hexdigest()}


def _texts(estimator: Any, X: Any, *, reset: bool = False) -> list[str]:
    """The texts of the one-column ``X``; missing values are empty texts."""
    return [_as_text(value) for value in _text_column(estimator, X, reset=reset)]


_SEQUENCE_LENGTH = [Interval(Integral, 2, None, closed="left")]


class BackboneTokenizer(TransformerMixin, BaseEstimator):
    """Tokenize a text column as a keras-hub text backbone reads it: int32 token ids.

    The preset's own preprocessor (e.g. BERT's WordPiece with ``[CLS]`` and ``[SEP]``)
    tokenizes each text, then pads or truncates it to ``sequence_length``. Feed the ids to
    an estimator with ``text_backbone`` set to the same preset: the model derives the
    padding mask from the padding id and runs the backbone. Missing texts (None, NaN) are
    empty texts.

    Parameters
    ----------
    preset : str or os.PathLike
        A local keras-hub preset folder holding the tokenizer (``tokenizer.save_to_preset``),
        or a preset name (downloaded by keras-hub on first use).
    sequence_length : int, default=128
        Token ids per text, special tokens included; at most the backbone's
        ``max_sequence_length``.

    Attributes
    ----------
    vocabulary_size_ : int
        The tokenizer's number of ids.
    pad_token_id_ : int
        The id of the padding token.
    n_features_in_ : int
        Always 1.
    feature_names_in_ : ndarray of shape (1,)
        The column name, when fit on a one-column DataFrame.

    Examples
    --------
    >>> import tempfile, keras_hub
    >>> words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie"]
    >>> folder = tempfile.mkdtemp()
    >>> keras_hub.models.BertBackbone(
    ...     vocabulary_size=8, num_layers=1, num_heads=1, hidden_dim=4, intermediate_dim=4
    ... ).save_to_preset(folder)
    >>> keras_hub.models.BertTokenizer(vocabulary=words).save_to_preset(folder)
    >>> BackboneTokenizer(folder, sequence_length=6).fit_transform(["good movie", None])
    array([[2, 5, 7, 3, 0, 0],
           [2, 3, 0, 0, 0, 0]], dtype=int32)
    """

    _parameter_constraints: dict = {
        "preset": [str, os.PathLike],
        "sequence_length": _SEQUENCE_LENGTH,
    }

    def __init__(self, preset: str | os.PathLike, sequence_length: int = 128) -> None:
        self.preset = preset
        self.sequence_length = sequence_length

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BackboneTokenizer:
        """Load the preset's tokenizer; learns nothing from ``X``.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Texts.
        y : None
            Ignored.

        Returns
        -------
        self : BackboneTokenizer
        """
        check_preset(self.preset, "preset")
        _text_column(self, X, reset=True)
        vars(self).pop("_preprocessor", None)
        preprocessor = self._loaded_preprocessor()
        self.vocabulary_size_ = int(preprocessor.tokenizer.vocabulary_size())
        self.pad_token_id_ = int(getattr(preprocessor.tokenizer, "pad_token_id", 0) or 0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Token ids of the texts.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Texts.

        Returns
        -------
        ids : ndarray of shape (n_samples, sequence_length), dtype int32
        """
        check_is_fitted(self)
        return token_ids(self._loaded_preprocessor(), _texts(self, X))

    def _loaded_preprocessor(self):
        """The preset's preprocessor for the current parameters, loaded once per process."""
        key = (os.fspath(self.preset), self.sequence_length)
        loaded = vars(self).get("_preprocessor")
        if loaded is None or loaded[0] != key:
            loaded = (key, load_text_preprocessor(self.preset, self.sequence_length, "preset"))
            self._preprocessor = loaded
        return loaded[1]

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop("_preprocessor", None)  # reloaded from the preset on first use
        return state

    def __sklearn_tags__(self):
        return _text_column_tags(super().__sklearn_tags__())


class TextEmbedder(_CachedEmbedder, TransformerMixin, BaseEstimator):
    """Turn a text column into a pretrained keras-hub backbone's pooled features.

    Each text is tokenized by the preset's preprocessor, run through the backbone (frozen,
    inference mode) and averaged over its tokens (padding excluded): a float32 ``(n, d)``
    array, a tabular input for :class:`~skmultimodal.MultiInputKerasClassifier` or any
    scikit-learn model. Missing texts (None, NaN) are empty texts.

    With ``cache_dir``, each embedding is stored in one small file of its float32 values,
    named after the SHA-256 of the text's UTF-8 bytes, in a folder named after the
    backbone's identity (the preset folder's files and their SHA-256, or the preset name,
    ``sequence_length`` and the pooling). The same text in another row, fold or process
    hits the cache; another preset, or a retrained one saved to the same folder, does
    not. Entries are written atomically (a temporary file, then ``os.replace``), so the
    processes of a parallel search can share one cache folder. The cache is never pruned:
    delete the folder to reclaim space.

    Parameters
    ----------
    backbone : str or os.PathLike
        A keras-hub preset holding the backbone and its tokenizer: a local folder
        (``backbone.save_to_preset(folder)``, ``tokenizer.save_to_preset(folder)``) or a
        preset name (downloaded by keras-hub on first use).
    sequence_length : int, default=128
        Tokens per text, special tokens included (longer texts are truncated).
    batch_size : int, default=32
        Texts per backbone call.
    cache_dir : str, os.PathLike or None, default=None
        Folder of the embedding cache (created when missing); None caches nothing.

    Attributes
    ----------
    backbone_key_ : str
        The backbone's identity: the name of its folder under ``cache_dir``.
    n_features_in_ : int
        Always 1.
    feature_names_in_ : ndarray of shape (1,)
        The column name, when fit on a one-column DataFrame.

    Examples
    --------
    >>> import tempfile, keras_hub
    >>> words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie"]
    >>> folder = tempfile.mkdtemp()
    >>> keras_hub.models.BertBackbone(
    ...     vocabulary_size=8, num_layers=1, num_heads=1, hidden_dim=4, intermediate_dim=4
    ... ).save_to_preset(folder)
    >>> keras_hub.models.BertTokenizer(vocabulary=words).save_to_preset(folder)
    >>> embedder = TextEmbedder(folder, sequence_length=8, cache_dir=tempfile.mkdtemp())
    >>> embedder.fit_transform(["good movie", "bad movie", "good movie"]).shape
    (3, 4)
    >>> seen = backbone_texts_seen()
    >>> _ = embedder.transform(["bad movie"])  # read from the cache
    >>> backbone_texts_seen() - seen
    0
    """

    _identity_params = ("backbone", "sequence_length")
    _parameter_constraints: dict = {
        "backbone": [str, os.PathLike],
        "sequence_length": _SEQUENCE_LENGTH,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cache_dir": [str, os.PathLike, None],
    }

    def __init__(
        self,
        backbone: str | os.PathLike,
        sequence_length: int = 128,
        batch_size: int = 32,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        self.backbone = backbone
        self.sequence_length = sequence_length
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> TextEmbedder:
        """Check the parameters and record the backbone's identity; embeds no text.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Texts.
        y : None
            Ignored.

        Returns
        -------
        self : TextEmbedder
        """
        check_preset(self.backbone, "backbone")
        import_keras_hub("TextEmbedder")
        _check_cache_dir(self.cache_dir, type(self).__name__)
        _text_column(self, X, reset=True)
        identity = {
            "format": _CACHE_FORMAT,
            **preset_identity(self.backbone),
            "sequence_length": int(self.sequence_length),
            "pooling": "masked_mean",
        }
        self.backbone_key_ = hashlib.sha256(
            json.dumps(identity, sort_keys=True).encode()
        ).hexdigest()[:32]
        self._record_identity()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed the texts, reading and filling the cache.

        Parameters
        ----------
        X : DataFrame of one column, Series, list, or array of shape (n,) or (n, 1)
            Texts.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features), dtype float32
        """
        check_is_fitted(self)
        self._check_unchanged_since_fit()
        texts = _texts(self, X)
        _check_cache_dir(self.cache_dir, type(self).__name__)
        keys = [hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() for text in texts]
        folder = None if self.cache_dir is None else Path(self.cache_dir, self.backbone_key_)
        return cached_embeddings(keys, texts, folder, self._embed, self._width)

    def _model(self):
        """(preprocessor, embedding model), built once per process (never pickled)."""
        built = vars(self).get("_embedding_model")
        if built is None:
            import keras

            from .architecture import SharedTextBackbone

            preprocessor = load_text_preprocessor(self.backbone, self.sequence_length, "backbone")
            inputs = keras.Input((self.sequence_length,), dtype="int32")
            shared = SharedTextBackbone(self.backbone, trainable=False)
            built = (preprocessor, keras.Model(inputs, shared(inputs)))
            self._embedding_model = built
        return built

    def _width(self) -> int:
        return int(self._model()[1].output.shape[-1])

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        preprocessor, model = self._model()
        out = []
        for start in range(0, len(texts), self.batch_size):
            ids = token_ids(preprocessor, texts[start : start + self.batch_size])
            out.extend(np.asarray(model.predict_on_batch(ids), dtype=np.float32))
            _BACKBONE_TEXTS[0] += len(ids)
        return out

    def __sklearn_tags__(self):
        tags = _text_column_tags(super().__sklearn_tags__())
        tags.non_deterministic = False
        return tags
