"""Synthetic multi-input data shared by the benchmark scripts (not a benchmark itself)."""

import numpy as np


def make_data(n_samples, image_size, text_length, vocabulary, n_tabular, random_state):
    """Return a dict of uint8 images, int32 token ids, float32 table, and binary labels that
    depend on every input."""
    rng = np.random.default_rng(random_state)
    image = rng.integers(0, 256, size=(n_samples, image_size, image_size, 3), dtype=np.uint8)
    text = rng.integers(0, vocabulary, size=(n_samples, text_length), dtype=np.int32)
    table = rng.normal(size=(n_samples, n_tabular)).astype(np.float32)
    score = image[:, :, :, 0].mean(axis=(1, 2)) / 128 - 1 + (text < 10).mean(axis=1) + table[:, 0]
    y = (score > np.median(score)).astype(np.int64)
    return {"image": image, "text": text, "table": table}, y
