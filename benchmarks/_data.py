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


def add_data_options(parser, n_samples, help=None):
    """The options of make_data's sizes: ``--n-samples`` (default ``n_samples``),
    ``--image-size``, ``--text-length``, ``--vocabulary`` and ``--n-tabular``."""
    parser.add_argument("--n-samples", type=int, default=n_samples, help=help)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--text-length", type=int, default=20)
    parser.add_argument("--vocabulary", type=int, default=200)
    parser.add_argument("--n-tabular", type=int, default=8)


def make_data_from(args, n_samples=None):
    """make_data with the sizes of add_data_options' options and ``--random-state``."""
    return make_data(
        args.n_samples if n_samples is None else n_samples,
        args.image_size,
        args.text_length,
        args.vocabulary,
        args.n_tabular,
        args.random_state,
    )
