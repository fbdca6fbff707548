"""Pure Keras model building: input kinds, one builder per branch, the head.

Nothing here knows about scikit-learn. Every branch builder is a function
``(keras_tensor, **hyperparameters) -> keras_tensor`` so it can be reused in a
hand-written functional model; :func:`build_multi_input_model` assembles them into
the model that :class:`~skmultimodal.MultiInputKerasClassifier` fits by default.

The examples assume ``import keras`` (as numpy's assume ``import numpy as np``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import layers, ops

from .missing import PRESENCE_SUFFIX

INPUT_KINDS = ("image", "tokens", "sequence", "tabular")
# Number of dimensions (samples first) of an input of each kind.
INPUT_NDIM = {"image": 4, "sequence": 3, "tokens": 2, "tabular": 2}
# The kind of a presence mask "<input>__present" (see skmultimodal.missing): not a branch,
# but the rows of <input> that have a value, as float32 (n, 1).
PRESENCE_KIND = "presence"

TEXT_CELLS = ("lstm", "gru", "pool", "conv")
#: What reads a sequence input: a recurrent layer, or three 1-D convolutions and a masked
#: global average pooling.
SEQUENCE_CELLS = ("lstm", "gru", "conv")
IMAGE_POOLINGS = ("flatten", "avg", "max", "grid")
# image_pooling="grid": the last feature map is average-pooled to at most this many cells
# per side, then flattened.
IMAGE_GRID = 2
BRANCH_NORMS = ("layer", "batch")
#: How the branches meet: ``"joint"`` (one head over the concatenation), ``"late"`` (one
#: head and logits per branch, summed) or ``"hybrid"`` (both, summed).
FUSIONS = ("joint", "late", "hybrid")
#: The name of a single-array model's input (its key in :func:`linear_start_inputs`).
SINGLE_INPUT_NAME = "input"
# wide_inputs="sparse": every sparse input of a model that also has a dense input.
WIDE_SPARSE = "sparse"
# A Dropout layer after a branch's pooled features drops at the full rate only from this
# many features on; a narrower branch gets a proportionally lower rate (see feature_dropout).
DROPOUT_FULL_WIDTH = 128
# Train-time image augmentations (inactive at prediction): name -> layer factory.
IMAGE_AUGMENTATIONS = {
    "flip": lambda: layers.RandomFlip("horizontal"),
    "translate": lambda: layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
    "rotate": lambda: layers.RandomRotation(0.05, fill_mode="constant"),
    "zoom": lambda: layers.RandomZoom(0.1, fill_mode="constant"),
}


@dataclass(frozen=True)
class InputSpec:
    """What the model builder needs to know about one input.

    Parameters
    ----------
    shape : tuple of int
        Per-sample shape (the array's shape without the first axis).
    dtype : str
        NumPy dtype name of the array fed to the model (``"uint8"``, ``"int32"``, ...).
    kind : {"image", "tokens", "sequence", "tabular"}
        Which branch processes the input.
    vocabulary_size : int or None
        For ``"tokens"`` inputs, the number of distinct ids (largest id + 1).
    sparse : bool, default=False
        The input arrives as a sparse matrix (a ``"tabular"`` input only, e.g. TF-IDF
        weights); the model gets a sparse ``keras.Input`` and a dense layer reads it.
    embedding_matrix : ndarray of shape (n_ids, dim) or None, default=None
        For ``"tokens"`` inputs, pretrained initial ``Embedding`` weights
        (``TextTokenizer.embedding_matrix_``); their width replaces
        ``text_embedding_dim``.
    """

    shape: tuple
    dtype: str
    kind: str
    vocabulary_size: int | None = None
    sparse: bool = False
    embedding_matrix: np.ndarray | None = field(default=None, compare=False, repr=False)


def infer_input_kind(array: np.ndarray) -> str:
    """Guess the branch kind of one input array from its rank and dtype.

    4-D arrays are images, 3-D arrays are sequences ``(n, timesteps, features)``,
    2-D integer arrays are token ids and 2-D float (or bool) arrays are tabular.

    Parameters
    ----------
    array : ndarray
        The input, first axis = samples.

    Returns
    -------
    kind : str
        One of ``"image"``, ``"tokens"``, ``"sequence"``, ``"tabular"``.

    Examples
    --------
    >>> import numpy as np
    >>> infer_input_kind(np.zeros((5, 8, 8, 3), dtype="uint8"))
    'image'
    >>> infer_input_kind(np.zeros((5, 12), dtype="int32"))
    'tokens'
    >>> infer_input_kind(np.zeros((5, 4), dtype="float32"))
    'tabular'
    """
    ndim = np.ndim(array)
    if ndim == 2:
        dtype = np.asarray(array).dtype
        return "tokens" if np.issubdtype(dtype, np.integer) else "tabular"
    for kind, kind_ndim in INPUT_NDIM.items():
        if ndim == kind_ndim:
            return kind
    raise ValueError(
        f"Cannot infer an input kind for an array of shape {np.shape(array)}: expected 2-D "
        "(tokens or tabular), 3-D (sequence) or 4-D (image) arrays."
    )


def build_image_branch(
    inputs,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    pool_size: int = 2,
    pooling: str = "flatten",
    dropout: float = 0.0,
    augmentation: Sequence[str] = (),
):
    """Convolutional branch: one ``Conv2D(f, 3, relu) -> MaxPool(2)`` block per filter.

    uint8 inputs are rescaled to [0, 1] first (images stay uint8 until they are
    inside the model); float inputs are used as they are.

    Parameters
    ----------
    inputs : keras tensor of shape (batch, height, width, channels)
    filters : sequence of int, default=(32, 64)
        Number of filters of each convolution block.
    kernel_size, pool_size : int
        Convolution kernel and max-pooling window.
    pooling : {"flatten", "avg", "max", "grid"}, default="flatten"
        How the last feature map becomes a vector: ``Flatten`` (the origin example;
        features grow with the image size), ``GlobalAveragePooling2D`` /
        ``GlobalMaxPooling2D`` (one feature per filter, whatever the image size) or
        ``"grid"``: average pooling down to a 2x2 grid of cells (``IMAGE_GRID``), then
        ``Flatten``: 4 features per filter whatever the image size, which keeps where
        in the image a pattern is (top, bottom, left, right) but not its exact pixels.
        A map with a side under 4 is flattened as it is.
    dropout : float, default=0.0
        Rate of a ``Dropout`` layer after the flattening or pooling (none when 0),
        scaled down when there are fewer than 128 features (:func:`feature_dropout`).
    augmentation : sequence of str, default=()
        Random train-time transformations applied after the rescaling, in this order;
        Keras applies them in ``fit`` only, never in ``predict``. Names: ``"flip"``
        (horizontal), ``"translate"`` (up to 10% of the height and width), ``"rotate"``
        (up to 18 degrees), ``"zoom"`` (up to 10%); the uncovered border is black.

    Returns
    -------
    keras tensor of shape (batch, features)
        The flattened or pooled feature map.

    Examples
    --------
    >>> x = keras.Input((16, 16, 3), dtype="uint8")
    >>> build_image_branch(x, filters=(4,)).shape
    (None, 196)
    >>> build_image_branch(x, filters=(4,), pooling="avg", augmentation=("flip",)).shape
    (None, 4)
    >>> build_image_branch(x, filters=(4,), pooling="grid").shape
    (None, 16)
    """
    if pooling not in IMAGE_POOLINGS:
        raise ValueError(f"Unknown image pooling {pooling!r}; expected one of {IMAGE_POOLINGS}.")
    unknown = [name for name in augmentation if name not in IMAGE_AUGMENTATIONS]
    if unknown or isinstance(augmentation, str):
        raise ValueError(
            f"Unknown image augmentation {augmentation!r}; expected a sequence of names "
            f"from {tuple(IMAGE_AUGMENTATIONS)}."
        )
    x = inputs
    if inputs.dtype == "uint8":
        x = layers.Rescaling(1.0 / 255)(x)
    for name in augmentation:
        x = IMAGE_AUGMENTATIONS[name]()(x)
    for n_filters in filters:
        if min(x.shape[1], x.shape[2]) < kernel_size + pool_size - 1:
            raise ValueError(
                f"Image input of shape {tuple(inputs.shape[1:])} is too small for "
                f"{len(filters)} convolution blocks (filters={tuple(filters)}): use "
                "fewer image_filters or larger target_size."
            )
        x = layers.Conv2D(n_filters, kernel_size, activation="relu")(x)
        x = layers.MaxPooling2D(pool_size)(x)
    if pooling == "grid":
        x = _pool_to_grid(x, IMAGE_GRID)
        x = layers.Flatten()(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    else:
        x = layers.Flatten()(x)
    return feature_dropout(x, dropout)


def _pool_to_grid(feature_map, cells: int):
    """Average-pool a ``(batch, h, w, c)`` map to ``cells`` x ``cells``.

    A map with a side under ``2 * cells`` is returned as it is: a cell would average
    fewer than 2x2 positions, and the map is small already (8x8 digits give 3x3, where
    pooling cost accuracy).
    """
    height, width = feature_map.shape[1], feature_map.shape[2]
    if min(height, width) < 2 * cells:
        return feature_map
    pool = (-(-height // cells), -(-width // cells))  # ceil: the map is covered
    return layers.AveragePooling2D(pool, padding="same")(feature_map)


def feature_dropout(features, rate: float):
    """``Dropout`` on a branch's features, its rate scaled down for narrow branches.

    The rate is ``rate * min(1, width / DROPOUT_FULL_WIDTH)`` (``DROPOUT_FULL_WIDTH`` =
    128): a 256-filter text branch or a flattened feature map drops half its features at
    ``rate=0.5``, while a 16-feature branch drops 6%. Dropping half of 16 features leaves
    the head too little of that branch to learn from, and it then ignores the branch.

    Parameters
    ----------
    features : keras tensor of shape (batch, width)
    rate : float
        The rate for branches of ``DROPOUT_FULL_WIDTH`` features or more; 0 adds no layer.

    Returns
    -------
    keras tensor of the same shape

    Examples
    --------
    >>> feature_dropout(keras.Input((16,)), 0.5)._keras_history.operation.rate
    0.0625
    >>> feature_dropout(keras.Input((512,)), 0.5)._keras_history.operation.rate
    0.5
    """
    if not rate:
        return features
    return layers.Dropout(rate * min(1.0, features.shape[-1] / DROPOUT_FULL_WIDTH))(features)


def _recurrent_layer(
    units: int,
    dropout: float,
    recurrent_dropout: float,
    bidirectional: bool = False,
    cell: str = "lstm",
):
    layer_class = layers.GRU if cell == "gru" else layers.LSTM
    recurrent = layer_class(units, dropout=dropout, recurrent_dropout=recurrent_dropout)
    return layers.Bidirectional(recurrent) if bidirectional else recurrent


@keras.saving.register_keras_serializable(package="skmultimodal")
class MaskedGlobalAveragePooling1D(layers.GlobalAveragePooling1D):
    """Mean over the unmasked time steps; a fully masked row gives zeros, not NaN.

    Keras' ``GlobalAveragePooling1D`` divides by the number of unmasked steps, which is
    0 for an empty text (all padding) and turns the whole model's loss into NaN.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0], [3.0]], [[5.0], [7.0]]], dtype="float32")
    >>> mask = np.array([[True, True], [False, False]])
    >>> np.asarray(MaskedGlobalAveragePooling1D()(x, mask=mask)).tolist()
    [[2.0], [0.0]]
    """

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        weights = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
        total = ops.sum(ops.where(weights > 0, inputs, 0.0), axis=1)
        return total / ops.maximum(ops.sum(weights, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="skmultimodal")
class ZeroAbsentRows(layers.Layer):
    """Replace the rows of an input that its presence mask flags absent by zeros.

    Called as ``layer(inputs, presence)`` with ``presence`` of shape ``(batch, 1)`` (1 for a
    present row, 0 for an absent one); the output has the input's shape and dtype, so that
    an absent row's placeholder (whatever it holds, NaN included) never reaches the branch.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2], [3, 4]], dtype="int32")
    >>> np.asarray(ZeroAbsentRows()(x, np.array([[1.0], [0.0]]))).tolist()
    [[1, 2], [0, 0]]
    """

    def __init__(self, **kwargs):
        super().__init__(autocast=False, **kwargs)

    def call(self, inputs, presence):
        keep = ops.reshape(presence > 0.5, (-1,) + (1,) * (len(inputs.shape) - 1))
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_spec(self, inputs, presence):
        return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("autocast", None)
        return config


@keras.saving.register_keras_serializable(package="skmultimodal")
class ModalityPresence(layers.Layer):
    """The presence of every branch in every row, ``(batch, k)``, with modality dropout.

    Called on a list: a reference tensor with the batch size (the first branch's features),
    then the presence masks ``(batch, 1)`` of the branches that ``masked`` flags, in order;
    a branch without a mask is present in every row. During training only, ``rate > 0``
    switches each present branch of each row off with probability ``rate`` (modality
    dropout); a row whose draws would switch off every branch keeps the ones it has.

    Parameters
    ----------
    masked : list of bool
        Per branch (``k = len(masked)``): whether a presence mask is given for it.
    rate : float in [0, 1), default=0.0
        Modality dropout rate.
    seed : int, default=None
        Seed of the dropout draws.
    shared : list of int, default=None
        Per branch, the branch whose dropout draw it takes (its own index by default):
        branches made from the same column (one presence mask) are dropped together.

    Examples
    --------
    >>> import numpy as np
    >>> layer = ModalityPresence([False, True])
    >>> np.asarray(layer([np.zeros((2, 3), "float32"), np.array([[1.0], [0.0]])])).tolist()
    [[1.0, 1.0], [1.0, 0.0]]
    """

    def __init__(self, masked, rate: float = 0.0, seed: int | None = None, shared=None, **kwargs):
        super().__init__(**kwargs)
        self.masked = [bool(flag) for flag in masked]
        self.rate = float(rate)
        self.seed = seed
        self.shared = None if shared is None else [int(index) for index in shared]
        self.seed_generator = keras.random.SeedGenerator(seed) if self.rate > 0 else None

    def call(self, inputs, training=None):
        reference, masks = inputs[0], iter(inputs[1:])
        ones = ops.ones_like(reference[:, :1])
        present = ops.concatenate(
            [ops.cast(next(masks), ones.dtype) if flag else ones for flag in self.masked],
            axis=1,
        )
        if training and self.rate > 0:
            draws = keras.random.uniform(ops.shape(present), seed=self.seed_generator)
            if self.shared is not None:
                draws = ops.take(draws, self.shared, axis=1)
            kept = present * ops.cast(draws >= self.rate, present.dtype)
            any_kept = ops.sum(kept, axis=1, keepdims=True) > 0
            present = ops.where(any_kept, kept, present)
        return present

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], len(self.masked))

    def get_config(self):
        config = super().get_config()
        config.update(masked=self.masked, rate=self.rate, seed=self.seed, shared=self.shared)
        return config


@keras.saving.register_keras_serializable(package="skmultimodal")
class GateBranches(layers.Layer):
    """Concatenate branch features; an absent branch of a row gets its features' mean.

    Called on ``[presence, features_1, ..., features_k]`` with ``presence`` from
    :class:`ModalityPresence`. Each row's output is ``f * p + (mean + substitute) * (1 - p)``
    per branch: a present branch passes unchanged (``f * 1 + ... * 0`` is exactly ``f``, so
    a model whose rows are all present computes what the plain concatenation does), an
    absent one is replaced by the running mean of that branch's features over the present
    training rows (``momentum`` per batch, as ``BatchNormalization``'s moving mean), i.e.
    by its average contribution, whatever the branch ends in (normalised or raw ReLU
    features), plus a learnt ``substitute`` (zero at first; it learns from rows lacking the
    branch, and from the estimators' absence calibration after fit).

    Parameters
    ----------
    momentum : float, default=0.9
        Weight of the old mean at each training batch.

    Examples
    --------
    >>> import numpy as np
    >>> presence = np.array([[1.0, 1.0], [1.0, 0.0]], "float32")
    >>> image, text = np.ones((2, 2), "float32"), np.full((2, 1), 3.0, "float32")
    >>> gate = GateBranches()
    >>> np.asarray(gate([presence, image, text])).tolist()  # the means start at zero
    [[1.0, 1.0, 3.0], [1.0, 1.0, 0.0]]
    >>> _ = gate([presence, image, text], training=True)  # one batch: mean of text is 3
    >>> np.asarray(gate([presence, image, text])).round(2).tolist()
    [[1.0, 1.0, 3.0], [1.0, 1.0, 0.3]]
    """

    def __init__(self, momentum: float = 0.9, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)

    def build(self, input_shape):
        self.means = [
            self.add_weight(
                shape=(shape[-1],), initializer="zeros", trainable=False, name=f"mean_{i}"
            )
            for i, shape in enumerate(input_shape[1:])
        ]
        self.substitutes = [
            self.add_weight(shape=(shape[-1],), initializer="zeros", name=f"substitute_{i}")
            for i, shape in enumerate(input_shape[1:])
        ]

    def call(self, inputs, training=None):
        presence, features = inputs[0], inputs[1:]
        gated = []
        for i, branch in enumerate(features):
            present = ops.cast(presence[:, i : i + 1], branch.dtype)
            mean = ops.cast(self.means[i], branch.dtype)
            if training:
                count = ops.sum(present)
                batch_mean = ops.sum(branch * present, axis=0) / ops.maximum(count, 1.0)
                updated = self.momentum * mean + (1.0 - self.momentum) * batch_mean
                self.means[i].assign(ops.where(count > 0, updated, mean))
            stand_in = mean + ops.cast(self.substitutes[i], branch.dtype)
            gated.append(branch * present + stand_in * (1.0 - present))
        return gated[0] if len(gated) == 1 else ops.concatenate(gated, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], sum(shape[-1] for shape in input_shape[1:]))

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum)
        return config


@keras.saving.register_keras_serializable(package="skmultimodal")
class AbsenceLogits(layers.Layer):
    """A learnt logit offset per absent branch: ``(1 - presence) @ kernel``.

    The kernel starts at zero, so it adds exactly 0 where every branch is present, and it
    only learns from rows that lack a branch (in the data or by modality dropout); without
    such rows an absent branch at prediction contributes its features' training mean
    (:class:`GateBranches`) and no offset.

    Parameters
    ----------
    units : int
        Number of logits (the output layer's units).

    Examples
    --------
    >>> import numpy as np
    >>> layer = AbsenceLogits(3)
    >>> np.asarray(layer(np.array([[1.0, 0.0]], "float32"))).tolist()
    [[0.0, 0.0, 0.0]]
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="zeros", name="kernel"
        )

    def call(self, presence):
        return ops.matmul(1.0 - presence, self.kernel)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


@keras.saving.register_keras_serializable(package="skmultimodal")
class BlendLogits(layers.Layer):
    """A log-linear blend: ``weights[0] * logits + sum of weights[k] * scores[k - 1]``.

    The scores are another model's logits for the same outputs (class log-probabilities,
    or the log-odds of a binary target), given to the network as inputs. The weights are
    not trained by gradient descent: they start at ``[1, 0, ...]`` (the network alone, so
    training is unchanged) and are set after the fit on held-out rows
    (:func:`fit_blend_weights`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = BlendLogits()
    >>> logits, scores = np.array([[1.0, 2.0]], "float32"), np.array([[4.0, 0.0]], "float32")
    >>> np.asarray(layer([logits, scores])).tolist()
    [[1.0, 2.0]]
    >>> _ = layer.blend_weights.assign([0.5, 1.0])
    >>> np.asarray(layer([logits, scores])).tolist()
    [[4.5, 1.0]]
    """

    def build(self, input_shape):
        self.blend_weights = self.add_weight(
            shape=(len(input_shape),),
            initializer=keras.initializers.Constant([1.0] + [0.0] * (len(input_shape) - 1)),
            trainable=False,
            name="blend_weights",
        )

    def call(self, inputs):
        blended = inputs[0] * self.blend_weights[0]
        for k, scores in enumerate(inputs[1:], start=1):
            blended = blended + ops.cast(scores, blended.dtype) * self.blend_weights[k]
        return blended

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def fit_blend_weights(
    logits: np.ndarray,
    scores: Sequence[np.ndarray],
    y: np.ndarray,
    sigmoid: bool,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Non-negative weights of :class:`BlendLogits` that minimise the log-loss on ``y``.

    The mean log-loss plus ``||w||² / (2 n_samples)``, a small ridge that keeps the
    weights finite when the rows are separable, minimised by L-BFGS-B from ``[1, 0, ...]``
    (the network alone).

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
        The network's logits (up to a constant per row for a softmax).
    scores : sequence of ndarray of shape (n_samples, n_outputs)
        The blended inputs' values on the same rows.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Class indices (softmax) or 0/1 targets (sigmoid).
    sigmoid : bool
        A sigmoid output (binary or multi-label) rather than a softmax.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    weights : ndarray of shape (1 + len(scores),)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> noise = rng.normal(size=(200, 1))
    >>> signal = 2.0 * (2.0 * y - 1)[:, None] + rng.normal(size=(200, 1))
    >>> fit_blend_weights(noise, [signal], y, sigmoid=True).round(1).tolist()
    [0.3, 2.5]
    """
    from scipy.optimize import minimize
    from scipy.special import log_expit, log_softmax

    stacked = np.stack([np.asarray(part, np.float64) for part in (logits, *scores)])
    y = np.asarray(y)
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    weight = weight / weight.sum()
    if sigmoid:
        target = y.reshape(len(y), -1).astype(np.float64)
    else:
        target = np.zeros(stacked.shape[1:])
        target[np.arange(len(y)), y.astype(np.intp)] = 1.0

    def loss_and_gradient(w):
        z = np.tensordot(w, stacked, axes=1)
        if sigmoid:
            loss = -(target * log_expit(z) + (1 - target) * log_expit(-z)).sum(axis=1)
            residual = 1.0 / (1.0 + np.exp(-z)) - target
        else:
            log_p = log_softmax(z, axis=1)
            loss = -(target * log_p).sum(axis=1)
            residual = np.exp(log_p) - target
        gradient = np.einsum("kij,ij,i->k", stacked, residual, weight)
        # A small ridge keeps the weights finite on separable rows.
        gradient = gradient + penalty * w
        return float(weight @ loss) + 0.5 * penalty * float(w @ w), gradient

    start = np.r_[1.0, np.zeros(len(scores))]
    penalty = 1.0 / len(y)
    result = minimize(
        loss_and_gradient, start, jac=True, method="L-BFGS-B", bounds=[(0, None)] * len(start)
    )
    return result.x


def build_text_branch(
    inputs,
    vocabulary_size: int,
    embedding_dim: int = 100,
    units: int = 256,
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    cell: str = "lstm",
    embedding_matrix: np.ndarray | None = None,
    embedding_trainable: bool = True,
):
    """Token-id branch: ``Embedding(vocabulary, dim) ->`` an LSTM, a GRU, pooling or a 1-D conv.

    ``cell`` chooses what reads the embedded tokens:

    - ``"lstm"`` (the origin examples) / ``"gru"``: ``Embedding(mask_zero=True) ->
      [Bidirectional] LSTM(units)`` or ``GRU(units)``; padding (id 0) is masked.
    - ``"pool"``: a bag of embeddings, ``Embedding(mask_zero=True) ->
      MaskedGlobalAveragePooling1D`` (the mean over the non-padding tokens, as fastText;
      zeros for an empty text); ``units`` is not used. Fast and strong for sentiment or
      topic labels.
    - ``"conv"``: ``Embedding -> Conv1D(units, 3, relu, padding="same") ->
      GlobalMaxPooling1D``: the strongest 3-gram detectors (padding is not masked,
      its embedding is learned like any word's).

    Parameters
    ----------
    inputs : keras tensor of shape (batch, length), integer ids
    vocabulary_size : int
        Largest id + 1 (``TextTokenizer.vocabulary_size_``).
    embedding_dim : int, default=100
    units : int, default=256
        Recurrent units (per direction when bidirectional) or convolution filters.
    bidirectional : bool, default=False
        Only for the recurrent cells.
    dropout, recurrent_dropout : float, default=0.0
        Passed to the recurrent layer; for ``"pool"`` and ``"conv"``, ``dropout`` is a
        ``Dropout`` layer after the pooling, scaled down when there are fewer than 128
        features (:func:`feature_dropout`).
    cell : {"lstm", "gru", "pool", "conv"}, default="lstm"
    embedding_matrix : ndarray of shape (n_ids, dim), default=None
        Initial ``Embedding`` weights (pretrained word vectors,
        ``TextTokenizer.embedding_matrix_``); ``embedding_dim`` is then ``dim``. See
        :func:`pretrained_embedding`.
    embedding_trainable : bool, default=True
        With ``embedding_matrix``: False keeps the vectors as they are.

    Returns
    -------
    keras tensor of shape (batch, units), (batch, 2 * units) or (batch, embedding_dim)

    Examples
    --------
    >>> x = keras.Input((10,), dtype="int32")
    >>> build_text_branch(x, vocabulary_size=50, embedding_dim=4, units=3,
    ...                   bidirectional=True).shape
    (None, 6)
    >>> build_text_branch(x, vocabulary_size=50, embedding_dim=4, cell="pool").shape
    (None, 4)
    >>> build_text_branch(x, vocabulary_size=50, embedding_dim=4, units=5, cell="conv").shape
    (None, 5)
    """
    if cell not in TEXT_CELLS:
        raise ValueError(f"Unknown text cell {cell!r}; expected one of {TEXT_CELLS}.")
    if bidirectional and cell not in ("lstm", "gru"):
        raise ValueError(
            f"text_bidirectional=True needs a recurrent text cell ('lstm' or 'gru'), got {cell!r}."
        )
    # Conv1D does not consume a mask, so a masked embedding would only hide padding
    # from nothing; the convolution learns what padding looks like instead.
    if embedding_matrix is None:
        x = layers.Embedding(vocabulary_size, embedding_dim, mask_zero=cell != "conv")(inputs)
    else:
        x = pretrained_embedding(embedding_matrix, vocabulary_size, embedding_trainable, cell)(
            inputs
        )
    if cell in ("lstm", "gru"):
        return _recurrent_layer(units, dropout, recurrent_dropout, bidirectional, cell)(x)
    if cell == "pool":
        x = MaskedGlobalAveragePooling1D()(x)
    else:
        x = layers.Conv1D(units, 3, activation="relu", padding="same")(x)
        x = layers.GlobalMaxPooling1D()(x)
    return feature_dropout(x, dropout)


def build_sequence_branch(
    inputs,
    units: int = 64,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    cell: str = "conv",
    bidirectional: bool = False,
    summary: bool = True,
):
    """Time-step branch over ``(batch, timesteps, features)``; padding steps are skipped.

    A time step whose every feature is NaN is padding (series of different lengths, see
    :class:`~skmultimodal.sequence.SequencePadder`): it is masked, so that a series gives
    the same features whatever it is padded to. The recurrent cells skip masked steps
    (Keras masking); the convolutions see zeros there, are zeroed there again after each
    layer, and are averaged over the real steps only.

    Parameters
    ----------
    inputs : keras tensor of shape (batch, timesteps, features)
    units : int, default=64
        Recurrent units (per direction when bidirectional) or convolution filters.
    dropout, recurrent_dropout : float, default=0.0
        Passed to the recurrent layer; for ``"conv"``, ``dropout`` is a ``Dropout``
        layer after the pooling (:func:`feature_dropout`).
    cell : {"conv", "lstm", "gru"}, default="conv"
        ``"conv"``: ``Conv1D(units, k, relu)`` for k = 7, 5, 3, then the mean over the
        real steps (a fully convolutional network, strong on short real series).
    bidirectional : bool, default=False
        Only for the recurrent cells.
    summary : bool, default=True
        Also pass the :class:`SequenceSummary` statistics of each series (per feature:
        mean, std, min, max, first, last, slope; and the length) to the fusion, beside
        the cell's features. On small real series sets a linear model on these
        statistics beat a recurrent cell trained from scratch; with them the network
        starts from what that model sees.

    Returns
    -------
    keras tensor of shape (batch, units) or (batch, 2 * units); with ``summary``,
    ``7 * features + 1`` more columns

    Examples
    --------
    >>> build_sequence_branch(keras.Input((5, 2)), units=7, summary=False).shape
    (None, 7)
    >>> build_sequence_branch(keras.Input((5, 2)), units=3, cell="lstm", bidirectional=True).shape
    (None, 21)
    >>> build_sequence_branch(keras.Input((5, 2)), units=4).shape
    (None, 19)
    """
    if cell not in SEQUENCE_CELLS:
        raise ValueError(f"Unknown sequence cell {cell!r}; expected one of {SEQUENCE_CELLS}.")
    if bidirectional and cell == "conv":
        raise ValueError("sequence_bidirectional=True needs sequence_cell='lstm' or 'gru'.")
    if cell in ("lstm", "gru"):
        x = PaddingSteps()(inputs)
        x = _recurrent_layer(units, dropout, recurrent_dropout, bidirectional, cell)(x)
    else:
        x = PaddingSteps(returns="zeros")(inputs)
        steps = PaddingSteps(returns="steps")(inputs)
        for kernel in (7, 5, 3):
            x = layers.Conv1D(units, kernel, activation="relu", padding="same")(x)
            x = layers.Multiply()([x, steps])
        x = MaskedGlobalAveragePooling1D()(x, mask=PaddingSteps(returns="mask")(inputs))
        x = feature_dropout(x, dropout)
    if not summary:
        return x
    return layers.Concatenate()([x, SequenceSummary()(inputs)])


@keras.saving.register_keras_serializable(package="skmultimodal")
class SequenceSummary(layers.Layer):
    """Summary statistics of each series over its real time steps (padding skipped).

    For each feature: the mean, standard deviation, minimum, maximum, first and last value
    and the total rise of a least-squares line through the real steps (its slope times the
    number of steps less one); then ``log(1 + length)``. A time step whose every feature
    is NaN is padding (:class:`PaddingSteps`), so the statistics do not depend on how
    far, or on which side, a series is padded. No weights: the statistics go to the
    fusion as they are, beside the sequence cell's features.

    Output shape: ``(batch, 7 * features + 1)``, grouped by statistic.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0], [3.0], [np.nan]]], dtype="float32")
    >>> np.round(np.asarray(SequenceSummary()(x)), 3).tolist()
    [[2.0, 1.0, 1.0, 3.0, 1.0, 3.0, 2.0, 1.099]]
    """

    STATISTICS = ("mean", "std", "min", "max", "first", "last", "rise")

    def call(self, inputs):
        real = ops.logical_not(ops.all(ops.isnan(inputs), axis=-1))  # (batch, steps)
        weights = ops.expand_dims(ops.cast(real, inputs.dtype), -1)
        values = ops.where(ops.isnan(inputs), ops.zeros_like(inputs), inputs)
        count = ops.sum(weights, axis=1)  # (batch, 1)
        safe = ops.maximum(count, 1.0)
        mean = ops.sum(values * weights, axis=1) / safe
        centred = (values - ops.expand_dims(mean, 1)) * weights
        std = ops.sqrt(ops.sum(centred * centred, axis=1) / safe)
        big = ops.cast(3.0e38, inputs.dtype)
        low = ops.min(ops.where(weights > 0, values, big), axis=1)
        high = ops.max(ops.where(weights > 0, values, -big), axis=1)
        present = count > 0
        low = ops.where(present, low, 0.0)
        high = ops.where(present, high, 0.0)
        first = _step_at(values, ops.argmax(ops.cast(real, "int32"), axis=1))
        n_steps = ops.shape(inputs)[1]
        last_index = n_steps - 1 - ops.argmax(ops.cast(ops.flip(real, axis=1), "int32"), axis=1)
        last = _step_at(values, last_index)
        time = ops.cast(ops.arange(n_steps), inputs.dtype)[None, :, None]
        time_mean = ops.sum(time * weights, axis=1, keepdims=True) / ops.expand_dims(safe, 1)
        time_centred = (time - time_mean) * weights
        spread = ops.sum(time_centred * time_centred, axis=1)
        slope = ops.sum(time_centred * centred, axis=1) / ops.maximum(spread, 1e-12)
        rise = slope * ops.maximum(count - 1.0, 0.0)
        length = ops.log1p(count)
        return ops.concatenate([mean, std, low, high, first, last, rise, length], axis=-1)

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        width = None if features is None else len(self.STATISTICS) * features + 1
        return (input_shape[0], width)


def _step_at(values, index):
    """``values[row, index[row], :]`` for each row."""
    index = ops.reshape(ops.cast(index, "int32"), (-1, 1, 1))
    return ops.squeeze(ops.take_along_axis(values, index, axis=1), axis=1)


@keras.saving.register_keras_serializable(package="skmultimodal")
class LinearLogits(layers.Layer):
    """A linear model fitted outside gradient descent, frozen in the graph.

    ``((x - center) / scale) @ kernel + bias``, every weight non-trainable. Its weights
    start at zero (no effect) and are set after the model is built
    (:meth:`set_linear_model`): the sequence inputs' linear start
    (:func:`linear_start_inputs`) sets them to a logistic or ridge regression on the
    series' summary statistics, fitted on the training rows before the network trains.

    Parameters
    ----------
    units : int
        Outputs (logits).
    sources : sequence of str, default=()
        Names of the inputs its features come from (for the code that fits it).

    Examples
    --------
    >>> import numpy as np
    >>> layer = LinearLogits(1)
    >>> x = np.array([[1.0, 3.0]], "float32")
    >>> np.asarray(layer(x)).tolist()
    [[0.0]]
    >>> layer.set_linear_model([1.0, 1.0], [2.0, 1.0], [[2.0], [1.0]], [0.5])
    >>> np.asarray(layer(x)).tolist()
    [[2.5]]
    """

    def __init__(self, units: int, sources: Sequence[str] = (), **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.sources = [str(name) for name in sources]

    def build(self, input_shape):
        width = input_shape[-1]
        self.center = self.add_weight(
            shape=(width,), initializer="zeros", trainable=False, name="center"
        )
        self.scale = self.add_weight(
            shape=(width,), initializer="ones", trainable=False, name="scale"
        )
        self.kernel = self.add_weight(
            shape=(width, self.units), initializer="zeros", trainable=False, name="kernel"
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer="zeros", trainable=False, name="bias"
        )

    def set_linear_model(self, center, scale, kernel, bias) -> None:
        """Set the standardisation and the linear model's coefficients."""
        for variable, value in zip(
            (self.center, self.scale, self.kernel, self.bias),
            (center, scale, kernel, bias),
            strict=True,
        ):
            variable.assign(np.asarray(value, np.float32).reshape(variable.shape))

    def call(self, inputs):
        return ops.matmul((inputs - self.center) / self.scale, self.kernel) + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "sources": self.sources}


def linear_start_inputs(specs, params: Mapping, output_heads=None) -> list[str]:
    """The sequence inputs whose summary statistics start the logits (``sequence_linear``).

    Every sequence input without a presence mask that no blend reads, when
    ``params["sequence_linear"]`` is true and the model has one output; none otherwise.

    Examples
    --------
    >>> specs = {"s": InputSpec((5, 2), "float32", "sequence"),
    ...          "n": InputSpec((3,), "float32", "tabular")}
    >>> linear_start_inputs(specs, {"sequence_linear": True})
    ['s']
    >>> linear_start_inputs(specs, {"sequence_linear": False})
    []
    """
    if not params.get("sequence_linear", False) or output_heads is not None:
        return []
    if isinstance(specs, InputSpec):
        return [SINGLE_INPUT_NAME] if specs.kind == "sequence" else []
    masks = input_masks(specs, params.get("presence_groups"))
    blended = set(params.get("blend_inputs") or ())
    return [
        name
        for name, spec in specs.items()
        if spec.kind == "sequence" and name not in masks and name not in blended
    ]


def linear_start(inputs, names: Sequence[str], n_outputs: int, name: str = "output"):
    """``LinearLogits`` over the concatenated :class:`SequenceSummary` of ``inputs[names]``."""
    statistics = [SequenceSummary()(inputs[key]) for key in names]
    joined = statistics[0] if len(statistics) == 1 else layers.Concatenate()(statistics)
    return LinearLogits(n_outputs, sources=names, name=f"{name}_linear_start")(joined)


@keras.saving.register_keras_serializable(package="skmultimodal")
class PaddingSteps(layers.Layer):
    """The padding of a sequence input: the time steps whose every feature is NaN.

    ``returns="values"`` returns the input with padding steps set to 0 and a Keras mask of
    the real steps (read by a following recurrent layer); ``"zeros"``: the same without
    the Keras mask (for layers that cannot take one); ``"steps"``: float ``(batch,
    timesteps, 1)``, 1 on real steps; ``"mask"``: boolean ``(batch, timesteps)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0], [np.nan]], [[2.0], [3.0]]], dtype="float32")
    >>> np.asarray(PaddingSteps()(x)).ravel().tolist()
    [1.0, 0.0, 2.0, 3.0]
    >>> np.asarray(PaddingSteps(returns="mask")(x)).tolist()
    [[True, False], [True, True]]
    """

    OUTPUTS = ("values", "zeros", "steps", "mask")

    def __init__(self, returns: str = "values", **kwargs):
        super().__init__(**kwargs)
        if returns not in self.OUTPUTS:
            raise ValueError(f"returns must be one of {self.OUTPUTS}, got {returns!r}.")
        self.returns = returns
        self.supports_masking = returns == "values"

    def _real(self, inputs):
        return ops.logical_not(ops.all(ops.isnan(inputs), axis=-1))

    def call(self, inputs):
        if self.returns == "mask":
            return self._real(inputs)
        if self.returns == "steps":
            return ops.expand_dims(ops.cast(self._real(inputs), inputs.dtype), -1)
        return ops.where(ops.isnan(inputs), ops.zeros_like(inputs), inputs)

    def compute_mask(self, inputs, mask=None):
        return self._real(inputs) if self.returns == "values" else None

    def get_config(self):
        return {**super().get_config(), "returns": self.returns}


def build_tabular_branch(inputs, units: int = 32):
    """Tabular branch: ``Dense(units, relu)``; ``units=0`` passes the features through.

    Parameters
    ----------
    inputs : keras tensor of shape (batch, features)
    units : int, default=32

    Returns
    -------
    keras tensor of shape (batch, units)

    Examples
    --------
    >>> build_tabular_branch(keras.Input((4,)), units=8).shape
    (None, 8)
    """
    if not units:
        return inputs
    return layers.Dense(units, activation="relu")(inputs)


def build_head(features, head_units: Sequence[int] = (), batch_norm: bool = False):
    """Layers after the concatenation: one ``Dense(u, relu)`` per entry.

    Parameters
    ----------
    features : keras tensor of shape (batch, features)
    head_units : sequence of int, default=()
    batch_norm : bool, default=False
        Add ``BatchNormalization`` after each dense layer (the second origin example).

    Returns
    -------
    keras tensor

    Examples
    --------
    >>> build_head(keras.Input((6,)), head_units=(5, 3), batch_norm=True).shape
    (None, 3)
    """
    x = features
    for units in head_units:
        x = layers.Dense(units, activation="relu")(x)
        if batch_norm:
            x = layers.BatchNormalization()(x)
    return x


def build_branch(inputs, spec: InputSpec, params: Mapping, normalize: bool = True):
    """Dispatch one input to the builder of its kind, then normalise and drop out.

    The branch's features go through :func:`normalize_branch` (when ``branch_norm`` is
    set) and only then through the branch's ``Dropout`` (:func:`feature_dropout`; image
    branches and the ``"pool"`` / ``"conv"`` text cells), so that the normalisation sees
    every feature and the head sees normalised features with some dropped. The recurrent
    cells take ``dropout`` as their own input dropout, as in Keras.

    Parameters
    ----------
    inputs : keras tensor
    spec : InputSpec
    params : mapping
        Hyper-parameters, named as the estimator parameters (``image_filters``,
        ``text_embedding_dim``, ``text_units``, ``text_bidirectional``,
        ``sequence_units``, ``tabular_units``, ``dropout``, ``recurrent_dropout``;
        optional ``text_cell``, default "lstm", ``image_pooling``, default
        "flatten", ``image_augmentation``, default (), and ``branch_norm``, default
        None).
    normalize : bool, default=True
        Apply ``branch_norm``; a model with one input has nothing to fuse and skips it.

    Returns
    -------
    keras tensor of shape (batch, features)

    Examples
    --------
    >>> params = dict(image_filters=(4,), image_pooling="avg", dropout=0.5,
    ...               branch_norm="batch")
    >>> inputs = keras.Input((8, 8, 1))
    >>> x = build_branch(inputs, InputSpec((8, 8, 1), "float32", "image"), params)
    >>> [type(layer).__name__ for layer in keras.Model(inputs, x).layers][-3:]
    ['GlobalAveragePooling2D', 'BatchNormalization', 'Dropout']
    """
    # Image and pooled-text features get a Dropout layer; recurrent cells drop their inputs.
    pooled = spec.kind == "image" or (
        spec.kind == "tokens"
        and (
            params.get("text_cell", "lstm") in ("pool", "conv")
            or params.get("text_backbone") is not None
        )
    )
    pooled_dropout = params["dropout"] if pooled else 0.0
    features = _branch_features(inputs, spec, params)
    if normalize:
        features = normalize_branch(features, params)
    return feature_dropout(features, pooled_dropout)


def _branch_features(inputs, spec: InputSpec, params: Mapping):
    """The builder of ``spec.kind``, without the Dropout after pooled features."""
    if spec.kind == "image" and params.get("image_backbone") is not None:
        shared = with_shared_backbone(params)["image_backbone"]
        return shared(inputs, augmentation=params.get("image_augmentation", ()))
    if spec.kind == "tokens" and params.get("text_backbone") is not None:
        return with_shared_backbone(params)["text_backbone"](inputs)
    if spec.kind == "image":
        return build_image_branch(
            inputs,
            filters=params["image_filters"],
            pooling=params.get("image_pooling", "flatten"),
            augmentation=params.get("image_augmentation", ()),
        )
    if spec.kind == "tokens":
        cell = params.get("text_cell", "lstm")
        return build_text_branch(
            inputs,
            vocabulary_size=spec.vocabulary_size,
            embedding_dim=params["text_embedding_dim"],
            units=params["text_units"],
            bidirectional=params["text_bidirectional"],
            dropout=params["dropout"] if cell in ("lstm", "gru") else 0.0,
            recurrent_dropout=params["recurrent_dropout"],
            cell=cell,
            embedding_matrix=spec.embedding_matrix,
            embedding_trainable=params.get("text_embedding_trainable", True),
        )
    if spec.kind == "sequence":
        return build_sequence_branch(
            inputs,
            units=params["sequence_units"],
            dropout=params["dropout"],
            recurrent_dropout=params["recurrent_dropout"],
            cell=params.get("sequence_cell", "conv"),
            bidirectional=params.get("sequence_bidirectional", False),
            summary=params.get("sequence_summary", True),
        )
    if spec.kind == "tabular":
        if spec.sparse and not params["tabular_units"]:
            raise ValueError(
                "A sparse tabular input needs a Dense layer to read it: tabular_units must "
                "be positive (0 passes features through, which a sparse input cannot be)."
            )
        return build_tabular_branch(inputs, units=params["tabular_units"])
    raise ValueError(f"Unknown input kind {spec.kind!r}; expected one of {INPUT_KINDS}.")


def normalize_branch(features, params: Mapping):
    """A branch's features, normalised before the fusion when ``params["branch_norm"]`` says.

    Branches differ in width and scale by orders of magnitude (a flattened feature map of
    thousands of unbounded ReLU outputs next to a few max-pooled text features). Normalising
    each branch's output puts every branch on one scale at the concatenation, so that the
    head starts from features it can combine, whatever branch they come from.

    Parameters
    ----------
    features : keras tensor of shape (batch, features)
    params : mapping
        ``branch_norm``: None (the default: no layer), ``"layer"``
        (``LayerNormalization``: each row's features to mean 0, variance 1) or ``"batch"``
        (``BatchNormalization(momentum=0.9)``: each feature standardised over the
        training data).

    Returns
    -------
    keras tensor
        ``features`` itself without normalisation, else the normalisation layer's
        output (same shape).

    Examples
    --------
    >>> x = keras.Input((6,))
    >>> type(normalize_branch(x, {"branch_norm": "layer"})._keras_history.operation).__name__
    'LayerNormalization'
    >>> normalize_branch(x, {}) is x
    True
    """
    norm = params.get("branch_norm")
    if norm is None:
        return features
    if norm == "layer":
        return layers.LayerNormalization()(features)
    if norm == "batch":
        # Keras' default momentum (0.99) needs hundreds of steps before the moving
        # statistics used at prediction reach the data's; small tables get few steps.
        return layers.BatchNormalization(momentum=0.9)(features)
    raise ValueError(f"Unknown branch_norm {norm!r}; expected None or one of {BRANCH_NORMS}.")


def wide_input_names(
    specs: Mapping[str, InputSpec], wide_inputs: str | Sequence[str] | None
) -> list[str]:
    """Names of the inputs read by the wide (linear) path, in the order of ``specs``.

    Parameters
    ----------
    specs : mapping of str to InputSpec
    wide_inputs : "sparse", sequence of str or None
        ``"sparse"``: every sparse input, provided at least one input is dense (a model of
        sparse inputs only reads them with its tabular branch); a sequence: those inputs,
        which must exist and be ``"tabular"``; None: no wide path.

    Returns
    -------
    list of str

    Examples
    --------
    >>> specs = {"text": InputSpec((6,), "int32", "tokens", vocabulary_size=20),
    ...          "tfidf": InputSpec((50,), "float32", "tabular", sparse=True)}
    >>> wide_input_names(specs, "sparse")
    ['tfidf']
    >>> wide_input_names({"tfidf": specs["tfidf"]}, "sparse")
    []
    """
    if wide_inputs is None:
        return []
    if isinstance(wide_inputs, str):
        if wide_inputs != WIDE_SPARSE:
            raise ValueError(
                f"wide_inputs must be None, {WIDE_SPARSE!r} or a list of input names, "
                f"got {wide_inputs!r}."
            )
        sparse_names = [name for name, spec in specs.items() if spec.sparse]
        return sparse_names if len(sparse_names) < len(specs) else []
    names = list(wide_inputs)
    unknown = [name for name in names if name not in specs]
    if unknown:
        raise ValueError(
            f"wide_inputs names {unknown}, which are not inputs of the model; its inputs "
            f"are {list(specs)}."
        )
    not_tabular = {name: specs[name].kind for name in names if specs[name].kind != "tabular"}
    if not_tabular:
        raise ValueError(
            f"wide_inputs must name tabular inputs (a linear layer reads them), but "
            f"{not_tabular} are not; give their kind with input_kinds or leave them out."
        )
    return [name for name in specs if name in names]


def build_output(
    features,
    n_outputs: int,
    activation: str | None,
    wide: Sequence = (),
    wide_l2: float = 0.0,
    name: str = "output",
    presence=None,
    late: Sequence = (),
    blend: Sequence = (),
    offset: Sequence = (),
    wide_presence: Sequence = (),
):
    """The output layer: ``Dense(n_outputs, activation)``, plus the wide path if any.

    With wide inputs, the output is ``activation(Dense(n_outputs)(features) + sum of
    Dense(n_outputs, L2(wide_l2))(wide input))``: a regularised linear model of each
    wide input (logistic or ridge regression on a bag of words) added to the deep part's
    logits, as in a wide-and-deep model.

    Parameters
    ----------
    features : keras tensor or None
        The head's output; None for a model with wide inputs only.
    n_outputs : int
    activation : str or None
        ``"sigmoid"`` (binary / multi-label), ``"softmax"`` (multiclass) or None
        (regression).
    wide : sequence of keras tensors, default=()
        Inputs read by a linear layer straight to the logits.
    wide_l2 : float, default=0.0
        L2 penalty on the wide layers' weights.
    name : str, default="output"
        Name of the output layer.
    presence : keras tensor of shape (batch, k), default=None
        The branches' presence (:func:`fuse_branches`): an :class:`AbsenceLogits` offset
        per absent branch is added to the logits, zero until rows without a branch train it.
    late : sequence of (str, keras tensor), default=()
        Late fusion (:func:`late_logits`): per branch, its name and its own head's
        features; each gets ``Dense(n_outputs)`` logits, zeroed where ``presence`` says the
        branch is absent, added to the others.
    blend : sequence of keras tensors of shape (batch, n_outputs), default=()
        Other models' logits given as inputs: the logits above and these meet in a
        :class:`BlendLogits` before the activation (weighted ``[1, 0, ...]`` until set).
    offset : sequence of keras tensors of shape (batch, n_outputs), default=()
        Logits added to the network's as they are (:func:`linear_start`).
    wide_presence : sequence of keras tensors of shape (batch, 1) or None, default=()
        Per wide input (empty: none), the presence of the column it is made from, or None
        when it is always present: its logits are zeroed in the rows that lack it.

    Returns
    -------
    keras tensor of shape (batch, n_outputs)

    Examples
    --------
    >>> build_output(keras.Input((6,)), 3, "softmax").shape
    (None, 3)
    >>> out = build_output(keras.Input((6,)), 3, "softmax", wide=[keras.Input((40,))])
    >>> type(out._keras_history.operation).__name__, out.shape
    ('Activation', (None, 3))
    """
    if not wide and presence is None and not late and not blend and not offset:
        return layers.Dense(n_outputs, activation=activation, name=name)(features)
    parts = [] if features is None else [layers.Dense(n_outputs, name=f"{name}_deep")(features)]
    parts += late_logits(late, n_outputs, presence, name)
    if presence is not None:
        parts.append(AbsenceLogits(n_outputs, name=f"{name}_absent")(presence))
    wide_presence = list(wide_presence) or [None] * len(wide)
    parts += [
        gated(
            layers.Dense(
                n_outputs,
                kernel_regularizer=keras.regularizers.L2(wide_l2) if wide_l2 else None,
                name=f"{name}_wide_{i}",
            )(tensor),
            present,
            f"{name}_wide_{i}",
        )
        for i, (tensor, present) in enumerate(zip(wide, wide_presence, strict=True))
    ]
    parts += list(offset)
    logits = parts[0] if len(parts) == 1 else layers.Add(name=f"{name}_logits")(parts)
    if blend:
        logits = BlendLogits(name=f"{name}_blend")([logits, *blend])
    return layers.Activation(activation or "linear", name=name)(logits)


def late_logits(late: Sequence, n_outputs: int, presence=None, name: str = "output") -> list:
    """One ``Dense(n_outputs)`` of logits per branch, each zeroed where its branch is absent.

    Parameters
    ----------
    late : sequence of (str, keras tensor)
        Per branch (in the order of ``presence``'s columns), its name and features.
    n_outputs : int
    presence : keras tensor of shape (batch, len(late)), default=None
        1 where the row has the branch (modality dropout included), 0 where not; None
        when every branch is always present.
    name : str, default="output"
        Prefix of the layers' names.

    Returns
    -------
    list of keras tensors of shape (batch, n_outputs)

    Examples
    --------
    >>> a, b, present = keras.Input((3,)), keras.Input((2,)), keras.Input((2,))
    >>> [t.shape for t in late_logits([("a", a), ("b", b)], 4, present)]
    [(None, 4), (None, 4)]
    """
    parts = []
    for i, (branch, features) in enumerate(late):
        logits = layers.Dense(n_outputs, name=f"{name}_{branch}_logits")(features)
        if presence is not None:
            logits = layers.Multiply(name=f"{name}_{branch}_gated")(
                [logits, presence[:, i : i + 1]]
            )
        parts.append(logits)
    return parts


def blend_inputs(specs, names: Sequence[str] | None, n_outputs: int | None, output_heads=None):
    """Check the inputs named by ``blend_inputs`` and return their names.

    Each must be a tabular input of the model of shape ``(n_outputs,)``: another model's
    logits for the same outputs, read by the blend only (no branch). A model with several
    output heads or a single array input cannot blend, and at least one input must be
    left to the network.

    Examples
    --------
    >>> specs = {"text": InputSpec((6,), "int32", "tokens", vocabulary_size=20),
    ...          "text_scores": InputSpec((3,), "float32", "tabular")}
    >>> blend_inputs(specs, ["text_scores"], 3)
    ['text_scores']
    >>> blend_inputs(specs, None, 3)
    []
    """
    if not names:
        return []
    names = list(names)
    if output_heads is not None or isinstance(specs, InputSpec):
        raise ValueError(
            f"blend_inputs={names} needs a model of named inputs with one output layer; "
            "this one has " + ("several output heads." if output_heads else "a single input.")
        )
    unknown = [name for name in names if name not in specs]
    if unknown:
        raise ValueError(
            f"blend_inputs names {unknown}, which are not inputs of the model; its inputs are "
            f"{list(specs)}."
        )
    if not [
        name for name, spec in specs.items() if name not in names and spec.kind != PRESENCE_KIND
    ]:
        raise ValueError(
            f"blend_inputs={names} names every input of the model; the network needs at least "
            "one input of its own to blend with."
        )
    wrong = {
        name: (specs[name].kind, specs[name].shape)
        for name in names
        if specs[name].kind != "tabular" or tuple(specs[name].shape) != (n_outputs,)
    }
    if wrong:
        raise ValueError(
            f"blend_inputs must be tabular inputs of shape ({n_outputs},), one logit per "
            f"output unit, but got (kind, shape) {wrong}."
        )
    return names


def presence_inputs(specs: Mapping[str, InputSpec]) -> dict[str, str]:
    """``{input name: name of its presence-mask input}`` for the inputs that have one.

    Examples
    --------
    >>> specs = {"image": InputSpec((8, 8, 3), "uint8", "image"),
    ...          "image__present": InputSpec((1,), "float32", PRESENCE_KIND)}
    >>> presence_inputs(specs)
    {'image': 'image__present'}
    """
    masks = {}
    for name, spec in specs.items():
        if spec.kind != PRESENCE_KIND:
            continue
        base = name[: -len(PRESENCE_SUFFIX)] if name.endswith(PRESENCE_SUFFIX) else None
        if base not in specs or specs[base].kind == PRESENCE_KIND:
            raise ValueError(
                f"Presence mask {name!r} names no input: a mask of input 'x' is called "
                f"'x{PRESENCE_SUFFIX}'."
            )
        masks[base] = name
    return masks


def input_masks(specs: Mapping[str, InputSpec], groups: Mapping | None = None) -> dict:
    """``{input name: name of the presence mask that switches it off}``.

    Each input with its own mask (:func:`presence_inputs`), and the inputs that
    ``groups`` (a ``MultiInputTransformer``'s ``presence_groups_``: ``{mask: [inputs]}``)
    tie to another input's mask because they are made from the same column.

    Examples
    --------
    >>> specs = {"text": InputSpec((6,), "int32", "tokens", vocabulary_size=20),
    ...          "text__present": InputSpec((1,), "float32", PRESENCE_KIND),
    ...          "text_tfidf": InputSpec((30,), "float32", "tabular")}
    >>> input_masks(specs, {"text__present": ["text_tfidf"]})
    {'text': 'text__present', 'text_tfidf': 'text__present'}
    """
    masks = presence_inputs(specs)
    for key, names in (groups or {}).items():
        if key not in specs or specs[key].kind != PRESENCE_KIND:
            raise ValueError(f"presence_groups names {key!r}, which is no presence mask input.")
        for name in names:
            if name not in specs or specs[name].kind == PRESENCE_KIND or name in masks:
                raise ValueError(
                    f"presence_groups ties {name!r} to {key!r}, but it is no input of the "
                    "model, or already has a presence mask."
                )
            masks[name] = key
    return masks


def column_presence(name: str, masks: Mapping, deep: Sequence, presence, inputs: Mapping):
    """The presence ``(batch, 1)`` that switches input ``name`` off, or None (always present).

    The column of ``presence`` (modality dropout included) of the first deep branch that
    shares ``name``'s mask; the mask input itself when no deep branch does.
    """
    mask = masks.get(name)
    if mask is None:
        return None
    shared = [i for i, branch in enumerate(deep) if masks.get(branch) == mask]
    return presence[:, shared[0] : shared[0] + 1] if shared else inputs[mask]


def gated(tensor, present, name: str):
    """``tensor * present`` (a Keras ``Multiply`` named ``<name>_gated``); ``tensor`` when
    ``present`` is None."""
    if present is None:
        return tensor
    return layers.Multiply(name=f"{name}_gated")([tensor, present])


def fuse_branches(branches: Sequence, masks: Sequence, modality_dropout: float = 0.0):
    """Concatenate the branches' features, gating the branches that can be absent.

    Without masks and without modality dropout this is the plain concatenation (the
    features of a single branch as they are) and there is no presence. Otherwise
    :class:`ModalityPresence` gives each row's presence per branch (modality dropout
    included, which needs at least two branches since a row always keeps one) and
    :class:`GateBranches` zeroes the absent branches' features.

    Parameters
    ----------
    branches : sequence of keras tensors (batch, features_i)
    masks : sequence of keras tensors (batch, 1) or None
        Per branch, its presence mask or None (always present).
    modality_dropout : float, default=0.0

    Returns
    -------
    features : keras tensor or None
        None when there is no branch.
    presence : keras tensor (batch, k) or None
        None when every branch is always present.

    Examples
    --------
    >>> a, b, present = keras.Input((3,)), keras.Input((2,)), keras.Input((1,))
    >>> features, presence = fuse_branches([a, b], [None, present])
    >>> features.shape, presence.shape
    ((None, 5), (None, 2))
    >>> fuse_branches([a, b], [None, None])[1] is None
    True
    """
    if not branches:
        return None, None
    rate = modality_dropout if len(branches) > 1 else 0.0
    if rate == 0 and all(mask is None for mask in masks):
        return (branches[0] if len(branches) == 1 else layers.concatenate(branches)), None
    # Branches gated by one mask (made from one column) share their dropout draw.
    shared = [
        i if mask is None else next(j for j, other in enumerate(masks) if other is mask)
        for i, mask in enumerate(masks)
    ]
    presence = ModalityPresence(
        [mask is not None for mask in masks],
        rate=rate,
        shared=None if shared == list(range(len(masks))) else shared,
        name="modality_presence",
    )([branches[0], *[mask for mask in masks if mask is not None]])
    return GateBranches(name="modality_gate")([presence, *branches]), presence


def build_multi_input_model(
    specs: Mapping[str, InputSpec] | InputSpec,
    n_outputs: int | None,
    output_activation: str | None,
    params: Mapping,
    output_heads: Sequence[tuple[int, str | None, str]] | None = None,
) -> keras.Model:
    """Assemble the functional multi-input model (not compiled).

    One ``keras.Input`` per input (named after its key), one branch per input,
    ``concatenate`` when there are several, the head, then the output layer (or one
    output layer per entry of ``output_heads``, all fed by the same head).

    Parameters
    ----------
    specs : mapping of str to InputSpec, or a single InputSpec
        A mapping builds a model that takes a dict of arrays; a single spec builds
        a model that takes one array.
    n_outputs : int
        Units of the output layer.
    output_activation : str or None
        Activation of the output layer.
    params : mapping
        Branch and head hyper-parameters (see :func:`build_branch`, plus
        ``head_units``, ``batch_norm`` and ``fusion``: ``"joint"``, the default, one head
        over the concatenated branches; ``"late"``, one head and one ``Dense`` of logits
        per branch, the logits summed (a missing branch drops its own logits); ``"hybrid"``,
        the joint head's logits plus the late ones).
    output_heads : sequence of (units, activation, name), default=None
        Several outputs: one ``Dense(units, activation, name=name)`` per entry, and the
        model returns a list of tensors in this order (``n_outputs`` and
        ``output_activation`` are then ignored). Names must be unique and differ from
        the input names.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> specs = {"text": InputSpec((6,), "int32", "tokens", vocabulary_size=20),
    ...          "num": InputSpec((3,), "float32", "tabular")}
    >>> params = dict(text_embedding_dim=4, text_units=5, text_bidirectional=False,
    ...               tabular_units=2, dropout=0.0, recurrent_dropout=0.0,
    ...               head_units=(8,), batch_norm=False)
    >>> model = build_multi_input_model(specs, 1, "sigmoid", params)
    >>> {name: tuple(t.shape) for name, t in model.input.items()}, tuple(model.output.shape)
    ({'text': (None, 6), 'num': (None, 3)}, (None, 1))
    >>> heads = [(1, "sigmoid", "output_0"), (3, "softmax", "output_1")]
    >>> model = build_multi_input_model(specs, None, None, params, output_heads=heads)
    >>> [(layer.name, tuple(t.shape)) for layer, t in zip(model.layers[-2:], model.outputs)]
    [('output_0', (None, 1)), ('output_1', (None, 3))]
    """
    wide, presence, late, wide_presence, blend_presence = [], None, [], [], {}
    fusion = params.get("fusion", "joint")
    if fusion not in FUSIONS:
        raise ValueError(f"Unknown fusion {fusion!r}; expected one of {FUSIONS}.")
    params = with_shared_backbone(params)  # image (text) inputs share one backbone
    if isinstance(specs, InputSpec):
        named = params.get("wide_inputs")
        if named is not None and not isinstance(named, str) and len(named):
            raise ValueError(
                f"wide_inputs={list(named)} names inputs of a dict of arrays, but this model "
                "takes a single array (no names); use wide_inputs=None or 'sparse'."
            )
        inputs = keras.Input(specs.shape, dtype=specs.dtype, name="input", sparse=specs.sparse)
        # One input: nothing to fuse, so no branch normalisation.
        features = build_branch(inputs, specs, params, normalize=False)
    else:
        inputs = {
            name: keras.Input(spec.shape, dtype=spec.dtype, name=name, sparse=spec.sparse)
            for name, spec in specs.items()
        }
        masks = input_masks(specs, params.get("presence_groups"))
        data_specs = {name: spec for name, spec in specs.items() if spec.kind != PRESENCE_KIND}
        wide_names = wide_input_names(data_specs, params.get("wide_inputs"))
        wide = [inputs[name] for name in wide_names]
        # Another model's logits meet the network's only in the blend (BlendLogits).
        blended = set(params.get("blend_inputs") or ())
        deep = [name for name in data_specs if name not in wide_names and name not in blended]
        branches = []
        for name in deep:
            branch_input = inputs[name]
            if name in masks:
                branch_input = ZeroAbsentRows(name=f"{name}_zero_absent")(
                    branch_input, inputs[masks[name]]
                )
            branches.append(
                build_branch(branch_input, specs[name], params, normalize=len(deep) > 1)
            )
        features, presence = fuse_branches(
            branches,
            [inputs[masks[name]] if name in masks else None for name in deep],
            params.get("modality_dropout", 0.0),
        )
        # Wide and blended inputs of a column a row lacks are switched off with it.
        wide_presence = [
            column_presence(name, masks, deep, presence, inputs) for name in wide_names
        ]
        blend_presence = {
            name: column_presence(name, masks, deep, presence, inputs)
            for name in params.get("blend_inputs") or ()
            if name in masks
        }
        if fusion != "joint" and len(branches) > 1:
            late = [
                (name, build_head(branch, params["head_units"], params["batch_norm"]))
                for name, branch in zip(deep, branches, strict=True)
            ]
            if fusion == "late":
                features = None
    if features is not None:
        features = build_head(features, params["head_units"], params["batch_norm"])
    wide_l2 = params.get("wide_l2", 0.0)
    blend = blend_inputs(specs, params.get("blend_inputs"), n_outputs, output_heads)
    started = linear_start_inputs(specs, params, output_heads)
    named_inputs = inputs if isinstance(inputs, dict) else {SINGLE_INPUT_NAME: inputs}
    if output_heads is None:
        outputs = build_output(
            features,
            n_outputs,
            output_activation,
            wide,
            wide_l2,
            presence=presence,
            late=late,
            blend=[gated(inputs[name], blend_presence.get(name), name) for name in blend],
            offset=[linear_start(named_inputs, started, n_outputs)] if started else (),
            wide_presence=wide_presence,
        )
    else:
        names = [name for _, _, name in output_heads]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"output_heads needs at least one head and unique names, got {names}.")
        outputs = [
            build_output(
                features,
                units,
                activation,
                wide,
                wide_l2,
                name=name,
                presence=presence,
                late=late,
                wide_presence=wide_presence,
            )
            for units, activation, name in output_heads
        ]
    return keras.Model(inputs=inputs, outputs=outputs)


# -- pretrained image backbones ---------------------------------------------------------
#: ``image_backbone_weights`` value that asks Keras for its ImageNet weights (downloaded on
#: first use and cached in ``~/.keras/models``).
IMAGENET = "imagenet"
# The channels a backbone reads: grayscale images are repeated to 3 channels in the model.
BACKBONE_CHANNELS = 3


def application_names() -> list[str]:
    """Names of the ``keras.applications`` constructors usable as ``image_backbone``.

    Examples
    --------
    >>> "MobileNetV2" in application_names()
    True
    """
    return sorted(
        name
        for name in dir(keras.applications)
        if name[:1].isupper() and callable(getattr(keras.applications, name))
    )


def application_preprocessing(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``preprocess_input`` of application ``name`` as ``pixels @ matrix + bias``.

    Every ``keras.applications`` module's ``preprocess_input`` is an affine map of each
    pixel's channels: a scale and an offset per channel ("tf", "torch" modes), a channel
    swap RGB -> BGR and a mean subtraction ("caffe" mode), or the identity (models that
    rescale inside themselves: EfficientNet, ConvNeXt, MobileNetV3...). It is probed on
    4 pixels (black and the 3 unit colours), so that the model holds it as one small
    layer (:class:`ChannelAffine`) that runs in any TensorFlow graph.

    Parameters
    ----------
    name : str
        A name from :func:`application_names`.

    Returns
    -------
    matrix : ndarray of shape (3, 3), float32
    bias : ndarray of shape (3,), float32

    Examples
    --------
    >>> matrix, bias = application_preprocessing("MobileNetV2")
    >>> (np.asarray([[255.0, 0.0, 127.5]]) @ matrix + bias).round(3).tolist()
    [[1.0, -1.0, 0.0]]
    >>> application_preprocessing("ResNet50")[0].tolist()  # RGB -> BGR
    [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """
    import importlib

    module = importlib.import_module(getattr(keras.applications, name).__module__)
    probe = np.zeros((4, 1, 1, BACKBONE_CHANNELS), dtype="float32")
    probe[1:, 0, 0] = np.eye(BACKBONE_CHANNELS, dtype="float32")
    out = np.asarray(module.preprocess_input(probe.copy()), dtype="float64")[:, 0, 0]
    bias = out[0]
    return (out[1:] - bias).astype("float32"), bias.astype("float32")


@keras.saving.register_keras_serializable(package="skmultimodal")
class ChannelAffine(layers.Layer):
    """``pixels @ matrix + bias`` per pixel, after repeating a single channel to 3.

    A backbone's input preprocessing inside the model (see
    :func:`application_preprocessing`); uint8 pixels are cast to float32 first.

    Parameters
    ----------
    matrix : nested list or ndarray of shape (3, 3)
    bias : list or ndarray of shape (3,)

    Examples
    --------
    >>> layer = ChannelAffine(np.eye(3) / 255, np.zeros(3))
    >>> np.asarray(layer(np.full((1, 1, 1, 1), 255, dtype="uint8"))).tolist()
    [[[[1.0, 1.0, 1.0]]]]
    """

    def __init__(self, matrix, bias, **kwargs):
        super().__init__(**kwargs)
        self.matrix = np.asarray(matrix, dtype="float32").tolist()
        self.bias = np.asarray(bias, dtype="float32").tolist()

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if x.shape[-1] == 1:
            x = ops.repeat(x, BACKBONE_CHANNELS, axis=-1)
        return ops.matmul(x, ops.convert_to_tensor(self.matrix)) + ops.convert_to_tensor(self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], BACKBONE_CHANNELS)

    def get_config(self):
        return {**super().get_config(), "matrix": self.matrix, "bias": self.bias}


def make_image_backbone(
    backbone, weights=IMAGENET, input_shape=(224, 224, 3), trainable: bool | int = False
) -> keras.Model:
    """A new backbone model: a ``keras.applications`` network or a copy of a user's model.

    The user's model is never modified: it is cloned (``keras.models.clone_model``)
    and its weights copied, then loaded from ``weights`` when that is a file.

    Parameters
    ----------
    backbone : str or keras.Model
        A name from :func:`application_names` (built with ``include_top=False`` for
        ``input_shape``), or a model mapping float32 pixels in [0, 255] to a feature map
        or a feature vector.
    weights : "imagenet", str, os.PathLike or None, default="imagenet"
        ``"imagenet"``: Keras' ImageNet weights for a name (Keras downloads them on first
        use), the model's own weights for a ``keras.Model``. A path: a weights file
        (``model.save_weights("backbone.weights.h5")``) of the same architecture. None:
        random initial weights.
    input_shape : tuple of int, default=(224, 224, 3)
        ``(height, width, 3)`` of the images (an application name only).
    trainable : bool or int, default=False
        False freezes every weight (batch normalisation included); True trains them all;
        an integer ``k`` trains only the top ``k`` layers that have weights.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> inputs = keras.Input((8, 8, 3))
    >>> tiny = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))
    >>> net = make_image_backbone(tiny, weights=IMAGENET)
    >>> net is tiny, net.trainable, all(
    ...     np.array_equal(a, b) for a, b in zip(net.get_weights(), tiny.get_weights()))
    (False, False, True)
    """
    if isinstance(backbone, str):
        net = _application(backbone, weights, tuple(input_shape))
    else:
        net = keras.models.clone_model(backbone)
        if weights == IMAGENET:
            net.set_weights(backbone.get_weights())
    if weights is not None and weights != IMAGENET:
        _load_backbone_weights(net, weights)
    _set_trainable(net, trainable)
    return net


# Applications whose ImageNet weights could not be fetched in this process: a grid search
# then fails at once in every later fit instead of trying the download again.
_UNFETCHED: dict[str, str] = {}


def _application(name: str, weights, input_shape: tuple) -> keras.Model:
    """``keras.applications.<name>`` without its top; an ImageNet download that fails
    (no internet) is one clear error saying where Keras caches weights and how to give a
    local file, raised at once by every later call in the process."""
    constructor = getattr(keras.applications, name)
    imagenet = weights == IMAGENET
    if imagenet and name in _UNFETCHED:
        raise _weights_unavailable(name, _UNFETCHED[name])
    try:
        with warnings.catch_warnings():
            # "input_shape is undefined or non-square ... weights for (224, 224) will be
            # loaded": the pooled features of any size use those weights by design.
            warnings.filterwarnings("ignore", message=".*input_shape.*", category=UserWarning)
            return constructor(
                include_top=False, weights=IMAGENET if imagenet else None, input_shape=input_shape
            )
    except Exception as error:
        text = str(error)
        if not imagenet or not any(
            clue in text for clue in ("URL fetch failure", "urlopen", "HTTP Error", "Name or")
        ):
            raise
        _UNFETCHED[name] = text.splitlines()[0][:200]
        raise _weights_unavailable(name, _UNFETCHED[name]) from error


def _weights_unavailable(name: str, reason: str) -> OSError:
    cache = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "models")
    return OSError(
        f"The ImageNet weights of {name} could not be fetched ({reason}). Keras downloads "
        f"them once into {cache}; without internet, copy the weights file there from a "
        "machine that has it, or give a local file: image_backbone_weights='path/to/"
        f"{name}.weights.h5' (ImageEmbedder: weights=...), written by save_weights() of the "
        "same backbone, or None for random weights (docs/user_guide/transfer_learning.md, "
        "'Where the \"imagenet\" weights come from, and offline machines')."
    )


def _load_backbone_weights(net: keras.Model, weights) -> None:
    """``net.load_weights(weights)``; a file that is not a weights file, or holds another
    architecture's weights (even in part), is a ValueError naming
    ``image_backbone_weights``, not an HDF5 error or a warning that leaves random weights."""
    path = os.fspath(weights)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            net.load_weights(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            reason = str(error).strip().splitlines()[0].rstrip(":") if str(error).strip() else ""
            raise ValueError(
                f"image_backbone_weights={path!r} cannot be loaded into the backbone "
                f"{net.name!r} ({type(error).__name__}: {reason}); give a file written by "
                "save_weights() of the same architecture (same backbone, same layers)."
            ) from error
    skipped = [w for w in caught if "Skipping" in str(w.message)]
    if skipped:
        raise ValueError(
            f"image_backbone_weights={path!r} holds no weights for some layers of the "
            f"backbone {net.name!r} ({len(skipped)} left at their initial values: "
            f"{str(skipped[0].message).splitlines()[0]}); give a file written by "
            "save_weights() of the same architecture."
        )
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _set_trainable(net: keras.Model, trainable: bool | int) -> None:
    if isinstance(trainable, (bool, np.bool_)):
        net.trainable = bool(trainable)
        return
    net.trainable = True
    with_weights = [layer for layer in net.layers if layer.weights]
    for layer in with_weights[: max(len(with_weights) - int(trainable), 0)]:
        layer.trainable = False


class SharedBackbone:
    """One backbone for all the image inputs of a model (one set of weights).

    Built on the first image input it reads; inputs of another height and width get
    their own backbone (with the same starting weights), since a backbone's input size
    is fixed when it is built.

    Parameters
    ----------
    backbone, weights, trainable
        As in :func:`make_image_backbone`.
    preprocessing : tuple of (matrix, bias), default=None
        The backbone's input preprocessing (:func:`application_preprocessing`); None
        uses the application's for a name, the identity for a ``keras.Model``.

    Examples
    --------
    >>> inputs = keras.Input((8, 8, 3))
    >>> tiny = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))
    >>> shared = SharedBackbone(tiny)
    >>> a, b = keras.Input((8, 8, 3), dtype="uint8"), keras.Input((8, 8, 1), dtype="uint8")
    >>> shared(a).shape, shared(b).shape, len(shared.nets)
    ((None, 4), (None, 4), 1)
    """

    def __init__(self, backbone, weights=IMAGENET, trainable: bool | int = False):
        self.backbone = backbone
        self.weights = weights
        self.trainable = trainable
        self.nets: dict = {}
        if isinstance(backbone, str):
            self.preprocessing = application_preprocessing(backbone)
        else:
            self.preprocessing = (np.eye(BACKBONE_CHANNELS), np.zeros(BACKBONE_CHANNELS))

    def __call__(self, inputs, augmentation: Sequence[str] = ()):
        """Pooled backbone features of one image input: ``(batch, features)``."""
        height, width, channels = inputs.shape[1:]
        if channels not in (1, BACKBONE_CHANNELS):
            raise ValueError(
                f"image_backbone reads RGB (3-channel) or grayscale (1-channel) images, got "
                f"an image input of shape {tuple(inputs.shape[1:])}; load the images with "
                "color_mode='rgb' or 'grayscale'."
            )
        net = self.nets.get((height, width))
        if net is None:
            net = make_image_backbone(
                self.backbone, self.weights, (height, width, BACKBONE_CHANNELS), self.trainable
            )
            net.name = f"image_backbone_{len(self.nets)}" if self.nets else "image_backbone"
            self.nets[(height, width)] = net
        expected = net.input_shape[1:]
        if expected[-1] not in (None, BACKBONE_CHANNELS):
            raise ValueError(
                f"The image_backbone model takes {expected[-1]}-channel images, but the "
                f"backbone is always fed {BACKBONE_CHANNELS} channels (RGB; a grayscale "
                "image is repeated to 3 channels); give a backbone whose input has "
                f"{BACKBONE_CHANNELS} channels, e.g. keras.Input((h, w, 3))."
            )
        if None not in expected[:2] and tuple(expected) != (height, width, BACKBONE_CHANNELS):
            raise ValueError(
                f"The image_backbone model takes images of shape {tuple(expected)}, but an "
                f"image input has shape {(height, width, channels)}; load the images with "
                f"target_size={tuple(expected[:2])}."
            )
        x = ChannelAffine(*self.preprocessing)(inputs)
        # After the preprocessing: a translated or zoomed border is 0 in its units.
        for name in augmentation:
            x = IMAGE_AUGMENTATIONS[name]()(x)
        # training=False: batch normalisation of the backbone stays in inference mode,
        # also when some layers are trained (Keras' advice for fine-tuning).
        features = net(x, training=False)
        if len(features.shape) == 4:
            features = layers.GlobalAveragePooling2D()(features)
        return features


def with_shared_backbone(params: Mapping) -> Mapping:
    """``params`` with ``image_backbone`` made a :class:`SharedBackbone` and
    ``text_backbone`` a :class:`SharedTextBackbone` (once per model).

    Examples
    --------
    >>> with_shared_backbone({"image_backbone": None})
    {'image_backbone': None}
    """
    shared = {}
    backbone = params.get("image_backbone")
    if backbone is not None and not isinstance(backbone, SharedBackbone):
        shared["image_backbone"] = SharedBackbone(
            backbone,
            params.get("image_backbone_weights", IMAGENET),
            params.get("image_backbone_trainable", False),
        )
    text = params.get("text_backbone")
    if text is not None and not isinstance(text, SharedTextBackbone):
        shared["text_backbone"] = SharedTextBackbone(
            text, params.get("text_backbone_trainable", False)
        )
    return {**params, **shared} if shared else params


def pretrained_embedding(
    matrix: np.ndarray, vocabulary_size: int, trainable: bool = True, cell: str = "lstm"
):
    """An ``Embedding`` layer initialised with pretrained word vectors.

    Parameters
    ----------
    matrix : ndarray of shape (n_ids, dim)
        Row ``i``: the vector of id ``i`` (``TextTokenizer.embedding_matrix_``). Rows past
        ``vocabulary_size`` are dropped (ids the fit data never held); missing rows, when
        ``vocabulary_size`` is larger, are zeros.
    vocabulary_size : int
    trainable : bool, default=True
        False freezes the vectors.
    cell : str, default="lstm"
        The text cell: padding is masked except for ``"conv"`` (as without vectors).

    Returns
    -------
    keras.layers.Embedding

    Examples
    --------
    >>> layer = pretrained_embedding(np.eye(4, 3), 4, trainable=False)
    >>> x = layer(np.array([[2, 0]]))
    >>> np.asarray(x).tolist(), layer.trainable
    ([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]], False)
    """
    matrix = np.asarray(matrix, dtype="float32")
    weights = np.zeros((vocabulary_size, matrix.shape[1]), dtype="float32")
    rows = min(vocabulary_size, matrix.shape[0])
    weights[:rows] = matrix[:rows]
    layer = layers.Embedding(
        vocabulary_size, matrix.shape[1], mask_zero=cell != "conv", trainable=bool(trainable)
    )
    # Assigned, not given as a Constant initializer, which would copy the whole matrix
    # into the model's config (and every saved file of it).
    layer.build((None, None))
    layer.embeddings.assign(weights)
    return layer


# -- pretrained text backbones (keras-hub) ----------------------------------------------
@keras.saving.register_keras_serializable(package="skmultimodal")
class TextBackboneInputs(layers.Layer):
    """The padding mask and segment ids of a batch of token ids: what a keras-hub text
    backbone reads besides the ids (one segment: every id is in segment 0).

    Parameters
    ----------
    pad_token_id : int, default=0
        The id that pads the token ids (``BackboneTokenizer.pad_token_id_``).

    Examples
    --------
    >>> mask, segments = TextBackboneInputs(0)(np.array([[2, 5, 3, 0]]))
    >>> np.asarray(mask).tolist(), np.asarray(segments).tolist()
    ([[1, 1, 1, 0]], [[0, 0, 0, 0]])
    """

    def __init__(self, pad_token_id: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.pad_token_id = int(pad_token_id)

    def call(self, token_ids):
        mask = ops.cast(ops.not_equal(token_ids, self.pad_token_id), "int32")
        return mask, ops.zeros_like(mask)

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape

    def get_config(self):
        return {**super().get_config(), "pad_token_id": self.pad_token_id}


def make_text_backbone(backbone, trainable: bool | int = False) -> keras.Model:
    """A new text backbone: loaded from a keras-hub preset, or a copy of a user's model.

    Parameters
    ----------
    backbone : str, os.PathLike or keras.Model
        A keras-hub preset (a local folder, or a name keras-hub downloads), or a model
        (e.g. ``keras_hub.models.BertBackbone(...)``), rebuilt from its config with its
        weights copied: the user's model is never modified.
    trainable : bool or int, default=False
        False freezes every weight; True trains them all; an integer ``k`` trains only the
        top ``k`` layers that have weights (as :func:`make_image_backbone`).

    Returns
    -------
    keras.Model
        Token inputs (a dict, as the backbone's) to the sequence output ``(batch, tokens,
        features)``: a backbone's other outputs (BERT's ``pooled_output``) and the layers
        only they use are left out, so that the top layers are those under the pooling.
    """
    if isinstance(backbone, keras.Model):
        net = type(backbone).from_config(backbone.get_config())
        net.set_weights(backbone.get_weights())
    else:
        from .text_backbone import load_from_preset

        net = load_from_preset("Backbone", backbone, "text_backbone")
    if isinstance(net.output, dict) and "sequence_output" in net.output:
        net = keras.Model(net.input, net.output["sequence_output"])
    _set_trainable(net, trainable)
    return net


class SharedTextBackbone:
    """One text backbone for all the token-id inputs of a model (one set of weights).

    Each input is fed to the backbone with its padding mask (ids equal to the padding
    id are padding) and segment ids where the backbone reads them; the backbone's
    sequence output is averaged over the tokens that are not padding.

    Parameters
    ----------
    backbone, trainable
        As in :func:`make_text_backbone`.
    pad_token_id : int or None, default=None
        None: the preset tokenizer's padding id (0 for a ``keras.Model``, BERT's
        ``[PAD]``).

    Examples
    --------
    >>> import keras_hub
    >>> bert = keras_hub.models.BertBackbone(
    ...     vocabulary_size=10, num_layers=1, num_heads=1, hidden_dim=4, intermediate_dim=4)
    >>> shared = SharedTextBackbone(bert)
    >>> a, b = keras.Input((6,), dtype="int32"), keras.Input((9,), dtype="int32")
    >>> shared(a).shape, shared(b).shape, shared.net is not bert
    ((None, 4), (None, 4), True)
    """

    def __init__(self, backbone, trainable: bool | int = False, pad_token_id: int | None = None):
        self.backbone = backbone
        self.trainable = trainable
        self.pad_token_id = pad_token_id
        self.net = None

    def __call__(self, token_ids):
        """Pooled backbone features of one token-id input: ``(batch, features)``."""
        if self.net is None:
            from .text_backbone import padding_token_id

            self.net = make_text_backbone(self.backbone, self.trainable)
            self.net.name = "text_backbone"
            if self.pad_token_id is None:
                self.pad_token_id = padding_token_id(self.backbone)
        longest = self.net.get_config().get("max_sequence_length")
        if (
            longest is not None
            and token_ids.shape[-1] is not None
            and token_ids.shape[-1] > longest
        ):
            raise ValueError(
                f"A token-id input has {token_ids.shape[-1]} ids per text, but text_backbone "
                f"reads at most {longest} (its max_sequence_length); tokenize with "
                f"BackboneTokenizer(sequence_length<={longest})."
            )
        mask, segments = TextBackboneInputs(self.pad_token_id)(token_ids)
        if isinstance(self.net.input, dict):
            feeds = {"token_ids": token_ids, "padding_mask": mask}
            if "segment_ids" in self.net.input:
                feeds["segment_ids"] = segments
        else:
            feeds = token_ids
        # A frozen backbone (False or 0 layers) runs in inference mode (no dropout); a
        # trained one follows fit.
        outputs = self.net(feeds, training=False if not self.trainable else None)
        return MaskedGlobalAveragePooling1D()(outputs, mask=ops.cast(mask, "bool"))
