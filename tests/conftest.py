"""Shared fixtures: small on-disk PNG folders and DataFrames built in code."""

import os

# Silence TensorFlow's C++ logging before any test module imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
