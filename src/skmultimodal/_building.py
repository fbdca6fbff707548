"""Building and compiling the default Keras model from what fit learnt about the inputs.

The layers themselves are in :mod:`skmultimodal.architecture` (Keras only); this module
turns the fitted input specs, the estimator's parameters and the target's output layer(s)
into a compiled ``keras.Model``.
"""

from __future__ import annotations

import numpy as np

from ._validation import SINGLE_INPUT
from .architecture import InputSpec, build_multi_input_model

_CATEGORICAL_LOSSES = {
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "cce",
}


class _ModelBuilding:
    """Estimator methods that build and compile ``model_`` (``model=None``)."""

    _model_param_names = (
        "image_filters",
        "text_embedding_dim",
        "text_units",
        "text_bidirectional",
        "text_cell",
        "image_pooling",
        "image_augmentation",
        "sequence_units",
        "sequence_cell",
        "sequence_bidirectional",
        "sequence_summary",
        "sequence_linear",
        "tabular_units",
        "head_units",
        "dropout",
        "recurrent_dropout",
        "batch_norm",
        "branch_norm",
        "wide_inputs",
        "wide_l2",
        "modality_dropout",
        "fusion",
        "image_backbone",
        "image_backbone_weights",
        "image_backbone_trainable",
        "text_backbone",
        "text_backbone_trainable",
        "text_embedding_trainable",
    )

    def _build_keras_model(self):
        if self.model is not None or self.build_fn is not None:
            return super()._build_keras_model()
        heads = self._output_heads()
        if self.input_names_ is None:
            specs = self._input_spec(SINGLE_INPUT)
        else:
            specs = {key: self._input_spec(key) for key in self.input_names_}
        params = {name: getattr(self, name) for name in self._model_param_names}
        params["image_filters"] = tuple(params["image_filters"])
        params["head_units"] = tuple(np.atleast_1d(params["head_units"]).tolist())
        # The classifier's only: another model's logits blended with the network's.
        params["blend_inputs"] = getattr(self, "blend_inputs", None)
        # Inputs made from a column whose mask is another input's (fitted from X).
        params["presence_groups"] = getattr(self, "presence_groups_", {})
        # "auto": the layer is built; below AUTO_MIN_ROWS training rows it stays at zero.
        params["sequence_linear"] = bool(self.sequence_linear) and self._linear_start_fits()
        if heads is None:
            n_outputs, activation, loss = self._output_layer()
            model = build_multi_input_model(specs, n_outputs, activation, params)
        else:
            output_heads = [(units, activation, name) for units, activation, name, _ in heads]
            model = build_multi_input_model(specs, None, None, params, output_heads=output_heads)
            loss = {name: head_loss for _, _, name, head_loss in heads}
        # Only the initial weights: not kept (nor pickled) once the model holds them.
        vars(self).pop("_fit_embedding_matrices", None)
        compile_kwargs = self._get_compile_kwargs()
        if compile_kwargs.get("loss") is None:
            compile_kwargs["loss"] = loss
        if compile_kwargs.get("metrics") is None:
            names = None if heads is None else [name for _, _, name, _ in heads]
            compile_kwargs["metrics"] = self._default_metrics(names)
        model.compile(**compile_kwargs)
        return model

    def _linear_start_fits(self) -> bool:
        """Whether a linear model can start this target's logits: one label per row
        (classifier) or one target column (regressor)."""
        return False

    def _default_metrics(self, output_names: list | None):
        """``metrics=None``: what ``history_`` records besides the loss (classifiers: the
        accuracy of each output; regressors: nothing, their loss is the metric)."""
        return None

    def _output_heads(self) -> list | None:
        """``[(units, activation, layer name, loss), ...]`` for a multi-head model, else None."""
        return None

    def _ensure_compiled_model(self) -> None:
        """Compile a user's uncompiled ``model`` with the loss the default model would get.

        ``loss=None`` chooses the loss from the target for every model, the user's too
        (SciKeras asks for a loss there); the model's outputs must have the widths that
        target needs.
        """
        if not self.model_.compiled and self.loss is None:
            compile_kwargs = self._get_compile_kwargs()
            compile_kwargs["loss"] = self._loss_of_user_model(self.model_)
            if compile_kwargs.get("metrics") is None:
                metrics = self._default_metrics(None)
                outputs = len(self.model_.outputs)
                if metrics is not None and outputs > 1:
                    metrics = [list(metrics) for _ in range(outputs)]
                compile_kwargs["metrics"] = metrics
            self.model_.compile(**compile_kwargs)
        super()._ensure_compiled_model()

    def _loss_of_user_model(self, model):
        """The loss (one per output) of the default model for the same target, after
        checking that ``model``'s outputs can take it."""
        heads = self._output_heads()
        if heads is None:
            units, activation, loss = self._output_layer()
            heads = [(units, activation, "the output", loss)]
        outputs = list(model.outputs)
        if len(outputs) != len(heads):
            raise ValueError(
                f"The model has {len(outputs)} output(s) and the target needs {len(heads)} "
                "(one per column of labels); compile the model with its own loss, or pass "
                "`loss=`."
            )
        losses = []
        for output, (units, activation, name, loss) in zip(outputs, heads, strict=True):
            width = output.shape[-1]
            if width == units:
                losses.append(loss)
            elif loss == "binary_crossentropy" and units == 1 and width == 2:
                losses.append("sparse_categorical_crossentropy")  # two softmax units
            else:
                needs = (
                    f"Dense({units}, activation={activation!r})"
                    if activation
                    else f"Dense({units})"
                )
                raise ValueError(
                    f"The model's output {output.name!r} has {width} unit(s); with loss=None "
                    f"the target ({self.target_type_}) needs {needs}, as {name} of the default "
                    "model. Change that layer, compile the model, or pass `loss=`."
                )
        return losses[0] if len(losses) == 1 else losses

    def _input_spec(self, key: str) -> InputSpec:
        return InputSpec(
            shape=self.input_shapes_[key],
            dtype=self.input_dtypes_[key],
            kind=self.input_kinds_[key],
            vocabulary_size=self.vocabulary_sizes_.get(key),
            sparse=key in getattr(self, "sparse_inputs_", ()),
            embedding_matrix=vars(self).get("_fit_embedding_matrices", {}).get(key),
        )


def classifier_output_layer(target_type: str, n_classes: int, loss) -> tuple:
    """``(units, activation, loss)`` of the classifier's single output layer.

    Parameters
    ----------
    target_type : str
        The fitted ``target_type_`` (scikit-learn's ``type_of_target``).
    n_classes : int
    loss : str, callable or None
        The ``loss`` parameter: a categorical loss asks for softmax even with 2 classes.
    """
    categorical = loss in _CATEGORICAL_LOSSES
    if target_type == "binary" and not categorical:
        return 1, "sigmoid", "binary_crossentropy"
    if target_type in ("binary", "multiclass"):
        return n_classes, "softmax", loss or "sparse_categorical_crossentropy"
    if target_type == "multiclass-onehot":
        return n_classes, "softmax", "categorical_crossentropy"
    if target_type == "multilabel-indicator":
        return n_classes, "sigmoid", "binary_crossentropy"
    raise ValueError(
        f"Target type {target_type!r} is not supported by the default model; pass a "
        "`model` callable for it."
    )


def classifier_output_heads(output_names: list, n_classes: list) -> list:
    """``[(units, activation, layer name, loss), ...]``: one head per column of labels."""
    heads = []
    for name, classes in zip(output_names, n_classes, strict=True):
        if classes == 2:
            heads.append((1, "sigmoid", name, "binary_crossentropy"))
        else:
            heads.append((classes, "softmax", name, "sparse_categorical_crossentropy"))
    return heads
