"""Shared fixtures: the built-in data set on disk, built in code (no files shipped)."""

import os

# Silence TensorFlow's C++ logging before any test module imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def multimodal_data(tmp_path_factory):
    """(X, y) of the built-in data set: 300 rows, 16x16 PNGs in a session tmp folder."""
    from skmultimodal.datasets import make_multimodal_classification

    image_dir = tmp_path_factory.mktemp("images")
    return make_multimodal_classification(300, image_dir=image_dir, random_state=0)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """(X, y) of the built-in data set with 48 rows, made afresh for each test module."""
    from skmultimodal.datasets import make_multimodal_classification

    return make_multimodal_classification(
        48, image_dir=tmp_path_factory.mktemp("images"), random_state=0
    )
