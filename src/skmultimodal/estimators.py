"""The public estimators: multi-input Keras classifier and regressor for a dict of arrays.

:class:`MultiInputKerasClassifier` and :class:`MultiInputKerasRegressor` are SciKeras
``KerasClassifier`` / ``KerasRegressor`` subclasses. What they share lives in private
modules, one concern each: SciKeras repairs and shared parameters
(:mod:`~skmultimodal._scikeras_adapter`), parameter checks (``_params``), input
validation (``_validation``), target encoding (``_targets``), model building
(``_building``, with the layers in :mod:`skmultimodal.architecture`) and training
(``_training``). This module holds each estimator's own parameters, its target
handling and its public methods.
"""

from __future__ import annotations

import numpy as np
from scikeras.wrappers import BaseWrapper, KerasClassifier, KerasRegressor
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from ._building import classifier_output_heads, classifier_output_layer
from ._scikeras_adapter import _merged_signature, _MultiInputWrapper, _SklearnMixinsFirst
from ._targets import (
    TARGET_TRANSFORMS,
    _check_labels_in_classes,
    _MultiOutputLabelEncoder,
    _refuse_continuous_labels,
    _RegressionTargetScaler,
)
from ._validation import MAX_VOCABULARY_SIZE, SINGLE_INPUT, _checked_sample_weight

__all__ = ["MAX_VOCABULARY_SIZE", "MultiInputKerasClassifier", "MultiInputKerasRegressor"]


class MultiInputKerasClassifier(_MultiInputWrapper, KerasClassifier, metaclass=_SklearnMixinsFirst):
    """Keras classifier for a dict of inputs (images, token ids, sequences, tables).

    A SciKeras ``KerasClassifier`` whose ``X`` is the ``dict[name -> ndarray]`` made by
    :class:`~skmultimodal.MultiInputTransformer` (a plain numeric array also works, as
    one tabular input). With ``model=None`` it builds a functional model with one
    ``keras.Input`` per key and one branch per input kind (see
    :mod:`skmultimodal.architecture`), concatenated and followed by the head and an
    output layer fitted to the target: ``Dense(1, sigmoid)`` + binary cross-entropy for
    two classes, ``Dense(n_classes, softmax)`` + sparse categorical cross-entropy for
    more, ``Dense(n_labels, sigmoid)`` for a multi-label indicator matrix. A ``y`` with
    several columns of labels (strings or integers, not a 0/1 indicator matrix) gets one
    output layer per column, named after the DataFrame's columns (else ``output_0``,
    ``output_1``...), each with its own classes and loss; ``predict`` then returns an
    ``(n_samples, n_outputs)`` array of labels, ``predict_proba`` a list of
    ``(n_samples, n_classes_j)`` arrays and ``score`` the subset accuracy, as
    scikit-learn's multi-output classifiers do.

    Keep the outer ``X`` a DataFrame and build the dict inside a ``Pipeline``: sklearn's
    ``cross_val_score`` cannot slice a dict. A dict passed directly to ``fit`` is
    validated (same lengths, same keys and per-sample shapes as at fit).

    Parameters
    ----------
    model : None, callable or keras.Model, default=None
        None builds the default multi-input model. A callable is used as in SciKeras;
        an uncompiled model gets the loss of the default model for the target when
        ``loss=None`` (docs/user_guide/own_model.md);
        it may take ``meta``, which holds ``input_names_``, ``input_shapes_``,
        ``input_kinds_``, ``input_dtypes_``, ``vocabulary_sizes_``, ``classes_``,
        ``n_classes_``, ``target_type_``...
    input_kinds : dict or str, default=None
        Override the inferred kind of an input, e.g. ``{"meta": "tabular"}``
        (kinds: "image", "tokens", "sequence", "tabular"). Inference: 4-D -> image,
        3-D -> sequence, 2-D integer -> tokens, 2-D float -> tabular.
    image_filters : tuple of int, default=(32, 64)
        One ``Conv2D(f, 3, relu) -> MaxPool(2)`` block per entry, then ``image_pooling``.
    image_pooling : {"flatten", "avg", "max"}, default="flatten"
        ``Flatten`` or global average / max pooling of the last feature map; "avg" keeps
        the branch small (one feature per filter) and generalises better on real images.
    image_augmentation : tuple of str, default=()
        Random train-time transformations of the images, any of ``"flip"``,
        ``"translate"``, ``"rotate"``, ``"zoom"`` (see
        :func:`~skmultimodal.architecture.build_image_branch`); used in ``fit`` only.
    image_backbone : None, str or keras.Model, default=None
        A pretrained network in place of the convolution blocks: the name of a
        ``keras.applications`` model (e.g. ``"MobileNetV3Small"``, built with
        ``include_top=False`` for the images' size) or a ``keras.Model`` mapping float32
        pixels in [0, 255] to a feature map or vector (the estimator uses a copy: the
        given model is never modified). The application's own input preprocessing runs
        inside the model (none for a ``keras.Model``: put it in the model); grayscale
        images are repeated to 3 channels; a feature map is average-pooled. All image
        inputs of one size share one backbone (one set of weights), e.g. 4 photo
        columns. ``image_filters`` and ``image_pooling`` are then not used. See
        docs/user_guide/transfer_learning.md. None (the default) keeps the small CNN.
    image_backbone_weights : "imagenet", str, os.PathLike or None, default="imagenet"
        ``"imagenet"``: Keras' ImageNet weights for an application name (downloaded on
        first use into ``~/.keras/models``), the model's own weights for a
        ``keras.Model``; a path: a weights file of the same architecture
        (``save_weights("backbone.weights.h5")``); None: random initial weights.
    image_backbone_trainable : bool or int, default=False
        False freezes the backbone (only the head learns); True trains it all; an integer
        ``k`` trains its top ``k`` layers that have weights. Batch normalisation inside
        the backbone always runs in inference mode.
    text_backbone : None, str, os.PathLike or keras.Model, default=None
        A pretrained keras-hub text encoder in place of the text cells, for the token-id
        inputs made by :class:`~skmultimodal.text_backbone.BackboneTokenizer` with the same
        preset: a local preset folder (``backbone.save_to_preset(folder)``), a preset name
        (downloaded by keras-hub on first use) or a ``keras.Model`` such as
        ``keras_hub.models.BertBackbone(...)`` (the estimator uses a copy). The model
        derives each text's padding mask from the padding id (the preset tokenizer's; 0
        for a ``keras.Model``) and averages the backbone's sequence output over the
        tokens. All token-id inputs share one backbone (one set of weights), e.g. a title
        and a review column. ``text_embedding_dim``, ``text_units`` and ``text_cell`` are
        then not used. Needs keras-hub (``pip install "skmultimodal[text]"``); see
        docs/user_guide/text_backbones.md. None (the default) keeps the text cells.
    text_backbone_trainable : bool or int, default=False
        False freezes the text backbone (it runs in inference mode, only the head
        learns); True trains it all; an integer ``k`` trains its top ``k`` layers that
        have weights.
    text_embedding_trainable : bool, default=True
        For a text input whose ``TextTokenizer`` was fitted with ``pretrained_vectors``
        in the same pipeline: its ``Embedding`` starts from the tokenizer's
        ``embedding_matrix_`` (whose width replaces ``text_embedding_dim``) and is
        fine-tuned (True) or frozen (False). No effect on other inputs.
    text_embedding_dim : int, default=100
    text_units : int, default=256
        Recurrent units (per direction) or, for ``text_cell="conv"``, filters.
    text_bidirectional : bool, default=False
        Token branch ``Embedding(vocabulary, dim, mask_zero=True) -> [Bidirectional]
        LSTM(units)``.
    text_cell : {"lstm", "gru", "pool", "conv"}, default="conv"
        What reads the embedded tokens: an LSTM or GRU (the origin examples' choice),
        ``"pool"`` (the mean of the embeddings of the non-padding tokens, a bag of
        embeddings: the fastest) or ``"conv"`` (``Conv1D(text_units, 3) ->
        GlobalMaxPooling1D``: 3-gram detectors, the best on the review benchmarks with
        ``dropout=0.5`` and much faster than the LSTM, see docs/results.md).
        See :func:`skmultimodal.architecture.build_text_branch`.
    sequence_units : int, default=64
        Filters of the ``"conv"`` sequence cell, or units of the recurrent one (per
        direction).
    sequence_cell : {"conv", "lstm", "gru"}, default="conv"
        What reads a sequence input ``(n, timesteps, features)``: ``"conv"``, three
        ``Conv1D`` layers (kernels 7, 5, 3) and the mean over the time steps, or an LSTM
        or GRU. On six real series sets (UCR/UEA, official splits) the convolutions were
        as accurate as the LSTM or better on every set (by up to 0.42 on GunPoint) and
        2-5x faster (benchmarks/RESULTS.md, "Real series"). Time steps that are NaN in
        every feature are padding (series of different lengths,
        :class:`~skmultimodal.sequence.SequencePadder`) and are skipped by every cell.
        See :func:`skmultimodal.architecture.build_sequence_branch`.
    sequence_bidirectional : bool, default=False
        A ``Bidirectional`` recurrent sequence cell.
    sequence_summary : bool, default=True
        Beside the cell's features, pass each series' summary statistics over its real
        time steps (per feature: mean, std, min, max, first, last value and the rise of
        a fitted line; and the length) to the fusion, see
        :class:`~skmultimodal.architecture.SequenceSummary`. On small real series sets
        a linear model on these statistics beat every cell trained from scratch.
    sequence_linear : bool or "auto", default="auto"
        Start the logits from a linear model of the series: a logistic regression on
        the summary statistics of every sequence input, its penalty chosen by an inner
        3-fold cross-validation, fitted on the training rows (less the early-stopping
        hold-out) before the network trains, then frozen in the model
        (:class:`~skmultimodal.architecture.LinearLogits`); its logits are added to the
        network's, which learns what it misses. ``"auto"``: from 100 training rows (below,
        the layer adds zeros). ``linear_start_`` says what was fitted. Only for one label
        per row (the regressor: one target column), and for sequence inputs without a
        presence mask. On real series sets a user's own ``TimeStepReshaper`` pipeline
        gained up to 5.6 points with it from 200 training rows, and lost up to 1.6 on sets of
        36-67 rows where the linear model was weak (benchmarks/RESULTS.md, "Real series,
        round 4").
    tabular_units : int, default=32
        Tabular branch ``Dense(units, relu)`` (0: features used as they are).
    head_units : tuple of int, default=()
        One ``Dense(u, relu)`` per entry after the concatenation.
    dropout : float, default=0.5
    recurrent_dropout : float, default=0.0
        Dropout of the LSTM layers; with ``text_cell="pool"`` or ``"conv"``, ``dropout``
        is applied to the pooled text features, and it is applied to the flattened or
        pooled image features, after ``branch_norm``. There it is scaled down for a
        branch of fewer than 128 features (``dropout * width / 128``): half of a
        16-feature branch dropped leaves the head too little of it to learn from.
    batch_norm : bool, default=False
        ``BatchNormalization`` after each head layer.
    branch_norm : {"batch", "layer"} or None, default="batch"
        Normalisation of each branch's features before they are concatenated, when the
        model has several (non-wide) inputs: ``"batch"``
        (``BatchNormalization(momentum=0.9)``, each feature standardised), ``"layer"``
        (``LayerNormalization``, each row's features) or None. ``"batch"`` lets the head
        combine the text cell's few small max-pooled features with an image branch,
        which a label that needs both inputs jointly (an XOR) requires: without it such
        a label stayed at chance. :class:`MultiInputKerasRegressor` defaults to None:
        there it cost R² on the review ratings (measured in ``benchmarks/RESULTS.md``).
    wide_inputs : "sparse", list of str or None, default="sparse"
        Inputs read by one linear layer straight to the output logits (the wide part of
        a wide-and-deep model) instead of by a branch into the head: a regularised
        logistic / ridge regression on them, added to the deep part's logits.
        ``"sparse"``: every sparse input (such as the TF-IDF input that
        :func:`~skmultimodal.make_multimodal_pipeline` adds next to each text column)
        of a model that also has a dense input. A list names tabular inputs; None
        sends every input through its branch. Thousands of word and word-pair weights
        through the head let it memorise training rows by their words instead of
        learning what the label needs: a label that needs the image and the text
        jointly was not learned at all with the TF-IDF input in the head (see
        ``benchmarks/RESULTS.md``).
    wide_l2 : float, default=1e-3
        L2 penalty on the wide layer's weights (added to the mean loss of a batch).
    modality_dropout : float in [0, 1), default=0.0
        Modality dropout: during training only, each branch of each row is treated as
        absent (its features replaced by their mean, its absence offset added, as for a
        row whose modality is missing) with this probability, never all branches of a row
        at once. It trains the model for rows with a missing modality. Wide inputs are not
        dropped; a model with one branch has nothing to drop. Inputs with a presence mask
        ``"<input>__present"`` (see :mod:`skmultimodal.missing`) are gated by their mask
        in any case. Measured on the built-in data, the review table and the fusion cases
        (``docs/user_guide/missing_modalities.md``): it does not raise accuracy on
        complete rows, hence 0.
    fusion : {"joint", "late", "hybrid"}, default="joint"
        How the branches of a dict of inputs meet. ``"joint"``: ``concatenate`` and one
        head (``head_units``) over all of them, which can learn interactions between
        modalities (a label that needs the image *and* the text). ``"late"``: one head per
        branch (the same ``head_units``) and one ``Dense`` of logits per branch, the
        logits summed (with the wide path's) before the output activation: a sum of
        per-modality models, which cannot learn interactions but where a row without a
        modality (a presence mask, ``modality_dropout``) simply loses that modality's
        logits. ``"hybrid"``: the joint head's logits plus the per-branch logits. With
        one branch the three are the same model.
    optimizer : str or keras optimizer, default="adam"
        Route its parameters with ``optimizer__learning_rate=...``.
    loss : str, keras loss or None, default=None
        None chooses the loss from the target, as described above.
    metrics : list, default=None
        None records the accuracy of each output in ``history_`` (``"accuracy"``, and
        ``"val_accuracy"`` when there is a hold-out) beside the loss; a regressor records
        its loss only.
    batch_size : int, default=32
        ``-1`` uses the whole data set as one batch.
    validation_batch_size : int, default=None
    epochs : int or "auto", default="auto"
        Passes over the training data. ``"auto"``: enough for about 1,000 gradient
        updates (``ceil(1000 / batches per epoch)``), at least 20 and at most 300; a
        table of a few hundred rows gets 100 or more epochs, one of 1,600 rows or more
        gets 20. The number used is ``epochs_`` after fit.
    verbose : int or "auto", default="auto"
        ``"auto"``: one progress line on standard error, rewritten after each epoch
        (epoch, seconds, loss and accuracy), when ``fit`` is called from a terminal or a
        notebook; nothing inside scikit-learn's cross-validation and searches, the
        ensemble or the modality importance, nor where standard error is not a terminal
        (scripts piped to a file, tests). 0: silent; 1 and 2: Keras' progress bar and
        one line per epoch.
    callbacks : list of keras callbacks, default=None
    validation_split : float, default=0.0
        Fraction of the training data, taken from its end, that Keras holds out.
    early_stopping : bool or "auto", default="auto"
        Stop when the validation loss has not improved for ``patience`` epochs and
        restore the weights of the best epoch (``epochs`` is then a maximum). The
        validation data is the ``validation_split`` fraction when it is set, otherwise a
        random 10% of the training data, stratified for classifiers and drawn with
        ``random_state``. ``"auto"`` stops early when ``fit`` gets at least 500 rows.
    patience : int, default=5
        Epochs without improvement of the validation loss before early stopping.
    min_epochs : int or "auto", default="auto"
        Early stopping ends no fit before this many epochs; the weights restored are
        still those of the best epoch, earlier ones included. ``"auto"`` is three
        quarters of ``epochs`` (rounded down): a label that needs two inputs jointly sits
        on a loss plateau for several epochs before the network learns it (longer with
        fewer rows), and stopping on that plateau left such a model at chance.
    shuffle : bool, default=True
        Set False for time-ordered data.
    run_eagerly : bool, default=False
    warm_start : bool, default=False
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, dropout and shuffling for this fit only; global
        Python/NumPy/TensorFlow random state is restored afterwards.
    class_weight : dict, "balanced" or None, default=None
        Multiplies ``sample_weight`` (the caller's array is not modified).
    blend_inputs : list of str or None, default=None
        Inputs that hold another model's logits for the target, one per output unit
        (class log-probabilities; the log-odds of the positive class for two classes), such
        as the out-of-fold scores of :class:`~skmultimodal.text.TextLinearScores`. No
        branch reads them: the output becomes a log-linear blend
        ``activation(w_0 * network logits + sum of w_k * input_k)``, one
        :class:`~skmultimodal.architecture.BlendLogits` layer of the model (so it exports).
        After the fit the non-negative weights minimise the log-loss on the rows held out
        for early stopping: a network that overfits a small table next to a strong
        classical model gives way to it, and a useless input gets weight 0. Without
        held-out rows (no early stopping, or the caller's own ``validation_data`` or
        ``validation_split``) the network predicts alone. ``make_multimodal_pipeline``
        sets it to its text score steps (``"<text>_scores"``).
    **kwargs
        Routed parameters as in SciKeras (``fit__*``, ``predict__*``, ``optimizer__*``,
        ``model__*`` ...), Keras ``fit``/``compile`` arguments that SciKeras passes on
        (``validation_freq``...) and arguments of a ``model`` callable. Any other name
        is refused by ``fit``, which names the closest valid parameter. All parameters
        are validated in ``fit`` before TensorFlow is used; ``*__learning_rate`` must
        be finite and > 0.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of str to list
        Loss and metrics per epoch.
    epochs_ : int
        The number of epochs the last fit was given (``epochs``, or what ``"auto"``
        chose); early stopping may have ended it sooner (see ``history_``).
    classes_ : ndarray, or list of ndarray (one per column of a multi-output ``y``)
    n_classes_ : int, or list of int
    n_outputs_ : int
        Number of target columns (1 for a 1-D or multi-label ``y``).
    output_names_ : list of str
        Only for several columns of labels: the output layer names, one per column.
    blend_weights_ : dict of str to float
        Only with ``blend_inputs``: the weight of ``"network"`` and of each blended input.
    blend_rows_ : int
        Only with ``blend_inputs``: the held-out rows the weights were fitted on (0: none,
        the network alone).
    input_names_ : list of str or None
        Keys of the dict ``X`` seen in fit (None for a single array).
    input_kinds_, input_shapes_, input_dtypes_ : dict
        Per input: kind, per-sample shape and dtype seen in fit.
    vocabulary_sizes_ : dict of str to int
        Embedding size (largest id + 1) of each token input.
    presence_groups_ : dict of str to list of str
        ``{"<input>__present": [inputs]}`` read from the ``MultiInputTransformer`` output
        given to fit (its ``presence_groups_``): inputs made from the same column as a
        masked input, switched off with it in the rows that lack the column (their
        branches gated, their wide logits zeroed). Empty for other X.
    n_features_in_, feature_names_in_
        Only when fitted on a single array.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = {"text": rng.randint(1, 20, size=(40, 6)), "num": rng.rand(40, 3)}
    >>> y = (X["num"][:, 0] > 0.5).astype(int)
    >>> clf = MultiInputKerasClassifier(text_embedding_dim=4, text_units=4,
    ...                                 tabular_units=4, epochs=2, random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (40, 2)
    >>> clf.input_kinds_
    {'text': 'tokens', 'num': 'tabular'}
    """

    @_merged_signature
    def __init__(
        self, model=None, *, branch_norm="batch", class_weight=None, blend_inputs=None, **kwargs
    ):
        super().__init__(model, **kwargs)
        self.branch_norm = branch_norm
        self.class_weight = class_weight
        self.blend_inputs = blend_inputs

    def _multi_output_target(self) -> bool:
        return False

    def _type_of_target(self, y: np.ndarray) -> str:
        # Columns of strings next to columns of numbers make an object array that
        # type_of_target cannot sort (or calls "unknown"); the multi-output encoder
        # checks each column on its own instead.
        several_columns = y.ndim == 2 and y.shape[1] > 1
        if several_columns and y.dtype == object:
            if len({isinstance(value, str) for value in y.ravel()}) > 1:
                return "multiclass-multioutput"
        target_type = super()._type_of_target(y)
        if target_type == "unknown" and several_columns:
            return "multiclass-multioutput"
        return target_type

    @property
    def target_encoder(self):
        if self.target_type_ == "multiclass-multioutput":
            reserved = [SINGLE_INPUT] if self.input_names_ is None else self.input_names_
            return _MultiOutputLabelEncoder(
                target_names=getattr(self, "_target_columns", None),
                reserved_names=tuple(reserved),
            )
        return super().target_encoder

    def _output_heads(self) -> list | None:
        if self.target_type_ != "multiclass-multioutput":
            return None
        return classifier_output_heads(self.output_names_, self.n_classes_)

    def _output_layer(self):
        return classifier_output_layer(self.target_type_, self.n_classes_, self.loss)

    def _linear_start_fits(self) -> bool:
        return self.target_type_ in ("binary", "multiclass")

    def _default_metrics(self, output_names: list | None):
        if output_names is None:
            return ["accuracy"]
        return {name: ["accuracy"] for name in output_names}

    def _validate_target(self, y, reset: bool, y_numeric: bool):
        if reset:
            columns = getattr(y, "columns", None)
            self._target_columns = None if columns is None else [str(c) for c in columns]
        y = super()._validate_target(y, reset=reset, y_numeric=y_numeric)
        if reset and self.target_type_ in ("continuous", "continuous-multioutput"):
            _refuse_continuous_labels(y)
        if reset and self.target_type_ in ("binary", "multiclass"):
            n_classes = len(np.unique(y))
            if n_classes < 2:
                raise ValueError(
                    f"y contains only one class ({np.unique(y)[0]!r}); a classifier needs "
                    "at least 2 classes."
                )
        return y

    def _start_fit(self, y, sample_weight):
        if self.warm_start and getattr(self, "model_", None) is not None:
            _check_labels_in_classes(y, getattr(self, "classes_", None), False, warm_start=True)
        self.classes_ = None
        vars(self).pop("output_names_", None)
        return self._class_weighted(y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train the current model for one more epoch (builds it on the first call).

        Parameters
        ----------
        X, y, sample_weight, **kwargs
            As in :meth:`fit`.
        classes : array-like, default=None
            All classes, needed on the first call when ``y`` does not hold them all.

        Returns
        -------
        self
        """
        self._require_y(y)
        self._validate_params_before_fit()
        known = classes if classes is not None else getattr(self, "classes_", None)
        _check_labels_in_classes(y, known, given=classes is not None)
        self.classes_ = known
        sample_weight = self._class_weighted(y, sample_weight)
        # BaseWrapper's own partial_fit, not KerasClassifier's, which would multiply the
        # weights by the class weights a second time, in place.
        return BaseWrapper.partial_fit(self, X, y, sample_weight=sample_weight, **kwargs)

    def _class_weighted(self, y, sample_weight):
        # SciKeras multiplies the caller's array in place (and fails for integer
        # arrays); build a new float array instead.
        if self.class_weight is None or y is None:
            return sample_weight
        weights = compute_sample_weight(class_weight=self.class_weight, y=y)
        if sample_weight is None:
            return weights
        return _checked_sample_weight(sample_weight, len(weights)) * weights

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, of shape ``(n_samples, n_classes)``.

        For a multi-label indicator ``y``, column ``k`` is the probability of label
        ``k``; for several columns of labels, one array per column.

        Parameters
        ----------
        X : dict of str to ndarray, or array-like
        **kwargs
            Passed to ``keras.Model.predict``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or list of ndarray of shape \
(n_samples, n_classes_j)
        """
        proba = self._predict_raw(X, **kwargs)
        if isinstance(self.target_encoder_, _MultiOutputLabelEncoder):
            return self.target_encoder_.inverse_transform(proba, return_proba=True)
        if self.target_type_ == "binary" and proba.shape[1] == 1:
            proba = np.hstack([1 - proba, proba])
        return proba

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of ``predict(X)`` against ``y`` (subset accuracy for a 2-D ``y``).

        Parameters
        ----------
        X : dict of str to ndarray, or array-like
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        check_is_fitted(self, "model_")
        if self.target_type_ in ("binary", "multiclass"):
            unseen = np.setdiff1d(np.unique(np.asarray(y)), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y holds label(s) {unseen.tolist()} that were not seen in fit; the "
                    f"classifier knows {self.classes_.tolist()}."
                )
        if isinstance(self.target_encoder_, _MultiOutputLabelEncoder):
            # accuracy_score rejects "multiclass-multioutput" targets; subset accuracy is
            # what it computes for multi-label ones (a row counts when all labels match).
            y_true = np.asarray(y)
            # Checks the shape and that every label was seen in fit.
            self.target_encoder_.transform(y_true)
            matches = (y_true == self.predict(X)).all(axis=1)
            return float(np.average(matches, weights=sample_weight))
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A 2-D y: a multi-label indicator matrix (one sigmoid head) or several columns
        # of labels (one head per column).
        tags.target_tags.multi_output = True
        return tags


class MultiInputKerasRegressor(_MultiInputWrapper, KerasRegressor, metaclass=_SklearnMixinsFirst):
    """Keras regressor for a dict of inputs (images, token ids, sequences, tables).

    Same inputs, branches and parameters as :class:`MultiInputKerasClassifier`; the
    output layer is ``Dense(n_targets)`` (linear) with mean squared error unless
    ``loss`` says otherwise. Predictions are float64, shaped like ``y`` in fit.

    Parameters
    ----------
    model, input_kinds, image_filters, image_pooling, image_augmentation, image_backbone, \
image_backbone_weights, image_backbone_trainable, text_backbone, \
text_backbone_trainable, text_embedding_trainable, text_embedding_dim, text_units, \
text_bidirectional, text_cell, sequence_units, sequence_cell, sequence_bidirectional, \
sequence_summary, sequence_linear, \
tabular_units, head_units, dropout, recurrent_dropout, batch_norm, wide_inputs, wide_l2, \
modality_dropout, fusion, optimizer, loss, \
metrics, batch_size, validation_batch_size, epochs, verbose, callbacks, validation_split, \
early_stopping, patience, min_epochs, shuffle, run_eagerly, warm_start, random_state, \
**kwargs
        As in :class:`MultiInputKerasClassifier`.
    branch_norm : {"batch", "layer"} or None, default=None
        As in :class:`MultiInputKerasClassifier`, but off by default: normalising the
        branches lowered R² on the reviews benchmark (docs/results.md).
    target_transform : {"standard", "log", "log1p"} or None, default="standard"
        What the model learns, per target column, with statistics of the training
        targets (weighted by ``sample_weight``): ``"standard"``, the target minus its
        mean, divided by its standard deviation; ``"log"``, the log of the target, then
        standardised (positive, right-skewed targets such as prices); ``"log1p"``,
        ``log(1 + y)``, then standardised (counts with zeros); None, ``y`` as it is.
        Predictions and ``score`` (R²) are always in ``y``'s own units; the loss in
        ``history_`` is in the transformed units. Raw MSE on a target far from unit
        scale (prices in dollars) barely moves the output, which is why the default
        standardises. A log transform makes the model fit the median-like centre of a
        skewed target (lower absolute and percentage errors, sometimes a lower R²).

    Attributes
    ----------
    model_, history_, epochs_, input_names_, input_kinds_, input_shapes_, input_dtypes_, \
vocabulary_sizes_
        As in :class:`MultiInputKerasClassifier`.
    n_outputs_ : int
        Number of targets.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = {"series": rng.rand(30, 4, 2), "num": rng.rand(30, 3)}
    >>> y = X["num"].sum(axis=1)
    >>> reg = MultiInputKerasRegressor(sequence_units=4, tabular_units=4, epochs=2,
    ...                                random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (30,)
    """

    _parameter_constraints: dict = {
        **_MultiInputWrapper._parameter_constraints,
        "target_transform": [StrOptions(set(TARGET_TRANSFORMS)), None],
    }

    @_merged_signature
    def __init__(self, model=None, *, branch_norm=None, target_transform="standard", **kwargs):
        super().__init__(model, **kwargs)
        self.branch_norm = branch_norm
        self.target_transform = target_transform

    def _output_layer(self):
        return self.n_outputs_, None, "mean_squared_error"

    def _linear_start_fits(self) -> bool:
        # A ridge regression on the statistics, of the target as the network learns it.
        return self.n_outputs_ == 1

    @property
    def target_encoder(self):
        return _RegressionTargetScaler(self.target_transform)

    def _fit_target_encoder(self, y):
        weights = getattr(self, "_fit_sample_weight", None)
        return self.target_encoder.fit(y, sample_weight=weights)

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predicted targets, float64, shaped like ``y`` in fit.

        Parameters
        ----------
        X : dict of str to ndarray, or array-like
            Inputs with the keys and per-sample shapes seen in fit.
        **kwargs
            Passed to ``keras.Model.predict``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return super().predict(X, **kwargs).astype(np.float64)
