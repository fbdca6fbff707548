"""Pure Keras builders: kind inference, branch guards, single-input models."""

import keras
import numpy as np
import pytest

from skmultimodal.architecture import (
    InputSpec,
    build_image_branch,
    build_multi_input_model,
    infer_input_kind,
)


def test_infer_input_kind_rules_and_error():
    assert infer_input_kind(np.zeros((2, 3, 4))) == "sequence"
    assert infer_input_kind(np.zeros((2, 3), dtype=bool)) == "tabular"
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        infer_input_kind(np.zeros(2))


def test_image_branch_refuses_too_small_images():
    with pytest.raises(ValueError, match="too small for 3 convolution blocks"):
        build_image_branch(keras.Input((8, 8, 1)), filters=(4, 4, 4))


def test_single_spec_builds_single_input_model():
    params = dict(tabular_units=0, head_units=(), batch_norm=False)
    model = build_multi_input_model(InputSpec((3,), "float32", "tabular"), 2, "softmax", params)
    assert len(model.inputs) == 1 and model.output.shape == (None, 2)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
